//! No value that could split a line or add a header gets in or out: token responses from a
//! misbehaving vendor (at connect and at refresh), pasted tokens and typed values, and an
//! entry an older Keyport may have written, asked for by headers, token and the agent.

use super::{advanced_form, connect, form, free_port, world, World};
use crate::agent::{ask, serve_with, serving, AgentAnswer, Options};
use crate::secret::{secret, ExposeSecret};
use crate::{Error, Status};
use keyport_mock::ConfigPatch;
use std::time::Duration;

const EVIL: &str = "AAgood\r\nX-Injected: evil";

fn vendor_answers(w: &World, access: &str, refresh: &str) {
    w.mock.configure(ConfigPatch {
        access_token_override: Some(access.into()),
        refresh_token_override: Some(refresh.into()),
        ..ConfigPatch::default()
    });
}

#[track_caller]
fn refused_without_the_token(e: &Error, needle: &str) {
    assert_eq!(e.code(), "bad_response", "{e}");
    let m = e.to_string();
    assert!(
        m.contains(needle) && m.contains("Nothing was stored"),
        "{m}"
    );
    assert!(!m.contains("AAgood") && !m.contains("evil"), "{m}");
}

#[tokio::test]
async fn a_token_response_that_could_split_a_header_stores_nothing_at_connect_or_refresh() {
    let w = world();
    let port = free_port();
    vendor_answers(&w, EVIL, "");
    let e = connect(&w, advanced_form(&w, "adv", port))
        .await
        .expect_err("refused");
    refused_without_the_token(&e, "access_token has a carriage return at character 7");
    assert!(w.vault.raw("adv").is_none(), "nothing in the keychain");
    assert!(matches!(w.kp.view("adv").await, Err(Error::NotFound(_))));

    // A working connection whose vendor then misbehaves at refresh (each case a new one:
    // the vendor has rotated, so its old refresh token is spent).
    for (n, (access, refresh, needle)) in [
        (EVIL, "", "access_token has a carriage return"),
        (
            "",
            "rt\nX-Injected: evil",
            "refresh_token has a line break at character 3",
        ),
        ("", "rt\0", "refresh_token has a NUL character"),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("adv{n}");
        vendor_answers(&w, "", "");
        connect(&w, advanced_form(&w, &name, port))
            .await
            .expect("connected");
        let entry = w.vault.raw(&name).unwrap();
        let before = w.kp.view(&name).await.unwrap();
        let old = w.kp.token(&name, 60).await.unwrap();
        vendor_answers(&w, access, refresh);
        let e = w.kp.refresh(&name).await.unwrap_err();
        refused_without_the_token(&e, needle);
        assert_eq!(
            w.vault.raw(&name).unwrap(),
            entry,
            "the keychain entry is unchanged"
        );
        let after = w.kp.view(&name).await.unwrap();
        assert_eq!(
            (after.expires_at, after.last_refresh),
            (before.expires_at, before.last_refresh)
        );
        assert_ne!(
            after.status,
            Status::NeedsReconnect,
            "{}",
            after.status_text
        );
        let still =
            w.kp.token(&name, 60)
                .await
                .expect("the old token is handed out");
        assert_eq!(still.expose_secret(), old.expose_secret());
    }
}

#[tokio::test]
async fn pasted_tokens_are_trimmed_and_values_that_could_split_a_line_are_refused() {
    let w = world();
    let base = format!("{}/machship/apiv2", w.mock.base_url());
    let add =
        |name: &str, token: &str| form("machship", name, &[("token", token), ("base_url", &base)]);
    w.kp.add_token(add("m", " tok-0123456789\t\r\n"))
        .await
        .expect("added");
    assert!(w
        .vault
        .raw("m")
        .unwrap()
        .contains(r#""access_token":"tok-0123456789""#));
    let hs = w.kp.headers("m").await.unwrap();
    assert_eq!(hs[0].1.expose_secret(), "tok-0123456789");

    for (token, needle) in [
        (
            "tok\x07en-secret",
            "a control character (U+0007) at character 4",
        ),
        (
            "tok\r\nX-Injected: evil",
            "a carriage return at character 4",
        ),
        ("tokén-secret", "a non-ASCII character at character 4"),
    ] {
        let e = w.kp.add_token(add("n", token)).await.unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{e}");
        let m = e.to_string();
        assert!(m.contains(needle) && m.contains("token"), "{m}");
        assert!(
            !m.contains("en-secret") && !m.contains("evil"),
            "no echo: {m}"
        );
        assert!(w.vault.raw("n").is_none());
        let e = w.kp.set_token("m", secret(token), None).await.unwrap_err();
        assert!(e.to_string().contains(needle), "{e}");
    }
    assert!(
        w.vault.raw("m").unwrap().contains("tok-0123456789"),
        "unchanged"
    );
    w.kp.set_token("m", secret("new-token-42\r\n"), None)
        .await
        .expect("set");
    assert!(w
        .vault
        .raw("m")
        .unwrap()
        .contains(r#""access_token":"new-token-42""#));

    // Plain values refuse control characters; a password is taken as typed but is one line.
    let e =
        w.kp.add_token(form(
            "machship",
            "p",
            &[("token", "t"), ("base_url", "https://a.example/\nx")],
        ))
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("base URL has a line break at character 19"),
        "{e}"
    );
    let mut noted = add("p", "t");
    noted.note = "ops\x1b[2J".into();
    let e = w.kp.add_token(noted).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("note has a control character (U+001B)"),
        "{e}"
    );
    let exo = |password: &str| {
        form(
            "exo",
            "e",
            &[
                ("base_url", "https://exo.example"),
                ("username", "user"),
                ("password", password),
                ("api_key", "key"),
                ("token", "tok"),
            ],
        )
    };
    let e = w.kp.add_token(exo("pa\r\nss")).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("password has a carriage return at character 3"),
        "{e}"
    );
    w.kp.add_token(exo(" pa\tss "))
        .await
        .expect("a password as typed");
    assert!(w.vault.raw("e").unwrap().contains(r#"" pa\tss ""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_entry_is_not_handed_out_by_headers_token_or_the_agent() {
    let w = world();
    w.kp.add_sample_token("m", "sample-token-0123456789", None)
        .await
        .expect("added");
    // An entry an older Keyport wrote: the token holds a line break.
    let raw = w.vault.raw("m").unwrap();
    let damaged = raw.replace("sample-token-0123456789", r"AAgood\r\nX-Injected: evil");
    w.vault.set("m", &secret(damaged)).unwrap();
    let messages = [
        w.kp.headers("m").await.unwrap_err().to_string(),
        w.kp.token("m", 60).await.unwrap_err().to_string(),
        w.kp.fresh_token("m", 60).await.unwrap_err().to_string(),
    ];
    for m in &messages {
        assert!(
            m.contains("will not hand out") && m.contains("a carriage return"),
            "{m}"
        );
        assert!(!m.contains("AAgood") && !m.contains("evil"), "{m}");
    }
    assert!(messages[0].contains("header of 'm'"), "{}", messages[0]);

    tokio::spawn(serve_with(w.kp.clone(), Options::default()));
    let dir = w.dir.clone();
    for _ in 0..100 {
        if serving(&dir) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let answer = tokio::task::spawn_blocking(move || ask(&dir, "m", 60))
        .await
        .unwrap();
    match answer {
        Some(AgentAnswer::Failed(2, m)) => {
            assert!(
                m.contains("will not hand out") && !m.contains("evil"),
                "{m}"
            )
        }
        Some(AgentAnswer::Token(..)) => panic!("the agent handed out a token that splits a line"),
        _ => panic!("the agent gave no err line"),
    }
}
