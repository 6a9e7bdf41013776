use super::*;
use crate::model::OAuthMeta;

/// The id of the first vendor of `kind` (these tests name no vendor).
fn first_of(kind: Kind) -> String {
    vendors::all()
        .find(|v| v.kind() == kind)
        .expect("a vendor of each kind")
        .id()
        .to_owned()
}

fn oauth(expires_at: i64, has_refresh_token: bool, health: Health) -> ConnectionView {
    let c = Connection {
        name: "c".into(),
        vendor: first_of(Kind::Oauth),
        oauth: Some(OAuthMeta {
            client_id: "id".into(),
            authorize_url: String::new(),
            token_url: String::new(),
            revocation_url: None,
            logout_url: None,
            issuer: None,
            redirect_uri: String::new(),
            scopes: String::new(),
            client_auth: crate::model::ClientAuth::None,
            has_refresh_token,
            chain_started_at: None,
            chain_days: None,
        }),
        expires_at: Some(expires_at),
        health,
        ..Connection::default()
    };
    ConnectionView::at(&c, 1_000_000)
}

#[test]
fn a_base_urls_host_is_read_as_the_url_crate_reads_it() {
    for u in [
        "https://acme.vendor.example/api",
        "http://127.0.0.1:8977/vendor/apiv2",
        "https://ACME.api.example.com",
        "http://[::1]:8080/x",
        "https://user@host.example/x",
        "http://localhost:8888",
        "https://xn--bcher-kva.example/a?b#c",
    ] {
        let want = url::Url::parse(u).unwrap().host_str().map(str::to_owned);
        assert_eq!(host(u), want, "{u}");
    }
    assert_eq!(host("not a url"), None);
}

#[test]
fn only_healthy_refreshable_oauth_tokens_near_expiry_are_due() {
    let now = 1_000_000;
    assert!(oauth(now + 120, true, Health::Ok).refresh_due(now));
    assert!(
        !oauth(now + 3600, true, Health::Ok).refresh_due(now),
        "plenty of time left"
    );
    assert!(
        oauth(now - 10, true, Health::Ok).refresh_due(now),
        "expired access tokens are refreshed"
    );
    let dead = Health::NeedsReconnect {
        reason: "r".into(),
        at: now,
    };
    let v = oauth(now + 120, true, dead);
    assert!(!v.refresh_due(now), "only a new sign-in helps");
    assert!(v.needs_attention && v.failing().is_some());
    assert!(
        !oauth(now + 120, false, Health::Ok).refresh_due(now),
        "no refresh token"
    );
    let admin = ConnectionView::at(
        &Connection {
            name: "a".into(),
            vendor: first_of(Kind::Admin),
            expires_at: Some(now + 10),
            ..Connection::default()
        },
        now,
    );
    assert!(
        !admin.refresh_due(now),
        "admin-issued tokens are not refreshed"
    );
    assert!(admin.needs_attention, "its expiry is within a day");
    assert!(!oauth(now + 120, true, Health::Ok).needs_attention);
}
