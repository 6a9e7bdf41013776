//! Keyport in the tray, end to end: the tray menu as a StatusNotifierItem host reads and
//! clicks it over D-Bus (the connections that need attention, "Open Keyport", "Pause
//! agent" / "Resume agent", "Quit"), the window closed with the window manager's close
//! message (it hides; the app and its agent go on), and "Start at login" ticked in the
//! window (the desktop's autostart entry appears and goes). Run under
//! `scripts/with-session.sh`; `installed` runs the same story against the installed package.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use crate::util::Run;

use keyport_e2e::desktop::{self, alive, app_pid, TrayMenu, XWindow};
use keyport_e2e::{keychain, keyport_app_bin, wait_until, Session, TauriDriver, TestEnv};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);
const SHOP_TOKEN: &str = "tray-xentral-token-0123456789";
const FREIGHT_TOKEN: &str = "tray-machship-token-0123456789";

fn add(env: &TestEnv, args: &[&str], token: &str) {
    let o = env
        .keyport()
        .arg("add")
        .args(args)
        .run_with(&format!("{token}\n"));
    assert!(o.status.success(), "keyport add {args:?}");
}

/// `keyport token NAME`; with `agent_only` the keychain is out of reach (a dead bus
/// address), so only a running agent can answer.
fn token(env: &TestEnv, name: &str, agent_only: bool) -> Output {
    let mut cmd = env.keyport();
    cmd.args(["token", name]);
    if agent_only {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    }
    cmd.stdin(Stdio::null())
        .output()
        .expect("run keyport token")
}

fn js(app: &Session, script: &str) -> Value {
    app.execute(script, vec![])
        .unwrap_or_else(|e| panic!("script `{script}` failed: {e}"))
}

fn wait_js(app: &Session, script: &str, what: &str) {
    assert!(
        wait_until(WAIT, || matches!(
            app.execute(script, vec![]),
            Ok(Value::Bool(true))
        )),
        "timed out waiting for {what}; the window shows:\n{}",
        app.body_text().unwrap_or_default()
    );
}

#[track_caller]
fn wait_menu(tray: &TrayMenu, what: &str, check: impl Fn(&[String]) -> bool) -> Vec<String> {
    let mut labels = Vec::new();
    let ok = wait_until(WAIT, || {
        labels = tray.labels();
        check(&labels)
    });
    assert!(ok, "the tray menu never showed {what}: {labels:?}");
    labels
}

