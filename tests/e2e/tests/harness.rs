//! Smoke tests of the harness itself: keychain, throwaway envs, Chromium against the
//! mock vendor, and tauri-driver. Run under `scripts/with-session.sh`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use keyport_e2e::webdriver::Error;
use keyport_e2e::{env::artifacts_dir, keychain, Chromium, TauriDriver, TestEnv};
use serde_json::json;

fn need_keychain() {
    assert!(
        keychain::available(),
        "no usable Secret Service; run the tests via scripts/with-session.sh"
    );
}

#[test]
fn keychain_round_trip_through_secret_tool() {
    need_keychain();
    let env = TestEnv::new("keychain");
    let ns = env.namespace();
    assert_eq!(keychain::lookup(ns, "conn-a"), None);

    keychain::store(ns, "conn-a", "s3cr3t value");
    keychain::store(ns, "conn-b", "other");
    assert_eq!(
        keychain::lookup(ns, "conn-a").as_deref(),
        Some("s3cr3t value")
    );
    assert_eq!(keychain::names(ns), ["conn-a", "conn-b"]);

    let other = TestEnv::new("keychain");
    assert_ne!(other.namespace(), ns);
    assert_eq!(keychain::lookup(other.namespace(), "conn-a"), None);

    assert!(keychain::clear_all(ns));
    assert_eq!(keychain::lookup(ns, "conn-a"), None);
    assert!(keychain::names(ns).is_empty());
}

#[test]
fn test_env_isolates_dirs_and_records_browser_urls() {
    need_keychain();
    let env = TestEnv::new("env");
    assert!(env.home().is_dir() && env.keyport_config_dir().is_dir());
    assert!(env.keyport_config_dir().starts_with(env.config_dir()));

    // Whatever Keyport spawns as $BROWSER lands in the recorder, in order.
    let open = |url: &str| {
        let status = env
            .apply(&mut Command::new("sh"))
            .args(["-c", "exec \"$BROWSER\" \"$1\"", "sh", url])
            .status()
            .expect("run sh");
        assert!(status.success());
    };
    open("http://127.0.0.1:1/first?a=1&b=2");
    open("http://127.0.0.1:1/second");
    let wait = Duration::from_secs(5);
    assert_eq!(
        env.wait_for_browser_url(wait),
        "http://127.0.0.1:1/first?a=1&b=2"
    );
    assert_eq!(env.wait_for_browser_url(wait), "http://127.0.0.1:1/second");

    let vars = env.vars();
    let var = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    assert_eq!(
        var("KEYPORT_KEYCHAIN_SERVICE"),
        Some(env.namespace().into())
    );
    assert_eq!(var("HOME"), Some(env.home().into()));

    // Dropping the env removes its directory and its keychain items.
    let (root, ns) = (env.root().to_owned(), env.namespace().to_owned());
    keychain::store(&ns, "left-behind", "x");
    drop(env);
    assert!(!root.exists());
    assert_eq!(keychain::lookup(&ns, "left-behind"), None);
}

/// Serves the loopback redirect target: answers `/callback` with a small page and
/// reports its request line; anything else (favicon, preconnects) gets a 404.
fn serve_callback(listener: TcpListener) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                continue; // a speculative connection that never sent a request
            }
            let mut header = String::new();
            while reader.read_line(&mut header).unwrap_or(0) > 2 {
                header.clear();
            }
            let is_callback = line.starts_with("GET /callback");
            let (status, body) = if is_callback {
                (
                    "200 OK",
                    "<html><body><h1>Keyport test: callback received</h1></body></html>",
                )
            } else {
                ("404 Not Found", "")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            if is_callback {
                let _ = tx.send(line.trim_end().to_owned());
                return;
            }
        }
    });
    rx
}

