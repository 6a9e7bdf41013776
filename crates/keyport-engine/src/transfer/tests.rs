//! Export → import into a fresh profile, the checks on a hostile file, name clashes, and
//! the environment files. These tests name no vendor: they take the first of a kind.

use super::*;
use crate::tests::{advanced_form, connect, free_port, world, World};
use crate::{ActionKind, Kind, Status};

/// An OAuth connection (with a saved client secret) and an admin-issued one, with clients.
async fn profile() -> World {
    let w = world();
    let mut f = advanced_form(&w, "erp", free_port());
    f.client = "Clearwater".into();
    f.note = "Payroll".into();
    connect(&w, f).await.expect("connected");
    w.kp.add_sample_token("freight", "sample-token-0123456789", Some(30))
        .await
        .expect("added");
    w.kp.edit(
        "freight",
        crate::Edit {
            client: Some("Acme Logistics".into()),
            ..Default::default()
        },
    )
    .await
    .expect("edited");
    w
}

fn row(
    v: &ConnectionView,
) -> (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
) {
    (
        v.name.clone(),
        v.vendor.clone(),
        v.client.clone(),
        v.note.clone(),
        v.account.clone(),
    )
}

#[tokio::test]
async fn an_export_holds_no_secret_and_imports_into_a_fresh_profile_as_the_same_list() {
    let a = profile().await;
    let export = a.kp.export(&[]).await.unwrap();
    let json = export.to_json();
    // Every secret of the first profile, whatever its slot.
    let mut secrets = vec![
        "adv-secret".to_owned(),
        "sample-token-0123456789".to_owned(),
    ];
    for n in ["erp", "freight"] {
        let raw = a.vault.raw(n).expect("entry");
        let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
        for s in v.as_object().unwrap().values() {
            secrets.push(s.as_str().unwrap().to_owned());
        }
    }
    for s in &secrets {
        assert!(
            !json.contains(s.as_str()),
            "a secret is in the export: {json}"
        );
    }
    assert_eq!(export.registrations.len(), 1, "{json}");

    let b = world();
    let report =
        b.kp.import(Export::parse(json.as_bytes()).unwrap(), OnConflict::Fail)
            .await
            .unwrap();
    assert_eq!(report.imported.len(), 2);
    assert_eq!(report.registrations, 1);
    let before: Vec<_> = a.kp.list().await.unwrap().iter().map(row).collect();
    let after = b.kp.list().await.unwrap();
    assert_eq!(before, after.iter().map(row).collect::<Vec<_>>());
    for v in &after {
        assert_eq!(v.status, Status::NeedsReconnect, "{}", v.status_text);
        let first = if v.kind == Kind::Oauth {
            ActionKind::Reconnect
        } else {
            ActionKind::Reissue
        };
        assert_eq!(v.actions[0].kind, first);
        assert!(b.vault.raw(&v.name).is_none(), "nothing in the keychain");
    }
    let regs = b.kp.registrations().await.unwrap();
    assert!(regs.len() == 1 && !regs[0].secret_saved);
    // The OAuth one signs in again with the registration; only its secret is asked for.
    let r = b.kp.reconnect_form("erp").await.unwrap();
    assert_eq!(
        r.missing.iter().map(|f| f.key).collect::<Vec<_>>(),
        ["client_secret"]
    );
    assert_eq!(r.form.client, "Clearwater");
    // The admin-issued one is added again with its plain values, its secrets asked for.
    let r = b.kp.reconnect_form("freight").await.unwrap();
    assert!(r.form.replace && !r.missing.is_empty());
    assert!(r.missing.iter().all(|f| f.slot.is_some()));
    let mut form = r.form;
    for f in &r.missing {
        form.values
            .insert(f.key.into(), "sample-value-0123456789".into());
    }
    form.skip_test = true;
    let v = b.kp.add_token(form).await.expect("given its token");
    assert_eq!(v.status, Status::Valid);
    assert_eq!(v.client.as_deref(), Some("Acme Logistics"));
    let log = b.kp.activity("erp").await.unwrap();
    assert_eq!(log[0].what, crate::activity::EventKind::Imported);
}

#[tokio::test]
async fn a_name_taken_here_fails_the_whole_import_unless_skipped_or_renamed() {
    let a = profile().await;
    let export = a.kp.export(&["freight".into()]).await.unwrap();
    assert_eq!(export.connections.len(), 1);
    assert!(export.registrations.is_empty(), "no OAuth app used");
    assert!(matches!(
        a.kp.export(&["nobody".into()]).await,
        Err(Error::NotFound(_))
    ));
    let all = a.kp.export(&[]).await.unwrap();
    let b = world();
    b.kp.add_sample_token("freight", "other-token-0123456789", None)
        .await
        .unwrap();
    let e =
        b.kp.import(all.clone(), OnConflict::Fail)
            .await
            .unwrap_err();
    assert_eq!(e.code(), "already_exists");
    assert_eq!(b.kp.list().await.unwrap().len(), 1, "nothing was written");
    let r = b.kp.import(all.clone(), OnConflict::Skip).await.unwrap();
    assert_eq!(r.skipped, ["freight"]);
    assert_eq!(b.kp.view("freight").await.unwrap().status, Status::Valid);
    let r = b.kp.import(all, OnConflict::Rename).await.unwrap();
    let names: Vec<_> = r.imported.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["erp-2", "freight-2"]);
    assert_eq!(r.imported[1].from, "freight");
    assert_eq!(b.kp.list().await.unwrap().len(), 4);
}

