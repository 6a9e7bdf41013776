//! The desktop around the app, as the desktop itself sees it: the app's process (found by
//! its binary and its Keyport folder, so parallel tests do not mix up their apps), its
//! tray menu as a StatusNotifierItem host reads and clicks it (`com.canonical.dbusmenu`
//! on the session bus, through `gdbus`), and its window as the X server sees it (mapped or
//! not), closed the way a window manager's close button does (`WM_DELETE_WINDOW`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt as _, EventMask, MapState, Window,
};

use crate::wait_until;

/// The process running `bin` with `KEYPORT_CONFIG_DIR=config_dir` in its environment.
pub fn app_pid(bin: &Path, config_dir: &Path) -> Option<u32> {
    let bin = std::fs::canonicalize(bin).ok()?;
    let wanted = format!("KEYPORT_CONFIG_DIR={}", config_dir.display());
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        if std::fs::read_link(e.path().join("exe")).ok()? != bin {
            return None;
        }
        let environ = std::fs::read(e.path().join("environ")).ok()?;
        environ
            .split(|b| *b == 0)
            .any(|v| v == wanted.as_bytes())
            .then_some(pid)
    })
}

/// Whether process `pid` still runs (a zombie counts as gone).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let after = &s[s.rfind(')')? + 2..];
            after.chars().next()
        })
        .is_some_and(|state| state != 'Z' && state != 'X')
}

fn gdbus(args: &[&str]) -> Option<String> {
    let out = Command::new("gdbus")
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("gdbus runs (scripts/deps.sh installs libglib2.0-bin)");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn call(dest: &str, path: &str, method: &str, args: &[&str]) -> Option<String> {
    let mut all = vec![
        "call",
        "--session",
        "--timeout",
        "5",
        "--dest",
        dest,
        "--object-path",
        path,
        "--method",
        method,
        "--",
    ];
    all.extend_from_slice(args);
    gdbus(&all)
}

/// One entry of the tray menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuItem {
    pub id: i32,
    /// Empty for a separator.
    pub label: String,
    pub enabled: bool,
}

/// An app's tray menu, exported on the session bus for the tray host.
pub struct TrayMenu {
    dest: String,
    path: String,
}

impl TrayMenu {
    /// The tray menu process `pid` exports, once it is there (up to `timeout`).
    pub fn of(pid: u32, timeout: Duration) -> Option<TrayMenu> {
        let mut found = None;
        wait_until(timeout, || {
            found = Self::find(pid);
            found.is_some()
        });
        found
    }

    fn find(pid: u32) -> Option<TrayMenu> {
        let names = call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.ListNames",
            &[],
        )?;
        for name in quoted(&names).filter(|n| n.starts_with(':')) {
            let owner = call(
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.GetConnectionUnixProcessID",
                &[name],
            );
            let owner: Option<u32> = owner.and_then(|o| {
                o.trim()
                    .trim_start_matches("(uint32 ")
                    .trim_end_matches(",)")
                    .parse()
                    .ok()
            });
            if owner != Some(pid) {
                continue;
            }
            // libayatana-appindicator: /org/ayatana/NotificationItem/<id>/Menu.
            let tree = gdbus(&[
                "introspect",
                "--session",
                "--dest",
                name,
                "--object-path",
                "/org/ayatana/NotificationItem",
                "--recurse",
            ]);
            let Some(tree) = tree else { continue };
            let path = tree.lines().find_map(|l| {
                let l = l.trim().strip_prefix("node ")?.trim_end_matches(" {");
                l.ends_with("/Menu").then(|| l.to_owned())
            });
            if let Some(path) = path {
                return Some(TrayMenu {
                    dest: name.to_owned(),
                    path,
                });
            }
        }
        None
    }

    /// The menu's entries, top to bottom (`GetLayout`, as a tray host asks).
    pub fn items(&self) -> Vec<MenuItem> {
        let layout = call(
            &self.dest,
            &self.path,
            "com.canonical.dbusmenu.GetLayout",
            &["0", "-1", "[]"],
        )
        .unwrap_or_default();
        // Children print as `<(ID, {PROPERTIES}, @av [])>`.
        let mut items = Vec::new();
        let mut rest = layout.as_str();
        while let Some(at) = rest.find("<(") {
            rest = &rest[at + 2..];
            let Some((id, after)) = rest.split_once(", {") else {
                break;
            };
            let Ok(id) = id.trim().parse() else { continue };
            let Some((props, after)) = after.split_once("}, @av") else {
                break;
            };
            rest = after;
            let label = props
                .split_once("'label': <")
                .and_then(|(_, v)| {
                    let quote = v.chars().next()?;
                    let v = &v[1..];
                    Some(v[..v.find(quote)?].to_owned())
                })
                .unwrap_or_default();
            // GTK's mnemonics: `__` is an underscore, a single `_` marks the access key.
            let label = label
                .replace("__", "\u{0}")
                .replace('_', "")
                .replace('\u{0}', "_");
            items.push(MenuItem {
                id,
                label,
                enabled: !props.contains("'enabled': <false>"),
            });
        }
        items
    }

    /// The labels of the menu's entries (separators left out).
    pub fn labels(&self) -> Vec<String> {
        self.items()
            .into_iter()
            .filter(|i| !i.label.is_empty())
            .map(|i| i.label)
            .collect()
    }

    /// Clicks the entry labelled `label`, as a tray host does (`Event … "clicked"`).
    pub fn click(&self, label: &str) {
        let items = self.items();
        let item = items
            .iter()
            .find(|i| i.label == label)
            .unwrap_or_else(|| panic!("no tray menu entry {label:?} in {items:?}"));
        assert!(item.enabled, "the tray entry {label:?} is disabled");
        let id = item.id.to_string();
        call(
            &self.dest,
            &self.path,
            "com.canonical.dbusmenu.Event",
            &[&id, "clicked", "<0>", "0"],
        )
        .unwrap_or_else(|| panic!("the tray menu did not take the click on {label:?}"));
    }
}

