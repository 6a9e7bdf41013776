//! The mock over real HTTP, as Keyport would see it.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use keyport_mock::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const CB: &str = "http://127.0.0.1:8765/callback";
const ADV_ID: &str = "11111111-2222-3333-4444-555555555555@Demo";
const MYOB_AUTH: &str = "/myob/secure/oauth2/account/authorize";
const MYOB_DECIDE: &str = "/myob/secure/oauth2/account/decide";
const MYOB_TOKEN: &str = "/myob/secure/oauth2/v1/authorize";
const ADV_AUTH: &str = "/advanced/identity/connect/authorize";
const ADV_DECIDE: &str = "/advanced/identity/connect/decide";
const ADV_TOKEN: &str = "/advanced/identity/connect/token";
const ADV_DISCOVERY: &str = "/advanced/identity/.well-known/openid-configuration";

type Pairs<'a> = [(&'a str, &'a str)];

struct Reply {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    /// (status, OAuth `error`) of an error reply.
    fn err(&self) -> (u16, String) {
        (
            self.status,
            self.json()["error"].as_str().unwrap_or("").to_owned(),
        )
    }
    fn text(&self, key: &str) -> String {
        self.json()[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} in {}", self.body))
            .to_owned()
    }
    /// A query parameter of the redirect target.
    fn param(&self, key: &str) -> Option<String> {
        let loc = url::Url::parse(self.location.as_deref().expect("a Location header")).unwrap();
        loc.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }
}

fn query(pairs: &Pairs) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn myob_params(scope: &str) -> Vec<(&str, &str)> {
    vec![
        ("client_id", "k"),
        ("redirect_uri", CB),
        ("response_type", "code"),
        ("scope", scope),
    ]
}

fn adv_params(scope: &str) -> Vec<(&str, &str)> {
    vec![
        ("client_id", ADV_ID),
        ("redirect_uri", CB),
        ("response_type", "code"),
        ("scope", scope),
    ]
}

struct T {
    mock: MockServer,
    agent: ureq::Agent,
}

fn setup() -> T {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0);
    T {
        mock: MockServer::start().expect("start the mock"),
        agent: config.build().new_agent(),
    }
}

fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut r = r.expect("HTTP exchange");
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = r.body_mut().read_to_string().unwrap();
    Reply {
        status: r.status().as_u16(),
        location,
        body,
    }
}

impl T {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.mock.base_url())
    }
    fn get(&self, path: &str, headers: &Pairs) -> Reply {
        let rq = headers
            .iter()
            .fold(self.agent.get(self.url(path)), |rq, (k, v)| {
                rq.header(*k, *v)
            });
        reply(rq.call())
    }
    fn post(&self, path: &str, headers: &Pairs, form: &Pairs) -> Reply {
        let rq = headers
            .iter()
            .fold(self.agent.post(self.url(path)), |rq, (k, v)| {
                rq.header(*k, *v)
            });
        reply(rq.send_form(form.iter().copied()))
    }
    fn post_json(&self, path: &str, v: Value) -> Reply {
        let rq = self
            .agent
            .post(self.url(path))
            .header("content-type", "application/json");
        reply(rq.send(v.to_string()))
    }

    /// Shows the consent page, checks its buttons, then allows; returns the redirect.
    fn consent(&self, auth: &str, decide: &str, params: &Pairs) -> Reply {
        let page = self.get(&format!("{auth}?{}", query(params)), &[]);
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page
            .body
            .contains(r#"<button id="allow" name="decision" value="allow">"#));
        assert!(page
            .body
            .contains(r#"<button id="deny" name="decision" value="deny">"#));
        let r = self.post(decide, &[], &[params, &[("decision", "allow")]].concat());
        assert_eq!(r.status, 302, "{}", r.body);
        r
    }

    fn myob_code(&self, scope: &str) -> String {
        self.consent(MYOB_AUTH, MYOB_DECIDE, &myob_params(scope))
            .param("code")
            .expect("code")
    }

    fn myob_token(&self, form: &Pairs) -> Reply {
        self.post(
            MYOB_TOKEN,
            &[],
            &[&[("client_id", "k"), ("client_secret", "s")], form].concat(),
        )
    }

    fn myob_exchange(&self, code: &str) -> Reply {
        let grant = ("grant_type", "authorization_code");
        self.myob_token(&[
            grant,
            ("code", code),
            ("redirect_uri", CB),
            ("scope", "CompanyFile"),
        ])
    }

    fn adv_code(&self, scope: &str) -> String {
        let params = [adv_params(scope), vec![("state", "st8")]].concat();
        let r = self.consent(ADV_AUTH, ADV_DECIDE, &params);
        assert_eq!(r.param("state").as_deref(), Some("st8"));
        r.param("code").expect("code")
    }

    /// Client auth by HTTP Basic with the id form-encoded (RFC 6749 §2.3.1).
    fn adv_post(&self, path: &str, form: &Pairs) -> Reply {
        let creds = STANDARD.encode("11111111-2222-3333-4444-555555555555%40Demo:as");
        self.post(path, &[("authorization", &format!("Basic {creds}"))], form)
    }

    fn adv_exchange(&self, code: &str) -> Value {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CB),
        ];
        let r = self.adv_post(ADV_TOKEN, &form);
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    }

    fn adv_refresh(&self, rt: &str) -> Reply {
        self.adv_post(
            ADV_TOKEN,
            &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        )
    }
}

