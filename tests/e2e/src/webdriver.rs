//! A minimal synchronous W3C WebDriver client (ureq + serde_json), plus the driver
//! processes it talks to: chromedriver (see `browser`) and tauri-driver.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use crate::{free_port, wait_until, TestEnv};

/// The W3C key under which an element reference travels.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Everything that can go wrong talking to a WebDriver.
#[derive(Debug, Clone)]
pub enum Error {
    /// The HTTP exchange itself failed (driver gone, timeout, bad JSON...).
    Http(String),
    /// The driver answered with a W3C error (`error` is e.g. "no such element").
    Driver {
        status: u16,
        error: String,
        message: String,
    },
    /// Waited too long for something (an element, a page).
    Timeout(String),
    /// The browser could not load a page; carries the browser's error text
    /// (e.g. one containing `ERR_CONNECTION_REFUSED`).
    PageLoad(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Http(m) => write!(f, "webdriver http: {m}"),
            Error::Driver {
                status,
                error,
                message,
            } => write!(f, "webdriver {status} {error}: {message}"),
            Error::Timeout(m) => write!(f, "timed out: {m}"),
            Error::PageLoad(m) => write!(f, "page failed to load: {m}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(90)))
        .build()
        .into()
}

/// Sends one WebDriver command and returns its `value`.
fn command(agent: &ureq::Agent, method: &str, url: &str, body: Option<&Value>) -> Result<Value> {
    let http = |e: ureq::Error| Error::Http(format!("{method} {url}: {e}"));
    let mut resp = match (method, body) {
        ("GET", _) => agent.get(url).call(),
        ("DELETE", _) => agent.delete(url).call(),
        (_, body) => agent
            .post(url)
            .header("content-type", "application/json; charset=utf-8")
            .send(body.unwrap_or(&json!({})).to_string()),
    }
    .map_err(http)?;
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(256 * 1024 * 1024)
        .read_to_string()
        .map_err(http)?;
    let mut parsed: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Http(format!("{method} {url}: bad JSON ({e}): {text:.200}")))?;
    let value = parsed
        .get_mut("value")
        .map(Value::take)
        .unwrap_or(Value::Null);
    if status >= 400 || value.get("error").is_some_and(Value::is_string) {
        let field = |k: &str| {
            value
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        return Err(Error::Driver {
            status,
            error: field("error"),
            message: field("message"),
        });
    }
    Ok(value)
}

/// Polls `endpoint/status` until the driver says it is ready.
pub fn wait_ready(endpoint: &str, timeout: Duration) -> bool {
    let agent = agent();
    let url = format!("{endpoint}/status");
    wait_until(timeout, || {
        command(&agent, "GET", &url, None)
            .map(|v| v.get("ready").and_then(Value::as_bool).unwrap_or(false))
            .unwrap_or(false)
    })
}

/// One WebDriver session. Dropping it deletes the session (closing the browser/app).
pub struct Session {
    agent: ureq::Agent,
    endpoint: String,
    id: String,
    wait: Duration,
    /// A Keyport window's session holds this until it is deleted: see [`TauriDriver::session`].
    _app: Option<MutexGuard<'static, ()>>,
}

impl Session {
    /// Opens a session; `capabilities` go into `alwaysMatch`.
    pub fn new(endpoint: &str, capabilities: Value) -> Result<Session> {
        let agent = agent();
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        let body = json!({ "capabilities": { "alwaysMatch": capabilities } });
        let value = command(&agent, "POST", &format!("{endpoint}/session"), Some(&body))?;
        let id = value
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Http(format!("new session: no sessionId in {value}")))?
            .to_owned();
        Ok(Session {
            agent,
            endpoint,
            id,
            wait: Duration::from_secs(10),
            _app: None,
        })
    }

    /// How long `find` keeps polling for an element (default 10 s).
    pub fn set_wait(&mut self, wait: Duration) {
        self.wait = wait;
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}/session/{}{}", self.endpoint, self.id, path);
        command(&self.agent, method, &url, body.as_ref())
    }

    pub fn navigate(&self, url: &str) -> Result<()> {
        self.cmd("POST", "/url", Some(json!({ "url": url })))
            .map(drop)
    }

    pub fn current_url(&self) -> Result<String> {
        Ok(as_string(self.cmd("GET", "/url", None)?))
    }

    pub fn title(&self) -> Result<String> {
        Ok(as_string(self.cmd("GET", "/title", None)?))
    }

    pub fn page_source(&self) -> Result<String> {
        Ok(as_string(self.cmd("GET", "/source", None)?))
    }