/// The whole story against `app_bin` (the debug build here, `/usr/bin/keyport-app` in
/// `installed`), with the CLI `keyport_bin()` points at.
pub fn tray_story(app_bin: &Path) {
    assert!(
        keychain::available(),
        "no usable Secret Service; run the tests via scripts/with-session.sh"
    );
    let env = TestEnv::new("tray");
    // One connection that needs attention (an admin-issued token that expires in three
    // days), one that is fine (no expiry).
    let in_3_days = (time::OffsetDateTime::now_utc().date() + time::Duration::days(3))
        .format(time::macros::format_description!("[year]-[month]-[day]"))
        .expect("a date formats as YYYY-MM-DD");
    add(
        &env,
        &[
            "xentral",
            "--name",
            "web_shop",
            "--base-url",
            "https://acme.xentral.biz",
            "--expires",
            &in_3_days,
        ],
        SHOP_TOKEN,
    );
    add(&env, &["machship", "--name", "freight"], FREIGHT_TOKEN);

    let driver = TauriDriver::start_in(&env);
    let app = driver
        .session(app_bin, &[])
        .expect("tauri-driver opens the Keyport window");
    assert_eq!(app.title().unwrap_or_default(), "Keyport");
    wait_js(
        &app,
        "return !!document.querySelector('[data-connection=\"web_shop\"]');",
        "the window to list the connection the CLI added",
    );
    let mut pid = None;
    assert!(
        wait_until(WAIT, || {
            pid = app_pid(app_bin, &env.keyport_config_dir());
            pid.is_some()
        }),
        "the app's process ({}) is not found",
        app_bin.display()
    );
    let pid = pid.unwrap();
    // Should an assertion fail, the app must not outlive the test (it would hold Keyport's
    // single-instance name): dropped before the session, which ends the test's hold.
    let _app_process = EndOnDrop(pid);

    // ---- 1. The tray menu: what needs attention first, then the app's own entries.
    let tray = TrayMenu::of(pid, WAIT).expect("the app exports its tray menu on the session bus");
    let labels = wait_menu(&tray, "the expiring connection", |l| {
        l.len() == 5 && l[1].starts_with("web_shop: the token expires in ")
    });
    println!("tray menu: {labels:?}");
    assert_eq!(labels[0], "1 connection needs attention", "{labels:?}");
    assert_eq!(
        labels[2..],
        ["Open Keyport", "Pause agent", "Quit"],
        "{labels:?}"
    );
    let items = tray.items();
    assert!(
        !items.iter().find(|i| i.label == labels[0]).unwrap().enabled,
        "the heading is not clickable: {items:?}"
    );

    // ---- 2. "Start at login" is off by default; ticking it writes the desktop's autostart
    // entry (starting Keyport in the tray), unticking removes it.
    let entry = desktop::autostart_entry(&env.home());
    wait_js(
        &app,
        "const b = document.getElementById('autostart'); return !!b && !b.disabled;",
        "the Start at login box",
    );
    assert_eq!(
        js(&app, "return document.getElementById('autostart').checked;"),
        Value::Bool(false),
        "Start at login is off by default"
    );
    assert!(!entry.exists(), "{} exists before", entry.display());
    app.find("#autostart").unwrap().click().unwrap();
    assert!(
        wait_until(WAIT, || entry.exists()),
        "ticking Start at login writes {}",
        entry.display()
    );
    let text = std::fs::read_to_string(&entry).unwrap();
    let exe = std::fs::canonicalize(app_bin).unwrap();
    assert!(
        text.contains(&format!("Exec={} --hidden", exe.display())),
        "the entry starts this Keyport in the tray:\n{text}"
    );
    wait_js(
        &app,
        "const b = document.getElementById('autostart'); return b.checked && !b.disabled;",
        "the box to stay ticked",
    );
    app.find("#autostart").unwrap().click().unwrap();
    assert!(
        wait_until(WAIT, || !entry.exists()),
        "unticking removes the entry"
    );

    // ---- 3. Closing the window hides it; Keyport, its agent and the refresher go on.
    let window = XWindow::of(pid, "Keyport", WAIT).expect("the app's X window");
    assert!(window.mapped(), "the window is on screen");
    window.close();
    assert!(
        wait_until(WAIT, || !window.mapped()),
        "the close button hides the window"
    );
    std::thread::sleep(Duration::from_secs(1));
    assert!(alive(pid), "closing the window does not end Keyport");
    let sock = env.keyport_config_dir().join("agent.sock");
    let served = token(&env, "web_shop", true);
    assert!(
        served.status.success(),
        "the agent answers with the window closed: {}",
        String::from_utf8_lossy(&served.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&served.stdout).trim(), SHOP_TOKEN);
    tray.click("Open Keyport");
    assert!(
        wait_until(WAIT, || window.mapped()),
        "Open Keyport shows the window again"
    );

    // ---- 4. Pause agent: the socket goes and the CLI reads the keychain itself; Resume.
    tray.click("Pause agent");
    assert!(
        wait_until(WAIT, || !sock.exists()),
        "the agent's socket is removed"
    );
    wait_menu(&tray, "Resume agent", |l| {
        l.iter().any(|s| s == "Resume agent")
    });
    assert!(
        !token(&env, "web_shop", true).status.success(),
        "no agent answers while paused"
    );
    let direct = token(&env, "web_shop", false);
    assert!(direct.status.success(), "the CLI still works while paused");
    assert_eq!(String::from_utf8_lossy(&direct.stdout).trim(), SHOP_TOKEN);
    tray.click("Resume agent");
    wait_menu(&tray, "Pause agent", |l| {
        l.iter().any(|s| s == "Pause agent")
    });
    assert!(
        wait_until(WAIT, || token(&env, "web_shop", true).status.success()),
        "the agent serves again after Resume"
    );

    // ---- 5. A change made elsewhere reaches the tray.
    let revoked = env
        .keyport()
        .args(["revoke", "web_shop"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(revoked.success(), "keyport revoke web_shop");
    let labels = wait_menu(&tray, "that nothing needs attention", |l| {
        l.first().is_some_and(|s| s == "The connection is fine")
    });
    println!("tray menu after the revoke: {labels:?}");

    // ---- 6. Quit ends Keyport and removes the agent's socket.
    tray.click("Quit");
    assert!(
        wait_until(WAIT, || !alive(pid)),
        "Quit ends the app (pid {pid})"
    );
    assert!(!sock.exists(), "the agent's socket is gone after Quit");
    assert_eq!(
        keychain::lookup(env.namespace(), "freight").map(|s| s.contains(FREIGHT_TOKEN)),
        Some(true),
        "the keychain entry outlives the app"
    );
}

/// Ends process `pid` when dropped, if it still runs.
struct EndOnDrop(u32);

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        if alive(self.0) {
            let _ = std::process::Command::new("kill")
                .arg(self.0.to_string())
                .status();
            wait_until(Duration::from_secs(5), || !alive(self.0));
        }
    }
}

#[test]
fn tray_lists_attention_closes_to_tray_pauses_and_quits() {
    tray_story(&keyport_app_bin());
}