fn myob_setup() -> T {
    let t = setup();
    t.mock
        .register_client(ClientReg::new(OAuthVendor::Myob, "k", Some("s"), CB));
    t
}

fn adv_setup() -> T {
    let t = setup();
    t.mock.register_client(ClientReg::new(
        OAuthVendor::Advanced,
        ADV_ID,
        Some("as"),
        CB,
    ));
    t
}

#[test]
fn myob_happy_path_and_api_headers() {
    let t = myob_setup();
    let page = t.get(
        &format!("{MYOB_AUTH}?{}", query(&myob_params("CompanyFile"))),
        &[],
    );
    assert!(page
        .body
        .contains("<title>Mock MYOB — sign in and allow access</title>"));
    assert!(page.body.contains(BUSINESS_NAME) && page.body.contains(BUSINESS_ID));

    let params = [
        myob_params("CompanyFile"),
        vec![("state", "xyz"), ("prompt", "consent")],
    ];
    let r = t.consent(MYOB_AUTH, MYOB_DECIDE, &params.concat());
    assert!(r.location.as_deref().unwrap().starts_with(CB));
    assert_eq!(r.param("state").as_deref(), Some("xyz"));
    assert_eq!(r.param("businessId").as_deref(), Some(BUSINESS_ID));
    assert_eq!(r.param("businessName").as_deref(), Some(BUSINESS_NAME));

    let tok = t.myob_exchange(&r.param("code").unwrap());
    assert_eq!(tok.status, 200, "{}", tok.body);
    let j = tok.json();
    assert_eq!(
        (&j["expires_in"], &j["token_type"]),
        (&json!("1200"), &json!("bearer"))
    );
    assert_eq!(
        (&j["scope"], &j["user"]["username"]),
        (&json!("CompanyFile"), &json!("user@example.com"))
    );
    let at = tok.text("access_token");
    assert!(at.starts_with("myob-at-") && tok.text("refresh_token").starts_with("myob-rt-"));

    let bearer = format!("Bearer {at}");
    let cf = STANDARD.encode("Administrator:");
    let file = format!("/myob/api/accountright/{BUSINESS_ID}/");
    let mut h = vec![
        ("authorization", bearer.as_str()),
        ("x-myobapi-key", "k"),
        ("x-myobapi-version", "v2"),
        ("x-myobapi-cftoken", cf.as_str()),
    ];
    let ok = t.get(&file, &h);
    assert_eq!(
        (ok.status, ok.text("Name")),
        (200, BUSINESS_NAME.to_owned())
    );
    let other_file = t.get(
        "/myob/api/accountright/00000000-0000-0000-0000-000000000000/",
        &h,
    );
    assert_eq!(other_file.status, 401);
    h[3].1 = "QWRtaW5pc3RyYXRvcjp3cm9uZw==";
    let bad = t.get(&file, &h);
    assert_eq!(bad.status, 401);
    assert!(bad.json()["Errors"][0]["Message"]
        .as_str()
        .unwrap()
        .contains("x-myobapi-cftoken"));
    let no_version = t.get(&file, &[h[0], h[1]]);
    assert!(no_version.status == 400 && no_version.body.contains("x-myobapi-version"));

    let s = t.mock.stats();
    assert_eq!(
        (s.authorize_requests, s.consents_allowed, s.code_exchanges),
        (2, 1, 1)
    );
    assert_eq!(
        (s.api_calls.get("myob"), s.api_rejections.get("myob")),
        (Some(&1), Some(&3))
    );
    let rec = &s.token_requests[0];
    assert_eq!(
        (rec.grant_type.as_deref(), rec.basic_auth),
        (Some("authorization_code"), false)
    );
    let keys = [
        "client_id",
        "client_secret",
        "code",
        "grant_type",
        "redirect_uri",
        "scope",
    ];
    assert_eq!(rec.form_keys, keys);
    // The HTTP stats are the same data, and hold no secret values.
    let http_stats = t.get("/_mock/stats", &[]);
    assert_eq!(serde_json::from_str::<Stats>(&http_stats.body).unwrap(), s);
    assert!(!http_stats.body.contains(&at));
}