/// Registers a MYOB client at the mock and returns its consent URL.
fn myob_consent_url(base: &str, redirect_uri: &str) -> String {
    let client = json!({
        "vendor": "myob",
        "client_id": "k",
        "client_secret": "s",
        "redirect_uris": [redirect_uri],
    });
    let resp = ureq::post(&format!("{base}/_mock/clients"))
        .header("content-type", "application/json")
        .send(client.to_string())
        .expect("register a client at the mock vendor");
    assert!(
        resp.status().is_success(),
        "register client: {}",
        resp.status()
    );
    let enc: String = redirect_uri
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!(
        "{base}/myob/secure/oauth2/account/authorize?client_id=k&redirect_uri={enc}\
         &response_type=code&scope=CompanyFile&state=xyz&prompt=consent"
    )
}

#[test]
fn chromium_approves_mock_myob_consent() {
    let mock = keyport_mock::MockServer::start().expect("start the mock vendor");
    let base = mock.base_url().trim_end_matches('/').to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback listener");
    let port = listener.local_addr().expect("listener address").port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let url = myob_consent_url(&base, &redirect);
    let request_line = serve_callback(listener);

    let chromium = Chromium::start();
    let page = chromium.approve(&url).expect("approve the consent page");
    let line = request_line
        .recv_timeout(Duration::from_secs(30))
        .expect("the browser reached the loopback listener");

    assert!(line.starts_with("GET /callback?"), "{line}");
    for part in ["code=", "state=xyz", "businessId="] {
        assert!(line.contains(part), "`{part}` missing from {line}");
    }
    assert!(page.contains("callback received"), "landed on: {page}");
    let stats = mock.stats();
    assert_eq!((stats.authorize_requests, stats.consents_allowed), (1, 1));
    let shot = artifacts_dir().join("harness-myob-approved.png");
    chromium
        .session()
        .screenshot_png(&shot)
        .expect("screenshot");
    assert!(std::fs::metadata(&shot).expect("screenshot file").len() > 1000);
}

#[test]
fn chromium_reports_a_refused_redirect() {
    let mock = keyport_mock::MockServer::start().expect("start the mock vendor");
    let base = mock.base_url().trim_end_matches('/').to_owned();
    let port = keyport_e2e::free_port(); // nobody listens there
    let url = myob_consent_url(&base, &format!("http://127.0.0.1:{port}/callback"));

    let chromium = Chromium::start();
    match chromium.approve(&url) {
        Err(Error::PageLoad(text)) => {
            assert!(text.contains("ERR_CONNECTION_REFUSED"), "{text}")
        }
        other => panic!("expected a refused connection, got {other:?}"),
    }
}

#[test]
fn tauri_driver_drives_a_webkitgtk_window() {
    // MiniBrowser ships with libwebkit2gtk-4.1-0, like the app's WebKitGTK runtime.
    let browser = std::path::Path::new("/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser");
    assert!(
        browser.exists(),
        "{} missing; run scripts/deps.sh",
        browser.display()
    );
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY; run the tests via scripts/with-session.sh"
    );
    let env = TestEnv::new("webkit");
    let driver = TauriDriver::start_in(&env);
    // A Tauri app turns automation on by itself (tauri-driver sets
    // TAURI_WEBVIEW_AUTOMATION); MiniBrowser needs the flag.
    let session = driver
        .session(browser, &["--automation"])
        .expect("open a WebKitGTK session through tauri-driver");
    session
        .navigate("data:text/html,<p id=hello>Hello from WebKit</p><input id=name>")
        .expect("navigate");
    assert_eq!(
        session.find("#hello").and_then(|e| e.text()).expect("text"),
        "Hello from WebKit"
    );
    let input = session.find("#name").expect("input");
    input.send_keys("keyport").expect("type");
    let typed = session
        .execute("return document.getElementById('name').value;", vec![])
        .expect("execute");
    assert_eq!(typed, json!("keyport"));
    session
        .screenshot_png(&artifacts_dir().join("harness-webkit.png"))
        .expect("screenshot");
}
