//! A connection kept in a real OpenBao server (KV v2), shared by "hosts": separate
//! processes with separate config folders and keychain namespaces (separate `TestEnv`s),
//! nothing shared but the server. Against the mock's MYOB Advanced, whose refresh tokens
//! rotate and whose reuse of an old one ends the grant.

use crate::cli::{advanced_world, World};
use crate::util::{control, err, fails_with, metadata, num, ok, stats, stored, Run};
use keyport_e2e::bao::Bao;
use keyport_e2e::TestEnv;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PREFIX: &str = "keyport/team";

/// The host that shared the connection: its metadata file holds the reference.
fn owner(env: &TestEnv, bao: &Bao) -> Command {
    let mut c = env.keyport();
    c.env("BAO_TOKEN", &bao.token);
    c
}

/// A host with no reference of its own: the store comes from the environment alone.
fn headless(env: &TestEnv, bao: &Bao) -> Command {
    let mut c = env.keyport();
    c.env("KEYPORT_STORE", bao.address("secret", PREFIX))
        .env("BAO_TOKEN", &bao.token)
        .env("KEYPORT_KEYCHAIN_TIMEOUT_SECS", "2");
    c
}

fn spawn(mut c: Command, args: &[&str]) -> Child {
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keyport")
}

/// A one-second access token (refreshed now by the owner), then let it expire.
fn expire(w: &World, bao: &Bao, name: &str) {
    control(&w.mock, "/_mock/config", json!({"access_ttl_secs": 1}));
    ok(owner(&w.env, bao).args(["refresh", name]).run());
    control(&w.mock, "/_mock/config", json!({"access_ttl_secs": 3600}));
    std::thread::sleep(Duration::from_millis(1200));
}

fn shared_world(label: &str, bao: &Bao) -> World {
    let w = advanced_world(label, "erp");
    let before = stored(&w.env, "erp").expect("in the keychain first");
    let text = ok(owner(&w.env, bao)
        .args(["share", "erp", "--to", &bao.address("secret", PREFIX)])
        .run());
    assert!(text.contains("now lives in"), "{text}");
    assert!(
        stored(&w.env, "erp").is_none(),
        "the keychain entry is gone"
    );
    let (entry, _) = bao.entry("secret", PREFIX, "erp");
    let refresh = before["refresh_token"].as_str().expect("refresh token");
    assert_eq!(entry["secrets"]["refresh_token"].as_str(), Some(refresh));
    assert!(
        !metadata(&w.env).contains(refresh),
        "no secret in the metadata file"
    );
    assert!(metadata(&w.env).contains(&bao.address("secret", PREFIX)));
    w
}

