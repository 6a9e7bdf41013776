//! The resident token agent, as ssh-agent and oidc-agent do it: a process that stays up
//! (the desktop app, or `keyport agent`) answers `keyport token` from memory over a
//! channel only its user can use (a Unix socket in Keyport's own `0700` folder, a named
//! pipe with a user-only DACL on Windows), so a script pays no keychain round trip. Every
//! answer is what [`Keyport::token`] would give: on a miss or near expiry the agent calls
//! it (refresh included, single-flight under the same file lock), and any change to the
//! metadata file (a refresh or revoke elsewhere) empties the cache.
//!
//! On tokio: a task per connection, a request of at most [`MAX_REQUEST`] bytes that must
//! arrive within [`REQUEST_DEADLINE`], peers of other users refused. The channel is a
//! Unix socket or a Windows named pipe, behind one interface (`transport.rs`).
//!
//! Like ssh-agent and oidc-agent it can be locked (it drops every token it holds and
//! answers no more until unlocked; callers read the keychain instead), and it can ask the
//! person before each token leaves it ([`Options::confirm`]). It drops what it holds when
//! the keychain locks.
//!
//! Protocol, one request per connection: `token <name> <min_valid>\n` (or `values …`,
//! answered `ok <json>\n` with what a script gets) →
//! `ok <token>\n` (after `warn <message>\n` when the connection is failing though its
//! token works), or `err <exit code> <message>\n`, or first `wait\n` when the answer needs
//! the vendor (a refresh), then one of those; `lock\n` / `unlock\n` → `ok\n`.

mod client;
mod transport;

pub use client::{ask, ask_values, set_locked, AgentAnswer};
pub use transport::address;

use crate::secret::{ExposeSecret, SecretString};
use crate::time::now;
use crate::{Error, Keyport, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use transport::{Listener, Stream};

/// The agent's socket file (Unix); [`address`] names the channel on every platform.
#[cfg(unix)]
pub fn socket_path(config_dir: &std::path::Path) -> std::path::PathBuf {
    config_dir.join("agent.sock")
}

/// Whether an agent takes connections for `config_dir` (tests wait for it).
#[cfg(test)]
pub(crate) fn serving(config_dir: &std::path::Path) -> bool {
    transport::connect(config_dir, b"").is_some()
}

/// The longest request line the agent reads.
pub const MAX_REQUEST: usize = 256;
/// A request must arrive whole within this.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(1);

struct Cached {
    token: SecretString,
    /// None: no expiry known (an admin-issued token without a date).
    expires_at: Option<i64>,
    /// Said with the token when the connection is failing ([`ConnectionView::failing`]).
    warning: Option<String>,
    /// The `ok <json>` line of a `values` request, once one was made.
    values: Option<String>,
}

#[derive(Default)]
struct Cache {
    stamp: Option<SystemTime>,
    tokens: HashMap<String, Cached>,
    locked: bool,
}

/// How the agent behaves.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Refresh tokens in the background before they expire ([`Keyport::refresh_due`]),
    /// as the window does; off when the caller runs its own refresher.
    pub refresh: bool,
    /// A program asked before each token leaves the agent (`argv`, the connection's name
    /// appended); it allows by exiting 0 — e.g. `zenity --question --text`. `None`: no
    /// question.
    pub confirm: Option<Vec<String>>,
}

/// Serves requests; returns only when it cannot start.
pub async fn serve(kp: Arc<Keyport>) -> Result<()> {
    serve_with(kp, Options::default()).await
}

