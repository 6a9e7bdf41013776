//! Where secrets live: the OS keychain, one entry per connection holding a small JSON
//! object (access and refresh token together, so a rotated refresh token is written with
//! the access token it came with, in one call).
//!
//! On Linux the Secret Service is spoken directly over zbus (pure Rust: the binary loads
//! no libdbus), and one session — one D-Bus connection, one Diffie-Hellman handshake — serves
//! every call of an operation: a refresh reads and writes over the same session. Elsewhere
//! `keyring` 4 speaks to the platform store; on Windows (`wincred.rs`) an entry larger than
//! one Credential Manager credential is split across several. Every call is bounded by the settings'
//! keychain timeout: a locked keychain shows its unlock prompt, and Keyport says so rather
//! than hang a script. It keeps no versions: single flight is the connection's file lock.

use super::locks::FileLock;
use super::{Claim, Claimed, SecretSession, SecretStore, Versioned};
use crate::secret::SecretString;
use crate::{Error, Result};
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The OS keychain, with `flock` on `<config>/locks/NAME.lock` as its claim: one computer.
pub(crate) struct Keychain {
    service: String,
    timeout: Duration,
    locks: PathBuf,
}

impl Keychain {
    pub fn new(service: String, timeout: Duration, locks: PathBuf) -> Self {
        Keychain {
            service,
            timeout,
            locks,
        }
    }
}

/// One keychain session; on Linux, one D-Bus connection with one encrypted session.
struct Session {
    service: String,
    timeout: Duration,
    locks: PathBuf,
    #[cfg(target_os = "linux")]
    conn: linux::Conn,
}

async fn bounded<T>(
    timeout: Duration,
    f: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::time::timeout(timeout, f).await.unwrap_or_else(|_| {
        Err(Error::Keychain {
            detail: format!(
                "it did not answer within {} s; {}",
                timeout.as_secs(),
                crate::KEYCHAIN.stalled
            ),
        })
    })
}

/// The claim of a store that is only ever on this computer: the connection's file lock.
pub(crate) async fn lock_claim(locks: &Path, key: &str) -> Result<Claimed> {
    crate::model::validate_name(key)?;
    super::ensure_private_dir(locks)?;
    let lock = FileLock::acquire_async(locks.join(format!("{key}.lock"))).await?;
    Ok(Claimed::Won(Claim {
        version: None,
        id: None,
        taken_over: None,
        _held: Some(Box::new(lock)),
    }))
}

#[async_trait]
impl SecretStore for Keychain {
    async fn session(&self) -> Result<Box<dyn SecretSession>> {
        Ok(Box::new(Session {
            service: self.service.clone(),
            timeout: self.timeout,
            locks: self.locks.clone(),
            #[cfg(target_os = "linux")]
            conn: bounded(self.timeout, linux::Conn::open()).await?,
        }))
    }
}

#[async_trait]
impl SecretSession for Session {
    async fn read(&self, key: &str) -> Result<Option<Versioned>> {
        let service = &self.service;
        let value = bounded(self.timeout, async {
            #[cfg(target_os = "linux")]
            return self.conn.get(service, key).await;
            #[cfg(not(target_os = "linux"))]
            return platform::get(service, key).await;
        })
        .await?;
        Ok(value.map(|value| Versioned { value, version: 0 }))
    }

    /// The keychain keeps no versions: `cas` is met by the claim (the file lock) held.
    async fn write(
        &self,
        key: &str,
        label: &str,
        value: &SecretString,
        _cas: Option<u64>,
    ) -> Result<u64> {
        let service = &self.service;
        let label = if service == crate::Settings::DEFAULT_KEYCHAIN_SERVICE {
            label.to_owned()
        } else {
            format!("{label} ({service})")
        };
        bounded(self.timeout, async {
            #[cfg(target_os = "linux")]
            return self.conn.set(service, key, &label, value).await;
            #[cfg(not(target_os = "linux"))]
            return platform::set(service, key, &label, value).await;
        })
        .await
        .map(|()| 0)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let service = &self.service;
        bounded(self.timeout, async {
            #[cfg(target_os = "linux")]
            return self.conn.delete(service, key).await;
            #[cfg(not(target_os = "linux"))]
            return platform::delete(service, key).await;
        })
        .await
    }

    async fn is_locked(&self) -> Result<bool> {
        bounded(self.timeout, async {
            #[cfg(target_os = "linux")]
            return self.conn.is_locked().await;
            #[cfg(not(target_os = "linux"))]
            return Ok(false);
        })
        .await
    }

    async fn claim(&self, key: &str, _hold: Duration) -> Result<Claimed> {
        lock_claim(&self.locks, key).await
    }

    async fn release(&self, _key: &str, claim: Claim, _refreshed: bool) -> Result<()> {
        drop(claim);
        Ok(())
    }
}

pub(crate) fn unavailable(detail: impl Into<String>) -> Error {
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

/// Windows: the Credential Manager, an entry larger than one credential split across several.
#[cfg(target_os = "windows")]
#[path = "wincred.rs"]
mod platform;

/// macOS (and any other keyring 4 platform): one keyring entry per key.
#[cfg(not(any(target_os = "linux", target_os = "windows")))]
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

    /// keyring's stores name entries by service and key; the label is not kept.
    pub async fn set(service: &str, key: &str, _label: &str, value: &SecretString) -> Result<()> {
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