#[test]
fn three_hosts_times_twenty_callers_refresh_once_per_expiry() {
    let _heavy = crate::util::timing_sensitive();
    let bao = Bao::dev();
    let w = shared_world("bao-three", &bao);
    let (b, c) = (TestEnv::new("bao-host-b"), TestEnv::new("bao-host-c"));
    for round in 0..10 {
        expire(&w, &bao, "erp");
        let before = num(&stats(&w.mock), "refreshes");
        let mut children = Vec::new();
        for _ in 0..20 {
            children.push(spawn(owner(&w.env, &bao), &["token", "erp"]));
            children.push(spawn(headless(&b, &bao), &["token", "erp"]));
            children.push(spawn(headless(&c, &bao), &["token", "erp"]));
        }
        let tokens: Vec<String> = children
            .into_iter()
            .map(|ch| ok(ch.wait_with_output().expect("wait")).trim().to_owned())
            .collect();
        assert_eq!(
            num(&stats(&w.mock), "refreshes") - before,
            1,
            "round {round}: one refresh at the vendor for sixty callers on three hosts"
        );
        assert!(
            tokens.iter().all(|t| t == &tokens[0]),
            "round {round}: every caller got the new token"
        );
        let (entry, _) = bao.entry("secret", PREFIX, "erp");
        assert_eq!(
            entry["secrets"]["access_token"].as_str(),
            Some(tokens[0].as_str())
        );
        assert!(
            entry["claim"].is_null(),
            "the claim is gone: {}",
            entry["claim"]
        );
    }
    // Every host sees where it lives and who refreshed; no host's keychain holds it.
    let shown = ok(headless(&b, &bao).args(["show", "erp"]).run());
    assert!(shown.contains(&bao.address("secret", PREFIX)), "{shown}");
    assert!(shown.contains("Refreshed by:"), "{shown}");
    for env in [&w.env, &b, &c] {
        assert!(stored(env, "erp").is_none());
    }
    // headers, exec and the agent work the same on a shared connection.
    let headers = ok(headless(&c, &bao).args(["headers", "erp"]).run());
    assert!(headers.starts_with("Authorization: Bearer "), "{headers}");
    let token = ok(owner(&w.env, &bao).args(["token", "erp"]).run());
    let exec = ok(owner(&w.env, &bao)
        .args([
            "exec",
            "erp",
            "--",
            "sh",
            "-c",
            "printf '%s' \"$KEYPORT_TOKEN\"",
        ])
        .run());
    assert_eq!(exec, token.trim());
    let mut agent = spawn(headless(&c, &bao), &["agent"]);
    let sock = c.keyport_config_dir().join("agent.sock");
    assert!(keyport_e2e::wait_until(Duration::from_secs(10), || sock.exists()));
    // Asked without the store's address or login: only the agent can answer.
    let from_agent = ok(c.keyport().args(["token", "erp"]).run());
    assert_eq!(from_agent.trim(), token.trim());
    let _ = agent.kill();
    let _ = agent.wait();
}

#[test]
fn a_dead_hosts_claim_is_taken_over_and_a_cut_off_rotation_is_reported() {
    let _heavy = crate::util::timing_sensitive();
    let bao = Bao::dev();
    let w = shared_world("bao-takeover", &bao);
    let c = TestEnv::new("bao-host-c2");

    // A host died holding the claim before it asked the vendor: the chain is intact and
    // another host takes over once the claim's time is up.
    expire(&w, &bao, "erp");
    let (mut entry, version) = bao.entry("secret", PREFIX, "erp");
    let until = time::OffsetDateTime::now_utc().unix_timestamp() + 3;
    entry["claim"] = json!({"until": until, "by": "dead-host/ops", "id": "gone"});
    let (s, v) = bao.api(
        "POST",
        &format!("secret/data/{PREFIX}/erp"),
        Some(json!({"options": {"cas": version}, "data": entry})),
    );
    assert_eq!(s, 200, "{v}");
    let before = num(&stats(&w.mock), "refreshes");
    let started = Instant::now();
    let token = ok(headless(&c, &bao).args(["token", "erp"]).run());
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "waited for the claim"
    );
    assert_eq!(num(&stats(&w.mock), "refreshes") - before, 1);
    let (entry, _) = bao.entry("secret", PREFIX, "erp");
    assert_eq!(
        entry["secrets"]["access_token"].as_str(),
        Some(token.trim())
    );
    assert_ne!(entry["connection"]["last_refresh_by"], "dead-host/ops");

    // A refreshing host is killed after the vendor rotated, before its write: the next
    // host takes over after the claim's time and says plainly what happened.
    control(
        &w.mock,
        "/_mock/config",
        json!({"token_answer_delay_ms": 4000}),
    );
    let mut b = owner(&w.env, &bao);
    b.env("KEYPORT_CLAIM_SECS", "3");
    let before = num(&stats(&w.mock), "refreshes");
    let mut helper = spawn(
        b,
        &["refresh-helper", "erp", "--min-valid", "60", "--force"],
    );
    let asked = keyport_e2e::wait_until(Duration::from_secs(20), || {
        num(&stats(&w.mock), "refreshes") > before
    });
    assert!(asked, "the helper reached the vendor");
    helper.kill().expect("kill -9 the refreshing host");
    let _ = helper.wait();
    control(
        &w.mock,
        "/_mock/config",
        json!({"token_answer_delay_ms": 0}),
    );
    let o = headless(&c, &bao).args(["refresh", "erp"]).run();
    fails_with(
        &o,
        5,
        "was cut off before it could save the vendor's answer",
    );
    assert!(err(&o).contains("refused the refresh token"), "{}", err(&o));
    let listed = ok(headless(&c, &bao).args(["list"]).run());
    assert!(listed.contains("reconnect"), "{listed}");
}

