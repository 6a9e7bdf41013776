//! The engine in-process against the mock vendor server, with the in-memory vault:
//! connect with each OAuth vendor's flow, single-flight refresh, rotation, the rollback
//! of a half-done write, revoke with and without force, and the input layer's rules.
//! (The real keychain, browser and window are driven by `tests/e2e`.)

mod api;
mod fuzz;
mod syntax;

use crate::secret::ExposeSecret;
use crate::{ActionKind, Cancel, Error, Form, Keyport, MemoryVault, Settings, Status};
use keyport_mock::{ClientReg, ConfigPatch, Endpoint, FailNext, MockServer, OAuthVendor};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub(crate) struct World {
    pub kp: Arc<Keyport>,
    pub vault: Arc<MemoryVault>,
    pub mock: MockServer,
    pub dir: PathBuf,
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static N: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn world() -> World {
    let dir = std::env::temp_dir().join(format!(
        "keyport-engine-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let settings = Settings {
        config_dir: dir.clone(),
        keychain_service: "test".into(),
        keychain_timeout: Duration::from_secs(5),
        browser: None,
        source: Default::default(),
        store: None,
        bao: Default::default(),
        claim_hold: Settings::DEFAULT_CLAIM_HOLD,
    };
    let (kp, vault) = Keyport::in_memory(settings);
    World {
        kp: Arc::new(kp),
        vault,
        mock: MockServer::start().expect("mock"),
        dir,
    }
}

/// A form as the person fills it in. Admin-issued tokens made up by a test are stored
/// untried; the tests of the trying set `skip_test` back.
pub(crate) fn form(vendor: &str, name: &str, values: &[(&str, &str)]) -> Form {
    Form {
        vendor: vendor.into(),
        name: name.into(),
        remember_secret: true,
        skip_test: true,
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        window: Some(Duration::from_secs(20)),
        ..Form::default()
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Plays the browser: the consent form is posted with the authorization request's own
/// parameters (the mock's hidden fields), and the redirect is followed to Keyport.
async fn consent(authorize_url: &str, decision: &str) -> (u16, String) {
    let url = url::Url::parse(authorize_url).expect("url");
    let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    form.push(("decision".into(), decision.into()));
    let decide = authorize_url
        .split('?')
        .next()
        .unwrap()
        .replace("/authorize", "/decide");
    let r = http()
        .post(decide)
        .form(&form)
        .send()
        .await
        .expect("decide");
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let r = http()
        .get(&location)
        .send()
        .await
        .expect("redirect to keyport");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap_or_default())
}

/// Begin → consent → wait → finish.
pub(crate) async fn connect(w: &World, f: Form) -> crate::Result<crate::Connected> {
    let mut pending = w.kp.begin_connect(f).await?;
    let url = pending.authorize_url().to_owned();
    let browser = tokio::spawn(async move { consent(&url, "allow").await });
    let cb = pending.wait(&Cancel::new(), |_| {}).await?;
    browser.await.expect("browser");
    w.kp.finish_connect(pending, cb).await
}

const ADV: &str = "88358B02-A48D-A50E-F710-39C1636C30F6@Clearwater";

pub(crate) fn advanced_form(w: &World, name: &str, port: u16) -> Form {
    let redirect = format!("http://127.0.0.1:{port}/callback");
    w.mock.register_client(ClientReg::new(
        OAuthVendor::Advanced,
        ADV,
        Some("adv-secret"),
        &redirect,
    ));
    form(
        "myob-advanced",
        name,
        &[
            ("instance_url", &format!("{}/advanced", w.mock.base_url())),
            ("client_id", ADV),
            ("client_secret", "adv-secret"),
            ("redirect_uri", &redirect),
        ],
    )
}

/// The vendor's revocation endpoint answers the next request with a 503.
fn refuse_next_revocation(w: &World) {
    w.mock.fail_next(FailNext {
        endpoint: Endpoint::Revocation,
        status: 503,
        body: String::new(),
        content_type: None,
    });
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn expire(w: &World, name: &str) {
    w.kp.metadata_file()
        .update_connection(name, |c| c.expires_at = Some(crate::time::now() - 5))
        .unwrap();
}

#[tokio::test]
async fn myob_connect_captures_the_business_and_hands_out_its_header_set() {
    let w = world();
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    w.mock.register_client(ClientReg::new(
        OAuthVendor::Myob,
        "k1",
        Some("s1"),
        &redirect,
    ));
    let base = w.mock.base_url();
    let f = form(
        "myob",
        "acme",
        &[
            ("client_id", "k1"),
            ("client_secret", "s1"),
            ("redirect_uri", &redirect),
            ("auth_base", &format!("{base}/myob/secure")),
            ("api_base", &format!("{base}/myob/api")),
        ],
    );
    let v = connect(&w, f).await.expect("connected").connection;
    assert_eq!(v.account.as_deref(), Some(keyport_mock::BUSINESS_NAME));
    assert_eq!(v.status, Status::Valid);
    let names: Vec<_> =
        w.kp.headers("acme")
            .await
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
    assert_eq!(
        names,
        [
            "Authorization",
            "x-myobapi-key",
            "x-myobapi-version",
            "x-myobapi-cftoken"
        ]
    );
    assert!(
        w.kp.test("acme").await.unwrap().ok,
        "the company file's root answers"
    );
    let raw = w.vault.raw("acme").expect("keychain entry");
    assert!(
        raw.contains("refresh_token") && raw.contains("s1"),
        "secrets go to the vault"
    );
    assert!(!std::fs::read_to_string(w.kp.metadata_path())
        .unwrap()
        .contains("s1"));
    // The registration is remembered with its non-secret values, the secret beside it.
    let regs = w.kp.registrations().await.unwrap();
    assert_eq!(regs[0].values.get("redirect_uri"), Some(&redirect));
    assert!(regs[0].secret_saved && !regs[0].values.contains_key("client_secret"));
}

#[tokio::test]
async fn refresh_is_single_flight_and_rotation_is_kept() {
    let w = world();
    let port = free_port();
    connect(&w, advanced_form(&w, "adv", port))
        .await
        .expect("connected");
    let rt = |w: &World| {
        let raw: serde_json::Value = serde_json::from_str(&w.vault.raw("adv").unwrap()).unwrap();
        raw["refresh_token"].as_str().unwrap().to_owned()
    };
    let first = rt(&w);
    expire(&w, "adv");
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let kp = w.kp.clone();
            tokio::spawn(async move {
                kp.token("adv", 60)
                    .await
                    .map(|t| t.expose_secret().to_owned())
            })
        })
        .collect();
    let mut tokens = Vec::new();
    for c in calls {
        tokens.push(c.await.unwrap().expect("token"));
    }
    assert!(
        tokens.windows(2).all(|p| p[0] == p[1]),
        "every caller got the one new token"
    );
    assert_eq!(w.mock.stats().refreshes, 1, "exactly one refresh");
    assert_ne!(rt(&w), first, "the rotated refresh token was kept");
    w.kp.refresh("adv").await.expect("forced refresh");
    assert_eq!(w.mock.stats().refreshes, 2);
}

#[tokio::test]
async fn a_rotated_token_the_keychain_cannot_keep_marks_the_connection_at_once() {
    let w = world();
    connect(&w, advanced_form(&w, "adv", free_port()))
        .await
        .expect("connected");
    w.vault.failing_writes.store(3, Ordering::SeqCst);
    let e = w.kp.refresh("adv").await.unwrap_err();
    assert_eq!(e.code(), "needs_reconnect", "{e}");
    assert!(e.to_string().contains("could not keep it"), "{e}");
    assert_eq!(
        w.kp.view("adv").await.unwrap().status,
        Status::NeedsReconnect
    );
    // Two failed writes then success: kept, nothing lost.
    let w = world();
    connect(&w, advanced_form(&w, "adv", free_port()))
        .await
        .expect("connected");
    w.vault.failing_writes.store(2, Ordering::SeqCst);
    w.kp.refresh("adv").await.expect("kept on the third try");
}

#[tokio::test]
async fn a_failed_metadata_write_undoes_the_keychain_write() {
    let w = world();
    let add = |name: &str, token: &str| {
        form(
            "machship",
            name,
            &[
                ("token", token),
                ("base_url", &format!("{}/machship/apiv2", w.mock.base_url())),
            ],
        )
    };
    w.kp.add_token(add("m", "first-token-0123456789"))
        .await
        .expect("added");
    // The metadata file cannot be written: a folder stands where it should be replaced.
    let meta = w.kp.metadata_path();
    std::fs::remove_file(&meta).unwrap();
    std::fs::create_dir(&meta).unwrap();
    let e =
        w.kp.add_token(add("n", "second-token-0123456789"))
            .await
            .unwrap_err();
    assert_eq!(e.code(), "store", "{e}");
    assert!(w.vault.raw("n").is_none(), "no orphan keychain entry");
    let mut again = add("m", "replacement-token-0123456789");
    again.replace = true;
    assert!(w.kp.add_token(again).await.is_err());
    assert!(
        w.vault.raw("m").unwrap().contains("first-token"),
        "the old secrets came back"
    );
}

#[tokio::test]
async fn connect_replace_retires_the_old_grant_at_the_vendor_best_effort() {
    let w = world();
    w.mock.configure(ConfigPatch {
        advanced_list_revocation: Some(true),
        ..ConfigPatch::default()
    });
    let port = free_port();
    let first = connect(&w, advanced_form(&w, "adv", port))
        .await
        .expect("connected");
    assert!(first.replaced.is_none(), "nothing was replaced");
    let old = w.vault.raw("adv").unwrap();
    let mut again = advanced_form(&w, "adv", port);
    again.replace = true;
    let done = connect(&w, again).await.expect("replaced");
    let retired = done.replaced.expect("a report on the old grant");
    assert_eq!(retired.problem, None);
    for step in [
        "ended the API session",
        "revoked the refresh token",
        "revoked the access token",
    ] {
        assert!(
            retired.steps.iter().any(|s| s.contains(step)),
            "{step}: {:?}",
            retired.steps
        );
    }
    let stats = w.mock.stats();
    assert_eq!(stats.logouts, 1);
    assert_eq!(stats.revocations.len(), 2);
    assert!(
        stats.revocations.iter().all(|r| r.known),
        "the old tokens were known"
    );
    assert_ne!(w.vault.raw("adv").unwrap(), old, "the new grant is stored");
    // The new grant was left alone: it refreshes.
    w.kp.refresh("adv")
        .await
        .expect("the new grant still works");

    // The vendor refuses: the new connection stands, the report says the old may live on.
    refuse_next_revocation(&w);
    let stored = w.vault.raw("adv").unwrap();
    let mut third = advanced_form(&w, "adv", port);
    third.replace = true;
    let done = connect(&w, third)
        .await
        .expect("replaced despite the vendor");
    let problem = done
        .replaced
        .unwrap()
        .problem
        .expect("the refusal is reported");
    assert!(
        problem.contains("HTTP 503") && problem.contains("may keep it valid"),
        "{problem}"
    );
    assert_ne!(
        w.vault.raw("adv").unwrap(),
        stored,
        "the newest grant is stored"
    );
    assert_eq!(w.kp.view("adv").await.unwrap().status, Status::Valid);
}

#[tokio::test]
async fn revoke_keeps_everything_when_the_vendor_refuses_unless_forced() {
    let w = world();
    w.mock.configure(ConfigPatch {
        advanced_list_revocation: Some(true),
        ..ConfigPatch::default()
    });
    connect(&w, advanced_form(&w, "adv", free_port()))
        .await
        .expect("connected");
    refuse_next_revocation(&w);
    let e = w.kp.revoke("adv", false).await.unwrap_err();
    assert!(
        e.actions()
            .iter()
            .any(|a| a.kind == ActionKind::ForceRevoke),
        "{e}"
    );
    assert!(
        w.vault.raw("adv").is_some() && w.kp.view("adv").await.is_ok(),
        "nothing removed"
    );
    refuse_next_revocation(&w);
    let r = w.kp.revoke("adv", true).await.expect("forced");
    assert!(
        r.forced
            && r.vendor_steps
                .iter()
                .any(|s| s.starts_with("Not done at the vendor"))
    );
    assert!(w.vault.raw("adv").is_none());
    assert!(matches!(w.kp.view("adv").await, Err(Error::NotFound(_))));
}

#[tokio::test]
async fn a_public_oidc_client_keeps_its_registration_and_a_secret_stays_with_its_issuer() {
    let w = world();
    let issuer = format!("{}/oidc", w.mock.base_url());
    w.mock.register_client(ClientReg::new(
        OAuthVendor::Oidc,
        "pub",
        None,
        "http://127.0.0.1/callback",
    ));
    let f = form(
        "oidc",
        "idp",
        &[
            ("issuer", &issuer),
            ("client_id", "pub"),
            ("client_auth", "none"),
        ],
    );
    // The mock accepts any loopback port for OIDC clients (RFC 8252 §7.3).
    let v = connect(&w, f)
        .await
        .expect("public client connects")
        .connection;
    assert_eq!(v.kind, crate::Kind::Oauth);
    let reg = w.kp.registrations().await.unwrap().remove(0);
    assert_eq!(
        reg.values.get("client_auth").map(String::as_str),
        Some("none"),
        "the window's bug: client_auth was lost"
    );
    // Starting again from the registration alone (no secret) works.
    let values: Vec<(&str, &str)> = reg
        .values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut again = form("oidc", "idp2", &values);
    again
        .values
        .insert("client_id".into(), reg.client_id.clone());
    w.kp.begin_connect(again)
        .await
        .expect("a public client needs no secret");

    // A secret saved for one issuer is never sent to another.
    let reg = crate::Registration {
        vendor: "oidc".into(),
        client_id: "conf".into(),
        authority: Some(issuer.clone()),
        values: BTreeMap::new(),
        secret_saved: false,
    };
    w.kp.remember_registration(reg, Some(&crate::secret("saved-secret")))
        .await
        .unwrap();
    let other = w.mock.base_url().replace("127.0.0.1", "localhost") + "/oidc";
    let e =
        w.kp.begin_connect(form(
            "oidc",
            "x",
            &[("issuer", &other), ("client_id", "conf")],
        ))
        .await
        .err()
        .expect("no secret for another issuer");
    assert!(e.to_string().contains("client secret is required"), "{e}");
    w.kp.begin_connect(form(
        "oidc",
        "y",
        &[("issuer", &issuer), ("client_id", "conf")],
    ))
    .await
    .expect("the saved secret is used for its issuer");
}

#[tokio::test]
async fn the_input_layer_says_what_is_wrong() {
    let w = world();
    let msg = |f: Form| async { w.kp.add_token(f).await.unwrap_err().to_string() };
    let refused = |f: Form| async { w.kp.begin_connect(f).await.err().unwrap().to_string() };
    assert!(msg(form("xentral", "x", &[("token", "t")]))
        .await
        .contains("base URL is required"));
    assert!(msg(form(
        "xentral",
        "x",
        &[("token", "t"), ("base_url", "acme")]
    ))
    .await
    .contains("not a URL"));
    assert!(msg(form(
        "xentral",
        "x",
        &[
            ("token", "t"),
            ("base_url", "https://a.example"),
            ("expires", "31/12/2026")
        ]
    ))
    .await
    .contains("YYYY-MM-DD"));
    assert!(msg(form("xentral", "x", &[("colour", "blue")]))
        .await
        .contains("not a field of Xentral"));
    assert!(msg(form("xentral", "../x", &[]))
        .await
        .contains("not a usable connection name"));
    assert!(msg(form("nope", "x", &[])).await.contains("Unknown vendor"));
    assert!(msg(form("myob", "x", &[]))
        .await
        .contains("connect it instead"));
    assert!(msg(form(
        "xentral",
        "x",
        &[("token", "t"), ("base_url", "http://erp.example.com")]
    ))
    .await
    .contains("HTTPS only"));
    let e = refused(form(
        "oidc",
        "x",
        &[("client_id", "c"), ("client_auth", "sometimes")],
    ))
    .await;
    assert!(
        e.to_string().contains("not one of post, basic, none"),
        "{e}"
    );
    let e = refused(form(
        "oidc",
        "x",
        &[
            ("client_id", "c"),
            ("client_auth", "none"),
            ("issuer", "http://idp.example.com"),
        ],
    ))
    .await;
    assert!(
        e.to_string().contains("http://idp.example.com"),
        "plain HTTP is refused naming the URL: {e}"
    );
    let e = refused(form(
        "myob-advanced",
        "x",
        &[
            ("instance_url", "https://a.example"),
            ("client_id", "nope"),
            ("redirect_uri", "http://127.0.0.1:1/cb"),
        ],
    ))
    .await;
    assert!(
        e.to_string().contains("GUID@Company") || e.to_string().contains("look like"),
        "{e}"
    );
}

#[tokio::test]
async fn the_wait_ends_on_time_on_cancel_and_frees_the_port() {
    let w = world();
    let port = free_port();
    let mut f = advanced_form(&w, "adv", port);
    f.window = Some(Duration::from_millis(600));
    let mut p = w.kp.begin_connect(f).await.expect("begin");
    // A slow client trickling bytes, and idle connections, change nothing.
    let _idle: Vec<_> = (0..100)
        .filter_map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    let started = std::time::Instant::now();
    let e = p.wait(&Cancel::new(), |_| {}).await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the window's end is honoured"
    );
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free again");

    let mut p =
        w.kp.begin_connect(advanced_form(&w, "adv", port))
            .await
            .expect("begin");
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        c2.cancel();
    });
    assert!(matches!(
        p.wait(&cancel, |_| {}).await,
        Err(Error::Cancelled)
    ));
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free after Cancel");

    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = holder.local_addr().unwrap().port();
    let e =
        w.kp.begin_connect(advanced_form(&w, "adv", busy))
            .await
            .err()
            .expect("busy");
    assert!(
        matches!(e, Error::PortBusy { port, .. } if port == busy),
        "{e}"
    );
}

