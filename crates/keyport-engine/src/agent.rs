//! The resident token agent, as ssh-agent and oidc-agent do it: a process that stays up
//! (the desktop app, or `keyport agent`) serves `keyport token` from memory over a Unix
//! socket in Keyport's own `0700` folder, so a script pays no keychain round trip. Every
//! answer is exactly what `Keyport::token` would give: on a miss or near expiry the agent
//! calls it (refresh included, single-flight under the same file lock), and any change to
//! the metadata file (a refresh or revoke by another process) empties the cache.
//!
//! Protocol, one request per connection: `token <name> <min_valid>\n` →
//! `ok <token>\n` or `err <exit code> <message>\n`.

use crate::secret::SecretString;
use crate::time::now;
use crate::{Error, Keyport, Result};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

pub fn socket_path(config_dir: &Path) -> PathBuf {
    config_dir.join("agent.sock")
}

struct Cached {
    token: SecretString,
    /// None: no expiry known (admin-issued token without a date).
    expires_at: Option<i64>,
}

/// Serves requests until the listener fails. Run it on its own thread.
pub fn serve(kp: &Keyport) -> Result<()> {
    let dir = kp.store.dir().to_path_buf();
    let path = socket_path(&dir);
    let io = |action, source| Error::Store {
        action,
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(|e| io("create", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| io("protect", e))?;
    }
    // A live agent answers; a stale socket file from a crash is replaced.
    if UnixStream::connect(&path).is_ok() {
        return Err(Error::Unsupported(format!(
            "A Keyport agent already serves {}.",
            path.display()
        )));
    }
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).map_err(|e| io("listen on", e))?;
    let cache: Mutex<(Option<SystemTime>, HashMap<String, Cached>)> =
        Mutex::new((None, HashMap::new()));
    let meta = kp.store.path();
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let mut line = String::new();
        if BufReader::new(&stream).read_line(&mut line).is_err() {
            continue;
        }
        let reply = match parse(&line) {
            Some((name, min_valid)) => {
                let mtime = std::fs::metadata(&meta).and_then(|m| m.modified()).ok();
                let mut guard = cache.lock().unwrap_or_else(|p| p.into_inner());
                if guard.0 != mtime {
                    *guard = (mtime, HashMap::new());
                }
                answer(kp, &mut guard.1, name, min_valid)
            }
            None => "err 2 Malformed request.\n".to_owned(),
        };
        let _ = stream.write_all(reply.as_bytes());
    }
    Ok(())
}

fn parse(line: &str) -> Option<(&str, i64)> {
    let mut w = line.split_whitespace();
    match (
        w.next(),
        w.next(),
        w.next().and_then(|m| m.parse().ok()),
        w.next(),
    ) {
        (Some("token"), Some(name), Some(min), None) => Some((name, min)),
        _ => None,
    }
}

fn answer(kp: &Keyport, cache: &mut HashMap<String, Cached>, name: &str, min_valid: i64) -> String {
    if let Some(c) = cache.get(name) {
        if c.expires_at.is_none_or(|e| e - now() > min_valid) {
            return format!("ok {}\n", c.token.expose());
        }
    }
    match kp
        .token(name, min_valid)
        .and_then(|t| Ok((t, kp.store.get(name)?.expires_at)))
    {
        Ok((token, expires_at)) => {
            let line = format!("ok {}\n", token.expose());
            cache.insert(name.to_owned(), Cached { token, expires_at });
            line
        }
        Err(e) => format!(
            "err {} {}\n",
            e.exit_code(),
            e.to_string().replace('\n', " ")
        ),
    }
}

/// What the CLI gets from an agent.
pub enum AgentAnswer {
    Token(SecretString),
    /// The agent's error, with the exit code it maps to.
    Failed(u8, String),
}

/// Asks a running agent; `None` when there is none (then read the keychain directly).
pub fn ask(config_dir: &Path, name: &str, min_valid: i64) -> Option<AgentAnswer> {
    let mut s = UnixStream::connect(socket_path(config_dir)).ok()?;
    // A refresh behind the answer may take the vendor's time.
    s.set_read_timeout(Some(Duration::from_secs(45))).ok()?;
    s.write_all(format!("token {name} {min_valid}\n").as_bytes())
        .ok()?;
    let mut line = String::new();
    BufReader::new(&s).read_line(&mut line).ok()?;
    let line = line.trim_end_matches('\n');
    if let Some(t) = line.strip_prefix("ok ") {
        return Some(AgentAnswer::Token(SecretString::new(t)));
    }
    let rest = line.strip_prefix("err ")?;
    let (code, msg) = rest.split_once(' ')?;
    Some(AgentAnswer::Failed(code.parse().ok()?, msg.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_strictly() {
        assert_eq!(parse("token acme 60\n"), Some(("acme", 60)));
        assert_eq!(parse("token acme\n"), None);
        assert_eq!(parse("token acme 60 extra\n"), None);
        assert_eq!(parse("headers acme 60\n"), None);
    }
}
