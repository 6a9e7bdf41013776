//! End to end through the `keyport` CLI: real Secret Service (read back with secret-tool
//! from outside the process), real headless Chromium on the mock vendor's consent pages,
//! the mock vendor server behaving as the vendors' documents say.

use crate::util::{
    agent, control, err, fails_with, list, metadata, num, ok, stats, stored, tokens_at_once, Run,
};
use keyport_e2e::keychain::PrivateKeyring;
use keyport_e2e::{free_port, Chromium, TestEnv};
use keyport_mock::MockServer;
use serde_json::json;
use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

// ---------- helpers ----------

/// A trial count: `var` when set (the long runs of `scripts/reliability.sh`), else `default`.
fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

pub(crate) fn myob_client(mock: &MockServer, port: u16) -> String {
    let redirect = format!("http://127.0.0.1:{port}/callback");
    control(
        mock,
        "/_mock/clients",
        json!({"vendor": "myob", "client_id": "myob-key", "client_secret": "myob-secret", "redirect_uris": [redirect], "cf_username": "Administrator", "cf_password": ""}),
    );
    redirect
}

pub(crate) fn connect_myob(
    env: &TestEnv,
    mock: &MockServer,
    name: &str,
    redirect: &str,
    extra: &[&str],
) -> Child {
    connect_myob_with(env, mock, name, redirect, extra, Stdio::null())
}

/// `keyport connect myob` against the mock; `stdin` piped for a pasted landing URL.
pub(crate) fn connect_myob_with(
    env: &TestEnv,
    mock: &MockServer,
    name: &str,
    redirect: &str,
    extra: &[&str],
    stdin: Stdio,
) -> Child {
    env.keyport()
        .args(["connect", "myob", "--name", name, "--client-id", "myob-key"])
        .args(["--redirect-uri", redirect])
        .args(["--auth-base", &format!("{}/myob/secure", mock.base_url())])
        .args(["--api-base", &format!("{}/myob/api", mock.base_url())])
        .args(["--secret-env", "KP_SECRET", "--cf-password-env", "KP_CF"])
        .args(extra)
        .env("KP_SECRET", "myob-secret")
        .env("KP_CF", "")
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keyport connect")
}

pub(crate) const ADV_CLIENT: &str = "88358B02-A48D-A50E-F710-39C1636C30F6@Clearwater";

pub(crate) fn connect_advanced(
    env: &TestEnv,
    mock: &MockServer,
    name: &str,
    port: u16,
    extra: &[&str],
) -> Child {
    env.keyport()
        .args([
            "connect",
            "myob-advanced",
            "--name",
            name,
            "--client-id",
            ADV_CLIENT,
        ])
        .args(["--instance", &format!("{}/advanced", mock.base_url())])
        .args([
            "--redirect-uri",
            &format!("http://127.0.0.1:{port}/callback"),
        ])
        .args(["--secret-env", "KP_SECRET"])
        .args(extra)
        .env("KP_SECRET", "adv-secret")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keyport connect")
}

pub(crate) fn advanced_client(mock: &MockServer, port: u16) {
    control(
        mock,
        "/_mock/clients",
        json!({"vendor": "advanced", "client_id": ADV_CLIENT, "client_secret": "adv-secret", "redirect_uris": [format!("http://127.0.0.1:{port}/callback")]}),
    );
}

/// `keyport connect oidc` as the public client `cli-app` (PKCE, an ephemeral port) of the
/// mock's OpenID provider, registered first.
pub(crate) fn connect_oidc_public(
    env: &TestEnv,
    mock: &MockServer,
    name: &str,
    scopes: &str,
    extra: &[&str],
) -> Child {
    control(
        mock,
        "/_mock/clients",
        json!({"vendor": "oidc", "client_id": "cli-app", "client_secret": null, "redirect_uris": ["http://127.0.0.1/callback"]}),
    );
    env.keyport()
        .args(["connect", "oidc", "--name", name])
        .args(["--issuer", &format!("{}/oidc", mock.base_url())])
        .args([
            "--client-id",
            "cli-app",
            "--client-auth",
            "none",
            "--scopes",
            scopes,
        ])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keyport connect oidc")
}

/// Approves the consent page the CLI opened and returns the finished CLI's output.
pub(crate) fn approve(env: &TestEnv, chromium: &Chromium, child: Child) -> Output {
    let url = env.wait_for_browser_url(Duration::from_secs(20));
    let page = chromium
        .approve(&url)
        .expect("consent page and loopback result");
    assert!(
        page.contains("Keyport is connected"),
        "loopback result page: {page}"
    );
    child.wait_with_output().expect("keyport connect finishes")
}

/// One test's world: a throwaway Keyport environment (HOME, config folder, keychain
/// namespace, recording $BROWSER), the mock vendor, a headless Chromium, and a free
/// loopback port for the redirect URI.
pub(crate) struct World {
    pub env: TestEnv,
    pub mock: MockServer,
    pub chromium: Chromium,
    pub port: u16,
}

/// A [`world`] with a MYOB Advanced connection `name` made through the real browser.
pub(crate) fn advanced_world(label: &str, name: &str) -> World {
    advanced_world_with(label, name, None)
}

