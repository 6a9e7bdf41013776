//! Copying secrets: written to the system clipboard from Rust (the webview never holds
//! them), marked for clipboard managers to skip, and cleared after a delay, but only if
//! the clipboard still holds what Keyport put there.

use crate::error::{CmdResult, CommandError};
use keyport_engine::{ExposeSecret, SecretString};
use serde::Serialize;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tauri::{AppHandle, Runtime};
use tauri_plugin_clipboard_manager::ClipboardExt;

/// Default delay before a copied secret is cleared; `KEYPORT_CLIPBOARD_CLEAR_SECS` overrides.
pub const DEFAULT_CLEAR_SECS: u64 = 30;

pub fn clear_secs() -> u64 {
    std::env::var("KEYPORT_CLIPBOARD_CLEAR_SECS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(DEFAULT_CLEAR_SECS)
}

/// What the window is told about a copy: a masked hint and when it goes away.
#[derive(Debug, Serialize, specta::Type)]
pub struct Copied {
    pub what: &'static str,
    pub preview: String,
    pub clear_secs: u64,
}

/// Which copy is the latest: an older copy's timer must not clear a newer one.
#[derive(Default, Clone)]
pub struct ClipGuard {
    generation: Arc<AtomicU64>,
}

fn fingerprint(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

impl ClipGuard {
    /// Puts `secret` on the clipboard and schedules its removal.
    pub fn copy<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        what: &'static str,
        secret: SecretString,
        preview: String,
    ) -> CmdResult<Copied> {
        app.clipboard()
            .write_secret(secret.expose_secret())
            .map_err(|e| CommandError::new("clipboard", format!("Keyport could not write to the clipboard ({e}). Check that a desktop session is running, then try again.")))?;
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let mark = fingerprint(secret.expose_secret());
        drop(secret);
        let secs = clear_secs();
        let (app, latest) = (app.clone(), self.generation.clone());
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            if latest.load(Ordering::SeqCst) != generation {
                return; // a newer copy owns the clipboard now
            }
            let clipboard = app.clipboard();
            let still_ours = clipboard
                .read_text()
                .is_ok_and(|now| fingerprint(&now) == mark);
            if still_ours {
                let _ = clipboard.clear();
            }
        });
        Ok(Copied {
            what,
            preview,
            clear_secs: secs,
        })
    }
}
