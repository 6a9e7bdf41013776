//! The command line as a daily tool, end to end against the mock vendor with the real
//! keychain: the account context (`show`, `list --json`), `reconnect`, `edit`, an `add`
//! that tries the token, background refresh in `keyport agent`, a JWT's `exp`, shell
//! completions, `revoke` asking on a terminal, `token` on a failing connection, and the
//! connect countdown off a terminal.

use crate::cli::{
    advanced_client, advanced_world, advanced_world_with, approve, connect_advanced, connect_myob,
    connect_oidc_public, myob_client, world, World,
};
use crate::manual::issue;
use crate::util::{
    control, err, fails_with, metadata, num, ok, on_a_pty, out, show, stats, stored, Run,
};
use keyport_e2e::{wait_until, TestEnv};
use keyport_mock::{BUSINESS_ID, BUSINESS_NAME};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The value of the account detail `key` in a connection's JSON view.
fn detail<'a>(view: &'a Value, key: &str) -> Option<&'a str> {
    view["details"]
        .as_array()?
        .iter()
        .find(|d| d["key"] == key)?["value"]
        .as_str()
}

/// The connection `name` as the metadata file holds it.
fn meta_entry(env: &TestEnv, name: &str) -> Value {
    let all: Value = serde_json::from_str(&metadata(env)).expect("metadata json");
    all["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
        .expect("the connection is in the metadata file")
}

#[test]
fn show_and_list_carry_each_vendors_account_context_and_reconnect_asks_for_no_secret() {
    let World {
        env,
        mock,
        chromium,
        port,
    } = world("context");
    // MYOB: the company file's GUID and name from the redirect, the API key.
    let redirect = myob_client(&mock, port);
    let o = approve(
        &env,
        &chromium,
        connect_myob(&env, &mock, "acme", &redirect, &["--client", "Clearwater"]),
    );
    // Off a terminal the countdown is two lines: when it starts and when it ends.
    let e = err(&o);
    let waiting: Vec<&str> = e.lines().filter(|l| l.contains("Waiting")).collect();
    assert_eq!(waiting.len(), 1, "one line at the start: {e}");
    assert!(waiting[0].starts_with("Waiting up to "), "{e}");
    assert_eq!(
        e.matches("The browser came back").count(),
        1,
        "one at the end: {e}"
    );
    ok(o);
    let v = show(&env, "acme");
    assert_eq!(detail(&v, "business_id"), Some(BUSINESS_ID), "{v}");
    assert_eq!(detail(&v, "business_name"), Some(BUSINESS_NAME));
    assert_eq!(detail(&v, "api_key"), Some("myob-key"));
    assert_eq!(v["client"], "Clearwater");
    assert_eq!(v["registration"]["redirect_uri"], redirect.as_str());
    let text = ok(env.keyport().args(["show", "acme"]).run());
    for want in [
        "Company file ID:",
        BUSINESS_ID,
        BUSINESS_NAME,
        "Redirect URI:",
        "Clearwater",
    ] {
        assert!(text.contains(want), "{want} missing from: {text}");
    }
    for secret in [
        "myob-secret",
        stored(&env, "acme").unwrap()["access_token"]
            .as_str()
            .unwrap(),
    ] {
        assert!(!text.contains(secret), "show never prints a secret");
    }

    // MYOB Advanced: the instance and the tenant of the GUID@Company client ID.
    advanced_client(&mock, port);
    ok(approve(
        &env,
        &chromium,
        connect_advanced(&env, &mock, "erp", port, &[]),
    ));
    let v = show(&env, "erp");
    assert_eq!(
        detail(&v, "instance"),
        Some(format!("{}/advanced", mock.base_url()).as_str()),
        "{v}"
    );
    assert_eq!(detail(&v, "tenant"), Some("Clearwater"));
    assert_eq!(
        v["account"], "Clearwater",
        "the list's one line names the tenant"
    );

    // Any OpenID provider: issuer, the ID token's sub and email, the granted scopes.
    let child = connect_oidc_public(&env, &mock, "idp", "openid email offline_access", &[]);
    ok(approve(&env, &chromium, child));
    let v = show(&env, "idp");
    assert_eq!(
        detail(&v, "issuer"),
        Some(format!("{}/oidc", mock.base_url()).as_str()),
        "{v}"
    );
    assert_eq!(detail(&v, "subject"), Some("mock-user-1"));
    assert_eq!(detail(&v, "email"), Some("user@example.com"));
    assert!(
        detail(&v, "scopes").is_some_and(|s| s.contains("openid")),
        "{v}"
    );

    // `list --json` carries the same fields.
    let listed: Vec<Value> =
        serde_json::from_str(&ok(env.keyport().args(["list", "--json"]).run())).unwrap();
    let acme = listed
        .iter()
        .find(|c| c["name"] == "acme")
        .expect("acme listed");
    assert_eq!(detail(acme, "business_id"), Some(BUSINESS_ID));
    let only: Vec<Value> = serde_json::from_str(&ok(env
        .keyport()
        .args(["list", "--json", "--client", "clearwater"])
        .run()))
    .unwrap();
    assert_eq!(only.len(), 1, "--client filters: {only:?}");

    // Reconnect: no secret asked for (standard input is closed), the registration and the
    // company-file credentials kept, a new grant stored.
    let before = stored(&env, "acme").expect("entry");
    let registrations = |env: &TestEnv| -> Vec<String> {
        let all = serde_json::from_str::<Value>(&metadata(env)).unwrap()["registrations"].clone();
        let mut regs: Vec<String> = all
            .as_array()
            .unwrap()
            .iter()
            .map(Value::to_string)
            .collect();
        regs.sort();
        regs
    };
    let regs = registrations(&env);
    let child = env
        .keyport()
        .args(["reconnect", "acme"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn reconnect");
    let text = ok(approve(&env, &chromium, child));
    assert!(text.contains("Connected 'acme'"), "{text}");
    let after = stored(&env, "acme").expect("entry");
    assert_ne!(after["access_token"], before["access_token"], "a new grant");
    for kept in ["client_secret", "username", "password"] {
        assert_eq!(after[kept], before[kept], "{kept} kept");
    }
    assert_eq!(registrations(&env), regs, "the registration is unchanged");
    assert_eq!(
        show(&env, "acme")["client"],
        "Clearwater",
        "the client label stays"
    );
    assert_eq!(num(&stats(&mock), "code_exchanges"), 4);
}

#[test]
fn edit_changes_what_it_is_told_and_nothing_else() {
    let env = TestEnv::new("edit");
    let add = env
        .keyport()
        .args([
            "add",
            "o4",
            "--name",
            "shop",
            "--base-url",
            "https://o4.example.com",
        ])
        .args(["--test-path", "/api/a", "--no-test", "--note", "old note"])
        .run_with("o4-token-0123456789\n");
    ok(add);
    let secret_before = stored(&env, "shop").expect("entry");
    let before = meta_entry(&env, "shop");
    fails_with(&env.keyport().args(["edit", "shop"]).run(), 2, "--note");
    ok(env
        .keyport()
        .args([
            "edit",
            "shop",
            "--note",
            "new note",
            "--client",
            "Acme Corp",
        ])
        .args([
            "--base-url",
            "https://o4.acme.example/",
            "--test-path",
            "/api/b",
        ])
        .args(["--expires", "2030-06-30"])
        .run());
    let after = meta_entry(&env, "shop");
    assert_eq!(after["note"], "new note");
    assert_eq!(after["client"], "Acme Corp");
    assert_eq!(after["base_url"], "https://o4.acme.example");
    assert_eq!(after["test_path"], "/api/b");
    assert!(after["expires_at"].as_i64().is_some() && after["expires_at"] != before["expires_at"]);
    let mut rest = after.as_object().unwrap().clone();
    let mut was = before.as_object().unwrap().clone();
    for k in [
        "note",
        "client",
        "base_url",
        "test_path",
        "expires_at",
        "notified",
    ] {
        rest.remove(k);
        was.remove(k);
    }
    assert_eq!(rest, was, "nothing else changed");
    assert_eq!(
        stored(&env, "shop").expect("entry"),
        secret_before,
        "no secret touched"
    );
    // The table's columns are as wide as their widest cell: a long name shifts nothing.
    let long = "a-connection-name-well-over-twenty-characters";
    ok(env
        .keyport()
        .args([
            "add",
            "o4",
            "--name",
            long,
            "--base-url",
            "https://o4.example.com",
        ])
        .args(["--test-path", "/api/a", "--no-test"])
        .run_with("o4-token-0123456789\n"));
    let table = ok(env.keyport().arg("list").run());
    let lines: Vec<&str> = table.lines().filter(|l| !l.starts_with("  !")).collect();
    let col = lines[0].find("VENDOR").expect("a VENDOR column");
    for l in &lines[1..] {
        assert_eq!(l.get(col..col + 2), Some("o4"), "aligned: {table}");
    }
    // An empty value clears; a plain-HTTP base URL to another computer is refused.
    ok(env.keyport().args(["edit", "shop", "--note", ""]).run());
    assert!(meta_entry(&env, "shop").get("note").is_none());
    fails_with(
        &env.keyport()
            .args(["edit", "shop", "--base-url", "http://o4.example.com"])
            .run(),
        2,
        "HTTPS",
    );
}

#[test]
fn add_refuses_a_token_the_vendor_rejects_and_keeps_one_it_cannot_try_as_unverified() {
    let env = TestEnv::new("verify");
    let mock = keyport_mock::MockServer::start().expect("mock");
    let base = format!("{}/machship/apiv2", mock.base_url());
    let add = |name: &str, base: &str, token: &str| {
        env.keyport()
            .args(["add", "machship", "--name", name, "--base-url", base])
            .run_with(&format!("{token}\n"))
    };
    // A mistyped token: the vendor's words, nothing stored.
    let o = add("typo", &base, "not-a-token-0123456789");
    fails_with(&o, 6, "The token is not valid");
    assert!(stored(&env, "typo").is_none() && !metadata(&env).contains("typo"));
    // The real one is tried and accepted.
    let cred = issue(&mock, "machship", None);
    let token = cred["token"].as_str().unwrap();
    assert!(ok(add("m", &base, token)).contains("the vendor accepted it"));
    assert!(show(&env, "m")["unverified"].is_null());
    // The vendor cannot be reached: stored, marked unverified, said on stderr.
    let closed = format!("http://127.0.0.1:{}/apiv2", keyport_e2e::free_port());
    let o = add("later", &closed, token);
    assert!(err(&o).contains("stored unverified"), "{}", err(&o));
    ok(&o);
    assert!(show(&env, "later")["unverified"]
        .as_str()
        .is_some_and(|w| w.contains("could not reach")));
    assert_eq!(stored(&env, "later").unwrap()["access_token"], token);
    // Once a test at the right address passes, it is verified.
    ok(env
        .keyport()
        .args(["edit", "later", "--base-url", &base])
        .run());
    assert!(ok(env.keyport().args(["test", "later"]).run()).contains("accepted"));
    assert!(show(&env, "later")["unverified"].is_null());
    // --no-test stores without asking the vendor.
    let calls = stats(&mock)["api_calls"]["machship"].as_u64().unwrap_or(0);
    let o = env
        .keyport()
        .args([
            "add",
            "machship",
            "--name",
            "blind",
            "--base-url",
            &base,
            "--no-test",
        ])
        .run_with("any-token-0123456789\n");
    ok(o);
    assert_eq!(
        stats(&mock)["api_calls"]["machship"].as_u64().unwrap_or(0),
        calls
    );
}

/// A running `keyport agent`, stopped when dropped.
struct Agent(std::process::Child);

impl Agent {
    fn start(env: &TestEnv) -> Agent {
        let child = env
            .keyport()
            .arg("agent")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn agent");
        let sock = env.keyport_config_dir().join("agent.sock");
        assert!(
            wait_until(Duration::from_secs(10), || sock.exists()),
            "the agent serves"
        );
        Agent(child)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_agent_refreshes_before_expiry_with_no_caller() {
    // Tokens that live two minutes: inside the background refresh's five-minute margin.
    let w = advanced_world_with(
        "agent-refresh",
        "erp",
        Some(json!({"access_ttl_secs": 120})),
    );
    let first = stored(&w.env, "erp").unwrap()["access_token"].clone();
    assert_eq!(num(&stats(&w.mock), "refreshes"), 0);
    let _agent = Agent::start(&w.env);
    assert!(
        wait_until(Duration::from_secs(20), || num(
            &stats(&w.mock),
            "refreshes"
        ) >= 1),
        "the agent refreshed on its own"
    );
    assert!(wait_until(Duration::from_secs(5), || stored(&w.env, "erp")
        .unwrap()["access_token"]
        != first));
    assert!(show(&w.env, "erp")["last_refresh"].as_i64().is_some());
    // The activity log says who did it: connected from the command line, refreshed by the agent.
    let log: Vec<Value> =
        serde_json::from_str(&ok(w.env.keyport().args(["log", "erp", "--json"]).run())).unwrap();
    assert_eq!(
        (log[0]["what"].as_str(), log[0]["from"].as_str()),
        (Some("connected"), Some("cli"))
    );
    assert!(
        log.iter()
            .any(|e| e["what"] == "refreshed" && e["ok"] == true && e["from"] == "agent"),
        "{log:?}"
    );
    let text = ok(w.env.keyport().args(["log", "erp"]).run());
    assert!(
        text.contains("refreshed") && text.contains("agent"),
        "{text}"
    );
    for secret in [first.as_str().unwrap(), "adv-secret"] {
        assert!(!text.contains(secret), "no secret in the log");
    }
}

#[test]
fn a_jwt_access_token_without_expires_in_is_refreshed_before_its_exp() {
    let config = json!({"jwt_access_tokens": true, "access_ttl_secs": 90});
    let w = advanced_world_with("jwt", "erp", Some(config));
    let v = show(&w.env, "erp");
    let left = v["expires_at"]
        .as_i64()
        .expect("an expiry from the JWT's exp")
        - keyport_engine::time::now();
    assert!(
        (80..=95).contains(&left),
        "expiry from exp, not the hour assumed without one: {left}s"
    );
    // Asked for a token good for longer than the JWT has left, Keyport refreshes first.
    ok(w.env
        .keyport()
        .args(["token", "erp", "--min-valid", "120"])
        .run());
    assert_eq!(num(&stats(&w.mock), "refreshes"), 1);
}

#[test]
fn completions_generate_for_bash_zsh_and_fish() {
    let env = TestEnv::new("completions");
    let dir = env.keyport_config_dir().with_file_name("completions");
    std::fs::create_dir_all(&dir).unwrap();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef keyport"),
        ("fish", "complete -c keyport"),
    ] {
        let script = ok(env.keyport().args(["completions", shell]).run());
        assert!(script.contains(marker), "{shell}: {marker} missing");
        for word in ["reconnect", "myob-advanced", "no-browser"] {
            assert!(script.contains(word), "{shell} completes {word}");
        }
        let path = dir.join(shell);
        std::fs::write(&path, &script).unwrap();
        if shell == "bash" {
            let syntax = Command::new("bash")
                .arg("-n")
                .arg(&path)
                .output()
                .expect("bash -n");
            assert!(syntax.status.success(), "bash reads it: {}", err(&syntax));
        }
    }
}

/// Runs `keyport ARGS` on a pseudo-terminal, answering `answer`.
fn on_a_terminal(env: &TestEnv, args: &str, answer: &str) -> std::process::Output {
    on_a_pty(env, args).run_with(answer)
}

#[test]
fn revoke_asks_on_a_terminal_and_not_with_yes() {
    let env = TestEnv::new("revoke-tty");
    for name in ["a", "b"] {
        ok(env
            .keyport()
            .args([
                "add",
                "o4",
                "--name",
                name,
                "--base-url",
                "https://o4.example.com",
                "--test-path",
                "/api/a",
                "--no-test",
            ])
            .run_with("o4-token-0123456789\n"));
    }
    let o = on_a_terminal(&env, "revoke a", "n\n");
    assert_eq!(o.status.code(), Some(1), "answered no: {}", out(&o));
    assert!(
        out(&o).contains("Revoke 'a'") && out(&o).contains("Nothing was revoked"),
        "{}",
        out(&o)
    );
    assert!(stored(&env, "a").is_some(), "kept");
    let o = on_a_terminal(&env, "revoke a", "y\n");
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(stored(&env, "a").is_none(), "revoked after yes");
    let o = on_a_terminal(&env, "revoke b --yes", "");
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        !out(&o).contains("Revoke 'b'"),
        "--yes does not ask: {}",
        out(&o)
    );
    assert!(stored(&env, "b").is_none());
}

#[test]
fn token_on_a_failing_connection_warns_and_exits_with_its_code() {
    let w = advanced_world("failing", "erp");
    let token = stored(&w.env, "erp").unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    control(
        &w.mock,
        "/_mock/fail_next",
        json!({"endpoint": "token", "status": 400, "body": "{\"error\":\"invalid_grant\",\"error_description\":\"chain ended\"}"}),
    );
    fails_with(
        &w.env.keyport().args(["refresh", "erp"]).run(),
        5,
        "needs to be connected again",
    );
    let log = ok(w.env.keyport().args(["log", "erp"]).run());
    assert!(
        log.lines()
            .any(|l| l.contains("refreshed") && l.contains("FAILED") && l.contains("chain ended")),
        "{log}"
    );
    let check = |o: std::process::Output| {
        assert_eq!(o.status.code(), Some(10), "{}", err(&o));
        assert_eq!(out(&o).trim(), token, "the still-valid token is printed");
        assert!(err(&o).contains("needs reconnect"), "{}", err(&o));
    };
    check(w.env.keyport().args(["token", "erp"]).run());
    let o = w.env.keyport().args(["token", "erp", "--json"]).run();
    assert_eq!(o.status.code(), Some(10));
    let j: Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(j["token"], token.as_str());
    assert!(
        j["expires_at"].as_i64().is_some() && j["warning"].as_str().is_some(),
        "{j}"
    );
    let _agent = Agent::start(&w.env);
    check(w.env.keyport().args(["token", "erp"]).run());
    check(w.env.keyport().args(["token", "erp"]).run());
}