/// [`advanced_world`] with the mock configured first (`POST /_mock/config`).
pub(crate) fn advanced_world_with(
    label: &str,
    name: &str,
    config: Option<serde_json::Value>,
) -> World {
    let w = world(label);
    if let Some(c) = config {
        control(&w.mock, "/_mock/config", c);
    }
    advanced_client(&w.mock, w.port);
    ok(approve(
        &w.env,
        &w.chromium,
        connect_advanced(&w.env, &w.mock, name, w.port, &[]),
    ));
    w
}

pub(crate) fn world(label: &str) -> World {
    World {
        env: TestEnv::new(label),
        mock: MockServer::start().expect("mock"),
        chromium: Chromium::start(),
        port: free_port(),
    }
}

// ---------- MYOB Business API ----------

#[test]
fn myob_connect_in_a_real_browser_then_token_headers_test_refresh_revoke() {
    let World {
        env,
        mock,
        chromium,
        port,
    } = world("myob");
    let redirect = myob_client(&mock, port);

    let o = approve(
        &env,
        &chromium,
        connect_myob(&env, &mock, "acme", &redirect, &[]),
    );
    let text = ok(o);
    assert!(
        text.contains("Connected 'acme'") && text.contains("Clearwater Pty Ltd"),
        "{text}"
    );

    // The browser was sent to the vendor with state, prompt=consent and the exact redirect URI.
    let consent = &env.browser_urls()[0];
    assert!(consent.starts_with(&format!(
        "{}/myob/secure/oauth2/account/authorize?",
        mock.base_url()
    )));
    for part in [
        "response_type=code",
        "client_id=myob-key",
        "scope=CompanyFile",
        "prompt=consent",
        "state=",
    ] {
        assert!(consent.contains(part), "{part} missing from {consent}");
    }

    // Secrets are in the real keychain, read back from outside the process.
    let s = stored(&env, "acme").expect("keychain entry");
    let access = s["access_token"].as_str().expect("access token").to_owned();
    let refresh = s["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    assert!(access.starts_with("myob-at-"), "{access}");
    assert_eq!(s["client_secret"], "myob-secret");
    // …and nowhere in the metadata file.
    let meta = metadata(&env);
    assert!(
        meta.contains("\"acme\"") && meta.contains("\"business_id\""),
        "{meta}"
    );
    for secret in [&access, &refresh, "myob-secret"] {
        assert!(
            !meta.contains(secret),
            "a secret leaked into the metadata file"
        );
    }

    // The exchange was a form POST with everything in the body.
    let st = stats(&mock);
    assert_eq!(num(&st, "code_exchanges"), 1);
    let req = &st["token_requests"][0];
    assert_eq!(req["query"], "", "no parameters in the query string: {req}");
    assert!(req["content_type"]
        .as_str()
        .unwrap_or("")
        .starts_with("application/x-www-form-urlencoded"));
    for key in [
        "client_id",
        "client_secret",
        "code",
        "grant_type",
        "redirect_uri",
        "scope",
    ] {
        assert!(
            req["form_keys"]
                .as_array()
                .expect("keys")
                .iter()
                .any(|k| k == key),
            "{key} not in body: {req}"
        );
    }

    assert_eq!(
        ok(env.keyport().args(["token", "acme"]).run()).trim(),
        access
    );
    let headers = ok(env.keyport().args(["headers", "acme"]).run());
    let lines: Vec<&str> = headers.lines().collect();
    assert_eq!(
        lines,
        vec![
            format!("Authorization: Bearer {access}").as_str(),
            "x-myobapi-key: myob-key",
            "x-myobapi-version: v2",
            "x-myobapi-cftoken: QWRtaW5pc3RyYXRvcjo=",
        ]
    );
    let t = ok(env.keyport().args(["test", "acme"]).run());
    assert!(t.contains("accepted"), "{t}");
    assert_eq!(stats(&mock)["api_calls"]["myob"], 1);

    let views = list(&env);
    assert_eq!(views.len(), 1);
    assert_eq!(views[0]["status"], "valid");
    assert_eq!(views[0]["account"], "Clearwater Pty Ltd");

    // Refresh on demand: the rotated refresh token replaces the old one in the keychain.
    ok(env.keyport().args(["refresh", "acme"]).run());
    let s2 = stored(&env, "acme").expect("entry after refresh");
    assert_ne!(s2["access_token"].as_str(), Some(access.as_str()));
    assert_ne!(
        s2["refresh_token"].as_str(),
        Some(refresh.as_str()),
        "rotated refresh token kept"
    );
    // A second refresh works, so the rotated token really was stored (the old one is dead at the mock).
    ok(env.keyport().args(["refresh", "acme"]).run());
    assert_eq!(num(&stats(&mock), "refreshes"), 2);

    let r = ok(env.keyport().args(["revoke", "acme"]).run());
    assert!(
        r.contains("my.MYOB"),
        "MYOB has no revocation endpoint: the user is told what to do there: {r}"
    );
    assert!(stored(&env, "acme").is_none(), "keychain entry deleted");
    assert!(list(&env).is_empty());
    let t = env.keyport().args(["token", "acme"]).run();
    fails_with(&t, 3, "No connection named 'acme'");
}

#[test]
fn myob_desktop_redirect_takes_the_pasted_url() {
    let World {
        env,
        mock,
        chromium,
        ..
    } = world("paste");
    control(
        &mock,
        "/_mock/clients",
        json!({"vendor": "myob", "client_id": "myob-key", "client_secret": "myob-secret", "redirect_uris": ["http://desktop"]}),
    );
    let mut child = connect_myob_with(&env, &mock, "desk", "http://desktop", &[], Stdio::piped());
    let url = env.wait_for_browser_url(Duration::from_secs(20));
    // http://desktop does not resolve: the browser shows an error page at the landing URL.
    let _ = chromium.approve(&url);
    let landed = chromium.session().current_url().expect("current url");
    assert!(
        landed.starts_with("http://desktop") && landed.contains("code="),
        "{landed}"
    );
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{landed}\n").as_bytes())
        .expect("paste");
    let text = ok(child.wait_with_output().expect("finish"));
    assert!(text.contains("Connected 'desk'"), "{text}");
    assert!(stored(&env, "desk").is_some());
}

// ---------- MYOB Advanced ----------

#[test]
fn advanced_rotation_chain_end_reconnect_and_revocation() {
    let World {
        env,
        mock,
        chromium,
        port,
    } = world("advanced");
    advanced_client(&mock, port);

    let text = ok(approve(
        &env,
        &chromium,
        connect_advanced(&env, &mock, "adv", port, &[]),
    ));
    assert!(text.contains("Connected 'adv'"), "{text}");
    let first = stored(&env, "adv").expect("stored");
    let rt1 = first["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();

    ok(env.keyport().args(["refresh", "adv"]).run());
    let rt2 = stored(&env, "adv").expect("stored")["refresh_token"]
        .as_str()
        .expect("rt")
        .to_owned();
    assert_ne!(rt1, rt2, "MYOB Advanced rotates refresh tokens");

    let views = list(&env);
    let deadline = views[0]["deadline"].as_i64().expect("chain end shown");
    let created = views[0]["created_at"].as_i64().expect("created");
    assert_eq!(
        deadline - created,
        30 * 86_400,
        "the chain ends 30 days after the first sign-in"
    );

    // 31 days on, the chain is over: a clear "reconnect", and the tokens are not lost.
    control(&mock, "/_mock/clock", json!({"advance_secs": 31 * 86_400}));
    let o = env.keyport().args(["refresh", "adv"]).run();
    fails_with(&o, 5, "needs to be connected again");
    assert_eq!(list(&env)[0]["status"], "needs_reconnect");
    assert_eq!(
        stored(&env, "adv").expect("kept")["refresh_token"].as_str(),
        Some(rt2.as_str())
    );
    // No second request with a dead token: needs-reconnect answers locally.
    let before = num(&stats(&mock), "token_errors");
    fails_with(
        &env.keyport()
            .args(["token", "adv", "--min-valid", "999999"])
            .run(),
        5,
        "needs to be connected again",
    );
    assert_eq!(num(&stats(&mock), "token_errors"), before);

    // Reconnecting over the same name puts it right without clearing anything by hand.
    let text = ok(approve(
        &env,
        &chromium,
        connect_advanced(&env, &mock, "adv", port, &["--replace"]),
    ));
    assert!(text.contains("Connected 'adv'"), "{text}");
    assert_eq!(list(&env)[0]["status"], "valid");
    // The replaced grant is revoked at the vendor (its access token had expired: no
    // logout), and the report says so.
    assert!(
        text.contains("The old sign-in: MYOB Advanced revoked the refresh token."),
        "{text}"
    );
    let hints = |st: &serde_json::Value| -> Vec<String> {
        st["revocations"]
            .as_array()
            .expect("revocations")
            .iter()
            .filter_map(|r| r["token_type_hint"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(hints(&stats(&mock)), ["refresh_token", "access_token"]);
    ok(env.keyport().args(["token", "adv"]).run());

    let r = ok(env.keyport().args(["revoke", "adv"]).run());
    assert!(
        r.contains("revoked the refresh token") && r.contains("logout"),
        "{r}"
    );
    let st = stats(&mock);
    assert_eq!(
        hints(&st),
        [
            "refresh_token",
            "access_token",
            "refresh_token",
            "access_token"
        ]
    );
    assert_eq!(num(&st, "logouts"), 1);
    assert!(stored(&env, "adv").is_none());
}

#[test]
fn twenty_concurrent_token_calls_make_exactly_one_refresh() {
    let World {
        env,
        mock,
        chromium,
        port,
    } = world("concurrent");
    advanced_client(&mock, port);
    control(&mock, "/_mock/config", json!({"access_ttl_secs": 1}));
    ok(approve(
        &env,
        &chromium,
        connect_advanced(&env, &mock, "busy", port, &[]),
    ));
    control(&mock, "/_mock/config", json!({"access_ttl_secs": 3600}));
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(list(&env)[0]["status"], "expired");

    let tokens = tokens_at_once(|| env.keyport(), "busy", 20);
    assert_eq!(
        num(&stats(&mock), "refreshes"),
        1,
        "single-flight across processes"
    );
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "every caller got the same fresh token"
    );
    assert_eq!(
        stored(&env, "busy").expect("stored")["access_token"].as_str(),
        Some(tokens[0].as_str())
    );
}

/// Fifty `keyport token` processes at once on an expired token, round after round: one
/// refresh per round, whatever the scheduling. `scripts/reliability.sh` runs ten rounds.
#[test]
fn fifty_concurrent_token_calls_refresh_once_per_round() {
    let rounds = count("KEYPORT_CONCURRENT_ROUNDS", 3) as u64;
    let World {
        env,
        mock,
        chromium: _chromium,
        port: _,
    } = advanced_world("fifty", "busy");
    for round in 0..rounds {
        // A one-second token, then let it expire.
        control(&mock, "/_mock/config", json!({"access_ttl_secs": 1}));
        ok(env.keyport().args(["refresh", "busy"]).run());
        control(&mock, "/_mock/config", json!({"access_ttl_secs": 3600}));
        std::thread::sleep(Duration::from_millis(1100));
        let before = num(&stats(&mock), "refreshes");
        let tokens = tokens_at_once(|| env.keyport(), "busy", 50);
        assert_eq!(
            num(&stats(&mock), "refreshes") - before,
            1,
            "round {round}: one refresh for fifty callers"
        );
        assert!(
            tokens.iter().all(|t| t == &tokens[0]),
            "round {round}: one token"
        );
    }
}

// ---------- any OIDC provider ----------

#[test]
fn oidc_public_client_with_pkce_on_an_ephemeral_port() {
    let World {
        env,
        mock,
        chromium,
        ..
    } = world("oidc");
    let test_url = format!("{}/oidc/userinfo", mock.base_url());
    let child = connect_oidc_public(
        &env,
        &mock,
        "idp",
        "openid offline_access",
        &["--test-url", &test_url],
    );
    ok(approve(&env, &chromium, child));
    let consent = &env.browser_urls()[0];
    assert!(consent.contains("code_challenge_method=S256"), "{consent}");
    assert!(
        consent.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"),
        "ephemeral loopback port: {consent}"
    );
    assert!(ok(env.keyport().args(["test", "idp"]).run()).contains("accepted"));

    // The provider fails the revocation: nothing is removed unless the user says --force.
    control(
        &mock,
        "/_mock/fail_next",
        json!({"endpoint": "revocation", "status": 503, "body": "down"}),
    );
    fails_with(
        &env.keyport().args(["revoke", "idp"]).run(),
        6,
        "nothing was removed",
    );
    assert!(stored(&env, "idp").is_some(), "still in the keychain");
    assert_eq!(list(&env).len(), 1);
    control(
        &mock,
        "/_mock/fail_next",
        json!({"endpoint": "revocation", "status": 503, "body": "down"}),
    );
    let r = ok(env.keyport().args(["revoke", "idp", "--force"]).run());
    assert!(
        r.contains("Not done at the vendor") && r.contains("Deleted the tokens"),
        "{r}"
    );
    assert!(stored(&env, "idp").is_none());
    assert!(list(&env).is_empty());
    // The access token's revocation still went through; the refresh token's was the one refused.
    let hints: Vec<String> = stats(&mock)["revocations"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["token_type_hint"].as_str().map(str::to_owned))
        .collect();
    assert!(hints.contains(&"access_token".to_owned()), "{hints:?}");
}

// ---------- bad input: clear errors, nothing stored ----------

#[track_caller]
fn nothing_stored(env: &TestEnv, name: &str) {
    assert!(
        stored(env, name).is_none(),
        "nothing may reach the keychain"
    );
    assert!(
        !metadata(env).contains(&format!("\"{name}\"")),
        "nothing may reach the metadata file"
    );
}

#[test]
fn denied_consent_is_a_clear_error_and_stores_nothing() {
    let World {
        env,
        mock,
        chromium,
        port,
    } = world("denied");
    let redirect = myob_client(&mock, port);
    let child = connect_myob(&env, &mock, "nope", &redirect, &[]);
    let url = env.wait_for_browser_url(Duration::from_secs(20));
    let page = chromium.deny(&url).expect("result page");
    assert!(page.contains("did not grant access"), "{page}");
    let o = child.wait_with_output().expect("finish");
    fails_with(&o, 8, "did not grant access (access_denied");
    nothing_stored(&env, "nope");
}

#[test]
fn forged_and_second_callbacks_are_refused() {
    let World {
        env,
        mock,
        chromium,
        port,
    } = world("forged");
    let redirect = myob_client(&mock, port);
    let child = connect_myob(&env, &mock, "acme", &redirect, &[]);
    let url = env.wait_for_browser_url(Duration::from_secs(20));
    // A forged redirect with a wrong state is refused, and the real one still gets through.
    let mut forged = agent()
        .get(&format!("{redirect}?code=forged&state=guess"))
        .call()
        .expect("listener answers");
    assert_eq!(forged.status().as_u16(), 400);
    assert!(forged
        .body_mut()
        .read_to_string()
        .expect("body")
        .contains("state does not match"));
    let page = chromium.approve(&url).expect("result");
    assert!(page.contains("Keyport is connected"));
    let o = child.wait_with_output().expect("finish");
    assert!(
        err(&o).contains("state does not match this attempt"),
        "the CLI reports the refused redirect: {}",
        err(&o)
    );
    ok(o);
    // The listener is gone: a second callback finds nothing listening.
    assert!(
        agent()
            .get(&format!("{redirect}?code=again&state=x"))
            .call()
            .is_err(),
        "port released"
    );
    assert_eq!(num(&stats(&mock), "code_exchanges"), 1);
}

#[test]
fn busy_port_fails_before_the_browser_opens() {
    let env = TestEnv::new("busy-port");
    let mock = MockServer::start().expect("mock");
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("hold a port");
    let port = holder.local_addr().expect("addr").port();
    let redirect = myob_client(&mock, port);
    let o = connect_myob(&env, &mock, "acme", &redirect, &[])
        .wait_with_output()
        .expect("finish");
    fails_with(&o, 8, &format!("Port {port} on 127.0.0.1 is in use"));
    assert!(env.browser_urls().is_empty(), "no browser was opened");
    nothing_stored(&env, "acme");
}

#[test]
fn window_timeout_ends_cleanly_and_frees_the_port() {
    let env = TestEnv::new("timeout");
    let mock = MockServer::start().expect("mock");
    let port = free_port();
    let redirect = myob_client(&mock, port);
    let o = connect_myob(&env, &mock, "acme", &redirect, &["--window", "2"])
        .wait_with_output()
        .expect("finish");
    fails_with(&o, 8, "No answer came from the browser");
    nothing_stored(&env, "acme");
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
        "the port is free again"
    );
}

#[test]
fn vendor_errors_at_the_exchange_store_nothing() {
    let World {
        env,
        mock,
        chromium,
        port,
    } = world("vendor-errors");
    let redirect = myob_client(&mock, port);
    let cases = [
        (
            400,
            r#"{"error":"invalid_grant","error_description":"The code has expired"}"#,
            6,
            "invalid_grant: The code has expired",
        ),
        (500, "Internal Server Error", 6, "server failed"),
        (200, "{not json", 6, "could not read"),
    ];
    for (status, body, code, needle) in cases {
        control(
            &mock,
            "/_mock/fail_next",
            json!({"endpoint": "token", "status": status, "body": body, "content_type": "application/json"}),
        );
        let child = connect_myob(&env, &mock, "acme", &redirect, &[]);
        let url = env.wait_for_browser_url(Duration::from_secs(20));
        chromium.approve(&url).expect("loopback page");
        let o = child.wait_with_output().expect("finish");
        fails_with(&o, code, needle);
        nothing_stored(&env, "acme");
    }
    // A code pasted after its 2–5 minute lifetime: the mock answers invalid_grant as MYOB does.
    control(
        &mock,
        "/_mock/clients",
        json!({"vendor": "myob", "client_id": "myob-key", "client_secret": "myob-secret", "redirect_uris": ["http://desktop"]}),
    );
    let mut child = connect_myob_with(&env, &mock, "late", "http://desktop", &[], Stdio::piped());
    let _ = chromium.approve(&env.wait_for_browser_url(Duration::from_secs(20)));
    let landed = chromium.session().current_url().expect("landed");
    control(&mock, "/_mock/clock", json!({"advance_secs": 181}));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{landed}\n").as_bytes())
        .expect("paste");
    let o = child.wait_with_output().expect("finish");
    fails_with(&o, 6, "invalid_grant: The authorization code has expired");
    assert!(err(&o).contains("Connect again"), "{}", err(&o));
    nothing_stored(&env, "late");
}

#[test]
fn a_token_that_could_inject_a_header_is_refused_at_connect_and_refresh() {
    let World {
        env,
        mock,
        chromium,
        port,
    } = world("inject");
    let redirect = myob_client(&mock, port);
    let evil = "AAgood\r\nX-Injected: evil";
    let vendor_answers = |access: &str| {
        control(
            &mock,
            "/_mock/config",
            json!({"access_token_override": access}),
        )
    };
    vendor_answers(evil);
    let o = approve(
        &env,
        &chromium,
        connect_myob(&env, &mock, "acme", &redirect, &[]),
    );
    fails_with(&o, 6, "access_token has a carriage return at character 7");
    assert!(err(&o).contains("Nothing was stored"), "{}", err(&o));
    let said = format!("{}{}", String::from_utf8_lossy(&o.stdout), err(&o));
    assert!(
        !said.contains("AAgood") && !said.contains("X-Injected"),
        "{said}"
    );
    nothing_stored(&env, "acme");
    let o = env.keyport().args(["headers", "acme"]).run();
    fails_with(&o, 3, "No connection named 'acme'");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("X-Injected"));

    // A working connection whose vendor then answers a refresh with such a token: refused,
    // the keychain entry kept, and the old token still handed out.
    vendor_answers("");
    ok(approve(
        &env,
        &chromium,
        connect_myob(&env, &mock, "acme", &redirect, &[]),
    ));
    let before = stored(&env, "acme").expect("stored");
    vendor_answers(evil);
    let o = env.keyport().args(["refresh", "acme"]).run();
    fails_with(&o, 6, "access_token has a carriage return");
    assert_eq!(
        stored(&env, "acme"),
        Some(before.clone()),
        "the entry is unchanged"
    );
    let headers = ok(env.keyport().args(["headers", "acme"]).run());
    assert!(
        !headers.contains("X-Injected") && !headers.contains('\r'),
        "{headers}"
    );
    let at = before["access_token"].as_str().expect("access token");
    assert_eq!(
        headers.lines().next(),
        Some(format!("Authorization: Bearer {at}").as_str())
    );
    // The old token still works; the failed refresh is said, with its exit code.
    let o = env.keyport().args(["token", "acme"]).run();
    assert_eq!(o.status.code(), Some(10), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), format!("{at}\n"));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("refresh failed"),
        "{o:?}"
    );
}

