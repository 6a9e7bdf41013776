//! Keyport's desktop window: a thin Tauri shell over `keyport-engine`. The window (the
//! TypeScript front end in `ui/`, built into `ui/dist`) calls the commands in [`commands`]
//! through the bindings [`ipc`] generates; tokens stay on the Rust side.
//!
//! Keyport lives in the tray ([`tray`]): closing the window hides it, and the agent and the
//! background refresh go on until "Quit". `--hidden` starts it in the tray without the
//! window (what "Start at login" runs).

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod background;
mod clipboard;
mod commands;
mod connect;
mod error;
mod ipc;
mod locale;
mod porting;
mod tray;

use error::{CmdResult, CommandError};
use keyport_engine::{Keyport, Settings};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tauri::{Manager, WindowEvent};
use tauri_plugin_notification::NotificationExt;

pub struct AppState {
    /// The engine, or why it could not be opened (shown in the window, not a crash).
    keyport: Result<Arc<Keyport>, CommandError>,
    attempts: connect::Attempts,
    clip: clipboard::ClipGuard,
    agent: background::Agent,
}

/// The argument "Start at login" starts Keyport with: straight to the tray.
const HIDDEN_ARG: &str = "--hidden";

/// Whether these arguments are a start at login (`--hidden`): the window then stays in
/// the tray.
fn started_at_login<S: AsRef<str>>(args: impl IntoIterator<Item = S>) -> bool {
    args.into_iter().any(|a| a.as_ref() == HIDDEN_ARG)
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
        .map(|settings| Settings {
            source: keyport_engine::activity::Source::Window,
            ..settings
        })
        .map(|settings| Arc::new(Keyport::new(settings)))
        .ok_or_else(|| {
            CommandError::new(
                "no_home",
                "Keyport could not find your home folder (HOME is not set), so it has nowhere to keep its list of connections. Set HOME, or KEYPORT_CONFIG_DIR to a folder of your own, and open Keyport again.",
            )
        });
    let app = tauri::Builder::default()
        // First, so a second launch hands over to the running window before doing anything.
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            // A second start at login (`--hidden`) leaves the window where it is.
            if !started_at_login(args) {
                tray::show_window(app)
            }
        }))
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        // Off until the person ticks "Start at login"; the window reaches it only through
        // `autostart_get`/`autostart_set`, never through the plugin's own commands.
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .arg(HIDDEN_ARG)
                .build(),
        )
        .manage(AppState {
            keyport,
            attempts: connect::Attempts::default(),
            clip: clipboard::ClipGuard::default(),
            agent: background::Agent::default(),
        })
        .on_window_event(|window, event| {
            // Closing the window keeps Keyport in the tray: the agent keeps serving and
            // tokens keep being refreshed. "Quit" in the tray ends it.
            if let WindowEvent::CloseRequested { api, .. } = event {
                if window.label() == "main" {
                    api.prevent_close();
                    let _ = window.hide();
                    say_once_still_running(window.app_handle());
                }
            }
        })
        .invoke_handler(ipc::builder().invoke_handler())
        .setup(move |app| {
            // The window is made hidden (tauri.conf.json) and shown here, unless Keyport
            // was started at login: then it waits in the tray.
            if !started_at_login(std::env::args()) {
                tray::show_window(app.handle());
            }
            let state = app.state::<AppState>();
            if let Ok(kp) = state.keyport() {
                background::spawn(app.handle().clone(), kp, &state.agent);
            }
            // Should the tray icon not be made, Keyport still works as a window, and a
            // second launch brings a hidden window back.
            if let Err(e) = tray::create(app.handle()) {
                eprintln!("keyport-app: no tray icon: {e}");
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

/// The first time the window is closed, one notification says that Keyport is still
/// there (on desktops that show no tray icons it is the only sign).
fn say_once_still_running<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    static SAID: AtomicBool = AtomicBool::new(false);
    if SAID.swap(true, Ordering::SeqCst) {
        return;
    }
    let _ = app
        .notification()
        .builder()
        .title("Keyport is still running")
        .body("It keeps serving and refreshing tokens in the background. Open it again from the tray or by starting Keyport again; Quit is in the tray menu.")
        .show();
}
