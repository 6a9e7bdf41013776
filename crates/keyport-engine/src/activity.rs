//! A bounded log per connection of what happened to it — connected, refreshed (or not),
//! tested, a token copied, edited, revoked — with the time, the outcome and where it came
//! from (the window, the command line, the agent). Never a secret: the details are Keyport's
//! own sentences and HTTP statuses. One JSON line per event in `<config>/activity/NAME.jsonl`,
//! appended (one short write, so processes do not interleave) and cut back to the newest
//! [`KEEP`] once it holds twice as many. The log outlives a revoke, so its last line says so.

use crate::model::validate_name;
use crate::time::now;
use crate::{Error, Keyport, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// How many events a connection's log keeps.
pub const KEEP: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum EventKind {
    Connected,
    Reconnected,
    Added,
    Refreshed,
    Tested,
    TokenCopied,
    TokenReplaced,
    Edited,
    Revoked,
    /// Imported from another computer's export (no secret came with it).
    Imported,
}

/// Where an event came from: the process that did it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Source {
    #[default]
    Cli,
    Window,
    Agent,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Event {
    pub at: i64,
    pub what: EventKind,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub from: Source,
}

fn file(dir: &Path, name: &str) -> PathBuf {
    dir.join("activity").join(format!("{name}.jsonl"))
}

impl Keyport {
    /// Records an event; the log is a convenience, so a failure to write it is ignored.
    pub fn record(&self, name: &str, what: EventKind, ok: bool, detail: Option<String>) {
        let event = Event {
            at: now(),
            what,
            ok,
            detail: detail.map(|d| crate::http::excerpt(&d)),
            from: self.settings.source,
        };
        let _ = append(&self.settings.config_dir, name, &event);
    }

    /// A connection's log, oldest first. `NotFound` when there is neither a connection nor
    /// a log of that name.
    pub async fn activity(&self, name: &str) -> Result<Vec<Event>> {
        validate_name(name)?;
        let text = match std::fs::read_to_string(file(&self.settings.config_dir, name)) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.store.get(name).await?;
                String::new()
            }
            Err(source) => {
                return Err(Error::Store {
                    action: "read",
                    path: file(&self.settings.config_dir, name),
                    source,
                })
            }
        };
        // A line cut short by a full disk or a crash is passed over.
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }
}

fn append(dir: &Path, name: &str, event: &Event) -> std::io::Result<()> {
    validate_name(name).map_err(|e| std::io::Error::other(e.to_string()))?;
    let path = file(dir, name);
    crate::storage::ensure_private_dir(path.parent().expect("a folder"))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut line = serde_json::to_string(event).expect("an event serialises");
    line.push('\n');
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(&path)?.write_all(line.as_bytes())?;
    let text = std::fs::read_to_string(&path)?;
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() > 2 * KEEP {
        let kept = lines[lines.len() - KEEP..].join("\n") + "\n";
        let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
        std::fs::write(&tmp, kept)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_log_is_bounded_survives_a_torn_line_and_names_its_source() {
        let w = crate::tests::world();
        w.kp.add_sample_token("m", "sample-token-0123456789", None)
            .await
            .unwrap();
        for i in 0..(2 * KEEP + 1) {
            w.kp.record("m", EventKind::Tested, i % 2 == 0, Some(format!("try {i}")));
        }
        let log = w.kp.activity("m").await.unwrap();
        assert!(
            (KEEP..=2 * KEEP).contains(&log.len()),
            "cut back: {}",
            log.len()
        );
        assert_eq!(log.last().unwrap().detail.as_deref(), Some("try 400"));
        assert!(log.iter().all(|e| e.from == Source::Cli));
        let path = file(&w.dir, "m");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"at\":1,\"wh")
            .unwrap();
        let after = w.kp.activity("m").await.unwrap();
        assert_eq!(after.len(), log.len(), "a torn line is passed over");
        assert!(matches!(
            w.kp.activity("nobody").await,
            Err(Error::NotFound(_))
        ));
    }
}