#[test]
fn a_bad_token_a_missing_mount_and_a_kv1_mount_are_clear_errors_with_nothing_written() {
    let _heavy = crate::util::timing_sensitive();
    let bao = Bao::dev();
    let (s, v) = bao.api(
        "POST",
        "sys/mounts/kv1",
        Some(json!({"type": "kv", "options": {"version": "1"}})),
    );
    assert!(s == 204 || s == 200, "{v}");
    let env = TestEnv::new("bao-errors");
    ok(env
        .keyport()
        .args([
            "add",
            "xentral",
            "--name",
            "x",
            "--base-url",
            "https://acme.xentral.biz",
        ])
        .args(["--no-test", "--expires", "2099-01-01"])
        .run_with("xentral-token-0123456789\n"));
    let share = |to: String, token: &str| {
        env.keyport()
            .env("BAO_TOKEN", token)
            .args(["share", "x", "--to", &to])
            .run()
    };
    let o = share(bao.address("secret", PREFIX), "not-the-token");
    fails_with(&o, 13, "refused Keyport's token");
    let o = share(bao.address("nomount", PREFIX), &bao.token);
    fails_with(&o, 13, "no secrets engine mounted at 'nomount/'");
    let o = share(bao.address("kv1", PREFIX), &bao.token);
    fails_with(&o, 13, "KV version 1");
    let o = env
        .keyport()
        .env("BAO_TOKEN", &bao.token)
        .args(["token", "x", "--store", &bao.address("kv1", PREFIX)])
        .run();
    fails_with(&o, 13, "ignores check-and-set");
    // Nothing was written anywhere, and the connection still works here.
    assert!(bao.entry("secret", PREFIX, "x").0.is_null());
    assert_eq!(bao.api("GET", &format!("kv1/{PREFIX}/x"), None).0, 404);
    assert!(stored(&env, "x").is_some());
    assert!(!metadata(&env).contains("bao://"));
    assert_eq!(
        ok(env.keyport().args(["token", "x"]).run()).trim(),
        "xentral-token-0123456789"
    );
    // Plain HTTP goes only to this computer.
    let o = share(
        "bao://vault.example.com:8200/secret/keyport".into(),
        &bao.token,
    );
    fails_with(&o, 2, "plain HTTP");
}

#[test]
fn a_restarted_server_keeps_the_connection_and_unshare_brings_it_back() {
    let _heavy = crate::util::timing_sensitive();
    let mut bao = Bao::file();
    let w = shared_world("bao-restart", &bao);
    let b = TestEnv::new("bao-host-b3");
    let first = ok(headless(&b, &bao).args(["token", "erp"]).run());
    // A sealed server: a clear error, nothing written, the entry as it was.
    let (entry, version) = bao.entry("secret", PREFIX, "erp");
    let (s, v) = bao.api("PUT", "sys/seal", Some(json!({})));
    assert!(s == 204 || s == 200, "sealed: {s} {v}");
    let o = headless(&b, &bao).args(["token", "erp"]).run();
    fails_with(&o, 13, "sealed");
    bao.restart();
    assert_eq!(
        bao.entry("secret", PREFIX, "erp"),
        (entry, version),
        "nothing written while sealed"
    );
    expire(&w, &bao, "erp");
    let after = ok(headless(&b, &bao).args(["token", "erp"]).run());
    assert_ne!(first, after, "refreshed after the restart");

    let text = ok(owner(&w.env, &bao).args(["unshare", "erp"]).run());
    assert!(text.contains("back in this computer's keychain"), "{text}");
    assert!(
        bao.entry("secret", PREFIX, "erp").0.is_null(),
        "gone from the store"
    );
    let back = stored(&w.env, "erp").expect("in the keychain again");
    assert!(back["refresh_token"].is_string());
    assert!(!metadata(&w.env).contains("bao://"));
    // A working keychain connection: refreshes without the store (no BAO_TOKEN).
    control(&w.mock, "/_mock/config", json!({"access_ttl_secs": 1}));
    ok(w.env.keyport().args(["refresh", "erp"]).run());
    control(&w.mock, "/_mock/config", json!({"access_ttl_secs": 3600}));
    std::thread::sleep(Duration::from_millis(1200));
    let local = ok(w.env.keyport().args(["token", "erp"]).run());
    assert_eq!(
        stored(&w.env, "erp").unwrap()["access_token"].as_str(),
        Some(local.trim())
    );
    let shown = ok(w.env.keyport().args(["show", "erp"]).run());
    assert!(shown.contains("this computer (keychain)"), "{shown}");
}

