//! The Windows Credential Manager through keyring 4's Windows store, one generic
//! credential per entry while it fits. A generic credential holds at most 2,560 bytes
//! (`CRED_MAX_CREDENTIAL_BLOB_SIZE`, 5 × 512, which `windows-native-keyring-store` checks
//! against the blob it writes); entries are written as UTF-8 bytes with `set_secret`, so a
//! credential holds 2,560 bytes of JSON (`set_password` would store UTF-16 and hold half
//! that). A larger entry is split across several credentials by [`crate::storage::chunked`].
//!
//! Targets are readable and under Keyport's name: `Keyport: acme` (`Keyport (SERVICE): acme`
//! for another keychain namespace), its parts `Keyport: acme (part 2 of 3, GENERATION)`.
//! Every target is known from the key alone, so nothing lists the store (keyring's search
//! reads Wine's unaligned `CredEnumerateW` buffer, which a debug build refuses to), and a
//! target cannot carry the vendor (a reconnect may change it): the label the Secret Service shows, `Keyport: acme — Vendor API`, is the
//! credential's user name, which the Credential Manager's window shows under the target.
//! An entry written by earlier builds under keyring's default target (`acme.keyport`,
//! UTF-16) is read when there is no new one, and removed once the new one is written.

use super::unavailable;
use crate::secret::{secret, ExposeSecret, SecretString};
use crate::storage::chunked::{self, Bytes, Cells, Names};
use crate::{Error, Result};
use keyring_core::Entry;
use std::collections::HashMap;

/// `CRED_MAX_CREDENTIAL_BLOB_SIZE` in `wincred.h`: the bytes one generic credential holds.
const LIMIT: usize = 2560;
/// `CRED_MAX_USERNAME_LENGTH` is 513; a label is cut short well inside it.
const LABEL_MAX: usize = 500;
const COMMENT: &str = "Kept by Keyport. Change or remove it with Keyport, not here.";

fn error(e: keyring_core::Error) -> Error {
    use keyring_core::Error as E;
    unavailable(match e {
        E::NoStorageAccess(e) => format!("this Windows session has no Credential Manager ({e})"),
        E::PlatformFailure(e) => format!("it refused the call ({e})"),
        E::NoDefaultStore => "keyring could not open it".to_owned(),
        other => other.to_string(),
    })
}

/// keyring 4 opens the Windows store (and makes it keyring-core's default) once.
fn open() -> Result<()> {
    keyring::Entry::store_status()
        .as_ref()
        .map_err(|e| unavailable(format!("keyring could not open it ({e})")))
        .copied()
}

fn entry(target: &str) -> Result<Entry> {
    open()?;
    Entry::new_with_modifiers("keyport", target, &HashMap::from([("target", target)]))
        .map_err(error)
}

/// Every target of this keychain namespace starts with it.
fn namespace(service: &str) -> String {
    if service == crate::Settings::DEFAULT_KEYCHAIN_SERVICE {
        "Keyport: ".to_owned()
    } else {
        format!("Keyport ({service}): ")
    }
}

fn short(label: &str) -> &str {
    let mut end = label.len().min(LABEL_MAX);
    while !label.is_char_boundary(end) {
        end -= 1;
    }
    &label[..end]
}

/// The Credential Manager, one credential by target.
struct WinCred;

impl Cells for WinCred {
    fn limit(&self) -> usize {
        LIMIT
    }

    fn get(&self, target: &str) -> Result<Option<Bytes>> {
        match entry(target)?.get_secret() {
            Ok(v) => Ok(Some(Bytes::new(v))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(error(e)),
        }
    }

    /// keyring writes a credential's user name and comment only with `update_attributes`,
    /// which reads the secret and writes it back. So the secret is never read back over a
    /// value another writer may have put: a new credential is created holding `PENDING`
    /// (read as no entry), named, then given its value; an existing one with another label
    /// is renamed before its value is replaced, and `set_secret` keeps the names.
    fn set(&self, target: &str, label: &str, value: &[u8]) -> Result<()> {
        let e = entry(target)?;
        let label = short(label);
        let names = HashMap::from([("username", label), ("comment", COMMENT)]);
        match e.get_attributes() {
            Ok(a) if a.get("username").map(String::as_str) == Some(label) => {}
            Ok(_) => e.update_attributes(&names).map_err(error)?,
            Err(keyring_core::Error::NoEntry) => {
                e.set_secret(chunked::PENDING).map_err(error)?;
                e.update_attributes(&names).map_err(error)?;
            }
            Err(other) => return Err(error(other)),
        }
        e.set_secret(value).map_err(error)
    }

    fn delete(&self, target: &str) -> Result<()> {
        match entry(target)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(error(e)),
        }
    }
}

/// The credential earlier builds wrote: keyring's default target, the value as UTF-16.
fn legacy(service: &str, key: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(service, key).map_err(error)
}

async fn call<T: Send + 'static>(
    service: &str,
    key: &str,
    f: impl FnOnce(&str, &str) -> Result<T> + Send + 'static,
) -> Result<T> {
    let (service, key) = (service.to_owned(), key.to_owned());
    tokio::task::spawn_blocking(move || f(&service, &key))
        .await
        .map_err(|e| unavailable(e.to_string()))?
}

fn with_names<T>(service: &str, key: &str, label: &str, f: impl FnOnce(&Names) -> T) -> T {
    let head = format!("{}{key}", namespace(service));
    f(&Names {
        key,
        head: &head,
        label,
    })
}

pub async fn get(service: &str, key: &str) -> Result<Option<SecretString>> {
    call(service, key, |service, key| {
        let found = with_names(service, key, "", |n| chunked::read(&WinCred, n))?;
        let bytes = match found {
            Some(bytes) => bytes,
            None => match legacy(service, key)?.get_password() {
                Ok(v) => return Ok(Some(secret(v))),
                Err(keyring::Error::NoEntry) => return Ok(None),
                Err(e) => return Err(error(e)),
            },
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| Error::KeychainData {
            name: key.into(),
            detail: "its Credential Manager entry is not text".into(),
        })?;
        Ok(Some(secret(text)))
    })
    .await
}

pub async fn set(service: &str, key: &str, label: &str, value: &SecretString) -> Result<()> {
    let (label, value) = (label.to_owned(), value.clone());
    call(service, key, move |service, key| {
        let bytes = value.expose_secret().as_bytes();
        with_names(service, key, &label, |n| chunked::write(&WinCred, n, bytes))?;
        // The new entry stands; an older build's credential would only be read without it.
        match legacy(service, key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(error(e)),
        }
    })
    .await
}

pub async fn delete(service: &str, key: &str) -> Result<()> {
    call(service, key, |service, key| {
        // The older build's credential first: while Keyport's own stands, it is not read.
        match legacy(service, key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => {}
            Err(e) => return Err(error(e)),
        }
        with_names(service, key, "", |n| chunked::delete(&WinCred, n))
    })
    .await
}

#[cfg(test)]
#[path = "wincred_tests.rs"]
mod tests;