/// Serves requests with `options`; returns only when it cannot start.
pub async fn serve_with(kp: Arc<Keyport>, options: Options) -> Result<()> {
    let dir = kp.settings().config_dir.clone();
    crate::storage::ensure_private_dir(&dir)?;
    let mut listener = Listener::bind(&dir)?;
    let cache = Arc::new(Mutex::new(Cache::default()));
    let options = Arc::new(options);
    let watch = tokio::spawn(forget_when_the_keychain_locks(kp.clone(), cache.clone()));
    let _watch = AbortOnDrop(watch);
    let _refresher = options
        .refresh
        .then(|| AbortOnDrop(tokio::spawn(refresh_in_background(kp.clone()))));
    loop {
        let (stream, own_user) = match listener.accept().await {
            Ok(s) => s,
            // Out of file descriptors (a local process holding many connections) or a
            // connection reset before it was taken: back off a moment and go on serving.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (kp, cache, options) = (kp.clone(), cache.clone(), options.clone());
        tokio::spawn(async move {
            let _ = tokio::time::timeout(
                Duration::from_secs(60),
                one(kp, cache, &options, stream, own_user),
            )
            .await;
        });
    }
}

/// How often the agent's background refresh looks at the connections.
pub const REFRESH_EVERY: Duration = Duration::from_secs(30);

/// Renews tokens before they expire, with no caller: soon after start, then every
/// [`REFRESH_EVERY`].
async fn refresh_in_background(kp: Arc<Keyport>) {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut every = tokio::time::interval(REFRESH_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        kp.refresh_due().await;
    }
}

/// Ends the keychain watcher and the refresher with the agent's serving future.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn lock_cache(cache: &Mutex<Cache>) -> std::sync::MutexGuard<'_, Cache> {
    cache.lock().unwrap_or_else(|p| p.into_inner())
}

/// Tokens held in memory must not outlive the keychain's unlocked state: every few
/// seconds the keychain is asked, over one session kept open, and a locked one empties
/// the cache.
async fn forget_when_the_keychain_locks(kp: Arc<Keyport>, cache: Arc<Mutex<Cache>>) {
    let mut every = tokio::time::interval(Duration::from_secs(3));
    let mut session = None;
    loop {
        every.tick().await;
        if lock_cache(&cache).tokens.is_empty() {
            continue;
        }
        if session.is_none() {
            session = kp.vault.session().await.ok();
        }
        let Some(s) = &session else { continue };
        match s.is_locked().await {
            Ok(false) => {}
            Ok(true) => lock_cache(&cache).tokens.clear(),
            // The keychain went away: forget, and reconnect next time.
            Err(_) => {
                lock_cache(&cache).tokens.clear();
                session = None;
            }
        }
    }
}

/// Asks the person, through the configured program, before a token leaves.
async fn confirmed(options: &Options, name: &str) -> bool {
    let Some(argv) = &options.confirm else {
        return true;
    };
    let Some((program, args)) = argv.split_first() else {
        return false;
    };
    let question = format!("Give the token of '{name}' to the program asking for it?");
    let status = tokio::process::Command::new(program)
        .args(args)
        .arg(question)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .status();
    matches!(tokio::time::timeout(Duration::from_secs(60), status).await, Ok(Ok(s)) if s.success())
}