#[test]
fn myob_token_rejects_query_string_and_wrong_content_type() {
    let t = myob_setup();
    let code = t.myob_code("CompanyFile");
    let in_query = format!("{MYOB_TOKEN}?code={code}&client_id=k&client_secret=s");
    let r = t.post(&in_query, &[], &[("grant_type", "authorization_code")]);
    assert_eq!(r.err(), (400, "invalid_request".into()));
    assert!(r.text("error_description").contains("not the query string"));
    let as_json = t
        .agent
        .post(t.url(MYOB_TOKEN))
        .header("content-type", "application/json");
    let r = reply(as_json.send(json!({"client_id": "k", "client_secret": "s"}).to_string()));
    assert_eq!(r.err(), (400, "invalid_request".into()));

    let s = t.mock.stats();
    assert_eq!(s.token_errors, 2);
    assert_eq!(
        s.token_requests[0].query,
        "code=REDACTED&client_id=k&client_secret=REDACTED"
    );
    assert_eq!(
        s.token_requests[1].content_type.as_deref(),
        Some("application/json")
    );
    assert!(!serde_json::to_string(&s).unwrap().contains(&code));
    // The code is still good for a proper request.
    assert_eq!(t.myob_exchange(&code).status, 200);
}

#[test]
fn myob_redirect_uri_must_match_exactly() {
    let t = myob_setup();
    let slash = format!("{CB}/");
    let mut params = myob_params("CompanyFile");
    params[1].1 = &slash;
    let r = t.get(&format!("{MYOB_AUTH}?{}", query(&params)), &[]);
    assert!(r.status == 400 && r.location.is_none());
    assert!(r.body.contains("redirect URI does not match"));
    params[0].1 = "nope";
    assert_eq!(
        t.get(&format!("{MYOB_AUTH}?{}", query(&params)), &[])
            .status,
        400
    );
    let bad_scope = t.get(
        &format!("{MYOB_AUTH}?{}", query(&myob_params("sme-sales sme-bogus"))),
        &[],
    );
    assert_eq!(bad_scope.status, 302);
    assert_eq!(bad_scope.param("error").as_deref(), Some("invalid_scope"));

    // The token endpoint wants the redirect_uri of the authorization request.
    let code = t.myob_code("sme-sales sme-company-file");
    let grant = ("grant_type", "authorization_code");
    let r = t.myob_token(&[
        grant,
        ("code", &code),
        ("redirect_uri", &slash),
        ("scope", "x"),
    ]);
    assert_eq!(r.err(), (400, "invalid_grant".into()));
    assert!(r
        .text("error_description")
        .contains("redirect_uri mismatch"));
}

