//! What the engine is told by its caller: folders, keychain namespace, timeouts, browser.
//! Built once by the CLI or the window (as ripgrep builds its high-level arguments); the
//! engine itself reads no environment.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Settings {
    /// Metadata, locks and the agent's socket live here (mode 0700).
    pub config_dir: PathBuf,
    /// The keychain namespace (Secret Service `service` attribute); keeps test and
    /// development data apart from the user's.
    pub keychain_service: String,
    /// How long a keychain call may wait (a locked keychain shows its unlock prompt and
    /// waits for it) before Keyport says so instead of hanging a script.
    pub keychain_timeout: Duration,
    /// A browser command for consent pages (`$BROWSER`: a `:`-separated list, `%s` for the
    /// URL); `None` opens the desktop's default browser.
    pub browser: Option<String>,
    /// Who this process is, for the activity log (the window, the command line, the agent).
    pub source: crate::activity::Source,
    /// A shared store to keep connections in instead of this computer's keychain and
    /// metadata file (`KEYPORT_STORE`, or `--store`): `bao://HOST:PORT/MOUNT/PREFIX`.
    pub store: Option<String>,
    /// How to log in to a shared store.
    pub bao: crate::BaoAuth,
    /// How long a refresh claim on a shared connection holds before another computer may
    /// take it over (`KEYPORT_CLAIM_SECS`, default 30).
    pub claim_hold: Duration,
}

impl Settings {
    pub const DEFAULT_KEYCHAIN_SERVICE: &'static str = "keyport";
    pub const DEFAULT_KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(60);
    /// Longer than any vendor's token answer, short enough that a killed host does not
    /// stop the others for long.
    pub const DEFAULT_CLAIM_HOLD: Duration = Duration::from_secs(30);

    /// Settings from environment-style variables, looked up through `var` (the caller
    /// passes `std::env::var_os`, a test passes a map): `KEYPORT_CONFIG_DIR` (default
    /// `$XDG_CONFIG_HOME/keyport`, `~/.config/keyport`; `%APPDATA%\Keyport` on Windows),
    /// `KEYPORT_KEYCHAIN_SERVICE`,
    /// `KEYPORT_KEYCHAIN_TIMEOUT_SECS`, `BROWSER`; for a shared store `KEYPORT_STORE`,
    /// `BAO_TOKEN` (or `VAULT_TOKEN`), `BAO_ROLE_ID` and `BAO_SECRET_ID` (AppRole),
    /// `BAO_NAMESPACE` (or `VAULT_NAMESPACE`).
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> Option<Settings> {
        let set = |k: &str| var(k).filter(|v| !v.is_empty());
        let string = |k: &str| set(k).and_then(|s| s.into_string().ok());
        let config_dir = match set("KEYPORT_CONFIG_DIR") {
            Some(d) => PathBuf::from(d),
            None => {
                default_config_base(&set)?.join(if cfg!(windows) { "Keyport" } else { "keyport" })
            }
        };
        Some(Settings {
            config_dir,
            keychain_service: set("KEYPORT_KEYCHAIN_SERVICE")
                .and_then(|s| s.into_string().ok())
                .unwrap_or_else(|| Self::DEFAULT_KEYCHAIN_SERVICE.into()),
            keychain_timeout: set("KEYPORT_KEYCHAIN_TIMEOUT_SECS")
                .and_then(|s| s.to_str()?.trim().parse().ok())
                .map(Duration::from_secs)
                .unwrap_or(Self::DEFAULT_KEYCHAIN_TIMEOUT),
            browser: set("BROWSER").and_then(|s| s.into_string().ok()),
            source: Default::default(),
            store: string("KEYPORT_STORE"),
            claim_hold: string("KEYPORT_CLAIM_SECS")
                .and_then(|s| s.trim().parse().ok())
                .filter(|s| *s > 0)
                .map(Duration::from_secs)
                .unwrap_or(Self::DEFAULT_CLAIM_HOLD),
            bao: crate::BaoAuth {
                token: string("BAO_TOKEN")
                    .or_else(|| string("VAULT_TOKEN"))
                    .map(crate::secret),
                role_id: string("BAO_ROLE_ID"),
                secret_id: string("BAO_SECRET_ID").map(crate::secret),
                namespace: string("BAO_NAMESPACE").or_else(|| string("VAULT_NAMESPACE")),
            },
        })
    }
}

fn default_config_base(set: &impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    if cfg!(target_os = "macos") {
        return set("HOME").map(|h| PathBuf::from(h).join("Library/Application Support"));
    }
    if cfg!(windows) {
        return set("APPDATA").map(PathBuf::from);
    }
    set("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| set("HOME").map(|h| PathBuf::from(h).join(".config")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn settings_come_from_the_variables_given_with_defaults() {
        let vars: HashMap<&str, &str> = [
            ("HOME", "/home/u"),
            ("APPDATA", r"C:\Users\u\AppData\Roaming"),
            ("KEYPORT_KEYCHAIN_TIMEOUT_SECS", "2"),
        ]
        .into_iter()
        .collect();
        let s = Settings::from_vars(|k| vars.get(k).map(Into::into)).expect("settings");
        let expected = if cfg!(windows) {
            PathBuf::from(r"C:\Users\u\AppData\Roaming").join("Keyport")
        } else {
            PathBuf::from("/home/u/.config/keyport")
        };
        assert_eq!(s.config_dir, expected);
        assert_eq!(s.keychain_service, "keyport");
        assert_eq!(s.keychain_timeout, Duration::from_secs(2));
        assert_eq!(s.browser, None);
        assert!(
            Settings::from_vars(|_| None).is_none(),
            "no home, no folder"
        );
    }
}
