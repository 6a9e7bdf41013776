//! The installed Debian package, tried as a person would: `scripts/package-test.sh` builds
//! it, installs it with `apt-get install ./keyport_*.deb` and runs these with
//! `KEYPORT_INSTALLED=1` (and `KEYPORT_BIN`/`KEYPORT_APP_BIN` at the installed binaries):
//! the `keyport` on the PATH connected to the mock vendor with the real keychain, and the
//! program of the installed desktop entry started under Xvfb, read through tauri-driver,
//! with its tray. The default `cargo test` run lists them as ignored.

use std::path::{Path, PathBuf};

use crate::util::{list, metadata, ok, Run};
use keyport_e2e::{keychain, keyport_app_bin, keyport_bin, TestEnv};
use keyport_mock::{IssueReq, ManualVendor, MockServer};

const DESKTOP_ENTRY: &str = "/usr/share/applications/Keyport.desktop";

/// `name` as the shell finds it on the PATH.
fn on_path(name: &str) -> PathBuf {
    let paths = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not on the PATH; is the package installed?"))
}

/// Checks that this run is about the installed package, and that the harness runs the
/// installed binaries: `keyport` from the PATH, the app the desktop entry starts.
fn installed() -> (PathBuf, PathBuf) {
    assert_eq!(
        std::env::var("KEYPORT_INSTALLED").as_deref(),
        Ok("1"),
        "these tests try the installed package; run them with scripts/package-test.sh"
    );
    let cli = on_path("keyport");
    assert_eq!(cli, Path::new("/usr/bin/keyport"), "the package's keyport");
    assert_eq!(keyport_bin(), cli, "KEYPORT_BIN is the installed keyport");
    let entry =
        std::fs::read_to_string(DESKTOP_ENTRY).unwrap_or_else(|e| panic!("{DESKTOP_ENTRY}: {e}"));
    let exec = entry
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .and_then(|e| e.split_whitespace().next())
        .unwrap_or_else(|| panic!("no Exec= in {DESKTOP_ENTRY}:\n{entry}"));
    let app = on_path(exec);
    assert_eq!(
        app,
        Path::new("/usr/bin/keyport-app"),
        "the entry's program"
    );
    assert_eq!(
        keyport_app_bin(),
        app,
        "KEYPORT_APP_BIN is the installed app"
    );
    (cli, app)
}

#[test]
#[ignore = "tries the installed package: run by scripts/package-test.sh"]
fn installed_cli_reports_the_workspace_version() {
    let (cli, _) = installed();
    let o = std::process::Command::new(cli).arg("--version").run();
    assert_eq!(
        ok(&o).trim(),
        format!("keyport {}", env!("CARGO_PKG_VERSION")),
        "the package's version is the workspace's"
    );
}

#[test]
#[ignore = "tries the installed package: run by scripts/package-test.sh"]
fn installed_cli_keeps_a_token_in_the_real_keychain() {
    installed();
    assert!(
        keychain::available(),
        "no usable Secret Service; run via scripts/with-session.sh"
    );
    let mock = MockServer::start().expect("start the mock vendor");
    let issued = mock.issue_manual(IssueReq {
        vendor: ManualVendor::Machship,
        expires: None,
    });
    let token = issued.token.expect("MachShip issues a token");
    let env = TestEnv::new("installed-cli");
    ok(env
        .keyport()
        .args(["add", "machship", "--name", "m", "--base-url"])
        .arg(format!("{}/machship/apiv2", mock.base_url()))
        .run_with(&format!("{token}\n")));
    // The vendor's cheap read with the stored token, through the mock.
    ok(env.keyport().args(["test", "m"]).run());
    assert_eq!(ok(env.keyport().args(["token", "m"]).run()).trim(), token);
    let headers = ok(env.keyport().args(["headers", "m"]).run());
    assert!(headers.contains(&format!("token: {token}")), "{headers}");
    // In the real keychain, read back from outside; never in the metadata file.
    let stored = keychain::lookup(env.namespace(), "m").expect("a keychain entry for m");
    assert!(stored.contains(&token), "the keychain holds the token");
    let meta = metadata(&env);
    assert!(meta.contains("\"m\""), "{meta}");
    assert!(!meta.contains(&token), "no secret in the metadata file");
    let names: Vec<_> = list(&env)
        .iter()
        .filter_map(|v| v["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(names, ["m"]);
}

#[test]
#[ignore = "tries the installed package: run by scripts/package-test.sh"]
fn installed_app_shows_its_window_and_tray() {
    let (_, app) = installed();
    crate::tray::tray_story(&app);
}
