//! The CLI's side of the agent: blocking and runtime-free, so that `keyport token` with an
//! agent running costs one socket round trip.

use super::transport::{connect, Client};
use crate::secret::{secret, SecretString};
use crate::ScriptValue;
use std::path::Path;
use std::time::Duration;

/// Locks (`true`) or unlocks a running agent; `false` when no agent answered.
pub fn set_locked(config_dir: &Path, locked: bool) -> bool {
    let line: &[u8] = if locked { b"lock\n" } else { b"unlock\n" };
    let mut reply = String::new();
    connect(config_dir, line).is_some_and(|mut r| r.read_line(&mut reply, SECOND).is_some())
        && reply == "ok\n"
}

const SECOND: Duration = Duration::from_secs(1);

/// What the CLI gets from an agent.
pub enum AgentAnswer {
    /// The token, and a warning when the connection is failing though the token works.
    Token(SecretString, Option<String>),
    /// The agent's error, with the exit code it maps to.
    Failed(u8, String),
}

/// Asks a running agent; `None` when there is none or it does not answer in about a
/// second (then read the keychain directly). It is the whole of `keyport token` when an
/// agent runs.
pub fn ask(config_dir: &Path, name: &str, min_valid: i64) -> Option<AgentAnswer> {
    match exchange(config_dir, &format!("token {name} {min_valid}\n"))? {
        Reply::Ok(t, warning) => Some(AgentAnswer::Token(secret(t.as_str()), warning)),
        Reply::Failed(code, msg) => Some(AgentAnswer::Failed(code, msg)),
    }
}

/// What a script gets of `name`, from a running agent; `None` as for [`ask`].
pub fn ask_values(
    config_dir: &Path,
    name: &str,
    min_valid: i64,
) -> Option<Result<Vec<ScriptValue>, (u8, String)>> {
    match exchange(config_dir, &format!("values {name} {min_valid}\n"))? {
        Reply::Ok(json, _) => {
            let rows: Vec<(String, String, bool, String)> = serde_json::from_str(&json).ok()?;
            Some(Ok(rows
                .into_iter()
                .map(|(env, field, is_secret, value)| ScriptValue {
                    env,
                    field,
                    value: secret(value),
                    secret: is_secret,
                })
                .collect()))
        }
        Reply::Failed(code, msg) => Some(Err((code, msg))),
    }
}

enum Reply {
    Ok(zeroize::Zeroizing<String>, Option<String>),
    Failed(u8, String),
}

/// One request and its answer; `None` when no agent answers, or it is locked.
fn exchange(config_dir: &Path, request_line: &str) -> Option<Reply> {
    let mut r: Client = connect(config_dir, request_line.as_bytes())?;
    let mut line = zeroize::Zeroizing::new(String::new());
    r.read_line(&mut line, SECOND)?;
    // The agent is asking the vendor: allow it the vendor's time.
    let mut wait = SECOND;
    if line.as_str() == "wait\n" {
        wait = Duration::from_secs(45);
        line.clear();
        r.read_line(&mut line, wait)?;
    }
    let mut warning = None;
    if let Some(w) = line.strip_prefix("warn ") {
        warning = Some(w.trim_end_matches('\n').to_owned());
        line.clear();
        r.read_line(&mut line, wait)?;
    }
    let line = line.trim_end_matches('\n');
    // A locked agent holds nothing: the caller reads the keychain itself.
    if line == "locked" {
        return None;
    }
    if let Some(t) = line.strip_prefix("ok ") {
        return Some(Reply::Ok(zeroize::Zeroizing::new(t.to_owned()), warning));
    }
    let rest = line.strip_prefix("err ")?;
    let (code, msg) = rest.split_once(' ')?;
    Some(Reply::Failed(code.parse().ok()?, msg.to_owned()))
}
