//! The real Credential Manager (on Windows, or under Wine in the test run): a 6 KB entry
//! round-trips, is read back whole by a second process, and leaves nothing behind.

use super::*;
use sha2::{Digest, Sha256};

/// A keychain namespace of this test's own, so tests and runs never meet.
fn service(test: &str) -> String {
    format!("keyport-test-{test}-{}", std::process::id())
}

/// A connection's entry of `n` bytes: a JSON object with a long access token.
fn entry_of(n: usize, seed: u64) -> String {
    let head = r#"{"access_token":""#;
    let tail = r#"","refresh_token":"rt"}"#;
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let token: String = (0..n - head.len() - tail.len())
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let chars = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
            chars[(x >> 33) as usize % chars.len()] as char
        })
        .collect();
    format!("{head}{token}{tail}")
}

fn sha(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The targets the entry occupies, straight from the store.
fn targets(service: &str, key: &str) -> Vec<String> {
    let mut t = with_names(service, key, "", |n| chunked::targets(&WinCred, n)).unwrap();
    t.sort();
    t
}

const CHILD: &str = "KEYPORT_TEST_WINCRED_READ";

#[tokio::test]
async fn a_6_kb_entry_round_trips_through_the_credential_manager_and_a_second_process() {
    let service = service("6kb");
    let value = entry_of(6 * 1024, 1);
    let label = "Keyport: acme — Vendor API";
    set(&service, "acme", label, &secret(value.as_str()))
        .await
        .unwrap();
    let read = get(&service, "acme").await.unwrap().unwrap();
    assert_eq!(read.expose_secret(), value);

    // Three parts and a head, each within the limit, each named for people.
    let head = format!("Keyport (keyport-test-6kb-{}): acme", std::process::id());
    let stored = targets(&service, "acme");
    assert_eq!(stored.len(), 1 + 6144usize.div_ceil(LIMIT), "{stored:?}");
    for t in &stored {
        let e = entry(t).unwrap();
        assert!(e.get_secret().unwrap().len() <= LIMIT, "{t}");
        let user = e.get_attributes().unwrap().remove("username").unwrap();
        if *t == head {
            assert_eq!(user, label);
        } else {
            assert!(t.starts_with(&format!("{head} (part ")), "{t}");
            assert!(user.starts_with(&format!("{label} (part ")), "{user}");
        }
    }

    // Another process reads the same entry whole.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "storage::keychain::platform::tests::child_reads_the_entry",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, format!("{service}/acme"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child: {stdout}");
    assert!(
        stdout.contains(&format!("read sha256={}", sha(&value))),
        "child: {stdout}"
    );

    // Smaller again: one credential; then deleted: nothing left.
    set(&service, "acme", label, &secret("{\"access_token\":\"a\"}"))
        .await
        .unwrap();
    assert_eq!(targets(&service, "acme"), vec![head.clone()]);
    delete(&service, "acme").await.unwrap();
    assert!(targets(&service, "acme").is_empty());
    assert!(get(&service, "acme").await.unwrap().is_none());
    for t in &stored {
        assert!(
            matches!(
                entry(t).unwrap().get_secret(),
                Err(keyring_core::Error::NoEntry)
            ),
            "{t}"
        );
    }
}

/// Run by the test above in a process of its own; reads the entry it names.
#[tokio::test]
#[ignore = "run by a_6_kb_entry_round_trips… in a second process"]
async fn child_reads_the_entry() {
    let spec = std::env::var(CHILD).expect("started by the round-trip test");
    let (service, key) = spec.split_once('/').unwrap();
    let value = get(service, key)
        .await
        .unwrap()
        .expect("the entry is there");
    println!("read sha256={}", sha(value.expose_secret()));
}

#[tokio::test]
async fn an_entry_from_an_earlier_build_is_read_then_moved_under_keyports_name() {
    let service = service("legacy");
    let old = legacy(&service, "acme").unwrap();
    old.set_password("{\"access_token\":\"old\"}").unwrap();
    let read = get(&service, "acme").await.unwrap().unwrap();
    assert_eq!(read.expose_secret(), "{\"access_token\":\"old\"}");

    set(
        &service,
        "acme",
        "Keyport: acme — Vendor API",
        &secret("{\"access_token\":\"new\"}"),
    )
    .await
    .unwrap();
    assert!(matches!(old.get_password(), Err(keyring::Error::NoEntry)));
    let read = get(&service, "acme").await.unwrap().unwrap();
    assert_eq!(read.expose_secret(), "{\"access_token\":\"new\"}");
    delete(&service, "acme").await.unwrap();
    assert!(get(&service, "acme").await.unwrap().is_none());
}

#[tokio::test]
async fn an_entry_too_large_even_for_parts_is_refused_naming_the_credential_manager() {
    let service = service("large");
    let before = entry_of(3000, 2);
    set(&service, "acme", "Keyport: acme", &secret(before.as_str()))
        .await
        .unwrap();
    let e = set(
        &service,
        "acme",
        "Keyport: acme",
        &secret(entry_of(70_000, 3)),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "keychain_too_large");
    assert!(e.to_string().contains("Windows Credential Manager"), "{e}");
    let read = get(&service, "acme").await.unwrap().unwrap();
    assert_eq!(read.expose_secret(), before);
    delete(&service, "acme").await.unwrap();
    assert!(targets(&service, "acme").is_empty());
}
