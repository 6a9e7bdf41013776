//! `keyport agent`: serve tokens from memory over the user-only socket, refreshing them
//! in the background; `--lock` / `--unlock` a running one.

use crate::out::write;
use keyport_engine::{agent, Error, Keyport};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

pub async fn agent(
    kp: &Arc<Keyport>,
    confirm: Option<String>,
    lock: bool,
    unlock: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let dir = &kp.settings().config_dir;
    if lock || unlock {
        if !agent::set_locked(dir, lock) {
            return Err(Error::Unsupported("No Keyport agent is running.".into()));
        }
        let what = if lock {
            "locked: it holds no token now"
        } else {
            "unlocked"
        };
        write(writeln!(out, "The agent is {what}."))?;
        return Ok(ExitCode::SUCCESS);
    }
    keyport_engine::non_dumpable();
    eprintln!(
        "Serving tokens on {} and refreshing them before they expire (Ctrl-C to stop).",
        agent::address(dir)
    );
    let options = agent::Options {
        refresh: true,
        confirm: confirm.map(|c| c.split_whitespace().map(str::to_owned).collect()),
    };
    agent::serve_with(kp.clone(), options).await?;
    Ok(ExitCode::SUCCESS)
}