#[test]
fn missing_keychain_is_a_clear_error_never_a_plain_file() {
    let env = TestEnv::new("no-keychain");
    let o = env
        .keyport()
        .args([
            "add",
            "xentral",
            "--name",
            "x",
            "--base-url",
            "https://acme.xentral.biz",
            "--token-env",
            "KP_T",
        ])
        .env("KP_T", "xentral-token-value")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/keyport-test-bus",
        )
        .run();
    fails_with(&o, 4, "The keychain is not available");
    assert!(
        err(&o).contains("never falls back to a plain file"),
        "{}",
        err(&o)
    );
    nothing_stored(&env, "x");
    let leaked = walk(env.root()).into_iter().any(|p| {
        std::fs::read(&p).is_ok_and(|b| String::from_utf8_lossy(&b).contains("xentral-token-value"))
    });
    assert!(!leaked, "the token was written to a file");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn help_documents_exit_codes_and_never_takes_secrets_as_arguments() {
    let env = TestEnv::new("help");
    let h = ok(env.keyport().arg("--help").run());
    for needle in [
        "Exit codes:",
        "5  the connection must be connected again",
        "never arguments",
    ] {
        assert!(h.contains(needle), "{needle:?} missing from --help");
    }
    let c = ok(env.keyport().args(["connect", "myob", "--help"]).run());
    assert!(
        !c.contains("--client-secret") && c.contains("--secret-env"),
        "{c}"
    );
}