/// A server logs in with AppRole under a policy for its folder only, and adds a token
/// straight into the store (`add --store`): no keychain, no metadata file.
#[test]
fn a_server_adds_and_reads_with_approle_alone() {
    let _heavy = crate::util::timing_sensitive();
    let bao = Bao::dev();
    let call = |m: &str, p: &str, b: serde_json::Value| {
        let (s, v) = bao.api(m, p, Some(b));
        assert!((200..300).contains(&s), "{p}: {s} {v}");
        v
    };
    call("POST", "sys/auth/approle", json!({"type": "approle"}));
    let policy = format!(
        "path \"secret/data/{PREFIX}/*\" {{ capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\"] }}\n\
         path \"secret/metadata/{PREFIX}/*\" {{ capabilities = [\"read\", \"delete\", \"list\"] }}\n\
         path \"secret/metadata/{PREFIX}\" {{ capabilities = [\"list\"] }}\n\
         path \"secret/config\" {{ capabilities = [\"read\"] }}\n"
    );
    call("PUT", "sys/policies/acl/keyport", json!({"policy": policy}));
    call(
        "POST",
        "auth/approle/role/server",
        json!({"token_policies": ["keyport"]}),
    );
    let (_, v) = bao.api("GET", "auth/approle/role/server/role-id", None);
    let role = v["data"]["role_id"].as_str().expect("role id").to_owned();
    let v = call("POST", "auth/approle/role/server/secret-id", json!({}));
    let secret = v["data"]["secret_id"]
        .as_str()
        .expect("secret id")
        .to_owned();

    let server = TestEnv::new("bao-approle");
    let on = |secret_id: &str| {
        let mut c = server.keyport();
        c.env("KEYPORT_STORE", bao.address("secret", PREFIX))
            .env("BAO_ROLE_ID", &role)
            .env("BAO_SECRET_ID", secret_id)
            // No Secret Service for this host: a keychain call would fail at once.
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
        c
    };
    ok(on(&secret)
        .args([
            "add",
            "xentral",
            "--name",
            "x",
            "--base-url",
            "https://acme.xentral.biz",
        ])
        .args(["--no-test", "--expires", "2099-01-01"])
        .run_with("xentral-token-0123456789\n"));
    assert_eq!(
        ok(on(&secret).args(["token", "x"]).run()).trim(),
        "xentral-token-0123456789"
    );
    assert!(ok(on(&secret).args(["list"]).run()).contains("xentral"));
    assert!(!server
        .keyport_config_dir()
        .join("connections.json")
        .exists());
    let (entry, _) = bao.entry("secret", PREFIX, "x");
    assert_eq!(
        entry["secrets"]["access_token"].as_str(),
        Some("xentral-token-0123456789")
    );
    let o = on("not-the-secret-id").args(["token", "x"]).run();
    fails_with(&o, 13, "refused the AppRole login");
}
