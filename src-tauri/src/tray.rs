//! The tray icon (Tauri's tray; libayatana-appindicator on Linux, which shows in any
//! StatusNotifierItem host, or as an XEmbed icon where there is none). Its menu lists the
//! connections that need attention, then "Open Keyport", "Pause agent" / "Resume agent"
//! and "Quit". The menu is rebuilt when the connections change (the metadata file watch
//! and the refresher call [`refresh`]) and only when what it shows changed, so an open
//! menu is not pulled away every 30 seconds.
//!
//! Closing the window hides it (see `main.rs`); the app, its agent and the background
//! refresh keep running until "Quit".

use crate::AppState;
use keyport_engine::{time, ConnectionView, Status};
use std::sync::Mutex;
use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// The tray icon's id.
pub const ID: &str = "keyport";
const OPEN: &str = "open";
const AGENT: &str = "agent";
const QUIT: &str = "quit";
/// Menu ids of the attention rows: `conn:<name>`.
const CONN: &str = "conn:";

/// One connection that needs a person, as the tray shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attention {
    pub name: String,
    /// A few words: "needs reconnect", "refresh failed", "the token expires in 3d 4h".
    pub what: String,
}

/// The connections that need attention, in list order: those that need a new sign-in or
/// token, whose refresh failed, or whose deadline is near; an admin-issued token that has
/// expired. An OAuth access token that has expired is not listed: it is refreshed on
/// next use.
pub fn attention(list: &[ConnectionView], now: i64) -> Vec<Attention> {
    list.iter()
        .filter(|v| v.needs_attention)
        .map(|v| {
            let what = match v.status {
                Status::NeedsReconnect => "needs reconnect".to_owned(),
                Status::RefreshFailed => "refresh failed".to_owned(),
                Status::Expired => "expired".to_owned(),
                _ => match (v.deadline_label.as_deref(), v.deadline) {
                    (Some(what), Some(at)) if at > now => {
                        format!("{what} in {}", time::human_span(at - now))
                    }
                    _ => "expiring soon".to_owned(),
                },
            };
            Attention {
                name: v.name.clone(),
                what,
            }
        })
        .collect()
}

/// What the menu shows; the menu is rebuilt only when this changes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shown {
    /// `None`: the connections could not be read.
    attention: Option<Vec<Attention>>,
    connections: usize,
    serving: bool,
}

static SHOWN: Mutex<Option<Shown>> = Mutex::new(None);

fn menu<R: Runtime>(app: &AppHandle<R>, shown: &Shown) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    match &shown.attention {
        Some(list) if !list.is_empty() => {
            let head = match list.len() {
                1 => "1 connection needs attention".to_owned(),
                n => format!("{n} connections need attention"),
            };
            menu.append(&MenuItem::new(app, head, false, None::<&str>)?)?;
            for a in list {
                let label = format!("{}: {}", a.name, a.what);
                let id = format!("{CONN}{}", a.name);
                menu.append(&MenuItem::with_id(app, id, label, true, None::<&str>)?)?;
            }
        }
        Some(_) if shown.connections == 0 => {
            menu.append(&MenuItem::new(
                app,
                "No connections yet",
                false,
                None::<&str>,
            )?)?;
        }
        Some(_) => {
            let text = match shown.connections {
                1 => "The connection is fine".to_owned(),
                n => format!("All {n} connections are fine"),
            };
            menu.append(&MenuItem::new(app, text, false, None::<&str>)?)?;
        }
        None => {
            let text = "Keyport could not read its connections";
            menu.append(&MenuItem::new(app, text, false, None::<&str>)?)?;
        }
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        OPEN,
        "Open Keyport",
        true,
        None::<&str>,
    )?)?;
    let agent = if shown.serving {
        "Pause agent"
    } else {
        "Resume agent"
    };
    menu.append(&MenuItem::with_id(app, AGENT, agent, true, None::<&str>)?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, QUIT, "Quit", true, None::<&str>)?)?;
    Ok(menu)
}

/// Puts the icon in the tray. The menu starts with what is known at once and is filled
/// in by the first [`refresh`].
pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let shown = Shown {
        attention: Some(Vec::new()),
        connections: 0,
        serving: app.state::<AppState>().agent.serving(),
    };
    let mut tray = TrayIconBuilder::with_id(ID)
        .tooltip("Keyport")
        .menu(&menu(app, &shown)?)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu);
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    refresh(app);
    Ok(())
}

