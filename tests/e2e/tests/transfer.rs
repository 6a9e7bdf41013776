//! Moving connections between computers, end to end with the real keychain: `keyport
//! export` then `keyport import` into a fresh profile (a new config folder and keychain
//! namespace) gives the same list with no secret in the file or the new keychain (read
//! from outside with `secret-tool`), each connection waiting for a sign-in or its token;
//! a name clash, a damaged, newer or hostile file write nothing; `keyport export-env` files
//! are read with Postman's, Insomnia's and Bruno's own npm parsers (tests/envfiles).

use crate::cli::{approve, connect_myob, myob_client, world, World};
use crate::manual::issue;
use crate::util::{err, fails_with, list, metadata, ok, out, show, stored, Run};
use keyport_e2e::env::workspace_root;
use keyport_e2e::{keychain, TestEnv};
use serde_json::{json, Value};
use std::path::Path;

/// What the list shows of a connection, secrets aside.
fn rows(env: &TestEnv) -> Vec<Value> {
    list(env)
        .into_iter()
        .map(|v| {
            json!({
                "name": v["name"], "vendor": v["vendor"], "client": v["client"],
                "note": v["note"], "account": v["account"], "details": v["details"],
                "base_url": v["base_url"], "registration": v["registration"],
                "test_path": v["test_path"],
            })
        })
        .collect()
}

/// Every secret value in `env`'s keychain entries for `names`.
fn secrets(env: &TestEnv, names: &[&str]) -> Vec<String> {
    let mut all = Vec::new();
    for n in names {
        let entry = stored(env, n).expect("a keychain entry");
        for v in entry.as_object().unwrap().values() {
            if let Some(s) = v.as_str().filter(|s| s.len() >= 8) {
                all.push(s.to_owned());
            }
        }
    }
    all
}

/// A profile with a MYOB Business API sign-in and two admin-issued tokens (issued by the
/// mock; the first one's returned), with clients.
fn first_profile() -> (World, String) {
    let w = world("transfer");
    let redirect = myob_client(&w.mock, w.port);
    ok(approve(
        &w.env,
        &w.chromium,
        connect_myob(
            &w.env,
            &w.mock,
            "acme",
            &redirect,
            &["--client", "Clearwater"],
        ),
    ));
    let base = format!("{}/machship/apiv2", w.mock.base_url());
    let mut first = String::new();
    for name in ["freight", "freight.test"] {
        let token = issue(&w.mock, "machship", None)["token"]
            .as_str()
            .unwrap()
            .to_owned();
        ok(w.env
            .keyport()
            .args([
                "add",
                "machship",
                "--name",
                name,
                "--client",
                "Acme Logistics",
            ])
            .args(["--base-url", &base, "--note", "Dispatch"])
            .run_with(&format!("{token}\n")));
        if first.is_empty() {
            first = token;
        }
    }
    (w, first)
}

#[test]
fn export_then_import_into_a_fresh_profile_gives_the_same_list_without_a_secret() {
    let (w, freight_token) = first_profile();
    let file = w.env.root().join("connections.keyport.json");
    let o = w.env.keyport().args(["export", "-o"]).arg(&file).run();
    assert!(err(&o).contains("Exported 3 connections"), "{}", err(&o));
    ok(o);
    let text = std::fs::read_to_string(&file).unwrap();
    for s in secrets(&w.env, &["acme", "freight", "freight.test"])
        .iter()
        .chain([&"myob-secret".to_owned()])
    {
        assert!(!text.contains(s.as_str()), "a secret is in the export file");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let fresh = TestEnv::new("transfer-fresh");
    let o = ok(fresh.keyport().arg("import").arg(&file).run());
    assert!(o.contains("Imported 3 connections"), "{o}");
    assert!(o.contains("keyport reconnect acme"), "{o}");
    assert_eq!(rows(&fresh), rows(&w.env), "the same list");
    assert!(
        keychain::names(fresh.namespace()).is_empty(),
        "nothing in the new keychain: {:?}",
        keychain::names(fresh.namespace())
    );
    for v in list(&fresh) {
        assert_eq!(v["status"], "needs_reconnect", "{v}");
        let first = if v["kind"] == "oauth" {
            "reconnect"
        } else {
            "reissue"
        };
        assert_eq!(v["actions"][0]["kind"], first, "{v}");
    }
    // A token asked for before it is given says what to do.
    fails_with(
        &fresh.keyport().args(["token", "freight"]).run(),
        5,
        "imported from another computer",
    );
    // The admin-issued one gets its token with `reconnect`, and works.
    let o = ok(fresh
        .keyport()
        .args(["reconnect", "freight"])
        .run_with(&format!("{freight_token}\n")));
    assert!(
        o.contains("Added 'freight'") && o.contains("the vendor accepted it"),
        "{o}"
    );
    assert_eq!(
        ok(fresh.keyport().args(["token", "freight"]).run()).trim(),
        freight_token
    );
    assert_eq!(keychain::names(fresh.namespace()), ["freight"]);
    let meta: Value = serde_json::from_str(&metadata(&fresh)).unwrap();
    assert_eq!(meta["registrations"][0]["client_id"], "myob-key");
    assert_eq!(meta["registrations"][0]["secret_saved"], false);

    // The same file again: a clash stops it with nothing written; --skip and --rename.
    let before = metadata(&fresh);
    fails_with(
        &fresh.keyport().arg("import").arg(&file).run(),
        2,
        "already exists",
    );
    assert_eq!(metadata(&fresh), before, "nothing written");
    let o = ok(fresh.keyport().args(["import", "--skip"]).arg(&file).run());
    assert!(
        o.contains("Imported 0 connections") && o.contains("Skipped"),
        "{o}"
    );
    let o = ok(fresh
        .keyport()
        .args(["import", "--rename", "--json"])
        .arg(&file)
        .run());
    let r: Value = serde_json::from_str(&o).unwrap();
    let names: Vec<&str> = r["imported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme-2", "freight-2", "freight.test-2"]);
}

