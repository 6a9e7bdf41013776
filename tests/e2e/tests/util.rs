//! Helpers shared by the CLI tests (`cli`, `manual`): running `keyport` and judging its
//! output, the mock vendor's control API, and what Keyport stored (keychain, metadata file).

use keyport_e2e::{keychain, TestEnv};
use keyport_mock::MockServer;
use serde_json::Value;
use std::borrow::Borrow;
use std::io::Write;
use std::process::{Command, Output, Stdio};

// ---------- the mock vendor's control API ----------

/// A ureq agent that hands back 4xx/5xx answers instead of failing on them.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// POSTs `body` to the mock's control API at `path` (e.g. `/_mock/clients`); panics on failure.
pub fn control(mock: &MockServer, path: &str, body: Value) {
    let mut r = agent()
        .post(&format!("{}{path}", mock.base_url()))
        .send_json(body)
        .unwrap_or_else(|e| panic!("mock control {path}: {e}"));
    assert!(
        r.status().is_success(),
        "mock control {path}: {} {}",
        r.status(),
        r.body_mut().read_to_string().unwrap_or_default()
    );
}

/// The mock's counters and records (`GET /_mock/stats`).
pub fn stats(mock: &MockServer) -> Value {
    let mut r = agent()
        .get(&format!("{}/_mock/stats", mock.base_url()))
        .call()
        .expect("mock stats");
    serde_json::from_str(&r.body_mut().read_to_string().expect("stats body")).expect("stats json")
}

/// A counter from [`stats`].
pub fn num(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("stats.{key} missing: {v}"))
}

// ---------- running keyport ----------

/// `cmd.run()`: runs with standard input closed and collects the output;
/// `cmd.run_with(text)`: the same with `text` on standard input (a secret, a pasted URL).
pub trait Run {
    fn run(&mut self) -> Output;
    fn run_with(&mut self, stdin: &str) -> Output;
}

impl Run for Command {
    fn run(&mut self) -> Output {
        self.stdin(Stdio::null()).output().expect("run keyport")
    }

    fn run_with(&mut self, stdin: &str) -> Output {
        let mut child = self
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn keyport");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("stdin");
        child.wait_with_output().expect("wait")
    }
}

/// `keyport ARGS` (shell words) on a pseudo-terminal: util-linux `script` in
/// `env.keyport()`'s environment; its output is the terminal's (stdout and stderr).
pub fn on_a_pty(env: &TestEnv, args: &str) -> Command {
    let k = env.keyport();
    let program = k.get_program().to_string_lossy().into_owned();
    let mut cmd = Command::new("script");
    for (name, value) in k.get_envs() {
        match value {
            Some(v) => cmd.env(name, v),
            None => cmd.env_remove(name),
        };
    }
    cmd.args(["-qec", &format!("'{program}' {args}"), "/dev/null"]);
    cmd
}

pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output of a run that must have succeeded; takes the output or a reference to it.
#[track_caller]
pub fn ok(o: impl Borrow<Output>) -> String {
    let o = o.borrow();
    assert!(
        o.status.success(),
        "keyport failed ({:?}):\nstdout: {}\nstderr: {}",
        o.status.code(),
        out(o),
        err(o)
    );
    out(o)
}

/// The run failed with exit `code` and said `needle` on standard error.
#[track_caller]
pub fn fails_with(o: &Output, code: i32, needle: &str) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit code; stdout: {} stderr: {}",
        out(o),
        err(o)
    );
    assert!(
        err(o).contains(needle),
        "stderr should say {needle:?}: {}",
        err(o)
    );
}

// ---------- what Keyport stored ----------

/// What Keyport stored in the real keychain for `name`, parsed.
pub fn stored(env: &TestEnv, name: &str) -> Option<Value> {
    keychain::lookup(env.namespace(), name)
        .map(|s| serde_json::from_str(&s).expect("keychain entry is JSON"))
}

/// `keyport show NAME --json`, the real CLI: what it reports of a connection.
pub fn show(env: &TestEnv, name: &str) -> Value {
    serde_json::from_str(&ok(env.keyport().args(["show", name, "--json"]).run()))
        .expect("keyport show --json prints JSON")
}

/// The metadata file's text ("" when there is none).
pub fn metadata(env: &TestEnv) -> String {
    std::fs::read_to_string(env.keyport_config_dir().join("connections.json")).unwrap_or_default()
}

/// `keyport list --json`, parsed.
pub fn list(env: &TestEnv) -> Vec<Value> {
    let o = ok(env.keyport().args(["list", "--json"]).run());
    serde_json::from_str::<Value>(&o)
        .expect("list json")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Held by tests that start bursts of processes and by tests whose timing such a burst
/// would upset (a token file renewed a second before expiry): they never overlap.
pub fn timing_sensitive() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// `token NAME` in `n` processes of `keyport` (a `Command` from `cmd`) started at once;
/// each one's token, in the order they were started.
pub fn tokens_at_once(mut cmd: impl FnMut() -> Command, name: &str, n: usize) -> Vec<String> {
    let children: Vec<std::process::Child> = (0..n)
        .map(|_| {
            cmd()
                .args(["token", name])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    children
        .into_iter()
        .map(|c| ok(c.wait_with_output().expect("wait")).trim().to_owned())
        .collect()
}