    /// Runs `script` (a function body; use `return`) with `args` as `arguments`.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        let body = json!({ "script": script, "args": args });
        self.cmd("POST", "/execute/sync", Some(body))
    }

    /// Runs `script` (a function body) asynchronously: it ends by calling the last of its
    /// `arguments` with the result.
    pub fn execute_async(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        let body = json!({ "script": script, "args": args });
        self.cmd("POST", "/execute/async", Some(body))
    }

    /// Types `keys` on the keyboard as a person would (W3C key actions: a key down and up
    /// per character, into whatever has the focus), holding `modifiers` (e.g. [`keys::CONTROL`])
    /// around each one. Special keys are the WebDriver code points in [`keys`].
    pub fn press(&self, modifiers: &[char], keys: &str) -> Result<()> {
        let mut actions = Vec::new();
        for key in keys.chars() {
            let held = modifiers
                .iter()
                .map(|m| json!({"type": "keyDown", "value": m.to_string()}));
            actions.extend(held);
            actions.push(json!({"type": "keyDown", "value": key.to_string()}));
            actions.push(json!({"type": "keyUp", "value": key.to_string()}));
            let released = modifiers
                .iter()
                .rev()
                .map(|m| json!({"type": "keyUp", "value": m.to_string()}));
            actions.extend(released);
        }
        let body = json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]});
        self.cmd("POST", "/actions", Some(body))?;
        self.cmd("DELETE", "/actions", None).map(drop)
    }

    /// Finds the first element matching `css`, polling up to the session's wait.
    pub fn find(&self, css: &str) -> Result<Element<'_>> {
        self.find_within(css, self.wait)
    }

    /// Like `find`, with an explicit timeout.
    pub fn find_within(&self, css: &str, timeout: Duration) -> Result<Element<'_>> {
        let deadline = Instant::now() + timeout;
        let body = json!({ "using": "css selector", "value": css });
        loop {
            match self.cmd("POST", "/element", Some(body.clone())) {
                Ok(v) => {
                    let id = v
                        .get(ELEMENT_KEY)
                        .and_then(Value::as_str)
                        .ok_or_else(|| Error::Http(format!("find {css}: no element id in {v}")))?;
                    return Ok(Element {
                        session: self,
                        id: id.to_owned(),
                    });
                }
                Err(Error::Driver { ref error, .. }) if error == "no such element" => {}
                Err(e) => return Err(e),
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout(format!("no element matches `{css}`")));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The visible text of `<body>`.
    pub fn body_text(&self) -> Result<String> {
        self.find("body")?.text()
    }

    /// Saves a PNG screenshot of the viewport to `path`.
    pub fn screenshot_png(&self, path: &Path) -> Result<()> {
        let b64 = as_string(self.cmd("GET", "/screenshot", None)?);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|e| Error::Http(format!("screenshot: bad base64: {e}")))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::Http(format!("screenshot: {e}")))?;
        }
        std::fs::write(path, png)
            .map_err(|e| Error::Http(format!("screenshot: write {}: {e}", path.display())))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let url = format!("{}/session/{}", self.endpoint, self.id);
        let _ = command(&self.agent, "DELETE", &url, None);
    }
}

fn as_string(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// WebDriver's code points for keys that are not characters (for [`Session::press`]).
pub mod keys {
    pub const ENTER: char = '\u{E007}';
    pub const ESCAPE: char = '\u{E00C}';
    pub const SHIFT: char = '\u{E008}';
    pub const CONTROL: char = '\u{E009}';
    pub const END: char = '\u{E010}';
    pub const HOME: char = '\u{E011}';
    pub const UP: char = '\u{E013}';
    pub const DOWN: char = '\u{E015}';
    pub const BACKSPACE: char = '\u{E003}';
}

/// An element found in a `Session`.
pub struct Element<'s> {
    session: &'s Session,
    id: String,
}

impl Element<'_> {
    fn cmd(&self, method: &str, what: &str, body: Option<Value>) -> Result<Value> {
        let path = format!("/element/{}/{what}", self.id);
        self.session.cmd(method, &path, body)
    }

    pub fn click(&self) -> Result<()> {
        self.cmd("POST", "click", Some(json!({}))).map(drop)
    }

    pub fn text(&self) -> Result<String> {
        Ok(as_string(self.cmd("GET", "text", None)?))
    }

    pub fn send_keys(&self, text: &str) -> Result<()> {
        self.cmd("POST", "value", Some(json!({ "text": text })))
            .map(drop)
    }

    pub fn clear(&self) -> Result<()> {
        self.cmd("POST", "clear", Some(json!({}))).map(drop)
    }

    /// The element's `name` attribute, `None` when absent.
    pub fn attribute(&self, name: &str) -> Result<Option<String>> {
        let v = self.cmd("GET", &format!("attribute/{name}"), None)?;
        Ok(v.as_str().map(str::to_owned))
    }
}

