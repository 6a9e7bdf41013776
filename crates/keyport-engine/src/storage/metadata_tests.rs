//! The metadata file's tests: atomic writes, unknown fields kept, a newer format
//! refused, links refused, the folder's owner and mode, names.

use super::*;

pub(crate) fn conn(name: &str) -> Connection {
    Connection {
        name: name.into(),
        vendor: "acme".into(),
        created_at: 1,
        ..Connection::default()
    }
}

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("keyport-store-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    d
}

#[test]
fn writes_atomically_and_reads_back() {
    let dir = dir("atomic");
    let store = Store::new(&dir);
    assert!(store.load().expect("empty").connections.is_empty());
    store
        .update(|d| {
            d.connections.push(conn("a"));
            Ok(())
        })
        .expect("write");
    assert_eq!(store.get("a").expect("a").name, "a");
    assert!(matches!(store.get("b"), Err(Error::NotFound(_))));
    let leftovers = fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .count();
    assert_eq!(leftovers, 0, "no temp file is left behind");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&dir).expect("dir").permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    fs::write(store.path(), b"{broken").expect("corrupt");
    assert!(matches!(store.load(), Err(Error::StoreData { .. })));
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn unknown_fields_are_kept_and_a_newer_format_is_refused() {
    let dir = dir("unknown");
    let store = Store::new(&dir);
    store.ensure_dir().expect("dir");
    fs::write(
        store.path(),
        r#"{"version":1,"future":{"x":1},"connections":[{"name":"a","vendor":"acme","created_at":1,"colour":"blue"}]}"#,
    )
    .expect("seed");
    store
        .update_connection("a", |c| c.note = Some("n".into()))
        .expect("update");
    let text = fs::read_to_string(store.path()).expect("read");
    assert!(
        text.contains("\"future\"") && text.contains("\"colour\": \"blue\""),
        "{text}"
    );
    fs::write(store.path(), r#"{"version":2,"connections":[]}"#).expect("seed");
    let e = store.load().unwrap_err();
    assert!(e.to_string().contains("newer Keyport"), "{e}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
#[cfg(unix)]
fn a_linked_metadata_file_is_refused_and_stale_temp_files_are_swept() {
    let dir = dir("links");
    let store = Store::new(&dir);
    store.ensure_dir().expect("dir");
    let elsewhere = dir.join("elsewhere.json");
    fs::write(&elsewhere, r#"{"version":1}"#).expect("target");
    std::os::unix::fs::symlink(&elsewhere, store.path()).expect("link");
    let e = store.load().unwrap_err();
    assert!(e.to_string().contains("it is a link"), "{e}");
    assert!(
        store.update(|_| Ok(())).is_err(),
        "and never written through"
    );
    assert!(fs::symlink_metadata(store.path())
        .unwrap()
        .file_type()
        .is_symlink());
    fs::remove_file(store.path()).expect("unlink");
    fs::write(dir.join(".connections.json.999.x.tmp"), b"{").expect("stale");
    store.update(|_| Ok(())).expect("write");
    let left = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .count();
    assert_eq!(left, 0, "stale temp files are swept under the lock");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
#[cfg(unix)]
fn only_a_real_private_folder_of_this_user_is_used() {
    use std::os::unix::fs::PermissionsExt;
    let base = dir("owner");
    fs::create_dir_all(&base).expect("base");
    let real = base.join("real");
    fs::create_dir(&real).expect("real");
    let link = base.join("link");
    std::os::unix::fs::symlink(&real, &link).expect("link");
    let e = Store::new(&link).ensure_dir().unwrap_err();
    assert!(e.to_string().contains("is a link"), "{e}");
    // Another user's folder can only be made by root (CI runs as root).
    if crate::storage::current_uid() == 0 {
        let theirs = base.join("theirs");
        fs::create_dir(&theirs).expect("theirs");
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).expect("chown");
        let e = Store::new(&theirs).ensure_dir().unwrap_err();
        assert!(e.to_string().contains("belongs to another user"), "{e}");
    }
    // Ours but open to others: put right.
    let open = base.join("open");
    fs::create_dir(&open).expect("open");
    fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).expect("chmod");
    Store::new(&open).ensure_dir().expect("ours");
    let mode = fs::metadata(&open).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    let _ = fs::remove_dir_all(&base);
}

#[test]
fn names_are_checked() {
    use crate::model::validate_name;
    assert!(validate_name("erp-prod_1.2").is_ok());
    for bad in [
        "",
        "../x",
        "a b",
        "-x",
        ".x",
        "app:x",
        "/abs/path",
        &"x".repeat(65),
    ] {
        assert!(validate_name(bad).is_err(), "{bad:?} must be refused");
    }
}