/// The strings in single quotes in gdbus's output.
fn quoted(s: &str) -> impl Iterator<Item = &str> {
    s.split('\'').skip(1).step_by(2)
}

/// The app's top-level X window with this title.
pub struct XWindow {
    conn: x11rb::rust_connection::RustConnection,
    window: Window,
}

impl XWindow {
    /// The top-level window of process `pid` titled `title` (`_NET_WM_PID`, `_NET_WM_NAME`).
    pub fn of(pid: u32, title: &str, timeout: Duration) -> Option<XWindow> {
        let (conn, screen) = x11rb::connect(None).ok()?;
        let root = conn.setup().roots[screen].root;
        let atom = |name: &str| -> Option<u32> {
            Some(
                conn.intern_atom(false, name.as_bytes())
                    .ok()?
                    .reply()
                    .ok()?
                    .atom,
            )
        };
        let (wm_pid, wm_name, utf8) = (
            atom("_NET_WM_PID")?,
            atom("_NET_WM_NAME")?,
            atom("UTF8_STRING")?,
        );
        let mut found = None;
        wait_until(timeout, || {
            let Some(tree) = conn.query_tree(root).ok().and_then(|c| c.reply().ok()) else {
                return false;
            };
            found = tree.children.into_iter().find(|&w| {
                let prop = |p: u32, t: u32| {
                    conn.get_property(false, w, p, t, 0, 256)
                        .ok()
                        .and_then(|c| c.reply().ok())
                };
                let owner = prop(wm_pid, AtomEnum::CARDINAL.into())
                    .and_then(|r| r.value32().and_then(|mut v| v.next()));
                owner == Some(pid)
                    && prop(wm_name, utf8).is_some_and(|r| r.value == title.as_bytes())
            });
            found.is_some()
        });
        Some(XWindow {
            window: found?,
            conn,
        })
    }

    /// Whether the window is on screen (mapped).
    pub fn mapped(&self) -> bool {
        self.conn
            .get_window_attributes(self.window)
            .ok()
            .and_then(|c| c.reply().ok())
            .is_some_and(|a| a.map_state == MapState::VIEWABLE)
    }

    /// What a window manager's close button does: `WM_PROTOCOLS` / `WM_DELETE_WINDOW`.
    pub fn close(&self) {
        let atom = |name: &str| {
            self.conn
                .intern_atom(false, name.as_bytes())
                .expect("intern atom")
                .reply()
                .expect("atom")
                .atom
        };
        let (protocols, delete) = (atom("WM_PROTOCOLS"), atom("WM_DELETE_WINDOW"));
        let event = ClientMessageEvent::new(32, self.window, protocols, [delete, 0, 0, 0, 0]);
        self.conn
            .send_event(false, self.window, EventMask::NO_EVENT, event)
            .expect("send WM_DELETE_WINDOW");
        self.conn.flush().expect("flush the X connection");
    }
}

/// The autostart entry "Start at login" writes for a person whose HOME is `home`.
pub fn autostart_entry(home: &Path) -> PathBuf {
    home.join(".config/autostart/Keyport.desktop")
}
