//! Moving connections from the window (issue 16): Export… writes the connections' metadata
//! and registrations without a secret, the file imports into a fresh profile with the same
//! list (every connection waiting for a sign-in or its token), Import… in the window takes
//! a file back (names already here renamed), and a connection's environment file for an
//! API tool is written by Rust, without the token unless asked. The real window through
//! tauri-driver, the real Secret Service, the mock vendor.

use std::collections::BTreeSet;

use crate::page::{act, click, fill, js, select, wait_js, wait_visible};
use crate::util::{list, ok};
use keyport_e2e::seeding::{plan, Seeder};
use keyport_e2e::{keychain, keyport_app_bin, TauriDriver, TestEnv};
use keyport_mock::MockServer;
use serde_json::{json, Value};

fn names(listed: &[Value]) -> BTreeSet<String> {
    listed
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_owned())
        .collect()
}

fn rows(n: usize) -> String {
    format!("return document.querySelectorAll('[data-testid=row]').length === {n};")
}

#[test]
fn the_window_exports_imports_and_writes_an_environment_file() {
    assert!(
        keychain::available(),
        "no usable Secret Service; run the tests via scripts/with-session.sh"
    );
    let env = TestEnv::new("porting");
    let mock = MockServer::start().expect("start the mock vendor");
    let clients = vec![
        ("Kauri Timber".to_string(), 3),
        ("Otago Orchards".to_string(), 3),
    ];
    let specs = plan(&clients, 3);
    let keyport = || env.keyport();
    Seeder::new(&keyport, &mock.base_url(), env.root()).seed(&specs, 2);
    let before = list(&env);
    assert_eq!(before.len(), 6);
    let tokens: Vec<String> = specs
        .iter()
        .map(|s| {
            ok(env.keyport().args(["token", &s.name]).output().unwrap())
                .trim()
                .to_owned()
        })
        .collect();

    let driver = TauriDriver::start_in(&env);
    let app = driver
        .session(&keyport_app_bin(), &[])
        .expect("tauri-driver opens the Keyport window");
    wait_js(&app, &rows(6), "the 6 rows");

    // ---- Export… writes the file; no token, no client secret in it.
    let file = env.root().join("moving.json");
    click(&app, "#export-open");
    wait_visible(&app, "#export-dialog");
    fill(&app, "#export-path", &file.display().to_string());
    click(&app, "#export-submit");
    wait_js(
        &app,
        "const r = document.querySelector('[data-testid=export-result]'); \
         return !!r && !r.hidden && r.textContent.includes('Exported 6 connections');",
        "the export's result",
    );
    let text = std::fs::read_to_string(&file).expect("the export file is written");
    let export: Value = serde_json::from_str(&text).expect("the export is JSON");
    assert_eq!(export["format"], json!("keyport-export"));
    assert_eq!(
        export["connections"].as_array().map(Vec::len),
        Some(6),
        "{export}"
    );
    for t in &tokens {
        assert!(!text.contains(t.as_str()), "a token is in the export");
    }
    js(
        &app,
        "document.getElementById('export-dialog').close(); return true;",
    );

    // ---- The file in a fresh profile: the same list, every connection waiting.
    let fresh = TestEnv::new("porting-fresh");
    ok(fresh
        .keyport()
        .args(["import", &file.display().to_string()])
        .output()
        .unwrap());
    let moved = list(&fresh);
    assert_eq!(names(&moved), names(&before), "the same connections");
    for c in &moved {
        assert_eq!(c["status"], json!("needs_reconnect"), "{c}");
    }
    assert!(
        keychain::names(fresh.namespace()).is_empty(),
        "nothing was put in the new profile's keychain"
    );

    // ---- Import… in the window: the same names are renamed, and wait for a sign-in.
    click(&app, "#import-open");
    wait_visible(&app, "#import-dialog");
    fill(&app, "#import-path", &file.display().to_string());
    select(&app, "#import-conflict", "rename");
    click(&app, "#import-submit");
    wait_js(
        &app,
        "const r = document.querySelector('[data-testid=import-result]'); \
         return !!r && !r.hidden && r.textContent.includes('Imported 6 connections');",
        "the import's result",
    );
    wait_js(&app, &rows(12), "12 rows after the import");
    let after = list(&env);
    let added: Vec<&Value> = after
        .iter()
        .filter(|c| !names(&before).contains(c["name"].as_str().unwrap()))
        .collect();
    assert_eq!(added.len(), 6, "six new names");
    for c in &added {
        assert_eq!(c["status"], json!("needs_reconnect"), "{c}");
        let name = c["name"].as_str().unwrap();
        assert_eq!(
            js(
                &app,
                &format!(
                    "return document.querySelector('[data-connection=\"{name}\"]').dataset.status;"
                )
            ),
            json!("needs_reconnect"),
            "the row of {name}"
        );
    }
    js(
        &app,
        "document.getElementById('import-dialog').close(); return true;",
    );

    // ---- A Postman environment of an admin-issued connection: no token unless asked.
    let admin = specs
        .iter()
        .position(|s| !s.kind.oauth())
        .expect("an admin-issued one");
    let name = &specs[admin].name;
    act(&app, name, "export-env");
    wait_visible(&app, "#envfile-dialog");
    select(&app, "#envfile-format", "postman");
    let out = env.root().join("api.postman_environment.json");
    fill(&app, "#envfile-path", &out.display().to_string());
    click(&app, "#envfile-submit");
    wait_js(
        &app,
        "const r = document.querySelector('[data-testid=envfile-result]'); \
         return !!r && !r.hidden && r.textContent.startsWith('Wrote');",
        "the environment file's result",
    );
    let postman: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("JSON");
    assert_eq!(postman["_postman_variable_scope"], json!("environment"));
    let values = postman["values"].as_array().expect("values");
    assert!(
        values.iter().any(|v| v["key"] == json!("base_url")
            && v["value"]
                .as_str()
                .is_some_and(|u| u.starts_with(&mock.base_url()))),
        "the base URL is a variable: {postman}"
    );
    assert!(
        !postman.to_string().contains(tokens[admin].as_str()),
        "no token without asking"
    );
}
