//! Opens the consent page in the user's own browser, never an embedded view: SSO, 2FA
//! and password managers work there. `$BROWSER` is honoured as xdg-open and most CLIs do
//! (a `:`-separated list; `%s` stands for the URL, else the URL is the last argument).

use crate::{Error, Result};
use std::process::{Command, Stdio};

pub fn open(url: &str) -> Result<()> {
    if let Ok(list) = std::env::var("BROWSER") {
        for cmd in list.split(':').filter(|c| !c.trim().is_empty()) {
            if spawn_browser(cmd, url).is_ok() {
                return Ok(());
            }
        }
    }
    let (program, args): (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        ("rundll32", vec!["url.dll,FileProtocolHandler", url])
    } else {
        ("xdg-open", vec![url])
    };
    detached(program, &args).map_err(|e| {
            Error::Unsupported(format!(
                "No browser could be opened ({program}: {e}). Open the sign-in URL yourself, or set $BROWSER."
            ))
        })
}

fn spawn_browser(cmd: &str, url: &str) -> std::io::Result<()> {
    let mut words: Vec<String> = cmd.split_whitespace().map(str::to_owned).collect();
    if words.iter().any(|w| w.contains("%s")) {
        for w in &mut words {
            *w = w.replace("%s", url);
        }
    } else {
        words.push(url.to_owned());
    }
    let (program, args) = words
        .split_first()
        .ok_or(std::io::ErrorKind::InvalidInput)?;
    detached(program, args)
}

/// Starts a program with no stdio of ours: a browser must not write over the countdown.
fn detached(program: &str, args: &[impl AsRef<std::ffi::OsStr>]) -> std::io::Result<()> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
}
