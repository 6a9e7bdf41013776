//! Admin-issued tokens end to end: the mock plays each vendor's admin screen
//! (`POST /_mock/issue`), the CLI adds the token (secrets on standard input), prints the
//! header set, tests it against the vendor's cheap read, and revokes it with the vendor's
//! own steps. The keychain is the real Secret Service, read back with secret-tool.

// `util::ok` takes an `Output` or a reference to one; these tests pass references.
#![allow(clippy::needless_borrows_for_generic_args)]

use crate::util::{err, fails_with, metadata, ok, out, stored, Run};
use keyport_e2e::{keychain, TestEnv};
use keyport_mock::MockServer;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use time::macros::format_description;

pub(crate) fn issue(mock: &MockServer, vendor: &str, expires: Option<&str>) -> Value {
    let mut r = ureq::post(&format!("{}/_mock/issue", mock.base_url()))
        .send_json(json!({"vendor": vendor, "expires": expires}))
        .expect("mock issues a credential");
    serde_json::from_str(&r.body_mut().read_to_string().expect("body")).expect("json")
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The UTC date `days` from today, as `YYYY-MM-DD`.
fn date_in_days(days: i64) -> String {
    let day = time::OffsetDateTime::now_utc().date() + time::Duration::days(days);
    day.format(format_description!("[year]-[month]-[day]"))
        .expect("a date formats as YYYY-MM-DD")
}

struct Case {
    vendor: &'static str,
    base: &'static str,
    extra: Vec<String>,
    /// Lines for standard input, in the order `keyport add` asks.
    stdin: fn(&Value) -> String,
    /// The expected header set.
    headers: fn(&Value) -> Vec<String>,
    /// A credential the vendor refuses, as standard input.
    wrong: fn(&Value) -> String,
}

fn s<'a>(c: &'a Value, k: &str) -> &'a str {
    c[k].as_str()
        .unwrap_or_else(|| panic!("issued credential has no {k}: {c}"))
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            vendor: "exo",
            base: "/exo",
            extra: vec![],
            stdin: |c| {
                format!(
                    "{}\n{}\n{}\n{}\n",
                    s(c, "username"),
                    s(c, "password"),
                    s(c, "key"),
                    s(c, "token")
                )
            },
            headers: |c| {
                vec![
                    format!(
                        "Authorization: Basic {}",
                        b64(&format!("{}:{}", s(c, "username"), s(c, "password")))
                    ),
                    format!("x-myobapi-key: {}", s(c, "key")),
                    format!("x-myobapi-exotoken: {}", s(c, "token")),
                ]
            },
            wrong: |c| {
                format!(
                    "{}\n{}\n{}\nnot-the-token\n",
                    s(c, "username"),
                    s(c, "password"),
                    s(c, "key")
                )
            },
        },
        Case {
            vendor: "xentral",
            base: "/xentral",
            extra: vec![],
            stdin: |c| format!("{}\n", s(c, "token")),
            headers: |c| {
                vec![
                    format!("Authorization: Bearer {}", s(c, "token")),
                    "Accept: application/json".into(),
                ]
            },
            wrong: |_| "wrong-token\n".into(),
        },
        Case {
            vendor: "o4",
            base: "/o4",
            extra: vec![
                "--test-path".into(),
                "/api/orderstatus".into(),
                "--note".into(),
                "integration user".into(),
            ],
            stdin: |c| format!("{}\n", s(c, "token")),
            headers: |c| vec![format!("Authorization: Bearer {}", s(c, "token"))],
            wrong: |_| "wrong-token\n".into(),
        },
        Case {
            vendor: "machship",
            base: "/machship/apiv2",
            extra: vec![],
            stdin: |c| format!("{}\n", s(c, "token")),
            headers: |c| vec![format!("token: {}", s(c, "token"))],
            wrong: |_| "wrong-token\n".into(),
        },
        Case {
            vendor: "myob-desktop",
            base: "/accountright-desktop",
            extra: vec![],
            stdin: |c| format!("{}\n{}\n", s(c, "username"), s(c, "password")),
            headers: |c| {
                vec![
                    format!(
                        "x-myobapi-cftoken: {}",
                        b64(&format!("{}:{}", s(c, "username"), s(c, "password")))
                    ),
                    "x-myobapi-version: v2".into(),
                ]
            },
            wrong: |c| format!("{}\nwrong-password\n", s(c, "username")),
        },
    ]
}

