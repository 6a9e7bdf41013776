//! Reading and waiting on the Keyport window's page (the DOM contract of `ui/`), for the
//! window tests: scripts, waits, values, texts and attributes, clicks and fills, the
//! real X clipboard, screenshots into `docs/screenshots/`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use keyport_e2e::env::{artifacts_dir, workspace_root};
use keyport_e2e::webdriver::Error;
use keyport_e2e::{wait_until, Session};
use serde_json::{json, Value};

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

pub fn visible(app: &Session, css: &str) -> bool {
    let script = "const e = document.querySelector(arguments[0]); \
                  return !!e && e.getClientRects().length > 0;";
    matches!(app.execute(script, vec![json!(css)]), Ok(Value::Bool(true)))
}

pub fn wait_visible(app: &Session, css: &str) {
    let script = format!(
        "const e = document.querySelector({}); return !!e && e.getClientRects().length > 0;",
        json!(css)
    );
    wait_js(app, &script, &format!("`{css}` to be visible"));
}

pub fn wait_gone(app: &Session, css: &str) {
    let script = format!("return document.querySelector({}) === null;", json!(css));
    wait_js(app, &script, &format!("`{css}` to disappear"));
}

/// Clicks `css`. A row re-rendered between finding and clicking (the list follows the
/// store) is found again, a few times.
pub fn click(app: &Session, css: &str) {
    let mut tries = 0;
    loop {
        match app.find(css).and_then(|e| e.click()) {
            Ok(()) => return,
            Err(Error::Driver { ref error, .. })
                if tries < 5
                    && matches!(
                        error.as_str(),
                        "stale element reference" | "element not interactable"
                    ) =>
            {
                tries += 1;
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => {
                if screenshots() {
                    let _ = app.screenshot_png(&artifacts_dir().join("window-failure.png"));
                }
                panic!(
                    "click {css}: {e}; the window shows:\n{}",
                    app.body_text().unwrap_or_default()
                );
            }
        }
    }
}

pub fn fill(app: &Session, css: &str, text: &str) {
    let el = app.find(css).unwrap_or_else(|e| panic!("find {css}: {e}"));
    el.clear().unwrap_or_else(|e| panic!("clear {css}: {e}"));
    el.send_keys(text)
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// Sets a `<select>` by value as a user would (the window listens for `change`).
pub fn select(app: &Session, css: &str, value: &str) {
    let script = "const s = document.querySelector(arguments[0]); \
                  if (!s || ![...s.options].some((o) => o.value === arguments[1])) return false; \
                  s.value = arguments[1]; s.dispatchEvent(new Event('change', { bubbles: true })); \
                  return true;";
    assert_eq!(
        app.execute(script, vec![json!(css), json!(value)])
            .unwrap_or_else(|e| panic!("select {value} in {css}: {e}")),
        json!(true),
        "{css} offers {value}"
    );
}

pub fn row(name: &str) -> String {
    format!("[data-connection=\"{name}\"]")
}

/// Runs a connection's action the way a person does with the mouse: its row's ⋯ button
/// opens the row menu, then the menu item `[data-action=ACTION]`.
pub fn act(app: &Session, name: &str, action: &str) {
    click(
        app,
        &format!("{} [data-testid=\"row-menu-button\"]", row(name)),
    );
    let item = format!("#row-menu[data-for=\"{name}\"] [data-action=\"{action}\"]");
    wait_visible(app, &item);
    click(app, &item);
}

pub fn value(app: &Session, css: &str) -> Value {
    app.execute(
        "const e = document.querySelector(arguments[0]); return e ? e.value : null;",
        vec![json!(css)],
    )
    .unwrap_or_else(|e| panic!("value of {css}: {e}"))
}

pub fn text(app: &Session, css: &str) -> String {
    app.find(css)
        .and_then(|e| e.text())
        .unwrap_or_else(|e| panic!("text of {css}: {e}"))
}

/// The `textContent` of `css` (what the DOM holds, clipped or not).
pub fn dom_text(app: &Session, css: &str) -> String {
    js(
        app,
        &format!(
            "const e = document.querySelector({}); return e ? e.textContent : '';",
            json!(css)
        ),
    )
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

pub fn attr(app: &Session, css: &str, name: &str) -> Option<String> {
    app.find(css)
        .and_then(|e| e.attribute(name))
        .unwrap_or_else(|e| panic!("attribute {name} of {css}: {e}"))
}

/// How many inputs (of any kind) `css` holds.
pub fn inputs_in(app: &Session, css: &str) -> Value {
    js(
        app,
        &format!(
            "return document.querySelectorAll({}).length;",
            json!(format!("{css} input, {css} textarea, {css} select"))
        ),
    )
}
