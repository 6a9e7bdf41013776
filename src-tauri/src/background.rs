//! Work the app does on its own, as tasks on the async runtime: refresh OAuth tokens
//! before they expire (the engine makes it single-flight across processes with a file
//! lock, so the CLI and the window never both spend a rotating refresh token), show one
//! desktop notification per expiry warning, tell the window and the tray when the
//! metadata file changed (a CLI `connect`, `refresh` or `revoke` shows up without a
//! restart), and serve `keyport token` from memory over the agent socket ([`Agent`], which
//! the tray pauses and resumes). None of it depends on the window being shown: closing
//! the window only hides it.

use keyport_engine::{ConnectionView, Keyport, Status, Warning};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter, Runtime};
use tauri_plugin_notification::NotificationExt;
use tokio::time::{interval, sleep, MissedTickBehavior};

/// How often the refresher looks at the connections.
const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// How often the metadata file is checked for changes.
const WATCH_EVERY: Duration = Duration::from_secs(1);

pub fn spawn<R: Runtime>(app: AppHandle<R>, kp: Arc<Keyport>, agent: &Agent) {
    tauri::async_runtime::spawn(refresher(app.clone(), kp.clone()));
    tauri::async_runtime::spawn(watch(app.clone(), kp.metadata_path()));
    agent.start(&app, kp);
}

/// The token agent as a task that can be paused ("Pause agent" in the tray) and resumed.
/// While it runs, `keyport token` is answered from memory; paused, the CLI reads the
/// keychain itself, as it does with no Keyport running.
#[derive(Default)]
pub struct Agent {
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Agent {
    /// Starts serving unless this app already does. Another agent (a `keyport agent`) that
    /// already serves keeps serving; this one steps aside and the tray offers "Resume".
    pub fn start<R: Runtime>(&self, app: &AppHandle<R>, kp: Arc<Keyport>) {
        let mut task = self.task.lock().unwrap_or_else(|p| p.into_inner());
        if task.as_ref().is_some_and(live) {
            return;
        }
        let app = app.clone();
        *task = Some(tauri::async_runtime::spawn(async move {
            #[cfg(unix)]
            if let Err(e) = keyport_engine::agent::serve(kp).await {
                eprintln!("keyport-app: the token agent did not start: {e}");
            }
            #[cfg(not(unix))]
            let _ = kp;
            crate::tray::refresh(&app);
        }));
    }

    /// Whether this app's agent is serving now.
    pub fn serving(&self) -> bool {
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner());
        task.as_ref().is_some_and(live)
    }

    /// Stops serving: the listener is closed and the engine removes its socket file.
    /// Answers already under way finish.
    pub async fn pause(&self) {
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task.filter(live) {
            task.abort();
            let _ = task.await;
        }
    }
}

/// Whether the agent's task is still running.
fn live(task: &JoinHandle<()>) -> bool {
    !task.inner().is_finished()
}

async fn refresher<R: Runtime>(app: AppHandle<R>, kp: Arc<Keyport>) {
    // Let the window draw its list first.
    sleep(Duration::from_secs(2)).await;
    let mut every = interval(REFRESH_EVERY);
    every.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        tend(&app, &kp).await;
    }
}

async fn tend<R: Runtime>(app: &AppHandle<R>, kp: &Keyport) {
    let Ok(list) = kp.list().await else { return };
    let now = keyport_engine::time::now();
    let locale = crate::locale::system();
    let mut changed = false;
    for v in &list {
        if v.refresh_due(now) {
            // A failure is recorded in the connection's health by the engine and shows
            // in the list as "refresh failed" / "needs reconnect".
            let _ = kp.token(&v.name, keyport_engine::REFRESH_AHEAD).await;
            changed = true;
        }
        for (key, body) in unseen(kp, v, &locale).await {
            let shown = app
                .notification()
                .builder()
                .title(title(v))
                .body(&body)
                .show();
            if shown.is_ok() {
                let _ = kp.mark_notified(&v.name, key).await;
            }
        }
    }
    if changed {
        let _ = app.emit("connections-changed", ());
    }
    // Statuses follow the clock too (valid → expiring soon → expired).
    crate::tray::refresh(app);
}

/// The notification key for "needs reconnect": shown once, like a deadline's warnings.
const RECONNECT_KEY: &str = "needs_reconnect";

/// "Keyport: Clearwater · acme" — the client first, so a consultant sees whose it is.
fn title(v: &ConnectionView) -> String {
    match v.client.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => format!("Keyport: {c} · {}", v.name),
        None => format!("Keyport: {}", v.name),
    }
}

