//! The person's own browser for the consent page: the settings' command (a `$BROWSER`-style
//! list) or the desktop's default, never an embedded view.

use crate::{Error, Keyport, Result};

impl Keyport {
    /// Opens `url` in the person's browser (the settings' command, else the desktop's
    /// default), never an embedded view: SSO, 2FA and password managers work there.
    pub fn open_browser(&self, url: &str) -> Result<()> {
        let fail = |e: std::io::Error| {
            Error::Unsupported(format!(
                "No browser could be opened ({e}). Open the sign-in URL yourself."
            ))
        };
        match self.settings.browser.as_deref() {
            Some(list) => {
                let mut last = None;
                for cmd in list.split(':').map(str::trim).filter(|c| !c.is_empty()) {
                    match spawn_browser(cmd, url) {
                        Ok(()) => return Ok(()),
                        Err(e) => last = Some(e),
                    }
                }
                Err(fail(
                    last.unwrap_or_else(|| std::io::ErrorKind::NotFound.into()),
                ))
            }
            None => open::that_detached(url).map_err(fail),
        }
    }
}

/// A `$BROWSER`-style command: `%s` stands for the URL, else the URL is the last argument.
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
    // No stdio of ours: a browser must not write over the countdown.
    std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(drop)
}