#[test]
fn myob_code_is_single_use_and_expires() {
    let t = myob_setup();
    let code = t.myob_code("CompanyFile");
    assert_eq!(t.myob_exchange(&code).status, 200);
    assert_eq!(t.myob_exchange(&code).err(), (400, "invalid_grant".into()));

    let code = t.myob_code("CompanyFile");
    t.mock.advance_clock(181);
    let late = t.myob_exchange(&code);
    assert_eq!(late.err(), (400, "invalid_grant".into()));
    assert!(late.text("error_description").contains("expired"));

    let form = [
        ("client_id", "k"),
        ("client_secret", "x"),
        ("grant_type", "refresh_token"),
    ];
    assert_eq!(
        t.post(MYOB_TOKEN, &[], &form).err(),
        (401, "invalid_client".into())
    );
}

#[test]
fn myob_denied_consent_redirects_with_access_denied() {
    let t = myob_setup();
    let form = [
        myob_params("CompanyFile"),
        vec![("state", "q"), ("decision", "deny")],
    ]
    .concat();
    let r = t.post(MYOB_DECIDE, &[], &form);
    assert_eq!(r.status, 302);
    assert_eq!(
        (r.param("error"), r.param("state")),
        (Some("access_denied".into()), Some("q".into()))
    );
    assert!(r.param("code").is_none());
    assert_eq!(t.mock.stats().consents_denied, 1);
}

#[test]
fn myob_refresh_rotates() {
    let t = myob_setup();
    let rt1 = t
        .myob_exchange(&t.myob_code("CompanyFile"))
        .text("refresh_token");
    let refresh =
        |rt: &str| t.myob_token(&[("grant_type", "refresh_token"), ("refresh_token", rt)]);
    let r = refresh(&rt1);
    assert_eq!(r.status, 200, "{}", r.body);
    let rt2 = r.text("refresh_token");
    assert_ne!(rt1, rt2);
    assert_eq!(r.json()["expires_in"], json!("1200"));
    assert!(r.json().get("user").is_none());
    assert_eq!(refresh(&rt1).err(), (400, "invalid_grant".into()));
    assert_eq!(refresh(&rt2).status, 200);
    assert_eq!(t.mock.stats().refreshes, 2);
}

#[test]
fn advanced_rotation_and_thirty_day_chain() {
    let t = adv_setup();
    let d = t.get(ADV_DISCOVERY, &[]).json();
    assert_eq!(d["issuer"], t.url("/advanced/identity"));
    assert_eq!(d["token_endpoint"], t.url(ADV_TOKEN));
    assert_eq!(
        d["revocation_endpoint"],
        t.url("/advanced/identity/connect/revocation")
    );
    assert!(d
        .get("authorization_response_iss_parameter_supported")
        .is_none());

    let j = t.adv_exchange(&t.adv_code("api offline_access"));
    assert_eq!(
        (&j["expires_in"], &j["token_type"]),
        (&json!(3600), &json!("Bearer"))
    );
    assert!(j.get("id_token").is_none());
    assert!(t.mock.stats().token_requests[0].basic_auth);
    let rt = j["refresh_token"].as_str().unwrap().to_owned();
    assert!(rt.starts_with("adv-rt-"));

    let rt2 = t.adv_refresh(&rt).text("refresh_token");
    assert_ne!(rt, rt2);
    assert_eq!(t.adv_refresh(&rt).err(), (400, "invalid_grant".into()));
    t.mock.advance_clock(29 * 86_400);
    let rt3 = t.adv_refresh(&rt2).text("refresh_token");
    t.mock.advance_clock(86_400);
    let end = t.adv_refresh(&rt3);
    assert_eq!(end.status, 400);
    let expired =
        json!({"error": "invalid_grant", "error_description": "The refresh token has expired"});
    assert_eq!(end.json(), expired);

    // The secret in the body works too; a wrong one does not. openid brings an id_token.
    let code = t.adv_code("openid api");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", CB),
        ("client_id", ADV_ID),
    ];
    let wrong = t.post(
        ADV_TOKEN,
        &[],
        &[&form[..], &[("client_secret", "no")]].concat(),
    );
    assert_eq!(wrong.err(), (401, "invalid_client".into()));
    let ok = t
        .post(
            ADV_TOKEN,
            &[],
            &[&form[..], &[("client_secret", "as")]].concat(),
        )
        .json();
    assert!(ok["id_token"].is_string() && ok.get("refresh_token").is_none());
}

