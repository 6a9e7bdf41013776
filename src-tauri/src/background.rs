//! Work the app does on its own: refresh OAuth tokens before they expire (the engine makes
//! it single-flight across processes with a file lock, so the CLI and the window never
//! both spend a rotating refresh token), show one desktop notification per expiry
//! warning, and tell the window when the metadata file changed (a CLI `connect`,
//! `refresh` or `revoke` shows up without a restart), and serve `keyport token` from memory
//! over the agent socket.

use keyport_engine::{ConnectionView, Keyport, Kind, Status};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tauri::{AppHandle, Emitter, Runtime};
use tauri_plugin_notification::NotificationExt;

/// How often the refresher looks at the connections.
const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// Refresh when the access token has less than this left (seconds).
const REFRESH_AHEAD: i64 = 300;
/// How often the metadata file is checked for changes.
const WATCH_EVERY: Duration = Duration::from_millis(1000);

pub fn spawn<R: Runtime>(app: AppHandle<R>, kp: Arc<Keyport>) {
    let (app2, kp2) = (app.clone(), kp.clone());
    let _ = std::thread::Builder::new()
        .name("refresher".into())
        .spawn(move || {
            // Let the window draw its list first.
            std::thread::sleep(Duration::from_secs(2));
            loop {
                tend(&app2, &kp2);
                std::thread::sleep(REFRESH_EVERY);
            }
        });
    #[cfg(unix)]
    {
        let kp3 = kp.clone();
        let _ = std::thread::Builder::new()
            .name("agent".into())
            .spawn(move || {
                // While the window is open, `keyport token` is answered from memory. A second
                // agent (another `keyport agent`) keeps serving; this one steps aside.
                if let Err(e) = keyport_engine::agent::serve(&kp3) {
                    eprintln!("keyport-app: the token agent did not start: {e}");
                }
            });
    }
    let _ = std::thread::Builder::new()
        .name("store-watch".into())
        .spawn(move || watch(&app, &kp.metadata_path()));
}

/// Whether the refresher should renew this connection now.
pub fn due(v: &ConnectionView, now: i64) -> bool {
    v.kind == Kind::OAuth
        && v.can_refresh
        && matches!(
            v.status,
            Status::Valid | Status::ExpiringSoon | Status::Expired
        )
        && v.expires_at.is_some_and(|e| e - now < REFRESH_AHEAD)
}

fn tend<R: Runtime>(app: &AppHandle<R>, kp: &Keyport) {
    let Ok(list) = kp.list() else { return };
    let now = keyport_engine::time::now();
    let mut changed = false;
    for v in &list {
        if due(v, now) {
            // A failure is recorded in the connection's health by the engine and shows
            // in the list as "refresh failed" / "needs reconnect".
            let _ = kp.token(&v.name, REFRESH_AHEAD);
            changed = true;
        }
        notify_warnings(app, kp, v);
    }
    if changed {
        let _ = app.emit("connections-changed", ());
    }
}

/// One notification per warning key (`7d`, `1d`, `expired`) per connection, ever.
fn notify_warnings<R: Runtime>(app: &AppHandle<R>, kp: &Keyport, v: &ConnectionView) {
    if v.warnings.is_empty() {
        return;
    }
    let Ok(seen) = kp.notified(&v.name) else {
        return;
    };
    for w in &v.warnings {
        if seen.iter().any(|k| k == w.key) {
            continue;
        }
        let shown = app
            .notification()
            .builder()
            .title(format!("Keyport: {}", v.name))
            .body(&w.message)
            .show();
        if shown.is_ok() {
            let _ = kp.mark_notified(&v.name, w.key);
        }
    }
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

fn watch<R: Runtime>(app: &AppHandle<R>, path: &Path) {
    let mut last = stamp(path);
    loop {
        std::thread::sleep(WATCH_EVERY);
        let now = stamp(path);
        if now != last {
            last = now;
            let _ = app.emit("connections-changed", ());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real view (of an admin-issued O4 token); tests adjust the fields `due` reads.
    fn sample() -> ConnectionView {
        use keyport_engine::vault::MemoryVault;
        let dir = std::env::temp_dir().join(format!("keyport-app-bg-{}", std::process::id()));
        let kp = Keyport::with_vault(&dir, Box::new(MemoryVault::default()));
        let v = kp
            .add_manual(keyport_engine::ManualRequest {
                name: "sample".into(),
                vendor: keyport_engine::VendorId::O4,
                base_url: Some("https://o4.example.com".into()),
                expires: None,
                test_path: None,
                company_file: None,
                note: None,
                token: Some("t".into()),
                username: None,
                password: None,
                api_key: None,
                replace: true,
            })
            .unwrap();
        let _ = std::fs::remove_dir_all(dir);
        v
    }

    #[test]
    fn only_healthy_refreshable_oauth_tokens_near_expiry_are_due() {
        let now = 1_000_000;
        let mut oauth = sample();
        oauth.kind = Kind::OAuth;
        oauth.can_refresh = true;
        oauth.status = Status::Valid;
        oauth.expires_at = Some(now + 120);
        assert!(due(&oauth, now));
        oauth.expires_at = Some(now + 3600);
        assert!(!due(&oauth, now), "plenty of time left");
        oauth.expires_at = Some(now - 10);
        oauth.status = Status::Expired;
        assert!(due(&oauth, now), "expired access tokens are refreshed");
        oauth.status = Status::NeedsReconnect;
        assert!(!due(&oauth, now), "only a new sign-in helps");
        oauth.status = Status::Valid;
        oauth.can_refresh = false;
        assert!(!due(&oauth, now), "no refresh token");
        let mut manual = sample();
        manual.expires_at = Some(now + 10);
        assert!(!due(&manual, now), "admin-issued tokens are not refreshed");
    }
}
