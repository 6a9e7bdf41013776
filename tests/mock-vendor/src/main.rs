//! `keyport-mock [--addr 127.0.0.1:PORT]`: serves the mock vendors until killed.

use std::io::Write;

use keyport_mock::{guide, ClientReg, MockServer, OAuthVendor};

const USAGE: &str = "usage: keyport-mock [--addr 127.0.0.1:PORT]   (default 127.0.0.1:8977)";

fn main() {
    let mut addr = "127.0.0.1:8977".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => match args.next() {
                Some(a) => addr = a,
                None => fail(USAGE),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            a if a.starts_with("--addr=") => addr = a["--addr=".len()..].to_owned(),
            other => fail(&format!("unknown argument '{other}'\n{USAGE}")),
        }
    }
    let server = MockServer::start_on(&addr)
        .unwrap_or_else(|e| fail(&format!("keyport-mock: cannot listen on {addr}: {e}")));
    let myob_id = "demo-myob-key";
    let adv_id = "11111111-2222-3333-4444-555555555555@Demo";
    let (myob_redirect, adv_redirect) = (
        "http://127.0.0.1:8765/callback",
        "http://127.0.0.1:8766/callback",
    );
    server.register_client(ClientReg::new(
        OAuthVendor::Myob,
        myob_id,
        Some("demo-myob-secret"),
        myob_redirect,
    ));
    server.register_client(ClientReg::new(
        OAuthVendor::Advanced,
        adv_id,
        Some("demo-advanced-secret"),
        adv_redirect,
    ));

    let base = server.base_url();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "keyport-mock listening on {base}");
    let _ = out.flush();
    let _ = write!(
        out,
        "{}
Demo clients:
  MYOB: secret demo-myob-secret, company-file user Administrator with an empty password
    MOCK_SECRET=demo-myob-secret keyport connect myob --name demo-myob --client-id {myob_id} \\
      --redirect-uri {myob_redirect} --auth-base {base}/myob/secure --api-base {base}/myob/api \\
      --secret-env MOCK_SECRET
  MYOB Advanced: secret demo-advanced-secret
    MOCK_SECRET=demo-advanced-secret keyport connect myob-advanced --name demo-advanced \\
      --instance {base}/advanced --client-id '{adv_id}' --redirect-uri {adv_redirect} \\
      --secret-env MOCK_SECRET
Serving until killed.
",
        guide(&base)
    );
    let _ = out.flush();
    drop(out);
    loop {
        std::thread::park();
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("{msg}");
    std::process::exit(2)
}
