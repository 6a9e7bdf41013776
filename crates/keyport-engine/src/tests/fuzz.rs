//! What arrives from outside, fuzzed on stable Rust: the redirect's parameters and URLs,
//! token responses and discovery documents from vendors, the agent's request line and the
//! metadata file. Property tests with a fixed case budget: no input makes them panic, and
//! what they accept keeps its promises.

use crate::connect::redirect::{judge, pasted, target, Expect, Verdict};
use crate::oauth::discovery;
use crate::oauth::parse_token_response;
use crate::storage::metadata;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn expect() -> Expect {
    Expect {
        state: "the-state".into(),
        issuer: Some("https://idp.example".into()),
        iss_required: false,
    }
}

/// Keys that matter to the judge, and any others.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("state".to_owned()),
        Just("code".to_owned()),
        Just("iss".to_owned()),
        Just("error".to_owned()),
        Just("error_description".to_owned()),
        ".{0,12}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("the-state".to_owned()),
        Just("https://idp.example".to_owned()),
        ".{0,300}"
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_redirect_judge_never_panics_and_accepts_only_our_state(
        params in proptest::collection::vec((key(), value()), 0..8)
    ) {
        let has_state = params.iter().filter(|(k, _)| k == "state").count() == 1
            && params.iter().any(|(k, v)| k == "state" && v == "the-state");
        match judge(params, &expect()) {
            Verdict::Accept(cb) => {
                prop_assert!(has_state);
                prop_assert!(cb.extra.values().all(|v| !v.chars().any(char::is_control)));
            }
            Verdict::Fail(e) => prop_assert!(has_state, "a failure needs our state: {e}"),
            Verdict::Ignore(_) => {}
        }
    }

    #[test]
    fn redirect_uris_and_pasted_urls_never_panic(uri in ".{0,200}", landed in ".{0,300}") {
        let _ = target(&uri);
        let _ = pasted(&landed, "http://desktop", &expect());
        let _ = pasted(&format!("http://desktop/?{landed}"), "http://desktop", &expect());
    }

    #[test]
    fn token_responses_never_panic(body in ".{0,400}", n in any::<i64>(), s in ".{0,40}") {
        let _ = parse_token_response("Acme", &body);
        for shaped in [
            format!(r#"{{"access_token":"a","expires_in":{n}}}"#),
            format!(r#"{{"access_token":{s:?},"expires_in":{s:?},"token_type":{s:?},"id_token":{s:?}}}"#),
            format!(r#"{{"access_token":"a","user":{{"uid":{s:?}}},"refresh_token":{s:?},"scope":{s:?}}}"#),
        ] {
            if let Ok(t) = parse_token_response("Acme", &shaped) {
                prop_assert!(t.expires_in.is_none_or(|e| e <= 10 * 365 * 86_400));
                prop_assert!(t.scope.is_none_or(|s| !s.chars().any(char::is_control)));
            }
        }
    }

    #[test]
    fn discovery_documents_never_panic_and_never_let_plain_http_through(
        body in ".{0,300}", endpoint in "(https?|ftp)://[a-z.]{1,12}(:[0-9]{1,5})?/[a-z]{0,6}"
    ) {
        let _ = discovery::parse("Acme", "https://idp.example", &body);
        let doc = format!(
            r#"{{"issuer":"https://idp.example","authorization_endpoint":{endpoint:?},"token_endpoint":"https://idp.example/t"}}"#
        );
        if let Ok(d) = discovery::parse("Acme", "https://idp.example", &doc) {
            let u = url::Url::parse(&d.authorization_endpoint).unwrap();
            prop_assert!(u.scheme() == "https" || crate::http::is_loopback(&u));
        }
    }

    #[test]
    fn agent_requests_never_panic_and_stay_bounded(line in ".{0,300}", n in any::<i64>()) {
        let _ = crate::agent::parse(&line);
        let shaped = format!("token acme {n}");
        if let Some((_, name, min)) = crate::agent::parse(&shaped) {
            prop_assert_eq!(name, "acme");
            prop_assert!((0..=366 * 86_400).contains(&min));
        }
    }

    #[test]
    fn the_metadata_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400), v in any::<u32>()) {
        let path = std::path::Path::new("connections.json");
        let _ = metadata::parse(path, &bytes);
        let shaped = format!(r#"{{"version":{v},"connections":[{{"name":"a","vendor":"x","created_at":1}}]}}"#);
        let read = metadata::parse(path, shaped.as_bytes());
        prop_assert_eq!(read.is_ok(), v <= metadata::VERSION);
    }
}