#[test]
fn locked_keychain_gives_up_with_a_clear_error_instead_of_hanging() {
    let env = TestEnv::new("locked");
    let run_dir = env.root().join("run");
    std::fs::create_dir_all(&run_dir).expect("run dir");
    std::fs::set_permissions(
        &run_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("chmod");
    // A private bus and keyring: locking it must not disturb tests running beside this one.
    let script = r#"
        set -e
        for line in $(printf pw | gnome-keyring-daemon --unlock --components=secrets); do export "$line"; done
        printf 'machship-token-0123456789\n' | "$KP" add machship --name m >/dev/null 2>&1
        "$KP" token m >/dev/null
        dbus-send --session --dest=org.freedesktop.secrets --type=method_call --print-reply \
            /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock \
            array:objpath:/org/freedesktop/secrets/collection/login >/dev/null
        "$KP" token m
    "#;
    let mut cmd = Command::new("dbus-run-session");
    env.apply(&mut cmd);
    let o = cmd
        .args(["--", "bash", "-c", script])
        .env("KP", keyport_e2e::keyport_bin())
        .env("XDG_RUNTIME_DIR", &run_dir)
        // Its own daemon: with these, `--unlock` would reach the session's one instead.
        .env_remove("GNOME_KEYRING_CONTROL")
        .env_remove("SSH_AUTH_SOCK")
        .env("KEYPORT_KEYCHAIN_TIMEOUT_SECS", "2")
        .env_remove("DISPLAY")
        .run();
    fails_with(&o, 4, "locked");
}

/// A local process holds more connections than the agent has file descriptors: the agent
/// backs off while its accept fails, drops the idle ones at their deadline, and serves again
/// (it once stopped serving for good at the first failed accept).
#[test]
fn the_agent_outlives_a_flood_that_exhausts_its_file_descriptors() {
    let env = TestEnv::new("agent-flood");
    ok(env
        .keyport()
        .args(["add", "machship", "--name", "m"])
        .run_with("machship-token-0123456789\n"));
    // The agent with at most 48 file descriptors.
    let mut agent = Command::new("bash");
    env.apply(&mut agent);
    let mut agent = agent
        .args(["-c", "ulimit -n 48 && exec \"$KP\" agent"])
        .env("KP", keyport_e2e::keyport_bin())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("agent");
    let sock = env.keyport_config_dir().join("agent.sock");
    assert!(keyport_e2e::wait_until(Duration::from_secs(10), || sock.exists()));
    let via_agent = || {
        env.keyport()
            .args(["token", "m"])
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .run()
    };
    assert_eq!(ok(via_agent()).trim(), "machship-token-0123456789");
    let flood: Vec<_> = (0..200)
        .filter_map(|_| std::os::unix::net::UnixStream::connect(&sock).ok())
        .collect();
    assert!(
        flood.len() > 48,
        "the flood outnumbers the agent's descriptors"
    );
    std::thread::sleep(Duration::from_millis(1500));
    drop(flood);
    assert!(
        agent.try_wait().unwrap().is_none(),
        "the agent is still running"
    );
    assert_eq!(ok(via_agent()).trim(), "machship-token-0123456789");
    let _ = agent.kill();
    let _ = agent.wait();
}

/// The folder's 0700 keeps other users away from the agent's socket; behind it, the agent
/// checks the peer's uid (`SO_PEERCRED`). Here the way in is opened (folders 0711, socket
/// 0777) and `nobody` connects with curl: refused, while this user's same bytes are read
/// as a request. Acting as another user needs root (CI runs as root); elsewhere the test
/// says so and ends.
#[test]
fn the_agent_refuses_another_users_process_that_reaches_its_socket() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    if !ok(Command::new("id").arg("-u").run()).trim().eq("0") {
        eprintln!("not root: another user's process cannot be made here; skipped");
        return;
    }
    let env = TestEnv::new("agent-peer");
    let mut agent = env
        .keyport()
        .arg("agent")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("agent");
    let sock = env.keyport_config_dir().join("agent.sock");
    assert!(keyport_e2e::wait_until(Duration::from_secs(10), || sock.exists()));
    for dir in [
        env.root().to_owned(),
        env.config_dir(),
        env.keyport_config_dir(),
    ] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o711)).unwrap();
    }
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o777)).unwrap();
    // curl speaks first (an HTTP request line); `--http0.9` prints what the agent answers.
    let raw = |uid: u32| {
        Command::new("curl")
            .args(["-sS", "--http0.9", "--max-time", "5", "--unix-socket"])
            .arg(&sock)
            .arg("http://agent/")
            .uid(uid)
            .gid(uid)
            .output()
            .expect("curl")
    };
    let theirs = raw(65534);
    assert_eq!(
        String::from_utf8_lossy(&theirs.stdout),
        "err 2 Refused: this agent serves only its own user.\n",
        "nobody reached the socket and was refused: {}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    let ours = raw(0);
    assert!(
        String::from_utf8_lossy(&ours.stdout).starts_with("err 2 Malformed"),
        "the same bytes from this user are read as a request: {ours:?}"
    );
    let _ = agent.kill();
    let _ = agent.wait();
}

