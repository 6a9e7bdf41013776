//! Connecting: MYOB's capture and header set, a public OpenID client's registration and
//! a secret kept for its issuer only, and what the input layer says of bad values.

use super::*;

#[tokio::test]
async fn myob_connect_captures_the_business_and_hands_out_its_header_set() {
    let w = world();
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let v = connect(&w, myob_form(&w, port))
        .await
        .expect("connected")
        .connection;
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