#[test]
fn a_late_token_answer_comes_after_the_rotation_is_done() {
    let t = adv_setup();
    let j = t.adv_exchange(&t.adv_code("api offline_access"));
    let rt = j["refresh_token"].as_str().unwrap().to_owned();
    t.mock.configure(ConfigPatch {
        token_answer_delay_ms: Some(400),
        ..ConfigPatch::default()
    });
    let t0 = std::time::Instant::now();
    std::thread::scope(|s| {
        let late = s.spawn(|| t.adv_refresh(&rt));
        // While the answer is on its way, the vendor has already rotated.
        std::thread::sleep(std::time::Duration::from_millis(150));
        assert_eq!(
            t.mock.stats().refreshes,
            1,
            "rotated before the answer left"
        );
        let r = late.join().unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    });
    assert!(t0.elapsed() >= std::time::Duration::from_millis(400));
}

#[test]
fn a_token_override_plays_a_vendor_that_sends_a_literal_token() {
    let t = adv_setup();
    let evil = "AAgood\r\nX-Injected: evil";
    let cfg = t.post_json(
        "/_mock/config",
        json!({"access_token_override": evil, "refresh_token_override": "rt-literal"}),
    );
    assert_eq!(cfg.json()["access_token_override"], evil);
    let j = t.adv_exchange(&t.adv_code("api offline_access"));
    assert_eq!(
        (j["access_token"].as_str(), j["refresh_token"].as_str()),
        (Some(evil), Some("rt-literal"))
    );
    let r = t.adv_refresh("rt-literal");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.text("access_token"), evil, "the refresh answers it too");
    t.mock.configure(ConfigPatch {
        access_token_override: Some(String::new()),
        refresh_token_override: Some(String::new()),
        ..ConfigPatch::default()
    });
    let j = t.adv_exchange(&t.adv_code("api offline_access"));
    let (at, rt) = (
        j["access_token"].as_str().unwrap(),
        j["refresh_token"].as_str().unwrap(),
    );
    assert!(
        at.starts_with("adv-at-") && rt.starts_with("adv-rt-"),
        "\"\" turns it off"
    );
}

#[test]
fn advanced_revocation_then_refresh_fails() {
    let t = adv_setup();
    let j = t.adv_exchange(&t.adv_code("api offline_access"));
    let (at, rt) = (
        j["access_token"].as_str().unwrap(),
        j["refresh_token"].as_str().unwrap(),
    );
    let bearer = format!("Bearer {at}");
    assert_eq!(
        t.get("/advanced/entity", &[("authorization", &bearer)])
            .status,
        200
    );

    let rev = "/advanced/identity/connect/revocation";
    assert_eq!(
        t.adv_post(rev, &[("token", rt), ("token_type_hint", "refresh_token")])
            .status,
        200
    );
    assert_eq!(t.adv_refresh(rt).err(), (400, "invalid_grant".into()));
    assert_eq!(t.adv_post(rev, &[("token", "adv-rt-unknown")]).status, 200);
    assert_eq!(t.adv_post(rev, &[("token", at)]).status, 200);
    assert_eq!(
        t.get("/advanced/entity", &[("authorization", &bearer)])
            .status,
        401
    );
    assert_eq!(
        t.post(rev, &[], &[("token", at)]).err(),
        (401, "invalid_client".into())
    );

    let s = t.mock.stats();
    let seen: Vec<_> = s
        .revocations
        .iter()
        .map(|r| (r.token_type_hint.as_deref(), r.known))
        .collect();
    assert_eq!(
        seen,
        [(Some("refresh_token"), true), (None, false), (None, true)]
    );
    assert_eq!(
        (
            s.api_calls.get("advanced"),
            s.api_rejections.get("advanced")
        ),
        (Some(&1), Some(&1))
    );

    let patch = ConfigPatch {
        advanced_list_revocation: Some(false),
        advanced_iss: Some(true),
        ..Default::default()
    };
    t.mock.configure(patch);
    let d = t.get(ADV_DISCOVERY, &[]).json();
    assert!(d.get("revocation_endpoint").is_none() && d.get("end_session_endpoint").is_none());
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    let r = t.consent(ADV_AUTH, ADV_DECIDE, &adv_params("api"));
    assert_eq!(r.param("iss"), Some(t.url("/advanced/identity")));
}