/// A driver process listening on a loopback port; killed on drop.
pub(crate) struct DriverProcess {
    child: Child,
    pub(crate) endpoint: String,
}

impl DriverProcess {
    /// Spawns `cmd` (already told to listen on `port`) and waits for `/status` ready.
    pub(crate) fn spawn(mut cmd: Command, port: u16, what: &str) -> DriverProcess {
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {what} ({e}); run scripts/deps.sh"));
        let driver = DriverProcess {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        if !wait_ready(&driver.endpoint, Duration::from_secs(30)) {
            panic!("{what} did not become ready on {}", driver.endpoint);
        }
        driver
    }
}

impl Drop for DriverProcess {
    fn drop(&mut self) {
        // SIGTERM first: tauri-driver then ends the WebKitWebDriver it started, which a
        // SIGKILL would leave running.
        let pid = self.child.id().to_string();
        let _ = Command::new("kill")
            .arg(&pid)
            .stderr(Stdio::null())
            .status();
        let ended = wait_until(Duration::from_secs(3), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        });
        if !ended {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// `tauri-driver` on a free port, fronting `/usr/bin/WebKitWebDriver`.
pub struct TauriDriver {
    driver: DriverProcess,
}

impl TauriDriver {
    /// Starts tauri-driver (from PATH or `~/.cargo/bin`) and waits until it is ready.
    pub fn start() -> TauriDriver {
        Self::launch(None)
    }

    /// Like `start`, with `env`'s variables, which reach the launched app
    /// (tauri-driver → WebKitWebDriver → app all inherit them).
    pub fn start_in(env: &TestEnv) -> TauriDriver {
        Self::launch(Some(env))
    }

    /// Like `start_in`, with `vars` set and `unset` removed too (a locale for the app, say).
    pub fn start_in_with(env: &TestEnv, vars: &[(&str, &str)], unset: &[&str]) -> TauriDriver {
        Self::launch_with(Some(env), vars, unset)
    }

    fn launch(env: Option<&TestEnv>) -> TauriDriver {
        Self::launch_with(env, &[], &[])
    }

    fn launch_with(env: Option<&TestEnv>, vars: &[(&str, &str)], unset: &[&str]) -> TauriDriver {
        let (port, native_port) = (free_port(), free_port());
        let mut cmd = Command::new(tauri_driver_bin());
        if let Some(env) = env {
            env.apply(&mut cmd);
        }
        for name in unset {
            cmd.env_remove(name);
        }
        cmd.envs(vars.iter().copied());
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native_port.to_string())
            .arg("--native-driver")
            .arg("/usr/bin/WebKitWebDriver");
        TauriDriver {
            driver: DriverProcess::spawn(cmd, port, "tauri-driver"),
        }
    }

    /// e.g. `http://127.0.0.1:4444`.
    pub fn endpoint(&self) -> &str {
        &self.driver.endpoint
    }

    /// Launches `application` (a Tauri/WebKitGTK binary) and opens a session on its window.
    ///
    /// One Keyport window at a time on the session bus: Keyport is a single-instance app, so
    /// a second one started while another runs hands over to it and exits. The session
    /// waits for the previous window's session to end and for the previous app to let go
    /// of its single-instance name (up to 30 s), then holds a lock until it is deleted.
    pub fn session(&self, application: &Path, args: &[&str]) -> Result<Session> {
        static ONE_APP: Mutex<()> = Mutex::new(());
        let guard = ONE_APP.lock().unwrap_or_else(|p| p.into_inner());
        if !wait_until(Duration::from_secs(30), || !single_instance_taken()) {
            return Err(Error::Timeout(format!(
                "another Keyport still holds {SINGLE_INSTANCE_NAME} on the session bus"
            )));
        }
        let caps = json!({ "tauri:options": { "application": application, "args": args } });
        let mut session = Session::new(self.endpoint(), caps)?;
        session._app = Some(guard);
        Ok(session)
    }
}

/// The D-Bus name a running Keyport holds (tauri-plugin-single-instance: the app's
/// identifier + `.SingleInstance`).
const SINGLE_INSTANCE_NAME: &str = "dev.keyport.desktop.SingleInstance";

fn single_instance_taken() -> bool {
    let out = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply=literal",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
        ])
        .arg(format!("string:{SINGLE_INSTANCE_NAME}"))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    // No session bus (or no dbus-send): nothing to wait for.
    out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("true"))
}

fn tauri_driver_bin() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("tauri-driver"))
            .find(|p| p.is_file())
    });
    let in_cargo_home = || {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
        Some(cargo_home.join("bin/tauri-driver")).filter(|p| p.is_file())
    };
    on_path
        .or_else(in_cargo_home)
        .unwrap_or_else(|| panic!("tauri-driver not found; run scripts/deps.sh"))
}