#[test]
fn every_admin_issued_vendor_adds_tests_and_revokes() {
    let env = TestEnv::new("manual");
    let mock = MockServer::start().expect("mock");
    for case in cases() {
        let cred = issue(&mock, case.vendor, None);
        let name = format!("{}-main", case.vendor);
        let base = format!("{}{}", mock.base_url(), case.base);
        let mut extra = case.extra.clone();
        if case.vendor == "myob-desktop" {
            extra.extend(["--company-file".into(), s(&cred, "company_file").to_owned()]);
        }
        let add = |name: &str, stdin: &str| {
            env.keyport()
                .args(["add", case.vendor, "--name", name, "--base-url", &base])
                .args(&extra)
                .run_with(stdin)
        };

        let o = add(&name, &(case.stdin)(&cred));
        let text = ok(&o);
        assert!(text.contains(&format!("Added '{name}'")), "{text}");
        if case.vendor == "xentral" {
            assert!(
                String::from_utf8_lossy(&o.stderr).contains("unlimited permissions"),
                "Xentral's warning is shown on add"
            );
        }
        let entry = keychain::lookup(env.namespace(), &name).expect("stored in the real keychain");
        let meta = std::fs::read_to_string(env.keyport_config_dir().join("connections.json"))
            .expect("metadata");
        for secret in ["token", "password", "key"] {
            if let Some(v) = cred[secret].as_str() {
                assert!(entry.contains(v), "{secret} is in the keychain entry");
                assert!(
                    !meta.contains(v),
                    "{} {secret} leaked into the metadata file",
                    case.vendor
                );
            }
        }

        let headers = ok(&env.keyport().args(["headers", &name]).run());
        assert_eq!(
            headers.lines().map(str::to_owned).collect::<Vec<_>>(),
            (case.headers)(&cred),
            "{} header set",
            case.vendor
        );
        let curl = ok(&env.keyport().args(["curl", &name]).run());
        assert!(
            curl.starts_with(&format!("keyport headers '{name}' | curl -sS"))
                && curl.contains("-H @- ")
                && curl.contains(&base),
            "{curl}"
        );
        for secret in ["token", "password", "key"] {
            if let Some(v) = cred[secret].as_str() {
                assert!(
                    !curl.contains(v),
                    "{} {secret} in the curl command",
                    case.vendor
                );
            }
        }
        // The command runs as printed and the vendor accepts what it sends.
        let bin_dir = keyport_e2e::keyport_bin()
            .parent()
            .expect("bin dir")
            .to_owned();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let ran = env
            .apply(&mut Command::new("bash"))
            .args([
                "-c",
                &format!("set -o pipefail; {} -f -o /dev/null", curl.trim()),
            ])
            .env("PATH", path)
            .stdin(Stdio::null())
            .output()
            .expect("bash");
        assert!(ran.status.success(), "{} curl: {}", case.vendor, err(&ran));

        let t = env.keyport().args(["test", &name]).run();
        assert!(
            ok(&t).contains("accepted the credentials"),
            "{} test",
            case.vendor
        );

        // A wrong credential: `add` tries it and refuses it with the vendor's words,
        // storing nothing; stored untried (--no-test), `test` says unauthorised, exit 1.
        let bad = format!("{name}-bad");
        let refused = add(&bad, &(case.wrong)(&cred));
        assert_eq!(
            refused.status.code(),
            Some(6),
            "{}: {}",
            case.vendor,
            err(&refused)
        );
        assert!(
            err(&refused).contains("refused the token"),
            "{}",
            err(&refused)
        );
        assert!(
            keychain::lookup(env.namespace(), &bad).is_none(),
            "nothing stored"
        );
        let untried = env
            .keyport()
            .args([
                "add",
                case.vendor,
                "--name",
                &bad,
                "--base-url",
                &base,
                "--no-test",
            ])
            .args(&extra)
            .run_with(&(case.wrong)(&cred));
        ok(&untried);
        let t = env.keyport().args(["test", &bad]).run();
        assert_eq!(
            t.status.code(),
            Some(1),
            "{}: {}",
            case.vendor,
            String::from_utf8_lossy(&t.stdout)
        );
        assert!(
            String::from_utf8_lossy(&t.stdout).contains("unauthorised"),
            "{}",
            String::from_utf8_lossy(&t.stdout)
        );

        for n in [&name, &bad] {
            let r = ok(&env.keyport().args(["revoke", n]).run());
            assert!(
                r.contains("At the vendor:"),
                "the vendor's own steps are shown: {r}"
            );
            assert!(
                keychain::lookup(env.namespace(), n).is_none(),
                "{n} removed from the keychain"
            );
        }
    }
    let st: Value = serde_json::from_str(
        &ureq::get(&format!("{}/_mock/stats", mock.base_url()))
            .call()
            .expect("stats")
            .body_mut()
            .read_to_string()
            .expect("body"),
    )
    .expect("json");
    assert_eq!(
        st["exo_token_reissues"], 0,
        "Keyport never calls Exo's GET /token"
    );
    // One read by `keyport add` (it tries the token), one by `keyport test`, one by the
    // printed curl command.
    assert_eq!(st["api_calls"]["exo"], 3);
}