#[test]
fn advanced_authorize_checks() {
    let t = adv_setup();
    t.mock.register_client(ClientReg::new(
        OAuthVendor::Advanced,
        "plain-id",
        Some("x"),
        CB,
    ));
    let mut params = adv_params("api");
    params[0].1 = "plain-id";
    let r = t.get(&format!("{ADV_AUTH}?{}", query(&params)), &[]);
    assert!(r.status == 400 && r.body.contains("GUID@Company"));
    let r = t.get(
        &format!("{ADV_AUTH}?{}", query(&adv_params("offline_access"))),
        &[],
    );
    assert_eq!(r.param("error").as_deref(), Some("invalid_scope"));
    assert!(r.param("iss").is_none());
    let r = t.get(&format!("{ADV_AUTH}?{}", query(&adv_params("api"))), &[]);
    assert!(r
        .body
        .contains("<title>Mock MYOB Advanced — allow access</title>"));
}

#[test]
fn logout_and_injected_failures() {
    let t = adv_setup();
    let j = t.adv_exchange(&t.adv_code("api"));
    let bearer = format!("Bearer {}", j["access_token"].as_str().unwrap());
    let logout = "/advanced/entity/auth/logout";
    let auth = [("authorization", bearer.as_str())];
    assert_eq!(t.post(logout, &auth, &[]).status, 204);
    let body = r#"{"message":"limit"}"#.to_owned();
    t.mock.fail_next(FailNext {
        endpoint: Endpoint::Logout,
        status: 429,
        body,
        content_type: None,
    });
    let busy = t.post(logout, &auth, &[]);
    assert_eq!((busy.status, busy.text("message")), (429, "limit".into()));
    assert_eq!(t.post(logout, &auth, &[]).status, 204);
    assert_eq!(t.post(logout, &[], &[]).status, 401);
    assert_eq!(t.mock.stats().logouts, 2);

    // Over HTTP this time: malformed JSON from the token endpoint, once.
    let arm = json!({"endpoint": "token", "status": 200, "body": "{not json"});
    assert_eq!(t.post_json("/_mock/fail_next", arm).status, 200);
    let r = t.adv_refresh("whatever");
    assert_eq!((r.status, r.body.as_str()), (200, "{not json"));
    assert_eq!(t.adv_refresh("whatever").status, 400);
    let text = Some("text/plain".to_owned());
    t.mock.fail_next(FailNext {
        endpoint: Endpoint::Api,
        status: 503,
        body: "down".into(),
        content_type: text,
    });
    assert_eq!(t.get("/advanced/entity", &auth).status, 503);
    assert_eq!(t.get("/advanced/entity", &auth).status, 200);
    t.mock.configure(ConfigPatch {
        logout_status: Some(429),
        ..Default::default()
    });
    assert_eq!(t.post(logout, &auth, &[]).status, 429);
}

