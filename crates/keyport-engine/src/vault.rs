//! Where secrets live: the OS keychain, one entry per connection holding a small JSON
//! object. One entry means one keychain round trip on the token path, and a rotated
//! refresh token is written together with the access token it came with.

use crate::secret::{serde_secret, SecretString};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// The secrets of one connection. Which fields are set depends on the vendor.
#[derive(Clone, Default, Debug, Serialize, Deserialize)]
pub struct Secrets {
    /// The OAuth access token, or the admin-issued API token.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_secret"
    )]
    pub access_token: Option<SecretString>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_secret"
    )]
    pub refresh_token: Option<SecretString>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_secret"
    )]
    pub client_secret: Option<SecretString>,
    /// Company-file user (MYOB), integration user (Exo).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_secret"
    )]
    pub username: Option<SecretString>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_secret"
    )]
    pub password: Option<SecretString>,
    /// A developer key sent beside the token (MYOB Exo's `x-myobapi-key`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_secret"
    )]
    pub api_key: Option<SecretString>,
}

impl Secrets {
    fn to_secret(&self) -> SecretString {
        SecretString::new(serde_json::to_string(self).expect("secrets serialise"))
    }

    fn from_secret(name: &str, s: &SecretString) -> Result<Self> {
        serde_json::from_str(s.expose()).map_err(|e| Error::KeychainData {
            name: name.into(),
            detail: e.to_string(),
        })
    }
}

/// A store of named secrets. A missing entry is `Ok(None)`; deleting nothing succeeds.
pub trait Vault: Send + Sync {
    fn get(&self, key: &str) -> Result<Option<SecretString>>;
    fn set(&self, key: &str, value: &SecretString) -> Result<()>;
    fn delete(&self, key: &str) -> Result<()>;
}

/// Typed access on top of any [`Vault`].
pub(crate) fn load(vault: &dyn Vault, name: &str) -> Result<Option<Secrets>> {
    vault
        .get(name)?
        .map(|s| Secrets::from_secret(name, &s))
        .transpose()
}

pub(crate) fn save(vault: &dyn Vault, name: &str, secrets: &Secrets) -> Result<()> {
    vault.set(name, &secrets.to_secret())
}

/// The OS keychain through the `keyring` crate (Secret Service on Linux, Keychain on
/// macOS, Credential Manager on Windows). Entries are `service = <namespace>`,
/// `username = <connection name>`; the namespace keeps test and development data apart.
///
/// A locked keychain makes the Secret Service show its unlock prompt and the call wait for
/// it. Keyport waits at most `timeout` (default 60 s, `KEYPORT_KEYCHAIN_TIMEOUT_SECS`), then
/// says the keychain is locked, instead of hanging a script forever.
pub struct KeychainVault {
    service: String,
    timeout: std::time::Duration,
}

impl KeychainVault {
    pub fn new(service: impl Into<String>) -> Self {
        let secs = std::env::var("KEYPORT_KEYCHAIN_TIMEOUT_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(60);
        Self {
            service: service.into(),
            timeout: std::time::Duration::from_secs(secs),
        }
    }

    /// Runs one keychain call on a helper thread, bounded by the timeout.
    fn call<T: Send + 'static>(
        &self,
        key: &str,
        f: impl FnOnce(keyring::Entry) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (service, key) = (self.service.clone(), key.to_owned());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let r = keyring::Entry::new(&service, &key)
                .map_err(keychain_error)
                .and_then(f);
            let _ = tx.send(r);
        });
        rx.recv_timeout(self.timeout).unwrap_or_else(|_| {
            Err(Error::Keychain {
                detail: format!(
                    "it did not answer within {} s; it is probably locked and waiting for its password. Unlock it (your desktop's Passwords and Keys, or log in again)",
                    self.timeout.as_secs()
                ),
            })
        })
    }
}

fn keychain_error(e: keyring::Error) -> Error {
    let detail = match &e {
        keyring::Error::NoStorageAccess(inner) => {
            format!("it is locked or refused access ({inner}); unlock it and allow Keyport")
        }
        keyring::Error::PlatformFailure(inner) => format!("platform failure: {inner}"),
        other => other.to_string(),
    };
    Error::Keychain { detail }
}

impl Vault for KeychainVault {
    fn get(&self, key: &str) -> Result<Option<SecretString>> {
        self.call(key, |entry| match entry.get_password() {
            Ok(v) => Ok(Some(SecretString::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error(e)),
        })
    }

    fn set(&self, key: &str, value: &SecretString) -> Result<()> {
        let value = value.clone();
        self.call(key, move |entry| {
            entry.set_password(value.expose()).map_err(keychain_error)
        })
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.call(key, |entry| match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keychain_error(e)),
        })
    }
}

/// For unit tests of the engine: a vault that forgets everything when dropped.
/// It is never chosen at run time; `Keyport::open` always uses the keychain.
#[derive(Default)]
pub struct MemoryVault {
    entries: Mutex<HashMap<String, String>>,
    /// When set, every call fails as a missing keychain would.
    pub unavailable: std::sync::atomic::AtomicBool,
}

impl MemoryVault {
    fn check(&self) -> Result<()> {
        if self.unavailable.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::Keychain {
                detail: "test vault switched off".into(),
            });
        }
        Ok(())
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Vault for MemoryVault {
    fn get(&self, key: &str) -> Result<Option<SecretString>> {
        self.check()?;
        Ok(self.entries().get(key).cloned().map(SecretString::new))
    }

    fn set(&self, key: &str, value: &SecretString) -> Result<()> {
        self.check()?;
        self.entries().insert(key.into(), value.expose().into());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.check()?;
        self.entries().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_and_missing_is_none() {
        let v = MemoryVault::default();
        assert!(load(&v, "a").expect("load").is_none());
        let s = Secrets {
            access_token: Some("at".into()),
            refresh_token: Some("rt".into()),
            ..Secrets::default()
        };
        save(&v, "a", &s).expect("save");
        let back = load(&v, "a").expect("load").expect("present");
        assert_eq!(back.access_token.expect("at").expose(), "at");
        assert_eq!(back.refresh_token.expect("rt").expose(), "rt");
        assert!(back.client_secret.is_none());
        v.delete("a").expect("delete");
        v.delete("a").expect("deleting nothing succeeds");
        assert!(format!("{s:?}").contains("[redacted]") && !format!("{s:?}").contains("at\""));
    }
}
