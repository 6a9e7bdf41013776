//! Each vendor's documented header set and cheap read, and the registry's rules.

use super::*;
use crate::error::ActionKind;
use crate::http::{b64_pair, basic};
use crate::model::{Health, OAuthMeta};

fn conn(vendor: &dyn Vendor) -> Connection {
    Connection {
        name: "c".into(),
        vendor: vendor.id().into(),
        created_at: 0,
        health: Health::Ok,
        oauth: (vendor.kind() == Kind::Oauth).then(|| OAuthMeta {
            client_id: "api-key".into(),
            authorize_url: String::new(),
            token_url: String::new(),
            revocation_url: None,
            logout_url: None,
            issuer: None,
            redirect_uri: String::new(),
            scopes: String::new(),
            client_auth: ClientAuth::Post,
            has_refresh_token: true,
            chain_started_at: None,
            chain_days: None,
        }),
        account: Account {
            business_id: Some("cf-1".into()),
            ..Account::default()
        },
        base_url: Some("https://base.example".into()),
        test_path: Some("/api/orderstatus".into()),
        ..Connection::default()
    }
}

fn secrets() -> Secrets {
    Secrets {
        access_token: Some(secret("tok")),
        refresh_token: Some(secret("rt")),
        client_secret: Some(secret("cs")),
        username: Some(secret("user")),
        password: Some(secret("pass")),
        api_key: Some(secret("devkey")),
    }
}

fn header_set(id: &str) -> Vec<String> {
    let v = find(id).unwrap();
    v.headers(&conn(v), &secrets())
        .expect("headers")
        .into_iter()
        .map(|h| format!("{}: {}", h.name, h.value.expose_secret()))
        .collect()
}

fn probe(id: &str) -> Probe {
    let v = find(id).unwrap();
    v.probe(&conn(v)).expect("probe")
}

#[test]
fn every_vendor_has_its_documented_header_set() {
    let cf = b64_pair("user", "pass");
    assert_eq!(
        header_set("myob"),
        [
            "Authorization: Bearer tok".to_owned(),
            "x-myobapi-key: api-key".into(),
            "x-myobapi-version: v2".into(),
            format!("x-myobapi-cftoken: {cf}"),
        ]
    );
    assert_eq!(header_set("myob-advanced"), ["Authorization: Bearer tok"]);
    assert_eq!(header_set("oidc"), ["Authorization: Bearer tok"]);
    assert_eq!(
        header_set("exo"),
        [
            format!("Authorization: {}", basic("user", "pass")),
            "x-myobapi-key: devkey".into(),
            "x-myobapi-exotoken: tok".into(),
        ]
    );
    assert_eq!(
        header_set("xentral"),
        ["Authorization: Bearer tok", "Accept: application/json"]
    );
    assert_eq!(header_set("o4"), ["Authorization: Bearer tok"]);
    assert_eq!(header_set("machship"), ["token: tok"]);
    assert_eq!(
        header_set("myob-desktop"),
        [
            format!("x-myobapi-cftoken: {cf}"),
            "x-myobapi-version: v2".into()
        ]
    );
}

#[test]
fn cheap_reads_never_reissue_and_follow_the_vendor() {
    assert_eq!(probe("myob").url, "https://base.example/accountright/cf-1/");
    assert_eq!(probe("myob-advanced").url, "https://base.example/entity");
    assert_eq!(probe("exo").url, "https://base.example/debtor?pagesize=1");
    assert!(
        !probe("exo").url.contains("/token"),
        "GET /token re-issues the Exo token"
    );
    assert_eq!(
        probe("xentral").url,
        "https://base.example/api/v3/products?perPage=1"
    );
    assert_eq!(probe("o4").url, "https://base.example/api/orderstatus");
    assert_eq!(
        probe("machship").url,
        "https://base.example/authenticate/ping"
    );
    assert_eq!(probe("machship").method, Method::Post);
    assert_eq!(
        probe("myob-desktop").url,
        "https://base.example/accountright/cf-1/"
    );
    let exo = find("exo").unwrap();
    let mut no_key = secrets();
    no_key.api_key = None;
    assert!(matches!(
        exo.headers(&conn(exo), &no_key),
        Err(Error::KeychainData { .. })
    ));
}

#[test]
fn the_registry_is_sound() {
    let ids: Vec<_> = all().map(|v| v.id()).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "ids are unique");
    assert_eq!(
        find("MYOB").unwrap().id(),
        "myob",
        "ids match case-insensitively"
    );
    assert!(find("sap").is_err());
    for v in all() {
        let keys: Vec<_> = v.fields().iter().map(|f| f.key).collect();
        let mut k2 = keys.clone();
        k2.sort();
        k2.dedup();
        assert_eq!(keys.len(), k2.len(), "{}: field keys are unique", v.id());
        for f in v.fields() {
            assert!(
                !f.label.is_empty() && !f.help.is_empty(),
                "{}.{} is explained",
                v.id(),
                f.key
            );
            assert!(!f.cli.is_empty(), "{}.{} has a CLI flag", v.id(), f.key);
            if f.slot.is_some() {
                assert!(
                    f.cli.ends_with("-env") || f.key == "cf_username",
                    "{}.{}: secrets come from the environment, not arguments",
                    v.id(),
                    f.key
                );
                assert!(
                    !f.remember,
                    "{}.{}: secrets are never remembered in metadata",
                    v.id(),
                    f.key
                );
            }
        }
        match v.kind() {
            Kind::Admin => assert!(
                v.reissue_steps().is_some() && v.revoke_steps().is_some(),
                "{}",
                v.id()
            ),
            Kind::Oauth => assert!(v.field("client_id").is_some(), "{}", v.id()),
        }
    }
}

#[test]
fn deadlines_come_from_the_vendor() {
    let myob = find("myob").unwrap();
    let mut c = conn(myob);
    c.consented_at = Some(1_000);
    let d = myob.deadlines(&c);
    assert_eq!(d[0].at, 1_000 + 365 * 86_400, "yearly re-consent");
    let adv = find("myob-advanced").unwrap();
    let mut c = conn(adv);
    let o = c.oauth.as_mut().unwrap();
    o.chain_started_at = Some(0);
    o.chain_days = Some(30);
    assert_eq!(adv.deadlines(&c)[0].at, 30 * 86_400, "the refresh chain");
    let x = find("xentral").unwrap();
    let mut c = conn(x);
    c.expires_at = Some(42);
    assert_eq!(x.deadlines(&c)[0].action, ActionKind::Reissue);
}
