//! Where secrets live: the OS keychain, one entry per connection holding a small JSON
//! object (access and refresh token together, so a rotated refresh token is written with
//! the access token it came with, in one call).
//!
//! On Linux the Secret Service is spoken directly over zbus (pure Rust: the binary loads
//! no libdbus), and one session — one D-Bus connection, one Diffie-Hellman handshake — serves
//! every call of an operation: a refresh reads and writes over the same session. Elsewhere
//! `keyring` 4 speaks to the platform store. Every call is bounded by the settings'
//! keychain timeout: a locked keychain shows its unlock prompt, and Keyport says so rather
//! than hang a script.

use crate::secret::{secret, serde_secret, ExposeSecret, SecretString};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::time::Duration;

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
    /// A user name sent beside the token (a company-file user, an integration user).
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
    /// A developer key sent beside the token.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_secret"
    )]
    pub api_key: Option<SecretString>,
}

impl Secrets {
    fn to_secret(&self) -> SecretString {
        secret(serde_json::to_string(self).expect("secrets serialise"))
    }

    fn from_secret(name: &str, s: &SecretString) -> Result<Self> {
        serde_json::from_str(s.expose_secret()).map_err(|e| Error::KeychainData {
            name: name.into(),
            detail: e.to_string(),
        })
    }

    /// The slot a secret field of a vendor's form goes to.
    pub fn slot(&mut self, slot: crate::vendors::Slot) -> &mut Option<SecretString> {
        use crate::vendors::Slot;
        match slot {
            Slot::Token => &mut self.access_token,
            Slot::ClientSecret => &mut self.client_secret,
            Slot::Username => &mut self.username,
            Slot::Password => &mut self.password,
            Slot::ApiKey => &mut self.api_key,
        }
    }
}

/// The keychain, as the engine uses it: open a session, then get, set and delete entries.
pub(crate) struct Vault {
    backend: Backend,
    timeout: Duration,
}

enum Backend {
    Keychain {
        service: String,
    },
    #[cfg(any(test, feature = "testing"))]
    Memory(std::sync::Arc<memory::MemoryVault>),
}

/// One keychain session; on Linux, one D-Bus connection with one encrypted session.
pub(crate) struct Session<'v> {
    vault: &'v Vault,
    inner: Inner,
}

enum Inner {
    #[cfg(target_os = "linux")]
    Linux(Box<linux::Conn>),
    #[cfg(not(target_os = "linux"))]
    Platform,
    #[cfg(any(test, feature = "testing"))]
    Memory(std::sync::Arc<memory::MemoryVault>),
}

impl Vault {
    pub fn keychain(service: String, timeout: Duration) -> Self {
        Vault {
            backend: Backend::Keychain { service },
            timeout,
        }
    }

    #[cfg(any(test, feature = "testing"))]
    pub fn memory(m: std::sync::Arc<memory::MemoryVault>) -> Self {
        Vault {
            backend: Backend::Memory(m),
            timeout: Duration::from_secs(5),
        }
    }

    async fn bounded<T>(&self, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout(self.timeout, f)
            .await
            .unwrap_or_else(|_| {
                Err(Error::Keychain {
                    detail: format!(
                        "it did not answer within {} s; it is probably locked and waiting for its password. Unlock it (your desktop's Passwords and Keys, or log in again)",
                        self.timeout.as_secs()
                    ),
                })
            })
    }

    pub async fn session(&self) -> Result<Session<'_>> {
        let inner = match &self.backend {
            #[cfg(target_os = "linux")]
            Backend::Keychain { .. } => {
                Inner::Linux(Box::new(self.bounded(linux::Conn::open()).await?))
            }
            #[cfg(not(target_os = "linux"))]
            Backend::Keychain { .. } => Inner::Platform,
            #[cfg(any(test, feature = "testing"))]
            Backend::Memory(m) => {
                m.check()?;
                Inner::Memory(m.clone())
            }
        };
        Ok(Session { vault: self, inner })
    }

    fn service(&self) -> &str {
        match &self.backend {
            Backend::Keychain { service } => service,
            #[cfg(any(test, feature = "testing"))]
            Backend::Memory(_) => "memory",
        }
    }
}