#[tokio::test]
async fn a_damaged_newer_or_hostile_file_is_refused_whole_with_nothing_written() {
    let a = profile().await;
    let good: serde_json::Value =
        serde_json::from_str(&a.kp.export(&[]).await.unwrap().to_json()).unwrap();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "not json",
            b"{\"format\": \"keyport-exp".to_vec(),
            "not a JSON object",
        ),
        (
            "another file",
            br#"{"version":1,"connections":[]}"#.to_vec(),
            "not a Keyport export",
        ),
        (
            "newer",
            with(&|v| v["version"] = 2.into()),
            "newer Keyport (format 2",
        ),
        (
            "a path as name",
            with(&|v| v["connections"][0]["name"] = "../../x".into()),
            "not a usable name",
        ),
        (
            "CR LF in a note",
            with(&|v| v["connections"][0]["note"] = "a\r\nX-Evil: 1".into()),
            "carriage return",
        ),
        (
            "LF in a client id",
            with(&|v| v["connections"][0]["oauth"]["client_id"] = "id\nx".into()),
            "line break",
        ),
        (
            "plain http",
            with(&|v| v["connections"][0]["base_url"] = "http://evil.example.com".into()),
            "plain HTTP",
        ),
        (
            "a token smuggled in",
            with(&|v| v["connections"][1]["access_token"] = "tok".into()),
            "access_token",
        ),
        (
            "twice",
            with(&|v| {
                let c = v["connections"][0].clone();
                v["connections"].as_array_mut().unwrap().push(c)
            }),
            "twice",
        ),
        (
            "a secret in a registration",
            with(&|v| v["registrations"][0]["values"]["client_secret"] = "s".into()),
            "never holds a secret",
        ),
        (
            "unknown vendor",
            with(&|v| v["connections"][1]["vendor"] = "nope".into()),
            "Unknown vendor",
        ),
        (
            "a bad store",
            with(&|v| v["connections"][1]["store"] = "file:///etc".into()),
            "shared store",
        ),
    ];
    let b = world();
    for (what, bytes, says) in cases {
        let path = b.dir.join("in.json");
        std::fs::create_dir_all(&b.dir).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let e =
            b.kp.import_file(&path, OnConflict::Rename)
                .await
                .unwrap_err();
        assert_eq!(e.code(), "import_file", "{what}: {e}");
        let m = e.to_string();
        assert!(m.contains(says), "{what}: {m}");
        assert!(!m.contains('\r') && !m.contains('\n'), "{what}: {m:?}");
        assert!(!b.kp.metadata_path().exists(), "{what}: nothing written");
        assert!(!b.dir.join("activity").exists(), "{what}: no log written");
    }
}

#[tokio::test]
async fn environment_files_carry_the_account_and_the_token_only_when_asked() {
    let w = profile().await;
    let view = w.kp.view("erp").await.unwrap();
    let token = w.kp.token("erp", 0).await.unwrap();
    let token = crate::secret::ExposeSecret::expose_secret(&token).to_owned();
    for tool in [EnvTool::Postman, EnvTool::Insomnia, EnvTool::Bruno] {
        let f = w.kp.export_env("erp", tool, false).await.unwrap();
        assert!(!f.contents.contains(&token), "{tool:?}: {}", f.contents);
        for d in &view.details {
            assert!(
                f.variables.iter().any(|v| v == d.key),
                "{tool:?} lacks {}",
                d.key
            );
            assert!(f.contents.contains(&d.value), "{tool:?} lacks {}", d.value);
        }
        assert!(f.contents.contains(view.base_url.as_deref().unwrap()));
        let t = w.kp.export_env("erp", tool, true).await.unwrap();
        assert!(t.contents.contains(&token), "{tool:?} with the token");
        let path = w.dir.join(&t.file_name);
        let written = w.kp.write_env_file("erp", tool, true, &path).await.unwrap();
        assert!(
            written.contents.is_empty(),
            "the caller never gets the token back"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{tool:?}");
        }
    }
    let p: serde_json::Value = serde_json::from_str(
        &w.kp
            .export_env("erp", EnvTool::Postman, true)
            .await
            .unwrap()
            .contents,
    )
    .unwrap();
    assert_eq!(p["_postman_variable_scope"], "environment");
    assert_eq!(p["name"], "erp");
    let token_var = p["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["key"] == "token")
        .unwrap();
    assert_eq!(token_var["type"], "secret");
    let i: serde_json::Value = serde_json::from_str(
        &w.kp
            .export_env("erp", EnvTool::Insomnia, false)
            .await
            .unwrap()
            .contents,
    )
    .unwrap();
    assert_eq!(i["__export_format"], 4);
    assert_eq!(i["resources"][0]["_type"], "environment");
    assert_eq!(i["resources"][0]["data"]["token"], "");
    let bru =
        w.kp.export_env("erp", EnvTool::Bruno, false)
            .await
            .unwrap()
            .contents;
    assert!(
        bru.starts_with("vars {\n") && bru.contains("vars:secret [\n  token\n]"),
        "{bru}"
    );
    assert!(!bru.contains("  token:"), "{bru}");
}