#[test]
fn a_damaged_newer_or_hostile_file_is_refused_with_nothing_written() {
    let (w, _) = first_profile();
    let good: Value = serde_json::from_str(&ok(w.env.keyport().arg("export").run())).unwrap();
    let fresh = TestEnv::new("transfer-hostile");
    ok(fresh
        .keyport()
        .args([
            "add",
            "machship",
            "--name",
            "here",
            "--no-test",
            "--base-url",
        ])
        .arg(format!("{}/machship/apiv2", w.mock.base_url()))
        .run_with("machship-token-here-0123456789\n"));
    let before = (metadata(&fresh), keychain::names(fresh.namespace()));
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v.to_string()
    };
    let cases = [
        (
            "cut short",
            good.to_string()[..200].to_owned(),
            "not a JSON object",
        ),
        (
            "newer",
            edit(&|v| v["version"] = 7.into()),
            "newer Keyport (format 7",
        ),
        (
            "a path for a name",
            edit(&|v| v["connections"][0]["name"] = "../../../tmp/x".into()),
            "not a usable name",
        ),
        (
            "a header in a note",
            edit(&|v| v["connections"][1]["note"] = "n\r\nAuthorization: x".into()),
            "carriage return",
        ),
        (
            "a header in a client id",
            edit(&|v| v["connections"][0]["oauth"]["client_id"] = "k\nX: y".into()),
            "line break",
        ),
        (
            "plain http away",
            edit(&|v| {
                v["connections"][0]["oauth"]["token_url"] = "http://evil.example.com/t".into()
            }),
            "plain HTTP",
        ),
        (
            "a token smuggled",
            edit(&|v| v["connections"][1]["refresh_token"] = "t".into()),
            "refresh_token",
        ),
        (
            "a secret in a registration",
            edit(&|v| v["registrations"][0]["values"]["client_secret"] = "s".into()),
            "never holds a secret",
        ),
    ];
    for (what, text, says) in cases {
        let file = fresh.root().join("hostile.json");
        std::fs::write(&file, text).unwrap();
        let o = fresh
            .keyport()
            .args(["import", "--rename"])
            .arg(&file)
            .run();
        fails_with(&o, 2, says);
        assert!(
            !err(&o).contains('\r'),
            "{what}: no control character echoed"
        );
        assert_eq!(
            (metadata(&fresh), keychain::names(fresh.namespace())),
            before,
            "{what}: nothing written"
        );
    }
    assert!(!fresh.keyport_config_dir().join("activity/x.jsonl").exists());
    assert!(!Path::new("/tmp/x.jsonl").exists());
}

/// What the tool's own parser reads of `file` (tests/envfiles/check.js).
fn tool_reads(tool: &str, file: &Path) -> Value {
    let dir = workspace_root().join("tests/envfiles");
    assert!(
        dir.join("node_modules").is_dir(),
        "run scripts/deps.sh first: it installs the tools' parsers into tests/envfiles"
    );
    let o = std::process::Command::new("node")
        .arg(dir.join("check.js"))
        .arg(tool)
        .arg(file)
        .output()
        .expect("node");
    assert!(
        o.status.success(),
        "{tool} refused {}: {}",
        file.display(),
        err(&o)
    );
    serde_json::from_str(&out(&o)).expect("check.js prints JSON")
}

#[test]
fn environment_files_load_in_postman_insomnia_and_bruno_with_the_token_only_when_asked() {
    let (w, _) = first_profile();
    let view = show(&w.env, "acme");
    let token = stored(&w.env, "acme").unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for tool in ["postman", "insomnia", "bruno"] {
        let file = w.env.root().join(format!("acme.{tool}"));
        let o = w
            .env
            .keyport()
            .args(["export-env", "acme", "--format", tool, "-o"])
            .arg(&file)
            .run();
        assert!(!err(&o).contains("Warning"), "{}", err(&o));
        ok(o);
        let seen = tool_reads(tool, &file);
        let vars = &seen["variables"];
        assert_eq!(vars["base_url"], view["base_url"], "{tool}: {seen}");
        for d in view["details"].as_array().unwrap() {
            assert_eq!(
                vars[d["key"].as_str().unwrap()],
                d["value"],
                "{tool}: {seen}"
            );
        }
        assert_eq!(vars["token"], "", "{tool}: the token is left out: {seen}");
        assert!(!std::fs::read_to_string(&file).unwrap().contains(&token));
        if tool != "insomnia" {
            assert_eq!(seen["secret"], json!(["token"]), "{tool}: {seen}");
        }

        let file = w.env.root().join(format!("acme-token.{tool}"));
        let o = w
            .env
            .keyport()
            .args(["export-env", "acme", "--format", tool, "--with-token", "-o"])
            .arg(&file)
            .run();
        assert!(
            err(&o).contains("holds the access token"),
            "{tool}: {}",
            err(&o)
        );
        ok(o);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{tool}");
        }
        let seen = tool_reads(tool, &file);
        assert_eq!(seen["variables"]["token"], token.as_str(), "{tool}");
    }
    // On standard output, for a pipe; the name is the connection's.
    let o = ok(w
        .env
        .keyport()
        .args(["export-env", "freight", "--format", "postman"])
        .run());
    let p: Value = serde_json::from_str(&o).unwrap();
    assert_eq!(p["name"], "freight");
    assert_eq!(p["_postman_variable_scope"], "environment");
}
