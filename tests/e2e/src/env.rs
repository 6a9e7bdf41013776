//! Throwaway per-test environments and the location of Keyport's binaries.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::{keychain, wait_until};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let clean: String = prefix
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{clean}-{}-{n}", std::process::id())
}

/// A directory under the system temp dir, removed on drop (kept when
/// `KEYPORT_E2E_KEEP` is set, for debugging).
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("keyport-e2e-{}", unique(prefix)));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("create temp dir {}: {e}", path.display()));
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("KEYPORT_E2E_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// One test's private world: a HOME, an XDG config dir, a keychain namespace and a
/// fake browser that records the URLs it is asked to open. Dropping it removes the
/// directory and the namespace's keychain items.
pub struct TestEnv {
    dir: TempDir,
    namespace: String,
    urls_taken: AtomicUsize,
    /// A session bus of the test's own (a private keyring), else the inherited one.
    bus: Option<OsString>,
}

impl TestEnv {
    pub fn new(label: &str) -> TestEnv {
        let dir = TempDir::new(label);
        let env = TestEnv {
            namespace: format!("keyport-test-{}", unique(label)),
            dir,
            urls_taken: AtomicUsize::new(0),
            bus: None,
        };
        for d in [env.home(), env.keyport_config_dir()] {
            std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
        }
        env.write_browser_recorder();
        env
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    /// `XDG_CONFIG_HOME`.
    pub fn config_dir(&self) -> PathBuf {
        self.root().join("config")
    }

    /// `KEYPORT_CONFIG_DIR` (`<config>/keyport`).
    pub fn keyport_config_dir(&self) -> PathBuf {
        self.config_dir().join("keyport")
    }

    /// The keychain service name this env's Keyport uses (`KEYPORT_KEYCHAIN_SERVICE`).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The fake `BROWSER`: a script appending its argument to `browser_log()`.
    pub fn browser_script(&self) -> PathBuf {
        self.root().join("browser.sh")
    }

    pub fn browser_log(&self) -> PathBuf {
        self.root().join("browser-urls.txt")
    }

    /// The variables a Keyport process of this env gets (DBUS_SESSION_BUS_ADDRESS,
    /// DISPLAY and the rest are inherited).
    pub fn vars(&self) -> Vec<(&'static str, OsString)> {
        let bus = self
            .bus
            .iter()
            .map(|b| ("DBUS_SESSION_BUS_ADDRESS", b.clone()));
        bus.chain([
            ("HOME", self.home().into()),
            ("XDG_CONFIG_HOME", self.config_dir().into()),
            ("XDG_DATA_HOME", self.root().join("data").into()),
            ("XDG_CACHE_HOME", self.root().join("cache").into()),
            ("XDG_STATE_HOME", self.root().join("state").into()),
            ("KEYPORT_CONFIG_DIR", self.keyport_config_dir().into()),
            ("KEYPORT_KEYCHAIN_SERVICE", self.namespace.clone().into()),
            ("BROWSER", self.browser_script().into()),
        ])
        .collect()
    }

    /// Runs this env's Keyport processes on `keyring`'s bus instead of the inherited one.
    pub fn use_keyring(&mut self, keyring: &keychain::PrivateKeyring) {
        self.bus = Some(keyring.address().into());
    }

    /// Sets this env's variables on any command.
    pub fn apply<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.envs(self.vars())
    }

    /// The built `keyport` CLI, running in this env.
    pub fn keyport(&self) -> Command {
        let mut cmd = Command::new(keyport_bin());
        self.apply(&mut cmd);
        cmd
    }

    /// The built desktop app, running in this env.
    pub fn keyport_app(&self) -> Command {
        let mut cmd = Command::new(keyport_app_bin());
        self.apply(&mut cmd);
        cmd
    }

    /// Every URL the fake browser was asked to open, oldest first.
    pub fn browser_urls(&self) -> Vec<String> {
        std::fs::read_to_string(self.browser_log())
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Waits for the next URL (one not returned before) handed to the fake browser.
    pub fn wait_for_browser_url(&self, timeout: Duration) -> String {
        let taken = self.urls_taken.load(Ordering::SeqCst);
        let mut url = None;
        wait_until(timeout, || {
            url = self.browser_urls().into_iter().nth(taken);
            url.is_some()
        });
        let url = url.unwrap_or_else(|| {
            panic!(
                "no URL reached the fake browser within {timeout:?} ({} so far)",
                taken
            )
        });
        self.urls_taken.store(taken + 1, Ordering::SeqCst);
        url
    }

    fn write_browser_recorder(&self) {
        let log = self.browser_log();
        let log = log.to_str().expect("temp dir path is UTF-8");
        assert!(!log.contains('\''), "temp dir path must not contain quotes");
        let script = format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{log}'\n");
        let path = self.browser_script();
        std::fs::write(&path, script).expect("write the fake browser script");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("chmod the fake browser script");
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if self.bus.is_none() && keychain::available() {
            keychain::clear_all(&self.namespace);
        }
    }
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `CARGO_TARGET_DIR` (relative to the workspace when relative), else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// Where tests put screenshots and logs worth keeping (git-ignored).
pub fn artifacts_dir() -> PathBuf {
    let dir = workspace_root().join("tests/e2e/artifacts");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn locate(var: &str, name: &str, package: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(var) {
        return PathBuf::from(path);
    }
    let path = target_dir().join("debug").join(name);
    assert!(
        path.is_file(),
        "{} not found (set {var}, or build it with cargo build -p {package})",
        path.display()
    );
    path
}

/// The `keyport` CLI: `$KEYPORT_BIN`, else `<target>/debug/keyport`.
pub fn keyport_bin() -> PathBuf {
    locate("KEYPORT_BIN", "keyport", "keyport-cli")
}

/// The desktop app: `$KEYPORT_APP_BIN`, else `<target>/debug/keyport-app`.
pub fn keyport_app_bin() -> PathBuf {
    locate("KEYPORT_APP_BIN", "keyport-app", "keyport-app")
}