/// What to say about `v` that was not said yet, with its notification key: a deadline
/// within 7 days, then within a day (`7d`, `1d`, `expired`: the engine's warning keys),
/// and a connection that needs a new sign-in; each once per connection, ever. Dates are
/// local, in the system locale's order.
async fn unseen(kp: &Keyport, v: &ConnectionView, locale: &str) -> Vec<(&'static str, String)> {
    let reconnect = v.status == Status::NeedsReconnect;
    if v.warnings.is_empty() && !reconnect {
        return Vec::new();
    }
    let Ok(seen) = kp.notified(&v.name).await else {
        return Vec::new();
    };
    let now = keyport_engine::time::now();
    let mut out: Vec<(&'static str, String)> = v
        .warnings
        .iter()
        .filter(|w| !seen.iter().any(|k| k == w.key))
        .map(|w| (w.key, deadline_text(v, w, locale, now)))
        .collect();
    if reconnect && !seen.iter().any(|k| k == RECONNECT_KEY) {
        out.push((
            RECONNECT_KEY,
            format!(
                "{} ({}) needs a new sign-in: {}. Open Keyport and choose Reconnect.",
                v.name, v.vendor_label, v.status_text
            ),
        ));
    }
    out
}

/// A warning's sentence with the deadline's date in the locale: "MYOB's yearly consent
/// ends in 6 days (24/11/2027 09:00): a company-file admin must approve the app again".
fn deadline_text(v: &ConnectionView, w: &Warning, locale: &str, now: i64) -> String {
    let Some(d) = v.deadlines.first() else {
        return w.message.clone();
    };
    let when = crate::locale::date_time(locale, d.at);
    let left = d.at - now;
    if left <= 0 {
        format!("{} on {when}: {}", d.what, d.todo)
    } else {
        let days = left / 86_400;
        let span = match days {
            0 => format!("{} hours", (left / 3600).max(1)),
            1 => "1 day".to_owned(),
            n => format!("{n} days"),
        };
        format!("{} in {span} ({when}): {}", d.what, d.todo)
    }
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

async fn watch<R: Runtime>(app: AppHandle<R>, path: PathBuf) {
    let mut last = stamp(&path);
    let mut every = interval(WATCH_EVERY);
    every.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = stamp(&path);
        if now != last {
            last = now;
            let _ = app.emit("connections-changed", ());
            crate::tray::refresh(&app);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyport_engine::Settings;

    /// An engine with an in-memory vault over a throwaway folder.
    fn keyport(tag: &str) -> (Keyport, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "keyport-app-{tag}-{}-{}",
            std::process::id(),
            keyport_engine::time::now()
        ));
        let d = dir.clone();
        let settings = Settings::from_vars(move |k| {
            (k == "KEYPORT_CONFIG_DIR").then(|| d.clone().into_os_string())
        })
        .expect("settings");
        (Keyport::in_memory(settings).0, dir)
    }

    /// A real view: an admin-issued token of the first vendor whose form takes plain
    /// values (the shell knows no vendor), expiring in three days when it has a date.
    async fn sample(kp: &Keyport) -> ConnectionView {
        kp.add_sample_token("sample", "sample-value-0123456789", Some(3))
            .await
            .expect("a sample token")
    }

    #[tokio::test]
    async fn a_warning_is_notified_once() {
        let (kp, dir) = keyport("warn");
        let v = sample(&kp).await;
        assert!(v.expires_at.is_some(), "the sample expires in three days");
        let said = unseen(&kp, &v, "en-AU").await;
        let keys: Vec<_> = said.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["7d"], "{:?}", v.warnings);
        // The date in the locale's order (day/month/year for en-AU), local time.
        let at = v.deadlines[0].at;
        let (y, m, d, _, _) = crate::locale::local_parts(at);
        let date = format!("{d:02}/{m:02}/{y}");
        assert!(said[0].1.contains(&date), "{} names {date}", said[0].1);
        assert!(
            said[0].1.contains("in 2 days") || said[0].1.contains("in 3 days"),
            "{}",
            said[0].1
        );
        kp.mark_notified(&v.name, "7d").await.unwrap();
        assert!(
            unseen(&kp, &v, "en-AU").await.is_empty(),
            "shown once, ever"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_notification_names_the_client() {
        let (kp, dir) = keyport("title");
        let v = sample(&kp).await;
        assert_eq!(title(&v), "Keyport: sample");
        let edit = keyport_engine::Edit {
            client: Some("Clearwater Ltd".into()),
            ..Default::default()
        };
        let v = kp.edit("sample", edit).await.unwrap();
        assert_eq!(title(&v), "Keyport: Clearwater Ltd · sample");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_changed_file_changes_its_stamp() {
        let path = std::env::temp_dir().join(format!("keyport-app-stamp-{}", std::process::id()));
        assert_eq!(stamp(&path), None);
        std::fs::write(&path, "{}").unwrap();
        let first = stamp(&path);
        assert!(first.is_some());
        std::fs::write(&path, "{\"connections\":[]}").unwrap();
        assert_ne!(
            stamp(&path),
            first,
            "a write that changes the length is seen"
        );
        let _ = std::fs::remove_file(path);
    }
}
