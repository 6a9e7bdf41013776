//! Storage behind two interfaces, chosen once by the caller: a [`SecretStore`] (read
//! with a version, write with check-and-set, delete, and a claim that makes a refresh
//! single-flight) and a [`MetadataStore`] (connections and app registrations, no secret).
//!
//! Implementations: the OS keychain with the metadata file and `flock` (`keychain`,
//! `metadata`, `locks`: one computer), a KV v2 mount of OpenBao / HashiCorp Vault (`bao`:
//! a team, servers, any number of computers), and for tests only an in-memory vault
//! (`memory`). Nothing outside this folder knows which one it talks to.

pub(crate) mod bao;
pub(crate) mod keychain;
pub(crate) mod local;
pub(crate) mod locks;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub(crate) mod metadata;
mod scan;

use crate::model::{Connection, Registration, Secrets};
use crate::secret::SecretString;
use crate::{Error, Result};
use async_trait::async_trait;
use std::path::Path;
use std::time::Duration;

/// A stored value and the version it was read at (a check-and-set write names it).
pub(crate) struct Versioned {
    pub value: SecretString,
    /// `0` where the store keeps no versions (the OS keychain).
    pub version: u64,
}

/// The right to refresh (or otherwise rewrite) one connection's secrets, held until it is
/// released; for stores shared between computers it ends by itself at its deadline.
pub(crate) struct Claim {
    /// The version the claim was written at: the next write names it (check-and-set).
    pub version: Option<u64>,
    /// Which claim it is, where the claim is written into the entry.
    pub id: Option<String>,
    /// Who held the claim before it ran out, when this one took it over: that refresh was
    /// cut off, and the vendor may have rotated the refresh token already.
    pub taken_over: Option<String>,
    /// What keeps the claim where a lock keeps it (a file lock); dropped on release.
    pub _held: Option<Box<dyn Send + Sync>>,
}

pub(crate) enum Claimed {
    Won(Claim),
    /// Another refresher held the claim and has finished (or given up) meanwhile: read
    /// the state again before claiming again.
    Waited,
}

/// Who did something to a shared entry, for people: `host/user`.
pub(crate) fn who() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into());
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| {
            #[cfg(unix)]
            return format!("uid{}", current_uid());
            #[cfg(not(unix))]
            return "unknown-user".into();
        });
    format!("{host}/{user}")
}

/// Where secrets live.
#[async_trait]
pub(crate) trait SecretStore: Send + Sync {
    /// One session: on the keychain one D-Bus connection for every call of an operation.
    async fn session(&self) -> Result<Box<dyn SecretSession>>;
}

#[async_trait]
pub(crate) trait SecretSession: Send + Sync {
    /// The value under `key` and its version; `None` when there is none.
    async fn read(&self, key: &str) -> Result<Option<Versioned>>;
    /// Writes `key`; with `cas`, only if the stored version is still that one
    /// ([`Error::Conflict`] otherwise). `label` names it for people. Returns the new version.
    async fn write(
        &self,
        key: &str,
        label: &str,
        value: &SecretString,
        cas: Option<u64>,
    ) -> Result<u64>;
    /// Deleting nothing succeeds.
    async fn delete(&self, key: &str) -> Result<()>;
    /// Whether the store is locked (a keychain's default collection).
    async fn is_locked(&self) -> Result<bool>;
    /// Waits for, then takes, the claim on `key`, to hold at most `hold` (a shared store
    /// lets another computer take it over after that).
    async fn claim(&self, key: &str, hold: Duration) -> Result<Claimed>;
    /// Gives the claim up; `refreshed` records who refreshed, where the store keeps that.
    async fn release(&self, key: &str, claim: Claim, refreshed: bool) -> Result<()>;
}

impl dyn SecretSession + '_ {
    pub async fn get(&self, key: &str) -> Result<Option<SecretString>> {
        Ok(self.read(key).await?.map(|v| v.value))
    }

    pub async fn set(&self, key: &str, label: &str, value: &SecretString) -> Result<()> {
        self.write(key, label, value, None).await.map(drop)
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

    /// Writes a connection's secrets under its name; `label` names it for people.
    pub async fn save(&self, name: &str, label: &str, secrets: &Secrets) -> Result<()> {
        self.set(name, label, &secrets.to_secret()).await
    }

    /// The same, only over the version `cas`.
    pub async fn save_over(
        &self,
        name: &str,
        label: &str,
        secrets: &Secrets,
        cas: Option<u64>,
    ) -> Result<u64> {
        self.write(name, label, &secrets.to_secret(), cas).await
    }
}