#[test]
fn oidc_public_client_needs_pkce_and_any_loopback_port() {
    let t = setup();
    let client = json!({"vendor": "oidc", "client_id": "cli", "client_secret": null,
                        "redirect_uris": ["http://127.0.0.1/cb"]});
    assert_eq!(t.post_json("/_mock/clients", client).status, 201);
    let d = t.get("/oidc/.well-known/openid-configuration", &[]).json();
    assert_eq!(d["revocation_endpoint"], t.url("/oidc/revoke"));
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    let issuer = Some(t.url("/oidc"));

    let cb = "http://127.0.0.1:50123/cb";
    let scope = ("scope", "openid offline_access");
    let params = vec![
        ("client_id", "cli"),
        ("redirect_uri", cb),
        ("response_type", "code"),
        scope,
    ];
    let no_pkce = t.get(&format!("/oidc/authorize?{}", query(&params)), &[]);
    assert_eq!(
        (no_pkce.status, no_pkce.param("error")),
        (302, Some("invalid_request".into()))
    );
    assert_eq!(no_pkce.param("iss"), issuer);
    let mut elsewhere = params.clone();
    elsewhere[1].1 = "http://localhost:50123/cb";
    assert_eq!(
        t.get(&format!("/oidc/authorize?{}", query(&elsewhere)), &[])
            .status,
        400
    );

    let verifier = "a-very-long-verifier-of-at-least-forty-three-characters-0123";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let r = t.consent(
        "/oidc/authorize",
        "/oidc/decide",
        &[&params[..], &pkce].concat(),
    );
    assert!(r.location.as_deref().unwrap().starts_with(cb));
    assert_eq!(r.param("iss"), issuer);
    let code = r.param("code").unwrap();

    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", "cli"),
        ("code", &code),
        ("redirect_uri", cb),
    ];
    assert_eq!(
        t.post("/oidc/token", &[], &form).err(),
        (400, "invalid_grant".into())
    );
    let long_wrong = "x".repeat(50);
    let wrong = [&form[..], &[("code_verifier", long_wrong.as_str())]].concat();
    assert_eq!(
        t.post("/oidc/token", &[], &wrong).err(),
        (400, "invalid_grant".into())
    );
    let ok = t.post(
        "/oidc/token",
        &[],
        &[&form[..], &[("code_verifier", verifier)]].concat(),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.json()["id_token"].is_string());
    let bearer = format!("Bearer {}", ok.text("access_token"));
    assert_eq!(
        t.get("/oidc/userinfo", &[("authorization", &bearer)])
            .text("email"),
        "user@example.com"
    );
    let rt = ok.text("refresh_token");
    let refresh = [
        ("grant_type", "refresh_token"),
        ("client_id", "cli"),
        ("refresh_token", &rt),
    ];
    assert_eq!(t.post("/oidc/token", &[], &refresh).status, 200);
    assert_eq!(
        t.post("/oidc/token", &[], &refresh).err(),
        (400, "invalid_grant".into())
    );
    assert_eq!(t.mock.stats().api_calls.get("oidc"), Some(&1));
}

#[test]
fn exo_credentials_and_the_token_reissue_trap() {
    let t = setup();
    let c = t.mock.issue_manual(IssueReq {
        vendor: ManualVendor::Exo,
        expires: None,
    });
    let login = format!("{}:{}", c.username.unwrap(), c.password.unwrap());
    let basic = format!("Basic {}", STANDARD.encode(login));
    let (key, token) = (c.key.unwrap(), c.token.unwrap());
    let debtor = |auth: &str, exotoken: &str| {
        let h = [
            ("authorization", auth),
            ("x-myobapi-key", &key),
            ("x-myobapi-exotoken", exotoken),
        ];
        t.get("/exo/debtor?pagesize=1", &h)
    };
    let ok = debtor(&basic, &token);
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json().as_array().unwrap().len(), 1);
    assert_eq!(debtor(&basic, "wrong").status, 401);
    assert_eq!(debtor("Basic eDp5", &token).status, 401);

    let re = t.get(
        "/exo/token",
        &[("authorization", &basic), ("x-myobapi-key", &key)],
    );
    assert_eq!(re.status, 200);
    let stale = debtor(&basic, &token);
    assert!(stale.status == 401 && stale.body.contains("re-issued"));
    assert_eq!(debtor(&basic, re.json().as_str().unwrap()).status, 200);
    let s = t.mock.stats();
    assert_eq!(s.exo_token_reissues, 1);
    assert_eq!(
        (s.api_calls.get("exo"), s.api_rejections.get("exo")),
        (Some(&2), Some(&3))
    );
}

