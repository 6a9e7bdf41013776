//! Keyport's end-to-end test harness.
//!
//! Tests run inside `scripts/with-session.sh` (a private D-Bus session with an
//! unlocked gnome-keyring and an Xvfb display). Each test builds a [`TestEnv`]
//! (throwaway HOME, config dir, keychain namespace and a fake `BROWSER`), runs the
//! built `keyport` CLI or desktop app in it, checks the keychain from outside with
//! [`keychain`], and drives consent pages with [`Chromium`] or the app window with
//! [`TauriDriver`]; [`desktop`] reads the app's tray menu and window as the desktop does;
//! [`seeding`] makes many connections quickly (the window's 40, the benchmarks' 1,000).

pub mod bao;
pub mod browser;
pub mod desktop;
pub mod env;
pub mod keychain;
pub mod seeding;
pub mod webdriver;

use std::time::{Duration, Instant};

pub use browser::Chromium;
pub use env::{keyport_app_bin, keyport_bin, TestEnv};
pub use webdriver::{Element, Session, TauriDriver};

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

/// Polls `check` every 50 ms until it returns true (→ true) or `timeout` passes (→ false).
pub fn wait_until(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