impl Session<'_> {
    pub async fn get(&self, key: &str) -> Result<Option<SecretString>> {
        let service = self.vault.service();
        self.vault
            .bounded(async {
                match &self.inner {
                    #[cfg(target_os = "linux")]
                    Inner::Linux(c) => c.get(service, key).await,
                    #[cfg(not(target_os = "linux"))]
                    Inner::Platform => platform::get(service, key).await,
                    #[cfg(any(test, feature = "testing"))]
                    Inner::Memory(m) => m.get(key),
                }
            })
            .await
    }

    /// Writes `key`; `label` is what the keychain's own window shows for it.
    pub async fn set(&self, key: &str, label: &str, value: &SecretString) -> Result<()> {
        let service = self.vault.service();
        let label = if service == crate::Settings::DEFAULT_KEYCHAIN_SERVICE {
            label.to_owned()
        } else {
            format!("{label} ({service})")
        };
        // Only the Secret Service keeps a label; keyring's stores name entries by key.
        let _ = &label;
        self.vault
            .bounded(async {
                match &self.inner {
                    #[cfg(target_os = "linux")]
                    Inner::Linux(c) => c.set(service, key, &label, value).await,
                    #[cfg(not(target_os = "linux"))]
                    Inner::Platform => platform::set(service, key, value).await,
                    #[cfg(any(test, feature = "testing"))]
                    Inner::Memory(m) => m.set(key, value),
                }
            })
            .await
    }

    /// Deleting nothing succeeds.
    pub async fn delete(&self, key: &str) -> Result<()> {
        let service = self.vault.service();
        self.vault
            .bounded(async {
                match &self.inner {
                    #[cfg(target_os = "linux")]
                    Inner::Linux(c) => c.delete(service, key).await,
                    #[cfg(not(target_os = "linux"))]
                    Inner::Platform => platform::delete(service, key).await,
                    #[cfg(any(test, feature = "testing"))]
                    Inner::Memory(m) => m.delete(key),
                }
            })
            .await
    }

    /// Whether the keychain's default collection is locked.
    pub async fn is_locked(&self) -> Result<bool> {
        self.vault
            .bounded(async {
                match &self.inner {
                    #[cfg(target_os = "linux")]
                    Inner::Linux(c) => c.is_locked().await,
                    #[cfg(not(target_os = "linux"))]
                    Inner::Platform => Ok(false),
                    #[cfg(any(test, feature = "testing"))]
                    Inner::Memory(m) => Ok(m.locked.load(std::sync::atomic::Ordering::SeqCst)),
                }
            })
            .await
    }

    /// A connection's secrets; `Ok(None)` when it has no entry.
    pub async fn load(&self, name: &str) -> Result<Option<Secrets>> {
        self.get(name)
            .await?
            .map(|s| Secrets::from_secret(name, &s))
            .transpose()
    }

    /// A connection's secrets, which must be there.
    pub async fn secrets(&self, name: &str) -> Result<Secrets> {
        self.load(name).await?.ok_or_else(|| Error::KeychainData {
            name: name.into(),
            detail: "its keychain entry is missing".into(),
        })
    }

    /// Writes a connection's secrets under its name; `label` names it for people
    /// ([`label`]).
    pub async fn save(&self, name: &str, label: &str, secrets: &Secrets) -> Result<()> {
        self.set(name, label, &secrets.to_secret()).await
    }
}

/// What the keychain's window shows for a connection's entry: `Keyport: acme — MYOB
/// Business API`.
pub(crate) fn label(name: &str, vendor_label: &str) -> String {
    format!("Keyport: {name} — {vendor_label}")
}

