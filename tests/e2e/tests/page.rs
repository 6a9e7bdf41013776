//! Reading and waiting on the Keyport window's page (the DOM contract of `ui/`), for the
//! window tests that need more than `window.rs`'s clicks: scripts, waits, element boxes,
//! the real X clipboard, screenshots into `docs/screenshots/`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use keyport_e2e::env::workspace_root;
use keyport_e2e::{wait_until, Session};
use serde_json::Value;

pub const WAIT: Duration = Duration::from_secs(20);

/// `KEYPORT_SCREENSHOTS=1`: save screenshots to `docs/screenshots/`.
pub fn screenshots() -> bool {
    std::env::var_os("KEYPORT_SCREENSHOTS").is_some_and(|v| v == "1")
}

/// `docs/screenshots/NAME.png`, when screenshots are asked for.
pub fn shot(app: &Session, name: &str) {
    if !screenshots() {
        return;
    }
    // What was laid out may not be painted yet: the picture waits for two frames.
    after_paint(app, "return true;");
    let path: PathBuf = workspace_root()
        .join("docs/screenshots")
        .join(format!("{name}.png"));
    app.screenshot_png(&path)
        .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
}

/// Runs `script` with `args`; panics with the script when the page throws.
pub fn js_with(app: &Session, script: &str, args: Vec<Value>) -> Value {
    app.execute(script, args)
        .unwrap_or_else(|e| panic!("script `{script}` failed: {e}"))
}

pub fn js(app: &Session, script: &str) -> Value {
    js_with(app, script, vec![])
}

/// Runs `script` after the next animation frame has been painted (the frame after the
/// last key's handlers ran): what a person sees once the window repainted.
pub fn after_paint(app: &Session, script: &str) -> Value {
    let wrapped = format!(
        "const done = arguments[arguments.length - 1]; \
         requestAnimationFrame(() => requestAnimationFrame(() => {{ \
           try {{ done((() => {{ {script} }})()); }} catch (e) {{ done('error: ' + e); }} }}));"
    );
    app.execute_async(&wrapped, vec![])
        .unwrap_or_else(|e| panic!("script after paint `{script}` failed: {e}"))
}

/// Waits until `script` returns true; panics with `what` and the page's text.
#[track_caller]
pub fn wait_js(app: &Session, script: &str, what: &str) {
    if !wait_until(WAIT, || {
        matches!(app.execute(script, vec![]), Ok(Value::Bool(true)))
    }) {
        panic!(
            "timed out waiting for {what}; the window shows:\n{}",
            app.body_text().unwrap_or_default()
        );
    }
}

/// The names (`data-connection`) of the rows in the page, top to bottom.
pub fn row_names(app: &Session) -> Vec<String> {
    let v = js(
        app,
        "return [...document.querySelectorAll('[data-testid=row]')].map(r => r.dataset.connection);",
    );
    strings(&v)
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The element that has the keyboard focus, as `#id` or its `data-testid`.
pub fn focused(app: &Session) -> String {
    js(
        app,
        "const e = document.activeElement; if (!e) return ''; \
         return e.id ? '#' + e.id : (e.dataset.testid || e.tagName.toLowerCase());",
    )
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// The selected row's connection name, if any.
pub fn selected(app: &Session) -> Option<String> {
    js(
        app,
        "const r = document.querySelector('[data-testid=row][data-selected=true]'); \
         return r ? r.dataset.connection : null;",
    )
    .as_str()
    .map(str::to_owned)
}

/// Counts mouse and pointer presses anywhere in the page from now on (keyboard-made
/// `click`s on buttons are not presses): read back with [`presses`].
pub fn count_presses(app: &Session) {
    js(
        app,
        "window.__presses = 0; \
         for (const t of ['mousedown', 'mouseup', 'pointerdown', 'pointerup', 'contextmenu', 'wheel']) \
           document.addEventListener(t, (e) => { if (t !== 'contextmenu' || e.button === 2) window.__presses++; }, true); \
         return true;",
    );
}

pub fn presses(app: &Session) -> u64 {
    js(app, "return window.__presses;")
        .as_u64()
        .unwrap_or(u64::MAX)
}

/// The X clipboard as another program sees it (`None`: empty or not text).
pub fn clipboard() -> Option<String> {
    let out = Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .stdin(Stdio::null())
        .output()
        .expect("xclip runs (scripts/deps.sh installs it)");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Waits up to 5 s for the clipboard to satisfy `check`: `Ok` with what it holds, else
/// `Err` with what it held last.
pub fn wait_clipboard(check: impl Fn(&str) -> bool) -> Result<String, Option<String>> {
    let mut last = None;
    let ok = wait_until(Duration::from_secs(5), || {
        last = clipboard();
        last.as_deref().is_some_and(&check)
    });
    match last {
        Some(text) if ok => Ok(text),
        other => Err(other),
    }
}