async fn one(
    kp: Arc<Keyport>,
    cache: Arc<Mutex<Cache>>,
    options: &Options,
    mut stream: Stream,
    own_user: bool,
) {
    // The request is read (within the deadline and the cap) before any answer, a refusal
    // included: a client still writing when the agent hung up would never see its answer.
    let line = match tokio::time::timeout(REQUEST_DEADLINE, read_line(&mut stream)).await {
        Ok(Some(line)) => line,
        _ => {
            let _ = stream
                .write_all(b"err 2 Malformed or slow request.\n")
                .await;
            return;
        }
    };
    if !own_user {
        let _ = stream
            .write_all(b"err 2 Refused: this agent serves only its own user.\n")
            .await;
        return;
    }
    if line == "lock" || line == "unlock" {
        {
            let mut c = lock_cache(&cache);
            c.locked = line == "lock";
            c.tokens.clear();
        }
        let _ = stream.write_all(b"ok\n").await;
        return;
    }
    let Some((ask, name, min_valid)) = parse(&line) else {
        let _ = stream.write_all(b"err 2 Malformed request.\n").await;
        return;
    };
    if lock_cache(&cache).locked {
        let _ = stream.write_all(b"locked\n").await;
        return;
    }
    if !confirmed(options, name).await {
        let _ = stream
            .write_all(b"err 8 The token was not given out: the request was declined.\n")
            .await;
        return;
    }
    let meta = kp.metadata_path();
    let cached = {
        let stamp = std::fs::metadata(&meta).and_then(|m| m.modified()).ok();
        let mut c = lock_cache(&cache);
        if c.stamp != stamp {
            c.stamp = stamp;
            c.tokens.clear();
        }
        c.tokens
            .get(name)
            .filter(|t| t.expires_at.is_none_or(|e| e - now() > min_valid))
            .and_then(|t| match ask {
                Ask::Token => Some(
                    answer(name, &t.token, t.warning.as_deref()).unwrap_or_else(|e| err_line(&e)),
                ),
                Ask::Values => t.values.clone(),
            })
    };
    let reply = match cached {
        Some(line) => line,
        None => {
            let _ = stream.write_all(b"wait\n").await;
            let got = async {
                let token = kp.token(name, min_valid).await?;
                let values = match ask {
                    Ask::Token => None,
                    Ask::Values => Some(values_line(&kp.script_values(name).await?)),
                };
                Ok::<_, Error>((token, values))
            }
            .await;
            match got {
                Ok((token, values)) => {
                    let view = kp.view(name).await.ok();
                    let expires_at = view.as_ref().and_then(|v| v.expires_at);
                    let warning = view.as_ref().and_then(|v| v.failing()).map(one_line);
                    let line = match (ask, &values) {
                        (Ask::Values, Some(v)) => v.clone(),
                        _ => answer(name, &token, warning.as_deref())
                            .unwrap_or_else(|e| err_line(&e)),
                    };
                    let mut c = lock_cache(&cache);
                    if !c.locked {
                        c.tokens.insert(
                            name.to_owned(),
                            Cached {
                                token,
                                expires_at,
                                warning,
                                values,
                            },
                        );
                    }
                    line
                }
                Err(e) => err_line(&e),
            }
        }
    };
    let reply = zeroize::Zeroizing::new(reply);
    let _ = stream.write_all(reply.as_bytes()).await;
}

/// `ok <token>\n`, after `warn <message>\n` when the connection is failing; never a token
/// that could split the line.
fn answer(name: &str, token: &SecretString, warning: Option<&str>) -> Result<String> {
    crate::safe_value(&format!("the token of '{name}'"), token.expose_secret())?;
    let warn = warning.map(|w| format!("warn {w}\n")).unwrap_or_default();
    Ok(format!("{warn}ok {}\n", token.expose_secret()))
}

/// The message on one line: no control character.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `err <exit code> <message>\n`, the message on one line.
fn err_line(e: &Error) -> String {
    format!("err {} {}\n", e.exit_code(), one_line(&e.to_string()))
}

/// One request line, at most [`MAX_REQUEST`] bytes, UTF-8.
async fn read_line(stream: &mut (impl AsyncRead + Unpin)) -> Option<String> {
    let mut buf = Vec::with_capacity(64);
    let mut byte = [0u8; 64];
    loop {
        let n = stream.read(&mut byte).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&byte[..n]);
        if let Some(end) = buf.iter().position(|b| *b == b'\n') {
            buf.truncate(end);
            return String::from_utf8(buf).ok();
        }
        if buf.len() > MAX_REQUEST {
            return None;
        }
    }
}

/// What a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ask {
    /// `token NAME MIN_VALID`: the access token.
    Token,
    /// `values NAME MIN_VALID`: everything a script gets ([`Keyport::script_values`]).
    Values,
}

pub(crate) fn parse(line: &str) -> Option<(Ask, &str, i64)> {
    let mut w = line.split_whitespace();
    let ask = match w.next()? {
        "token" => Ask::Token,
        "values" => Ask::Values,
        _ => return None,
    };
    match (
        w.next(),
        w.next().and_then(|m| m.parse::<i64>().ok()),
        w.next(),
    ) {
        (Some(name), Some(min), None) if (0..=crate::MAX_MIN_VALID).contains(&min) => {
            crate::model::validate_name(name).ok()?;
            Some((ask, name, min))
        }
        _ => None,
    }
}

/// `ok <json>\n`: the script values as one JSON line, `[[env, field, secret, value]…]`.
fn values_line(values: &[crate::ScriptValue]) -> String {
    let rows: Vec<serde_json::Value> = values
        .iter()
        .map(|v| serde_json::json!([v.env, v.field, v.secret, v.value.expose_secret()]))
        .collect();
    format!("ok {}\n", serde_json::Value::Array(rows))
}

#[cfg(test)]
mod tests;