fn unavailable(detail: impl Into<String>) -> Error {
    Error::Keychain {
        detail: detail.into(),
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::unavailable;
    use crate::secret::{secret, ExposeSecret, SecretString};
    use crate::{Error, Result};
    use secret_service::{EncryptionType, SecretService};
    use std::collections::HashMap;

    /// One connection to the Secret Service with one encrypted session.
    pub struct Conn(SecretService<'static>);

    fn error(e: secret_service::Error) -> Error {
        use secret_service::Error as E;
        unavailable(match e {
            E::Locked => "it is locked; unlock it and allow Keyport".to_owned(),
            E::Prompt | E::PromptDisconnected => {
                "it is locked and the unlock prompt was dismissed; unlock it and try again"
                    .to_owned()
            }
            E::Unavailable => "no Secret Service answers on the session bus".to_owned(),
            E::NoResult => "it has no default collection to keep secrets in".to_owned(),
            other => other.to_string(),
        })
    }

    fn attrs<'a>(service: &'a str, key: &'a str) -> HashMap<&'a str, &'a str> {
        HashMap::from([("service", service), ("username", key)])
    }

    impl Conn {
        pub async fn open() -> Result<Conn> {
            SecretService::connect(EncryptionType::Dh)
                .await
                .map(Conn)
                .map_err(error)
        }

        pub async fn get(&self, service: &str, key: &str) -> Result<Option<SecretString>> {
            let found = self
                .0
                .search_items(attrs(service, key))
                .await
                .map_err(error)?;
            let item = match (found.unlocked.first(), found.locked.first()) {
                (Some(item), _) => item,
                (None, Some(item)) => {
                    // Shows the desktop's unlock prompt; bounded by the caller's timeout.
                    item.unlock().await.map_err(error)?;
                    item
                }
                (None, None) => return Ok(None),
            };
            let bytes = zeroize::Zeroizing::new(item.get_secret().await.map_err(error)?);
            let text =
                std::str::from_utf8(&bytes).map_err(|_| unavailable("an entry is not text"))?;
            Ok(Some(secret(text)))
        }

        pub async fn set(
            &self,
            service: &str,
            key: &str,
            label: &str,
            value: &SecretString,
        ) -> Result<()> {
            let collection = self.0.get_default_collection().await.map_err(error)?;
            if collection.is_locked().await.map_err(error)? {
                collection.unlock().await.map_err(error)?;
            }
            let mut attributes = attrs(service, key);
            attributes.insert("target", "default");
            attributes.insert("application", "keyport");
            collection
                .create_item(
                    label,
                    attributes,
                    value.expose_secret().as_bytes(),
                    true,
                    "text/plain",
                )
                .await
                .map(drop)
                .map_err(error)
        }

        pub async fn is_locked(&self) -> Result<bool> {
            let collection = self.0.get_default_collection().await.map_err(error)?;
            collection.is_locked().await.map_err(error)
        }

        pub async fn delete(&self, service: &str, key: &str) -> Result<()> {
            let found = self
                .0
                .search_items(attrs(service, key))
                .await
                .map_err(error)?;
            for item in found.unlocked.iter().chain(found.locked.iter()) {
                item.delete().await.map_err(error)?;
            }
            Ok(())
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use super::unavailable;
    use crate::secret::{secret, ExposeSecret, SecretString};
    use crate::{Error, Result};

    fn error(e: keyring::Error) -> Error {
        unavailable(e.to_string())
    }

    async fn call<T: Send + 'static>(
        service: &str,
        key: &str,
        f: impl FnOnce(keyring::Entry) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (service, key) = (service.to_owned(), key.to_owned());
        tokio::task::spawn_blocking(move || f(keyring::Entry::new(&service, &key).map_err(error)?))
            .await
            .map_err(|e| unavailable(e.to_string()))?
    }

    pub async fn get(service: &str, key: &str) -> Result<Option<SecretString>> {
        call(service, key, |e| match e.get_password() {
            Ok(v) => Ok(Some(secret(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(error(e)),
        })
        .await
    }

    pub async fn set(service: &str, key: &str, value: &SecretString) -> Result<()> {
        let value = value.clone();
        call(service, key, move |e| {
            e.set_password(value.expose_secret()).map_err(error)
        })
        .await
    }

    pub async fn delete(service: &str, key: &str) -> Result<()> {
        call(service, key, |e| match e.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(error(e)),
        })
        .await
    }
}

/// For tests of the engine and its callers: a vault that forgets everything when dropped.
/// Compiled only for tests (`cfg(test)` or the `testing` feature), never chosen at run time.
#[cfg(any(test, feature = "testing"))]
pub mod memory {
    use crate::secret::{secret, ExposeSecret, SecretString};
    use crate::{Error, Result};
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct MemoryVault {
        entries: Mutex<HashMap<String, String>>,
        /// When set, every call fails as a missing keychain would.
        pub unavailable: AtomicBool,
        /// When above zero, that many writes fail (then writes work again).
        pub failing_writes: AtomicUsize,
        /// What `is_locked` answers.
        pub locked: AtomicBool,
    }

    impl MemoryVault {
        pub(crate) fn check(&self) -> Result<()> {
            if self.unavailable.load(Ordering::SeqCst) {
                return Err(super::unavailable("test vault switched off"));
            }
            Ok(())
        }

        fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
            self.entries.lock().unwrap_or_else(|p| p.into_inner())
        }

        pub fn get(&self, key: &str) -> Result<Option<SecretString>> {
            self.check()?;
            Ok(self.entries().get(key).map(|s| secret(s.as_str())))
        }

        pub fn set(&self, key: &str, value: &SecretString) -> Result<()> {
            self.check()?;
            let failing = self.failing_writes.load(Ordering::SeqCst);
            if failing > 0 {
                self.failing_writes.store(failing - 1, Ordering::SeqCst);
                return Err(Error::Keychain {
                    detail: "test vault refused a write".into(),
                });
            }
            self.entries()
                .insert(key.into(), value.expose_secret().to_owned());
            Ok(())
        }

        pub fn delete(&self, key: &str) -> Result<()> {
            self.check()?;
            self.entries().remove(key);
            Ok(())
        }

        /// The raw entry, for assertions.
        pub fn raw(&self, key: &str) -> Option<String> {
            self.entries().get(key).cloned()
        }
    }
}
