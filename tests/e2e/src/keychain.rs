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
