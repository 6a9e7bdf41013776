//! Looks at the Secret Service from outside Keyport, through `secret-tool`.
//!
//! The `keyring` crate stores items with attributes `service`, `username`,
//! `target` and `application`; Keyport's service is the env's namespace.

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Runs `secret-tool ARGS` with `stdin`, killing it after 20 s.
fn try_secret_tool(args: &[&str], stdin: &str) -> Result<Output, String> {
    let mut child = Command::new("secret-tool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run secret-tool ({e}); run scripts/deps.sh"))?;
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = reader(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = reader(child.stderr.take().map(|p| Box::new(p) as _));
    if let Some(mut input) = child.stdin.take() {
        // A write error means secret-tool exited early; its status tells the story.
        let _ = input.write_all(stdin.as_bytes());
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "secret-tool {args:?} hung (a keyring prompt?); run under scripts/with-session.sh"
                ));
            }
        }
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

fn secret_tool(args: &[&str], stdin: &str) -> Output {
    try_secret_tool(args, stdin).unwrap_or_else(|e| panic!("{e}"))
}

/// The secret stored for `name` under `namespace`, `None` when there is none.
pub fn lookup(namespace: &str, name: &str) -> Option<String> {
    let out = secret_tool(&["lookup", "service", namespace, "username", name], "");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Stores `secret` for `name` under `namespace` the way the `keyring` crate does
/// (default collection). Panics when the store fails.
pub fn store(namespace: &str, name: &str, secret: &str) {
    let label = format!("{name}@{namespace}:default (keyport-e2e)");
    let out = secret_tool(
        &[
            "store",
            &format!("--label={label}"),
            "service",
            namespace,
            "username",
            name,
            "target",
            "default",
            "application",
            "rust-keyring",
        ],
        secret,
    );
    assert!(
        out.status.success(),
        "secret-tool store failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `username`s of every item under `namespace`, sorted.
pub fn names(namespace: &str) -> Vec<String> {
    let out = secret_tool(&["search", "--all", "service", namespace], "");
    // secret-tool prints attributes on stderr: `attribute.username = NAME`.
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("attribute.username = "))
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

/// The labels (what the keychain's own window shows) of every item under `namespace`.
pub fn labels(namespace: &str) -> Vec<String> {
    let out = secret_tool(&["search", "--all", "service", namespace], "");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .filter_map(|l| l.strip_prefix("label = "))
        .map(str::to_owned)
        .collect()
}

/// Deletes every item under `namespace`. Returns whether secret-tool succeeded.
pub fn clear_all(namespace: &str) -> bool {
    secret_tool(&["clear", "service", namespace], "")
        .status
        .success()
}

/// Whether a Secret Service is reachable and usable (checked once per process
/// with a store/lookup/clear round trip).
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            return false;
        }
        let ns = format!("keyport-e2e-probe-{}", std::process::id());
        let attrs = ["service", ns.as_str(), "username", "probe"];
        let stored = try_secret_tool(&[&["store", "--label=probe"][..], &attrs].concat(), "ok");
        let found = try_secret_tool(&[&["lookup"][..], &attrs].concat(), "");
        let _ = try_secret_tool(&["clear", "service", &ns], "");
        stored.is_ok_and(|o| o.status.success())
            && found.is_ok_and(|o| o.status.success() && o.stdout == b"ok")
    })
}

/// A Secret Service of a test's own: a private session bus with gnome-keyring, its login
/// collection protected by `password`. A test may lock it without disturbing the others;
/// its unlock prompts (gcr-prompter) show on this process's `DISPLAY`. Dropping it ends
/// the bus and the daemon.
pub struct PrivateKeyring {
    session: std::process::Child,
    address: String,
    password: String,
}

impl PrivateKeyring {
    pub fn start(dir: &std::path::Path, password: &str) -> PrivateKeyring {
        use std::io::BufRead;
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::process::CommandExt;
        std::fs::create_dir_all(dir.join("run")).expect("keyring dir");
        std::fs::set_permissions(dir.join("run"), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
        let script = r#"
            set -e
            printf '%s' "$KR_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
            # Prompts are started by the bus: they must find the display.
            dbus-update-activation-environment DISPLAY
            echo "$DBUS_SESSION_BUS_ADDRESS"
            exec sleep 100000
        "#;
        let mut session = Command::new("dbus-run-session")
            .args(["--", "bash", "-c", script])
            .env("KR_PASSWORD", password)
            // Not the session's own daemon: `--unlock` would find and unlock that one.
            .env_remove("GNOME_KEYRING_CONTROL")
            .env_remove("SSH_AUTH_SOCK")
            .env("HOME", dir)
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("XDG_RUNTIME_DIR", dir.join("run"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("dbus-run-session (run scripts/deps.sh)");
        let mut line = String::new();
        std::io::BufReader::new(session.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the private bus's address");
        let address = line.trim().to_owned();
        assert!(address.starts_with("unix:"), "private bus: {address:?}");
        PrivateKeyring {
            session,
            address,
            password: password.to_owned(),
        }
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    fn tool(&self, program: &str, args: &[&str]) -> Output {
        Command::new(program)
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"))
    }

    /// Locks the login collection, as the desktop does on a screen lock or a timeout.
    pub fn lock(&self) {
        let out = self.tool(
            "dbus-send",
            &[
                "--session",
                "--dest=org.freedesktop.secrets",
                "--type=method_call",
                "--print-reply",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ],
        );
        assert!(out.status.success(), "lock: {out:?}");
    }

    /// The secret stored for `name` under `namespace` (`secret-tool`, this keyring).
    pub fn lookup(&self, namespace: &str, name: &str) -> Option<String> {
        let out = self.tool(
            "secret-tool",
            &["lookup", "service", namespace, "username", name],
        );
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Waits up to `within` for the keyring's unlock prompt on the display, types the
    /// password into it as a person would (xdotool) and returns the prompt's title.
    pub fn answer_prompt(&self, within: Duration) -> Result<String, String> {
        let deadline = Instant::now() + within;
        let window = loop {
            let out = Command::new("xdotool")
                .args(["search", "--onlyvisible", "--class", "gcr-prompter"])
                .output()
                .map_err(|e| format!("xdotool: {e} (run scripts/deps.sh)"))?;
            let found = String::from_utf8_lossy(&out.stdout);
            if let Some(w) = found.lines().next() {
                break w.to_owned();
            }
            if Instant::now() > deadline {
                return Err(format!("no unlock prompt appeared within {within:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let title = Command::new("xdotool")
            .args(["getwindowname", &window])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        let run = |args: &[&str]| {
            Command::new("xdotool")
                .args(args)
                .status()
                .map_err(|e| format!("xdotool: {e}"))
        };
        run(&["windowfocus", "--sync", &window])?;
        std::thread::sleep(Duration::from_millis(300));
        run(&["type", "--delay", "20", &self.password])?;
        run(&["key", "Return"])?;
        Ok(title)
    }
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        // The whole process group: the bus, the keyring daemon and any prompt.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.session.id())])
            .status();
        let _ = self.session.wait();
    }
}
