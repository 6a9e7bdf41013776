//! Keyport's desktop window: a thin Tauri shell over `keyport-engine`. The window (plain
//! HTML/JS in `ui/`) calls the commands in [`commands`]; tokens stay on the Rust side.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod background;
mod clipboard;
mod commands;
mod connect;
mod error;

use error::{CmdResult, CommandError};
use keyport_engine::{Keyport, Settings};
use std::sync::Arc;
use tauri::Manager;

pub struct AppState {
    /// The engine, or why it could not be opened (shown in the window, not a crash).
    keyport: Result<Arc<Keyport>, CommandError>,
    attempts: connect::Attempts,
    clip: clipboard::ClipGuard,
}

impl AppState {
    fn keyport(&self) -> CmdResult<Arc<Keyport>> {
        self.keyport.clone()
    }
}

fn main() {
    // A list and a few forms need no GPU compositing; without it WebKitGTK's web process
    // used ~70 MiB less PSS here (172 → 102 MiB under Xvfb, WebKitGTK 2.50), which puts the
    // whole window below an empty Tauri window. `WEBKIT_DISABLE_COMPOSITING_MODE=0` turns
    // compositing back on. Set before any thread exists, so the environment is not raced.
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    // Tokens live in this process's memory: keep it out of core dumps and `ptrace`.
    keyport_engine::non_dumpable();
    // Read once, here; the engine itself reads no environment.
    let keyport = Settings::from_vars(|k| std::env::var_os(k))
        .map(|settings| Arc::new(Keyport::new(settings)))
        .ok_or_else(|| {
            CommandError::new(
                "no_home",
                "Keyport could not find your home folder (HOME is not set), so it has nowhere to keep its list of connections. Set HOME, or KEYPORT_CONFIG_DIR to a folder of your own, and open Keyport again.",
            )
        });
    let app = tauri::Builder::default()
        // First, so a second launch hands over to the running window before doing anything.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.show();
                let _ = w.set_focus();
            }
        }))
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        .manage(AppState {
            keyport: keyport.clone(),
            attempts: connect::Attempts::default(),
            clip: clipboard::ClipGuard::default(),
        })
        .invoke_handler(tauri::generate_handler![
            commands::info,
            commands::list,
            commands::registrations,
            commands::connect_start,
            commands::connect_cancel,
            commands::connect_paste,
            commands::connect_reopen,
            commands::copy_token,
            commands::copy_headers,
            commands::copy_curl,
            commands::refresh,
            commands::test,
            commands::revoke,
            commands::add_token,
        ])
        .setup(move |app| {
            if let Ok(kp) = &keyport {
                background::spawn(app.handle().clone(), kp.clone());
            }
            Ok(())
        })
        .build(tauri::tauri_build_context!());
    match app {
        Ok(app) => app.run(|_, _| {}),
        Err(e) => {
            eprintln!("keyport-app: the window could not start: {e}");
            std::process::exit(1);
        }
    }
}
