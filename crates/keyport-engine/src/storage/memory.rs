//! For tests of the engine and its callers: a vault that forgets everything when dropped,
//! with the file locks of the keychain as its claim. Compiled only for tests (`cfg(test)`
//! or the `testing` feature), never chosen at run time.

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
            return Err(super::keychain::unavailable("test vault switched off"));
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

/// The in-memory vault as a [`SecretStore`].
pub(crate) struct Memory {
    pub vault: std::sync::Arc<MemoryVault>,
    pub locks: std::path::PathBuf,
}

#[async_trait::async_trait]
impl super::SecretStore for Memory {
    async fn session(&self) -> Result<Box<dyn super::SecretSession>> {
        self.vault.check()?;
        Ok(Box::new(Memory {
            vault: self.vault.clone(),
            locks: self.locks.clone(),
        }))
    }
}

#[async_trait::async_trait]
impl super::SecretSession for Memory {
    async fn read(&self, key: &str) -> Result<Option<super::Versioned>> {
        Ok(self
            .vault
            .get(key)?
            .map(|value| super::Versioned { value, version: 0 }))
    }

    async fn write(
        &self,
        key: &str,
        _label: &str,
        value: &SecretString,
        _cas: Option<u64>,
    ) -> Result<u64> {
        self.vault.set(key, value).map(|()| 0)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.vault.delete(key)
    }

    async fn is_locked(&self) -> Result<bool> {
        Ok(self.vault.locked.load(Ordering::SeqCst))
    }

    async fn claim(&self, key: &str, _hold: std::time::Duration) -> Result<super::Claimed> {
        super::keychain::lock_claim(&self.locks, key).await
    }

    async fn release(&self, _key: &str, claim: super::Claim, _refreshed: bool) -> Result<()> {
        drop(claim);
        Ok(())
    }
}
