//! The desktop window, end to end in the real Tauri webview (tauri-driver → WebKitWebDriver),
//! against the mock vendor, with consent pages completed by headless Chromium, the real
//! Secret Service and the real X clipboard. Run under `scripts/with-session.sh` with the
//! app built (`cargo build -p keyport-app`; `KEYPORT_APP_BIN` points elsewhere) and the CLI
//! built (`KEYPORT_BIN`).
//!
//! One test walks the whole story so the app starts once. With `KEYPORT_SCREENSHOTS=1`
//! it also rewrites `docs/screenshots/*.png` (WebDriver screenshots of the main states).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use keyport_e2e::{
    free_port, keychain, keyport_app_bin, wait_until, Chromium, Session, TauriDriver, TestEnv,
};
use keyport_mock::{
    ClientReg, ConfigPatch, IssueReq, ManualVendor, MockServer, OAuthVendor, BUSINESS_NAME,
};
use serde_json::json;

use crate::page::{
    act, attr, click, clipboard, dom_text, fill, inputs_in, js, row, screenshots, select, shot,
    text, value, visible, wait_gone, wait_js, wait_visible, WAIT,
};
use crate::util::{show, stored};

const MYOB_KEY: &str = "window-myob-key";
const MYOB_SECRET: &str = "window-myob-secret";
const MYOB_PASTE_KEY: &str = "window-myob-desktop-key";
const ADV_CLIENT: &str = "5A0C7E1F-3B2D-4C6A-9E8F-112233445566@Clearwater";
const ADV_SECRET: &str = "window-adv-secret";
/// A public OIDC client (no secret: PKCE), on any loopback port.
const OIDC_CLIENT: &str = "window-oidc-app";

/// Picks a vendor in the Connect dialog's chooser (radios `#vendor-<id>`, built from
/// `info()`), and waits for its fields.
fn choose_vendor(app: &Session, id: &str) {
    let radio = format!("#vendor-{id}");
    let script = format!(
        "const r = document.querySelector({}); if (!r) return false; r.click(); return r.checked;",
        json!(radio)
    );
    wait_js(app, &script, &format!("the vendor radio {radio}"));
    wait_js(
        app,
        &format!(
            "const b = document.querySelector('#connect-fields > [data-vendor]'); \
             return !!b && b.dataset.vendor === {};",
            json!(id)
        ),
        &format!("the fields of {id}"),
    );
}

/// Opens the Connect form's "Advanced" part (the fields marked advanced by the vendor).
fn open_advanced(app: &Session) {
    js(
        app,
        "const d = document.getElementById('connect-advanced'); d.open = true; return true;",
    );
}

fn access_token(env: &TestEnv, name: &str) -> String {
    let s = stored(env, name).unwrap_or_else(|| panic!("no keychain entry for {name}"));
    s["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| panic!("keychain entry of {name} has no access_token"))
        .to_owned()
}

/// Seconds from the app process's start to the list being on screen (the front end
/// stamps `data-ready-at` after its first render).
fn startup_secs(app: &Session) -> Option<f64> {
    let ready_ms: f64 = js(
        app,
        "return document.documentElement.dataset.readyAt || null;",
    )
    .as_str()?
    .parse()
    .ok()?;
    let bin = std::fs::canonicalize(keyport_app_bin()).ok()?;
    let pid = std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        (std::fs::read_link(e.path().join("exe")).ok()? == bin).then_some(pid)
    })?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22 (starttime, clock ticks since boot), counted after the `(comm)` field.
    let after = &stat[stat.rfind(')')? + 2..];
    let start_ticks: f64 = after.split(' ').nth(19)?.parse().ok()?;
    let btime: f64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    let hz: f64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0);
    Some(ready_ms / 1000.0 - (btime + start_ticks / hz))
}