#[tokio::test]
async fn a_callback_is_served_while_a_slow_client_trickles() {
    use std::io::Write;
    let w = world();
    let port = free_port();
    let mut pending =
        w.kp.begin_connect(advanced_form(&w, "adv", port))
            .await
            .expect("begin");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s2 = stop.clone();
    let trickler = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        for b in b"GET /callback?state=x HTTP/1.1\r\nHost: 127.0.0.1\r\n".iter() {
            if s2.load(Ordering::SeqCst) || s.write_all(&[*b]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    let url = pending.authorize_url().to_owned();
    let browser = tokio::spawn(async move { consent(&url, "allow").await });
    let started = std::time::Instant::now();
    let cb = pending
        .wait(&Cancel::new(), |_| {})
        .await
        .expect("the real callback");
    assert!(started.elapsed() < Duration::from_secs(5));
    let (status, page) = browser.await.unwrap();
    assert_eq!(status, 200, "{page}");
    w.kp.finish_connect(pending, cb).await.expect("stored");
    stop.store(true, Ordering::SeqCst);
    trickler.join().unwrap();
}

#[tokio::test]
async fn denied_consent_and_a_forged_state_are_told_apart() {
    let w = world();
    let mut pending =
        w.kp.begin_connect(advanced_form(&w, "adv", free_port()))
            .await
            .expect("begin");
    let forged = pending.authorize_url().replace("state=", "state=forged");
    let url = pending.authorize_url().to_owned();
    let ignored = Arc::new(std::sync::Mutex::new(Vec::new()));
    let i2 = ignored.clone();
    let browser = tokio::spawn(async move {
        let (status, _) = consent(&forged, "allow").await;
        assert_eq!(status, 400, "a forged state is refused");
        consent(&url, "deny").await
    });
    let e = pending
        .wait(&Cancel::new(), |ev| {
            if let crate::WaitEvent::Ignored(m) = ev {
                i2.lock().unwrap().push(m)
            }
        })
        .await
        .unwrap_err();
    browser.await.unwrap();
    assert!(matches!(e, Error::Denied { .. }), "{e}");
    assert!(ignored
        .lock()
        .unwrap()
        .iter()
        .any(|m| m.contains("state does not match")));
    assert!(w.vault.raw("adv").is_none());
}

/// Raises this process's open-file limit to its hard limit (many sockets at once).
fn more_files() {
    // SAFETY: getrlimit/setrlimit on this process only, with a valid struct.
    unsafe {
        let mut l = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) == 0 {
            l.rlim_cur = l.rlim_max.min(65_536);
            libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_completes_while_2000_idle_and_50_slow_connections_are_held() {
    use std::io::Write;
    more_files();
    let w = world();
    let port = free_port();
    let mut pending =
        w.kp.begin_connect(advanced_form(&w, "adv", port))
            .await
            .expect("begin");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The crowd gathers while Keyport listens, as it would in life.
    let s0 = stop.clone();
    let gathered = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let g0 = gathered.clone();
    let crowd = std::thread::spawn(move || {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let held: Vec<_> = (0..2000)
            .filter_map(|_| {
                std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()
            })
            .collect();
        let n = held.len();
        g0.store(true, Ordering::SeqCst);
        while !s0.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
        }
        n
    });
    let slow: Vec<_> = (0..50)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
                    return;
                };
                for b in b"GET /callback?state=x HTTP/1.1\r\n".iter() {
                    if stop.load(Ordering::SeqCst) || s.write_all(&[*b]).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        })
        .collect();
    let url = pending.authorize_url().to_owned();
    let browser = tokio::spawn(async move {
        while !gathered.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let t0 = std::time::Instant::now();
        (consent(&url, "allow").await, t0.elapsed())
    });
    let cb = pending
        .wait(&Cancel::new(), |_| {})
        .await
        .expect("the real callback gets through");
    let ((status, _), took) = browser.await.unwrap();
    assert_eq!(status, 200);
    assert!(
        took < Duration::from_secs(3),
        "the browser was answered in {took:?}"
    );
    w.kp.finish_connect(pending, cb).await.expect("stored");
    stop.store(true, Ordering::SeqCst);
    for t in slow {
        t.join().unwrap();
    }
    let crowd = crowd.join().unwrap();
    assert!(crowd >= 1000, "the crowd was really there: {crowd}");
}

#[tokio::test]
async fn a_localhost_redirect_binds_both_families_so_no_one_can_squat_one() {
    let w = world();
    // Another program holds [::1] on the port a `localhost` redirect names.
    let squatter = match std::net::TcpListener::bind("[::1]:0") {
        Ok(l) => l,
        Err(_) => return, // no IPv6 loopback on this machine: nothing to squat
    };
    let port = squatter.local_addr().unwrap().port();
    let issuer = format!("{}/oidc", w.mock.base_url());
    let redirect = format!("http://localhost:{port}/callback");
    let f = form(
        "oidc",
        "idp",
        &[
            ("issuer", &issuer),
            ("client_id", "pub"),
            ("client_auth", "none"),
            ("redirect_uri", &redirect),
        ],
    );
    match w.kp.begin_connect(f).await {
        Err(Error::PortBusy { host, port: p }) => {
            assert_eq!((host.as_str(), p), ("[::1]", port));
        }
        Err(e) => panic!("expected PortBusy, got {e}"),
        Ok(_) => panic!("a half-bound localhost listener would let the squatter take the code"),
    }
}
