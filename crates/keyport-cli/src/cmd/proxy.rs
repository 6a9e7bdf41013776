//! `keyport proxy NAME [--port P]`: a loopback proxy to the connection's API until Ctrl-C.

use keyport_engine::{Error, Keyport};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct ProxyArgs {
    /// The connection's name.
    pub name: String,
    /// The port on 127.0.0.1 to listen on (0: any free one).
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub port: u16,
}

/// Prints the proxy's base URL on standard output and serves until Ctrl-C.
pub async fn run(
    kp: &Arc<Keyport>,
    a: &ProxyArgs,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    if let Err(code) = crate::helper::ensure_fresh(kp, &a.name).await? {
        return Ok(code);
    }
    let proxy = kp.proxy(&a.name, a.port).await?;
    crate::out::write(writeln!(out, "{}", proxy.url()).and_then(|()| out.flush()))?;
    eprintln!(
        "Proxying '{}': give your tool the URL above as its base URL; Keyport adds the credentials. The URL holds a key for this run only: keep it to yourself. Ctrl-C stops.",
        a.name
    );
    let log: keyport_engine::ProxyLog = Arc::new(|line: &str| eprintln!("{line}"));
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("Stopping (requests already at the vendor finish first).");
    };
    proxy.serve(log, stop).await;
    Ok(ExitCode::SUCCESS)
}
