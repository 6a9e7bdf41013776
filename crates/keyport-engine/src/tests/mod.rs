//! The engine in-process against the mock vendor server, with the in-memory vault:
//! connect with each OAuth vendor's flow, single-flight refresh, rotation, the rollback
//! of a half-done write, revoke with and without force, and the input layer's rules.
//! (The real keychain, browser and window are driven by `tests/e2e`.)

mod api;
mod connect;
mod fuzz;
mod listener;
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

/// A MYOB form for `acme` against the mock, its app registered with the redirect on `port`.
pub(crate) fn myob_form(w: &World, port: u16) -> Form {
    let redirect = format!("http://127.0.0.1:{port}/callback");
    w.mock.register_client(ClientReg::new(
        OAuthVendor::Myob,
        "k1",
        Some("s1"),
        &redirect,
    ));
    let base = w.mock.base_url();
    form(
        "myob",
        "acme",
        &[
            ("client_id", "k1"),
            ("client_secret", "s1"),
            ("redirect_uri", &redirect),
            ("auth_base", &format!("{base}/myob/secure")),
            ("api_base", &format!("{base}/myob/api")),
        ],
    )
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