#[test]
fn window_connects_copies_refreshes_and_revokes() {
    assert!(
        keychain::available(),
        "no usable Secret Service; run the tests via scripts/with-session.sh"
    );
    let env = TestEnv::new("window");
    // The app inherits tauri-driver's environment: the env's variables (set by
    // `start_in`) and this process's own, so a short clipboard delay reaches it this way.
    std::env::set_var("KEYPORT_CLIPBOARD_CLEAR_SECS", "3");
    if screenshots() {
        // The app turns WebKit's GPU compositing off to save memory; WebKitWebDriver's
        // screenshot endpoint hangs without it, so only the screenshot run turns it on.
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "0");
    }
    let mock = MockServer::start().expect("start the mock vendor");
    let base = mock.base_url();
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    mock.register_client(ClientReg::new(
        OAuthVendor::Myob,
        MYOB_KEY,
        Some(MYOB_SECRET),
        &redirect,
    ));
    // A key registered with MYOB's classic non-loopback redirect URI: the user pastes.
    mock.register_client(ClientReg::new(
        OAuthVendor::Myob,
        MYOB_PASTE_KEY,
        Some(MYOB_SECRET),
        "http://desktop",
    ));
    mock.register_client(ClientReg::new(
        OAuthVendor::Advanced,
        ADV_CLIENT,
        Some(ADV_SECRET),
        &redirect,
    ));
    // A public client: the provider takes any port on the loopback redirect URI.
    mock.register_client(ClientReg::new(
        OAuthVendor::Oidc,
        OIDC_CLIENT,
        None,
        "http://127.0.0.1/callback",
    ));
    let chromium = Chromium::start();
    let driver = TauriDriver::start_in(&env);
    let app = driver
        .session(&keyport_app_bin(), &[])
        .expect("tauri-driver opens the Keyport window");
    assert_eq!(app.title().unwrap_or_default(), "Keyport");

    // ---- 1. A first start shows the empty state, which says what to do first.
    wait_visible(&app, "#empty-state");
    let body = app.body_text().unwrap();
    assert!(body.contains("No connections yet"), "{body}");
    assert!(body.contains("Connect MYOB"), "{body}");
    if let Some(secs) = startup_secs(&app) {
        println!("window: launch to list shown: {secs:.2} s (debug build, under WebDriver)");
        assert!(secs < 5.0, "the list took {secs:.2} s to show");
    }
    shot(&app, "empty-state");

    // ---- 2. Connect MYOB: form, countdown, consent in a real browser, row appears valid.
    // The top bar's primary button opens the first OAuth vendor of info(): MYOB.
    click(&app, "#connect-primary");
    wait_visible(&app, "#connect-form");
    assert!(
        visible(&app, "#vendor-choice"),
        "MYOB, Advanced and OIDC are offered"
    );
    for id in ["myob", "myob-advanced", "oidc"] {
        assert_eq!(
            js(
                &app,
                &format!("return !!document.getElementById('vendor-{id}');")
            ),
            json!(true),
            "the chooser offers {id}"
        );
    }
    assert_eq!(
        js(
            &app,
            "return document.getElementById('vendor-myob').checked;"
        ),
        json!(true),
        "the primary button starts on MYOB"
    );
    fill(&app, "#conn-name", "acme");
    fill(&app, "#f-client_id", MYOB_KEY);
    fill(&app, "#f-client_secret", MYOB_SECRET);
    fill(&app, "#f-redirect_uri", &redirect);
    assert_eq!(value(&app, "#f-scopes"), json!("CompanyFile"));
    open_advanced(&app);
    fill(&app, "#f-auth_base", &format!("{base}/myob/secure"));
    fill(&app, "#f-api_base", &format!("{base}/myob/api"));
    click(&app, "#connect-submit");
    wait_visible(&app, "#countdown");
    let consent = env.wait_for_browser_url(WAIT);
    assert!(
        consent.starts_with(&format!("{base}/myob/secure/oauth2/account/authorize?")),
        "the system browser ($BROWSER) got {consent}"
    );
    assert!(
        consent.contains(&format!("client_id={MYOB_KEY}")),
        "{consent}"
    );
    let first = text(&app, "#countdown");
    assert!(
        first.starts_with('4') || first == "5:00",
        "a five-minute countdown, got {first}"
    );
    assert!(
        wait_until(Duration::from_secs(4), || text(&app, "#countdown") != first),
        "the countdown moves"
    );
    assert!(
        visible(&app, "#connect-cancel"),
        "a Cancel button while waiting"
    );
    assert!(
        !visible(&app, "#paste-row"),
        "no paste field for a loopback redirect URI"
    );
    shot(&app, "connecting");
    let landed = chromium
        .approve(&consent)
        .expect("consent and loopback redirect");
    assert!(landed.contains("Keyport"), "loopback result page: {landed}");
    let acme = row("acme");
    wait_visible(&app, &format!("{acme}[data-status=\"valid\"]"));
    wait_js(
        &app,
        "return !document.getElementById('connect-dialog').open;",
        "the connect dialog to close",
    );
    // The row's cells clip long text with an ellipsis; WebKitWebDriver's element text
    // leaves clipped cells out, so the row's text is read from the DOM.
    let acme_text = dom_text(&app, &acme);
    assert!(acme_text.contains(BUSINESS_NAME), "{acme_text}");
    assert!(acme_text.contains("MYOB Business API"), "{acme_text}");
    assert!(!visible(&app, "#empty-state"));
    let token1 = access_token(&env, "acme");
    let entry = stored(&env, "acme").unwrap();
    assert!(
        entry["refresh_token"].is_string(),
        "{}",
        entry["refresh_token"]
    );

    // While the window is open it serves `keyport token` from memory: with the keychain
    // out of the CLI's reach, only the app's agent can answer.
    let sock = env.keyport_config_dir().join("agent.sock");
    assert!(
        wait_until(Duration::from_secs(10), || sock.exists()),
        "the app's agent socket appears"
    );
    let via_agent = env
        .keyport()
        .args(["token", "acme"])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .stdin(Stdio::null())
        .output()
        .expect("run keyport token");
    assert!(
        via_agent.status.success(),
        "{}",
        String::from_utf8_lossy(&via_agent.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&via_agent.stdout).trim(), token1);

    // The row counts down live from data-expires-at.
    let left = dom_text(&app, &format!("{acme} .conn-left"));
    assert!(
        wait_until(Duration::from_secs(4), || dom_text(
            &app,
            &format!("{acme} .conn-left")
        ) != left),
        "time left counts down ({left})"
    );

    // ---- 3. Add an admin-issued token (Xentral shows its permission warning); Keyport
    // tries it at the vendor first, so it is one the vendor's admin screen issued.
    let issue = |vendor| {
        mock.issue_manual(IssueReq {
            vendor,
            expires: None,
        })
        .token
        .expect("the vendor issues a token")
    };
    let xentral_token = issue(ManualVendor::Xentral);
    click(&app, "#add-token");
    wait_visible(&app, "#add-form");
    select(&app, "#add-vendor", "xentral");
    assert_eq!(value(&app, "#add-vendor"), json!("xentral"));
    wait_visible(&app, "#add-warning");
    assert!(text(&app, "#add-warning").contains("unlimited permissions"));
    fill(&app, "#add-name", "shop");
    fill(&app, "#a-base_url", &format!("{base}/xentral"));
    fill(&app, "#a-token", &xentral_token);
    click(&app, "#add-submit");
    wait_visible(&app, &format!("{}[data-status=\"valid\"]", row("shop")));
    assert_eq!(
        keychain::lookup(env.namespace(), "shop").map(|s| s.contains(&xentral_token)),
        Some(true)
    );

    // ---- 3b. Edit…: the note and client change in the window and the CLI alike, the
    // secrets not at all. An OAuth connection's form has no expiry (the vendor sets it).
    act(&app, "acme", "edit");
    wait_visible(&app, "#edit-form");
    assert!(visible(&app, "#e-note") && visible(&app, "#e-client"));
    assert!(
        !visible(&app, "#e-expires"),
        "no expiry for an OAuth connection"
    );
    click(&app, "#edit-dialog [data-close]");
    wait_js(
        &app,
        "return !document.getElementById('edit-dialog').open;",
        "the edit dialog to close",
    );
    let shop = row("shop");
    let shop_keychain = keychain::lookup(env.namespace(), "shop");
    assert!(shop_keychain.is_some());
    let shown = show(&env, "shop");
    act(&app, "shop", "edit");
    wait_visible(&app, "#edit-form");
    assert!(
        visible(&app, "#e-expires"),
        "an admin-issued token's expiry can be set"
    );
    assert_eq!(value(&app, "#e-base_url"), shown["base_url"]);
    assert_eq!(value(&app, "#e-note"), json!(""));
    assert_eq!(
        js(
            &app,
            "return document.querySelectorAll('#edit-dialog input[type=password]').length;"
        ),
        json!(0),
        "Edit asks for no secret"
    );
    fill(&app, "#e-note", "Window note");
    fill(&app, "#e-client", "Clearwater Ltd");
    click(&app, "#edit-submit");
    wait_js(
        &app,
        &format!(
            "const r = document.querySelector({}); if (!r) return false; \
             const c = r.querySelector('.conn-client'); \
             return !!c && c.textContent === 'Clearwater Ltd' && r.textContent.includes('Window note') \
                 && !document.getElementById('edit-dialog').open;",
            json!(shop)
        ),
        "the row to show the new note and client",
    );
    let edited = show(&env, "shop");
    assert_eq!(edited["note"], json!("Window note"), "{edited}");
    assert_eq!(edited["client"], json!("Clearwater Ltd"), "{edited}");
    assert_eq!(edited["base_url"], shown["base_url"], "left as it was");
    assert_eq!(edited["expires_at"], shown["expires_at"], "left as it was");
    assert_eq!(
        keychain::lookup(env.namespace(), "shop"),
        shop_keychain,
        "Edit leaves the keychain entry alone"
    );
    // Opened again, the form starts from what is stored now.
    act(&app, "shop", "edit");
    wait_visible(&app, "#edit-form");
    assert_eq!(value(&app, "#e-note"), json!("Window note"));
    assert_eq!(value(&app, "#e-client"), json!("Clearwater Ltd"));
    click(&app, "#edit-dialog [data-close]");
    wait_js(
        &app,
        "return !document.getElementById('edit-dialog').open;",
        "the edit dialog to close",
    );

    // ---- 4. A change made with the CLI shows up without a restart.
    let mut cli = env
        .keyport()
        .args(["add", "o4", "--name", "o4-cli", "--base-url"])
        .arg(format!("{base}/o4"))
        .args(["--test-path", "/api/orderstatus"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("run the keyport CLI (build it: cargo build -p keyport-cli)");
    cli.stdin
        .take()
        .unwrap()
        .write_all(format!("{}\n", issue(ManualVendor::O4)).as_bytes())
        .unwrap();
    assert!(cli.wait().unwrap().success(), "keyport add o4");
    wait_visible(&app, &row("o4-cli"));
    assert!(
        !visible(&app, &format!("{} [data-unverified]", row("o4-cli"))),
        "the vendor accepted it"
    );
    // One the vendor could not be asked about is stored unverified, and the row says why.
    let mut cli = env
        .keyport()
        .args(["add", "o4", "--name", "o4-later", "--base-url"])
        .arg(format!("http://127.0.0.1:{}/o4", free_port()))
        .args(["--test-path", "/api/orderstatus"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    cli.stdin
        .take()
        .unwrap()
        .write_all(format!("{}\n", issue(ManualVendor::O4)).as_bytes())
        .unwrap();
    assert!(
        cli.wait().unwrap().success(),
        "keyport add o4 (unreachable)"
    );
    let badge = format!("{} [data-unverified]", row("o4-later"));
    wait_visible(&app, &badge);
    let why = attr(&app, &badge, "title").unwrap_or_default();
    assert_eq!(
        Some(why.as_str()),
        show(&env, "o4-later")["unverified"].as_str(),
        "the badge's tooltip is the reason"
    );
    assert!(!why.is_empty());
    shot(&app, "connections");
    let revoked = env
        .keyport()
        .args(["revoke", "o4-cli"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(revoked.success(), "keyport revoke o4-cli");
    wait_gone(&app, &row("o4-cli"));
    let revoked = env
        .keyport()
        .args(["revoke", "o4-later"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(revoked.success(), "keyport revoke o4-later");
    wait_gone(&app, &row("o4-later"));

    // ---- 5. Copy token: it reaches the X clipboard from Rust, never the page, and is
    // cleared after the delay (3 s here).
    let copied_at = Instant::now();
    act(&app, "acme", "copy-token");
    assert!(
        wait_until(Duration::from_secs(5), || clipboard().as_deref()
            == Some(&token1)),
        "the clipboard holds the access token (it has {:?})",
        clipboard().map(|c| c.len())
    );
    let source = app.page_source().unwrap();
    assert!(
        !source.contains(&token1),
        "the token must never reach the webview"
    );
    // The details pane follows the selection (the row whose menu was used) and its
    // activity log shows the copy, made from the window.
    wait_js(
        &app,
        "const d = document.querySelector('#details'); return d.dataset.for === 'acme' && \
         !!d.querySelector('[data-testid=activity-entry][data-what=token_copied][data-from=window][data-ok=true]');",
        "the details pane's activity log to show the copy",
    );
    assert!(
        wait_until(Duration::from_secs(10), || clipboard().as_deref()
            != Some(&token1)),
        "the clipboard is cleared after the delay"
    );
    let held = copied_at.elapsed();
    assert!(
        held >= Duration::from_millis(2500),
        "cleared after the 3 s delay, not at once ({held:?})"
    );
    // A clipboard the user changed meanwhile is left alone.
    act(&app, "acme", "copy-headers");
    assert!(
        wait_until(Duration::from_secs(5), || clipboard().is_some_and(
            |c| c.contains(&format!("Authorization: Bearer {token1}"))
        )),
        "Copy headers puts the full header set on the clipboard"
    );
    let mut xclip = Command::new("xclip")
        .args(["-i", "-selection", "clipboard"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    xclip.stdin.take().unwrap().write_all(b"mine").unwrap();
    xclip.wait().unwrap();
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        clipboard().as_deref(),
        Some("mine"),
        "someone else's clipboard survives"
    );
    // Copy as .env: the token, base URL and account ids under `keyport env`'s names.
    act(&app, "acme", "copy-env");
    assert!(
        wait_until(Duration::from_secs(5), || clipboard().is_some_and(|c| {
            c.contains(&format!("KEYPORT_TOKEN='{token1}'"))
                && c.contains(&format!("MYOB_BUSINESS_ID='{}'", keyport_mock::BUSINESS_ID))
        })),
        "Copy as .env puts the connection's variables on the clipboard"
    );
    assert!(
        !app.page_source().unwrap().contains(&token1),
        "never in the webview"
    );

    // ---- 6. Refresh now: the expiry moves later and the mock counts one refresh.
    let before: i64 = attr(&app, &acme, "data-expires-at")
        .unwrap()
        .parse()
        .unwrap();
    mock.configure(ConfigPatch {
        access_ttl_secs: Some(7200),
        ..ConfigPatch::default()
    });
    let refreshes = mock.stats().refreshes;
    act(&app, "acme", "refresh");
    wait_js(
        &app,
        &format!(
            "const r = document.querySelector({}); return !!r && Number(r.dataset.expiresAt) > {};",
            json!(acme),
            before + 3000
        ),
        "the expiry to move later after Refresh now",
    );
    assert_eq!(mock.stats().refreshes, refreshes + 1, "exactly one refresh");
    assert_ne!(
        access_token(&env, "acme"),
        token1,
        "a new access token was stored"
    );

    // ---- 6b. Keyboard only: typing in the search box narrows the list at once, Enter
    // copies the selected row's token (real key events, no mouse), Esc clears the search.
    let token2 = access_token(&env, "acme");
    let search = app.find("#search").expect("the search box");
    search.send_keys("acm").expect("type into the search box");
    wait_js(
        &app,
        "return document.querySelectorAll('[data-testid=row]').length === 1 \
             && document.querySelector('#details').dataset.for === 'acme';",
        "the search to narrow the list to acme and select it",
    );
    search.send_keys("\u{E007}").expect("press Enter");
    assert!(
        wait_until(Duration::from_secs(5), || clipboard().as_deref()
            == Some(&token2)),
        "Enter in the search box copies the selected connection's token"
    );
    search.send_keys("\u{E00C}").expect("press Esc");
    wait_js(
        &app,
        "return document.getElementById('search').value === '' \
             && document.querySelectorAll('[data-testid=row]').length > 1;",
        "Esc to clear the search",
    );

    // ---- 7. A denied consent shows the error sentence; nothing is stored.
    click(&app, "#connect-primary");
    wait_visible(&app, "#connect-form");
    // The remembered registration prefills the form; its secret stays in the keychain.
    assert_eq!(value(&app, "#f-client_id"), json!(MYOB_KEY));
    assert_eq!(value(&app, "#f-client_secret"), json!(""));
    fill(&app, "#conn-name", "refused");
    open_advanced(&app);
    fill(&app, "#f-auth_base", &format!("{base}/myob/secure"));
    fill(&app, "#f-api_base", &format!("{base}/myob/api"));
    click(&app, "#connect-submit");
    wait_visible(&app, "#countdown");
    let consent = env.wait_for_browser_url(WAIT);
    let _ = chromium.deny(&consent);
    wait_visible(&app, "#connect-error");
    let sentence = text(&app, "#connect-error");
    assert!(
        sentence.contains("did not grant access") && sentence.contains("Nothing was stored"),
        "the error is a sentence: {sentence}"
    );
    assert!(
        !sentence.contains('{'),
        "no JSON in the message: {sentence}"
    );
    shot(&app, "error");
    // Escape closes the dialog (keyboard).
    app.find("#conn-name")
        .unwrap()
        .send_keys("\u{E00C}")
        .unwrap();
    wait_js(
        &app,
        "return !document.getElementById('connect-dialog').open;",
        "Escape to close the dialog",
    );
    assert!(!visible(&app, &row("refused")));
    assert_eq!(keychain::lookup(env.namespace(), "refused"), None);

    // ---- 7b. A non-loopback redirect URI: the window asks for the URL the browser
    // landed on; a wrong paste is refused with a sentence and the attempt goes on.
    click(&app, "#connect-primary");
    wait_visible(&app, "#connect-form");
    fill(&app, "#conn-name", "pasted");
    fill(&app, "#f-client_id", MYOB_PASTE_KEY);
    fill(&app, "#f-client_secret", MYOB_SECRET);
    fill(&app, "#f-redirect_uri", "http://desktop");
    open_advanced(&app);
    fill(&app, "#f-auth_base", &format!("{base}/myob/secure"));
    fill(&app, "#f-api_base", &format!("{base}/myob/api"));
    click(&app, "#connect-submit");
    wait_visible(&app, "#paste-url");
    assert!(visible(&app, "#countdown"));
    let consent = env.wait_for_browser_url(WAIT);
    // http://desktop does not resolve: the browser shows an error page at that address.
    let _ = chromium.approve(&consent);
    let landed = chromium.session().current_url().unwrap();
    assert!(
        landed.starts_with("http://desktop") && landed.contains("code="),
        "the browser landed on {landed}"
    );
    fill(
        &app,
        "#paste-url",
        "http://desktop/?code=forged&state=wrong",
    );
    click(&app, "#paste-submit");
    wait_visible(&app, "#paste-error");
    let refused = text(&app, "#paste-error");
    assert!(refused.contains("state"), "{refused}");
    assert!(
        visible(&app, "#countdown"),
        "still waiting after a wrong paste"
    );
    fill(&app, "#paste-url", &landed);
    click(&app, "#paste-submit");
    wait_visible(&app, &format!("{}[data-status=\"valid\"]", row("pasted")));
    assert!(access_token(&env, "pasted").len() > 8);

    // ---- 8. Revoke: the confirmation says what happens; the row and the secrets go.
    act(&app, "acme", "revoke");
    wait_visible(&app, "#confirm-revoke");
    let note = text(&app, "#revoke-dialog");
    assert!(note.contains("MYOB has no revocation endpoint"), "{note}");
    assert!(note.contains("keychain"), "{note}");
    shot(&app, "revoke-confirmation");
    click(&app, "#confirm-revoke");
    wait_gone(&app, &acme);
    assert_eq!(keychain::lookup(env.namespace(), "acme"), None);

    // ---- 9. MYOB Advanced through "Connect…": Cancel frees the port at once; then a
    // real connection, revoked at the vendor too.
    let advanced_attempt = || {
        click(&app, "#connect-other");
        wait_visible(&app, "#connect-form");
        choose_vendor(&app, "myob-advanced");
        wait_visible(&app, "#f-instance_url");
        fill(&app, "#conn-name", "adv");
        fill(&app, "#f-instance_url", &format!("{base}/advanced"));
        fill(&app, "#f-client_id", ADV_CLIENT);
        fill(&app, "#f-client_secret", ADV_SECRET);
        fill(&app, "#f-redirect_uri", &redirect);
        click(&app, "#connect-submit");
        wait_visible(&app, "#countdown");
        env.wait_for_browser_url(WAIT)
    };
    advanced_attempt();
    click(&app, "#connect-cancel");
    wait_js(
        &app,
        "return !document.getElementById('connect-dialog').open;",
        "Cancel to close the waiting dialog",
    );
    assert!(!visible(&app, "#error"), "a cancel is not an error");
    let consent = advanced_attempt();
    chromium.approve(&consent).expect("MYOB Advanced consent");
    wait_visible(&app, &format!("{}[data-status=\"valid\"]", row("adv")));
    assert!(stored(&env, "adv").is_some());

    // Reconnect: the engine builds the form from the saved registration and the stored
    // secrets, so nothing is typed; the replaced grant is revoked at the vendor and the
    // window says so; the registration stays as it was.
    let before = access_token(&env, "adv");
    let registration = show(&env, "adv")["registration"].clone();
    assert_eq!(registration["client_id"], json!(ADV_CLIENT));
    let client_secret = stored(&env, "adv").unwrap()["client_secret"].clone();
    assert_eq!(client_secret, json!(ADV_SECRET));
    let revocations = mock.stats().revocations.len();
    act(&app, "adv", "reconnect");
    wait_visible(&app, "#connect-form");
    assert_eq!(value(&app, "#conn-name"), json!("adv"));
    wait_visible(&app, "#reconnect-summary");
    assert!(
        text(&app, "#reconnect-summary").contains(ADV_CLIENT),
        "it says which registration signs in"
    );
    assert_eq!(
        inputs_in(&app, "#connect-fields"),
        json!(0),
        "nothing to type: no field, no secret"
    );
    click(&app, "#connect-submit");
    wait_visible(&app, "#countdown");
    let consent = env.wait_for_browser_url(WAIT);
    chromium
        .approve(&consent)
        .expect("MYOB Advanced consent again");
    wait_js(
        &app,
        "return [...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.includes('The old sign-in: MYOB Advanced revoked the refresh token.'));",
        "the window to report the old grant revoked",
    );
    assert_ne!(access_token(&env, "adv"), before, "the new grant is stored");
    assert_eq!(mock.stats().revocations.len(), revocations + 2);
    assert_eq!(
        show(&env, "adv")["registration"],
        registration,
        "the registration is unchanged"
    );
    assert_eq!(
        stored(&env, "adv").unwrap()["client_secret"],
        client_secret,
        "the client secret is kept"
    );

    let revocations = mock.stats().revocations.len();
    act(&app, "adv", "revoke");
    wait_visible(&app, "#confirm-revoke");
    click(&app, "#confirm-revoke");
    wait_gone(&app, &row("adv"));
    let stats = mock.stats();
    assert!(
        stats.revocations.len() > revocations && stats.revocations.iter().all(|r| r.known),
        "the instance revoked the tokens: {:?}",
        stats.revocations
    );
    assert_eq!(keychain::lookup(env.namespace(), "adv"), None);
    assert!(visible(&app, &row("shop")), "the other connection stays");

    // ---- 10. A public OIDC client (client authentication "none", PKCE, any free port),
    // then its remembered registration: it must come back as "none", and an empty secret
    // must start the attempt (it once came back as "secret in the body" and failed with
    // "The client secret is required").
    let issuer = format!("{base}/oidc");
    click(&app, "#connect-primary");
    wait_visible(&app, "#connect-form");
    choose_vendor(&app, "oidc");
    fill(&app, "#conn-name", "idp");
    fill(&app, "#f-issuer", &issuer);
    fill(&app, "#f-client_id", OIDC_CLIENT);
    select(&app, "#f-client_auth", "none");
    assert_eq!(value(&app, "#f-client_secret"), json!(""));
    click(&app, "#connect-submit");
    wait_visible(&app, "#countdown");
    let consent = env.wait_for_browser_url(WAIT);
    assert!(
        consent.starts_with(&format!("{issuer}/")),
        "the provider's consent page: {consent}"
    );
    assert!(
        consent.contains(&format!("client_id={OIDC_CLIENT}")),
        "{consent}"
    );
    assert!(consent.contains("code_challenge_method=S256"), "{consent}");
    chromium.approve(&consent).expect("OIDC consent");
    wait_visible(&app, &format!("{}[data-status=\"valid\"]", row("idp")));
    assert!(stored(&env, "idp").is_some());

    click(&app, "#connect-primary");
    wait_visible(&app, "#connect-form");
    choose_vendor(&app, "oidc");
    assert_eq!(value(&app, "#f-client_id"), json!(OIDC_CLIENT));
    assert_eq!(value(&app, "#f-issuer"), json!(issuer));
    assert_eq!(
        value(&app, "#f-client_auth"),
        json!("none"),
        "the saved registration keeps its client authentication"
    );
    assert_eq!(value(&app, "#f-client_secret"), json!(""));
    assert_eq!(
        value(&app, "#conn-name"),
        json!("oidc"),
        "the suggested name"
    );
    click(&app, "#connect-submit");
    wait_visible(&app, "#countdown");
    let consent = env.wait_for_browser_url(WAIT);
    assert!(
        consent.contains(&format!("client_id={OIDC_CLIENT}"))
            && consent.contains("code_challenge_method=S256"),
        "{consent}"
    );
    click(&app, "#connect-cancel");
    wait_js(
        &app,
        "return !document.getElementById('connect-dialog').open;",
        "Cancel to close the waiting dialog",
    );
    assert!(!visible(&app, "#error"), "a cancel is not an error");
    assert!(!visible(&app, &row("oidc")));
    assert_eq!(keychain::lookup(env.namespace(), "oidc"), None);
}