#[test]
fn xentral_o4_machship_and_desktop() {
    let t = setup();
    let issued = t.post_json(
        "/_mock/issue",
        json!({"vendor": "xentral", "expires": "2099-12-31"}),
    );
    let x: IssuedCredentials = serde_json::from_str(&issued.body).unwrap();
    let products = |bearer: &str, accept: &str| {
        let auth = format!("Bearer {bearer}");
        t.get(
            "/xentral/api/v3/products?perPage=1",
            &[("authorization", &auth), ("accept", accept)],
        )
    };
    let xt = x.token.unwrap();
    let ok = products(&xt, "application/json").json();
    assert!(ok["data"].is_array() && ok["extra"].is_object());
    assert_eq!(
        products(&xt, "application/vnd.xentral.default.v1+json").status,
        406
    );
    assert_eq!(products("nope", "application/json").status, 401);
    let old = t.mock.issue_manual(IssueReq {
        vendor: ManualVendor::Xentral,
        expires: Some("2020-01-01".into()),
    });
    assert_eq!(
        products(&old.token.unwrap(), "application/json").status,
        401
    );
    assert_eq!(
        t.post_json(
            "/_mock/issue",
            json!({"vendor": "xentral", "expires": "soon"})
        )
        .status,
        400
    );

    let o = t.mock.issue_manual(IssueReq {
        vendor: ManualVendor::O4,
        expires: None,
    });
    assert!(o.expires.is_some());
    let o4 = format!("Bearer {}", o.token.unwrap());
    assert_eq!(
        t.get("/o4/api/orderstatus", &[("authorization", &o4)])
            .status,
        200
    );
    assert_eq!(t.get("/o4/api/orderstatus", &[]).status, 401);

    let m = t.mock.issue_manual(IssueReq {
        vendor: ManualVendor::Machship,
        expires: None,
    });
    let ping = "/machship/apiv2/authenticate/ping";
    let good = t.post(ping, &[("token", m.token.as_deref().unwrap())], &[]);
    assert_eq!(good.json(), json!({"object": true, "errors": null}));
    let bad = t.post(ping, &[("token", "nope")], &[]);
    assert!(bad.status == 401 && bad.json()["errors"][0]["errorMessage"].is_string());

    let d = t.mock.issue_manual(IssueReq {
        vendor: ManualVendor::MyobDesktop,
        expires: None,
    });
    let cf = STANDARD.encode(format!("{}:{}", d.username.unwrap(), d.password.unwrap()));
    let path = format!(
        "/accountright-desktop/accountright/{}/",
        d.company_file.unwrap()
    );
    let v2 = ("x-myobapi-version", "v2");
    assert_eq!(t.get(&path, &[("x-myobapi-cftoken", &cf), v2]).status, 200);
    assert_eq!(
        t.get(&path, &[("x-myobapi-cftoken", "YTpi"), v2]).status,
        401
    );
    assert_eq!(t.get(&path, &[("x-myobapi-cftoken", &cf)]).status, 401);

    // A year and a bit later, O4's default expiry has passed.
    t.mock.advance_clock(400 * 86_400);
    assert_eq!(
        t.get("/o4/api/orderstatus", &[("authorization", &o4)])
            .status,
        401
    );
    let s = t.mock.stats();
    for (v, calls, rejected) in [
        ("xentral", 1, 3),
        ("o4", 1, 2),
        ("machship", 1, 1),
        ("myob-desktop", 1, 2),
    ] {
        assert_eq!(
            (s.api_calls.get(v), s.api_rejections.get(v)),
            (Some(&calls), Some(&rejected)),
            "{v}"
        );
    }
}

#[test]
fn control_api_over_http_and_port_release() {
    let t = setup();
    let cfg = t.post_json(
        "/_mock/config",
        json!({"access_ttl_secs": 60, "code_ttl_secs": 5}),
    );
    assert_eq!(cfg.json()["access_ttl_secs"], 60);
    assert_eq!(
        t.post_json("/_mock/config", json!({"nonsense": 1})).status,
        400
    );
    t.mock
        .register_client(ClientReg::new(OAuthVendor::Myob, "k", Some("s"), CB));
    let code = t.myob_code("CompanyFile");
    assert_eq!(t.myob_exchange(&code).json()["expires_in"], json!("60"));
    let code = t.myob_code("CompanyFile");
    assert_eq!(
        t.post_json("/_mock/clock", json!({"advance_secs": 6}))
            .status,
        200
    );
    assert_eq!(t.myob_exchange(&code).err(), (400, "invalid_grant".into()));
    assert_eq!(t.get("/_mock/nothing", &[]).status, 404);

    let port = t.mock.base_url().rsplit(':').next().unwrap().to_owned();
    drop(t);
    // tiny_http's accept thread lets go of the socket just after the drop returns.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::net::TcpListener::bind(format!("127.0.0.1:{port}")).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "port not freed within 5 s of the drop"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