/// The keychain locks right after the vendor rotated the refresh token (the mock's answer
/// is 1.5 s late and the keyring is locked meanwhile, as a screen lock would): Keyport asks
/// the Secret Service to unlock, the desktop's prompt shows, the person types the password,
/// and the rotated token is kept. A keyring of the test's own, so the others are not locked.
#[test]
fn a_keychain_locked_after_the_vendor_rotated_prompts_and_keeps_the_new_token() {
    let World {
        mut env,
        mock,
        chromium,
        port,
    } = world("unlock");
    let keyring = PrivateKeyring::start(&env.root().join("keyring"), "keyring-password");
    env.use_keyring(&keyring);
    advanced_client(&mock, port);
    ok(approve(
        &env,
        &chromium,
        connect_advanced(&env, &mock, "adv", port, &[]),
    ));
    let rt = |s: Option<String>| -> String {
        let v: serde_json::Value = serde_json::from_str(&s.expect("stored")).expect("json");
        v["refresh_token"]
            .as_str()
            .expect("refresh token")
            .to_owned()
    };
    let before = rt(keyring.lookup(env.namespace(), "adv"));
    control(
        &mock,
        "/_mock/config",
        json!({"token_answer_delay_ms": 1500}),
    );
    let refreshes = num(&stats(&mock), "refreshes");
    let child = env
        .keyport()
        .args(["refresh", "adv"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    assert!(
        keyport_e2e::wait_until(Duration::from_secs(10), || num(&stats(&mock), "refreshes")
            > refreshes),
        "the refresh reached the vendor"
    );
    // The vendor has rotated; its answer is on the way. The keychain locks now.
    keyring.lock();
    let title = keyring
        .answer_prompt(Duration::from_secs(20))
        .expect("the keychain's unlock prompt");
    assert!(title.contains("Unlock"), "prompt title: {title:?}");
    let out = child.wait_with_output().expect("refresh ends");
    ok(&out);
    let after = rt(keyring.lookup(env.namespace(), "adv"));
    assert_ne!(after, before, "the rotated refresh token was kept");
    // And it is the live one at the vendor.
    control(&mock, "/_mock/config", json!({"token_answer_delay_ms": 0}));
    ok(env.keyport().args(["refresh", "adv"]).run());
}

#[test]
fn the_agent_serves_tokens_from_memory_and_follows_other_processes() {
    let World {
        env,
        mock: _mock,
        chromium: _chromium,
        port: _,
    } = advanced_world("agent", "ag");

    let mut agent = env
        .keyport()
        .arg("agent")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("agent");
    let sock = env.keyport_config_dir().join("agent.sock");
    assert!(
        keyport_e2e::wait_until(Duration::from_secs(10), || sock.exists()),
        "the agent's socket appears"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(env.keyport_config_dir())
            .expect("dir")
            .permissions(),
    );
    assert_eq!(
        mode & 0o777,
        0o700,
        "only the user can reach the socket's folder"
    );

    // With the keychain out of reach for the CLI, only the agent can answer.
    let via_agent = |env: &TestEnv| {
        env.keyport()
            .args(["token", "ag"])
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .run()
    };
    let first = stored(&env, "ag").expect("stored")["access_token"]
        .as_str()
        .expect("at")
        .to_owned();
    assert_eq!(ok(via_agent(&env)).trim(), first);

    // Another process refreshes: the agent notices the metadata change and serves the new token.
    ok(env.keyport().args(["refresh", "ag"]).run());
    let second = stored(&env, "ag").expect("stored")["access_token"]
        .as_str()
        .expect("at")
        .to_owned();
    assert_ne!(first, second);
    assert_eq!(ok(via_agent(&env)).trim(), second);

    // Revoked elsewhere: the agent forgets it too.
    ok(env.keyport().args(["revoke", "ag"]).run());
    fails_with(&via_agent(&env), 3, "No connection named 'ag'");
    let _ = agent.kill();
    let _ = agent.wait();
}

// ---------- interruption ----------

/// `kill -9`, SIGTERM, SIGINT and SIGHUP at random moments of rotating refreshes (MYOB
/// Advanced rotates its refresh tokens): after each, the refresh token Keyport kept must
/// still be the live one. The refresh runs in a helper of its own session, so the killed
/// command cannot take a rotated token with it. `scripts/reliability.sh` runs more trials.
#[test]
fn interrupted_refreshes_lose_no_rotated_token() {
    let trials = count("KEYPORT_KILL_TRIALS", 24);
    let World {
        env,
        mock,
        chromium: _chromium,
        port: _,
    } = advanced_world("interrupt", "adv");
    let lock = env.keyport_config_dir().join("locks").join("adv.lock");
    let signals = ["KILL", "TERM", "INT", "HUP"];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut lost = Vec::new();
    for trial in 0..trials {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(seed % 60);
        let signal = signals[trial % signals.len()];
        let args: &[&str] = if trial % 2 == 0 {
            &["token", "adv", "--min-valid", "999999"]
        } else {
            &["refresh", "adv"]
        };
        let mut child = env
            .keyport()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(delay);
        let _ = Command::new("kill")
            .args(["-s", signal, &child.id().to_string()])
            .status();
        let _ = child.wait();
        // A refresh in flight (in its helper) finishes under the connection's lock.
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .expect("lock file");
        f.lock().expect("lock");
        drop(f);
        let check = env.keyport().args(["refresh", "adv"]).run();
        if !check.status.success() {
            lost.push(format!(
                "trial {trial} ({signal} after {delay:?}): {}",
                err(&check)
            ));
            break;
        }
    }
    assert!(lost.is_empty(), "rotated refresh tokens lost: {lost:?}");
    assert!(
        num(&stats(&mock), "refreshes") >= trials as u64,
        "every trial's check refreshed for real"
    );
}

/// The one window no design closes: the refresh helper itself killed with `kill -9` after
/// the vendor rotated the refresh token and before the keychain holds the new one. A
/// measurement, not a check (`scripts/reliability.sh` runs it and RELIABILITY.md records
/// it): each trial starts the helper as the CLI does and kills it at a uniformly random
/// moment of the first `T` ms; the moments that lost the connection mark the window, and
/// (lost / trials) × T estimates its width.
#[test]
#[ignore = "a measurement: scripts/reliability.sh runs it"]
fn measure_the_refresh_helpers_kill_window() {
    let trials = count("KEYPORT_HELPER_TRIALS", 300);
    let World {
        env,
        mock,
        chromium,
        port,
    } = world("helper-window");
    advanced_client(&mock, port);
    let connect = |replace: &[&str]| {
        ok(approve(
            &env,
            &chromium,
            connect_advanced(&env, &mock, "adv", port, replace),
        ))
    };
    connect(&[]);
    let helper = || {
        let mut c = env.keyport();
        c.args(["refresh-helper", "adv", "--min-valid", "0", "--force"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    // How long a whole helper run takes, uninterrupted.
    let mut whole: Vec<Duration> = (0..20)
        .map(|_| {
            let t0 = std::time::Instant::now();
            assert!(helper().status().expect("helper").success());
            t0.elapsed()
        })
        .collect();
    whole.sort();
    let span = whole[whole.len() - 1].as_micros() as u64 * 3 / 2;
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut lost_at = Vec::new();
    for _ in 0..trials {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_micros(seed % span);
        let mut child = helper().spawn().expect("spawn");
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        if !env
            .keyport()
            .args(["refresh", "adv"])
            .run()
            .status
            .success()
        {
            lost_at.push(delay);
            connect(&["--replace"]);
        }
    }
    lost_at.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let width = lost_at.len() as f64 / trials as f64 * span as f64 / 1e3;
    println!(
        "helper run: median {:.1} ms, max {:.1} ms; kills uniform over 0–{:.1} ms",
        ms(whole[whole.len() / 2]),
        ms(whole[whole.len() - 1]),
        span as f64 / 1e3
    );
    println!(
        "lost {} of {trials} (window ≈ {width:.2} ms); losing kills from {} to {} ms after start",
        lost_at.len(),
        lost_at
            .first()
            .map_or("-".into(), |d| format!("{:.2}", ms(*d))),
        lost_at
            .last()
            .map_or("-".into(), |d| format!("{:.2}", ms(*d))),
    );
}