/// Reads the connections and the agent's state again and rebuilds the menu if what it
/// shows changed. Returns at once; the work runs as a task.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move { update(&app).await });
}

async fn update<R: Runtime>(app: &AppHandle<R>) {
    // One at a time, so an older reading never replaces a newer one.
    static UPDATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one = UPDATING.lock().await;
    let Some(tray) = app.tray_by_id(ID) else {
        return;
    };
    let state = app.state::<AppState>();
    let list = match state.keyport() {
        Ok(kp) => kp.list().await.ok(),
        Err(_) => None,
    };
    let shown = Shown {
        attention: list.as_deref().map(|l| attention(l, time::now())),
        connections: list.as_ref().map_or(0, Vec::len),
        serving: state.agent.serving(),
    };
    let mut last = SHOWN.lock().unwrap_or_else(|p| p.into_inner());
    if last.as_ref() == Some(&shown) {
        return;
    }
    let tooltip = match shown.attention.as_ref().map_or(0, Vec::len) {
        0 => "Keyport".to_owned(),
        1 => "Keyport: 1 connection needs attention".to_owned(),
        n => format!("Keyport: {n} connections need attention"),
    };
    if let Ok(menu) = menu(app, &shown) {
        if tray.set_menu(Some(menu)).is_ok() {
            let _ = tray.set_tooltip(Some(tooltip));
            *last = Some(shown);
        }
    }
}

/// Brings the window forward (the tray's "Open Keyport", a second launch).
pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    let id = event.id().as_ref();
    match id {
        OPEN => show_window(app),
        AGENT => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let state = app.state::<AppState>();
                if state.agent.serving() {
                    state.agent.pause().await;
                } else if let Ok(kp) = state.keyport() {
                    state.agent.start(&app, kp);
                }
                update(&app).await;
            });
        }
        QUIT => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                app.state::<AppState>().agent.pause().await;
                app.exit(0);
            });
        }
        _ => {
            if let Some(name) = id.strip_prefix(CONN) {
                show_window(app);
                let _ = app.emit("focus-connection", name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyport_engine::Kind;
    use keyport_engine::{Keyport, Settings};

    /// A real view (an admin-issued token), then changed field by field below.
    async fn view() -> ConnectionView {
        let dir = std::env::temp_dir().join(format!(
            "keyport-app-tray-{}-{}",
            std::process::id(),
            time::now()
        ));
        let d = dir.clone();
        let settings = Settings::from_vars(move |k| {
            (k == "KEYPORT_CONFIG_DIR").then(|| d.clone().into_os_string())
        })
        .expect("settings");
        let kp = Keyport::in_memory(settings).0;
        let view = kp
            .add_sample_token("sample", "sample-value-0123456789", None)
            .await
            .expect("a sample token");
        let _ = std::fs::remove_dir_all(&dir);
        view
    }

    #[tokio::test]
    async fn the_tray_lists_what_needs_a_person() {
        let now = 1_000_000;
        let base = view().await;
        // Which connections need a person is the engine's rule (`needs_attention`, tested
        // there); the tray words each one.
        let with = |name: &str, kind: Kind, status: Status| {
            let mut v = base.clone();
            v.name = name.into();
            v.kind = kind;
            v.status = status;
            v.needs_attention = !matches!(
                (kind, status),
                (_, Status::Valid) | (Kind::Oauth, Status::Expired)
            );
            v
        };
        let mut soon = with("soon", Kind::Admin, Status::ExpiringSoon);
        soon.deadline = Some(now + 3 * 86_400);
        soon.deadline_label = Some("the token expires".into());
        let list = vec![
            with("fine", Kind::Oauth, Status::Valid),
            with("oauth-expired", Kind::Oauth, Status::Expired),
            with("gone", Kind::Oauth, Status::NeedsReconnect),
            with("failing", Kind::Oauth, Status::RefreshFailed),
            with("admin-expired", Kind::Admin, Status::Expired),
            soon,
        ];
        let got: Vec<(String, String)> = attention(&list, now)
            .into_iter()
            .map(|a| (a.name, a.what))
            .collect();
        let want = [
            ("gone", "needs reconnect"),
            ("failing", "refresh failed"),
            ("admin-expired", "expired"),
            ("soon", "the token expires in 3d 0h"),
        ]
        .map(|(n, w)| (n.to_owned(), w.to_owned()));
        assert_eq!(got, want);
        assert!(attention(&list[..2], now).is_empty(), "nothing to do");
    }
}