#[test]
fn expiry_warnings_and_set_token() {
    let env = TestEnv::new("expiry");
    let mock = MockServer::start().expect("mock");
    let soon = date_in_days(3);
    let cred = issue(&mock, "o4", Some(&soon));
    let base = format!("{}/o4", mock.base_url());
    ok(&env
        .keyport()
        .args([
            "add",
            "o4",
            "--name",
            "o4",
            "--base-url",
            &base,
            "--test-path",
            "/api/orderstatus",
            "--expires",
            &soon,
        ])
        .run_with(&format!("{}\n", s(&cred, "token"))));
    let list = ok(&env.keyport().args(["list"]).run());
    assert!(
        list.contains("expiring soon") && list.contains("the token expires in"),
        "{list}"
    );
    let json: Value =
        serde_json::from_str(&ok(&env.keyport().args(["list", "--json"]).run())).expect("json");
    assert_eq!(json[0]["status"], "expiring_soon");
    assert_eq!(json[0]["warnings"][0]["key"], "7d");

    // Re-issued at the vendor with a later date: set-token keeps the rest.
    let later = date_in_days(200);
    let cred2 = issue(&mock, "o4", Some(&later));
    ok(&env
        .keyport()
        .args(["set-token", "o4", "--expires", &later])
        .run_with(&format!("{}\n", s(&cred2, "token"))));
    let json: Value =
        serde_json::from_str(&ok(&env.keyport().args(["list", "--json"]).run())).expect("json");
    assert_eq!(json[0]["status"], "valid");
    assert!(ok(&env.keyport().args(["test", "o4"]).run()).contains("accepted"));

    // A bad date is refused with the format to use.
    let o = env
        .keyport()
        .args([
            "add",
            "o4",
            "--name",
            "o4b",
            "--base-url",
            &base,
            "--expires",
            "31/12/2026",
        ])
        .run_with("tok\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("YYYY-MM-DD"));

    // Exo's "refresh" is the vendor's re-issue steps.
    let exo = issue(&mock, "exo", None);
    ok(&env
        .keyport()
        .args([
            "add",
            "exo",
            "--name",
            "exo",
            "--base-url",
            &format!("{}/exo", mock.base_url()),
        ])
        .run_with(&format!(
            "{}\n{}\n{}\n{}\n",
            s(&exo, "username"),
            s(&exo, "password"),
            s(&exo, "key"),
            s(&exo, "token")
        )));
    let o = env.keyport().args(["refresh", "exo"]).run();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("untick Allow API Access"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_pasted_token_is_trimmed_and_one_that_could_split_a_line_is_refused() {
    let env = TestEnv::new("syntax");
    let mock = MockServer::start().expect("mock");
    let base = format!("{}/machship/apiv2", mock.base_url());
    let add = |name: &str| {
        let mut c = env.keyport();
        c.args(["add", "machship", "--name", name, "--base-url", &base]);
        c
    };
    let cred = issue(&mock, "machship", None);
    let token = s(&cred, "token");
    // Copied from a CRLF e-mail: stored without the line end, and the header set is exact.
    ok(add("m").run_with(&format!("{token}\r\n")));
    assert_eq!(stored(&env, "m").expect("stored")["access_token"], token);
    let headers = ok(env.keyport().args(["headers", "m"]).run());
    assert_eq!(headers, format!("token: {token}\n"));
    assert!(ok(env.keyport().args(["test", "m"]).run()).contains("accepted"));
    // From the environment with spaces and a line end around it: the engine trims.
    let o = add("m2")
        .args(["--token-env", "KP_TOKEN"])
        .env("KP_TOKEN", format!(" \t{token}\r\n"))
        .run();
    ok(&o);
    assert_eq!(stored(&env, "m2").expect("stored")["access_token"], token);

    // A control character or an inner line break: refused, exit 2, nothing stored, not echoed.
    for (name, stdin, needle) in [
        (
            "bell",
            "tok\x07en-0123456789\n",
            "a control character (U+0007) at character 4",
        ),
        (
            "crlf",
            "tok\rX-Injected: evil\n",
            "a carriage return at character 4",
        ),
    ] {
        let o = add(name).run_with(stdin);
        fails_with(&o, 2, needle);
        let said = format!("{}{}", out(&o), err(&o));
        assert!(
            !said.contains("en-0123456789") && !said.contains("evil"),
            "{said}"
        );
        assert!(stored(&env, name).is_none(), "nothing reached the keychain");
        assert!(
            !metadata(&env).contains(&format!("\"{name}\"")),
            "nor the metadata file"
        );
    }
    let o = env
        .keyport()
        .args(["set-token", "m", "--token-env", "KP_TOKEN"])
        .env("KP_TOKEN", "new\nX-Injected: evil")
        .run();
    fails_with(&o, 2, "a line break at character 4");
    assert_eq!(stored(&env, "m").expect("kept")["access_token"], token);
}