/// What the keychain's window shows for a connection's entry: `Keyport: acme — MYOB
/// Business API`.
pub(crate) fn label(name: &str, vendor_label: &str) -> String {
    format!("Keyport: {name} — {vendor_label}")
}

/// A change to one connection, applied again when a shared store's write lost a race.
pub(crate) type Change<'a> = &'a mut (dyn FnMut(&mut Connection) + Send);

/// Where connections and app registrations live (never a secret).
#[async_trait]
pub(crate) trait MetadataStore: Send + Sync {
    /// Where it is, for messages: a file's path or a store's address.
    fn location(&self) -> String;
    /// Something that changes with every write (a file's modification time and length),
    /// for callers that keep what they read in memory; `None` where there is none.
    fn stamp(&self) -> Option<(std::time::SystemTime, u64)> {
        None
    }
    async fn list(&self) -> Result<Vec<Connection>>;
    /// `NotFound` when there is no such connection.
    async fn get(&self, name: &str) -> Result<Connection>;
    /// `AlreadyExists` when a connection has that name and it is not to be replaced.
    async fn ensure_new(&self, name: &str, replace: bool) -> Result<()>;
    /// Adds the connection, or replaces the one of its name.
    async fn put(&self, conn: Connection) -> Result<()>;
    async fn remove(&self, name: &str) -> Result<()>;
    /// Changes one connection; `NotFound` when it is gone (revoked meanwhile).
    async fn update_connection(&self, name: &str, f: Change<'_>) -> Result<Connection>;
    async fn registrations(&self) -> Result<Vec<Registration>>;
    /// Puts `reg` first in place of any registration of the same app; returns whether
    /// the one it replaced had a saved secret.
    async fn remember(&self, reg: Registration) -> Result<bool>;
    /// Adds connections none of which exists yet (`AlreadyExists` for the first that does,
    /// and nothing is written) and the registrations of apps not known yet (one already
    /// here is kept as it is); returns how many registrations it added. The metadata file
    /// does it in one write.
    async fn put_new(&self, conns: Vec<Connection>, regs: Vec<Registration>) -> Result<usize> {
        for c in &conns {
            self.ensure_new(&c.name, false).await?;
        }
        for c in conns {
            self.put(c).await?;
        }
        let known = self.registrations().await?;
        let mut added = 0;
        for r in regs {
            if !known.iter().any(|k| k.same_app(&r)) {
                self.remember(r).await?;
                added += 1;
            }
        }
        Ok(added)
    }
}

/// A folder only its owner may enter: created 0700, or checked to be a real folder (not a
/// link) owned by this user, its mode put right.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<()> {
    let err = |action, source| Error::Store {
        action,
        path: dir.into(),
        source,
    };
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(dir).map_err(|e| err("create", e))
        }
        Err(e) => Err(err("inspect", e)),
        Ok(m) if m.file_type().is_symlink() || !m.is_dir() => Err(Error::input(format!(
            "{} is a link or not a folder; Keyport keeps its files only in a real folder of yours. Remove it, or point KEYPORT_CONFIG_DIR elsewhere.",
            dir.display()
        ))),
        #[cfg(unix)]
        Ok(m) => {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            if m.uid() != current_uid() {
                return Err(Error::input(format!(
                    "{} belongs to another user (uid {}); Keyport keeps its files only in a folder of yours. Point KEYPORT_CONFIG_DIR elsewhere.",
                    dir.display(),
                    m.uid()
                )));
            }
            if m.mode() & 0o077 != 0 {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(|e| err("protect", e))?;
            }
            Ok(())
        }
        #[cfg(not(unix))]
        Ok(_) => Ok(()),
    }
}

/// The uid this process runs as.
#[cfg(unix)]
pub(crate) fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}
