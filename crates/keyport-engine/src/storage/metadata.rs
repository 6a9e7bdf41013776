//! Non-secret metadata: one small JSON file, replaced atomically (temp file, fsync,
//! rename), so a reader never sees half a file. Writers hold `store.lock`; the token path
//! only reads. Nothing in here is secret: `Connection` has no field that could hold one.
//! Fields this version does not know are kept, and a file from a newer Keyport is refused
//! rather than rewritten.

use super::locks::FileLock;
use super::{Change, MetadataStore};
use crate::{Error, Result};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The metadata format this build reads and writes.
pub const VERSION: u32 = 1;

use crate::model::{Connection, Key, Registration, Unknown};

/// Read in one pass (below): a derived `flatten` would first buffer the whole file, every
/// connection in it, before reading any of them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StoreData {
    pub version: u32,
    #[serde(default)]
    pub connections: Vec<Connection>,
    /// App registrations remembered for the next connection (no secrets: a client secret,
    /// when saved, is in the keychain under the registration's key).
    #[serde(default)]
    pub registrations: Vec<Registration>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl<'de> Deserialize<'de> for StoreData {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = StoreData;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("Keyport's metadata")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<StoreData, A::Error> {
                let mut data = StoreData {
                    version: VERSION,
                    ..StoreData::default()
                };
                while let Some(Key(key)) = map.next_key()? {
                    match key.as_ref() {
                        "version" => data.version = map.next_value()?,
                        "connections" => data.connections = map.next_value()?,
                        "registrations" => data.registrations = map.next_value()?,
                        _ => {
                            let v = map.next_value()?;
                            data.unknown.insert(key.into_owned(), v);
                        }
                    }
                }
                Ok(data)
            }
        }
        d.deserialize_map(V)
    }
}

pub struct Store {
    dir: PathBuf,
    /// The last connection found by name, with the file's stamp it was read at: the token
    /// path reads it twice (the connection, then where its secret lives).
    last: std::sync::Mutex<Option<(Stamp, Connection)>>,
}

type Stamp = (std::time::SystemTime, u64);

impl Store {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            last: Default::default(),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("connections.json")
    }

    /// The file's modification time and length: changes with every write.
    pub fn stamp(&self) -> Option<(std::time::SystemTime, u64)> {
        let m = fs::metadata(self.path()).ok()?;
        Some((m.modified().ok()?, m.len()))
    }

    /// Creates the folder (0700) or checks the one there: a real folder, the user's own,
    /// reachable by no one else (its mode is put right when it is ours).
    pub fn ensure_dir(&self) -> Result<()> {
        super::ensure_private_dir(&self.dir)?;
        super::ensure_private_dir(&self.dir.join("locks"))
    }

    /// Reads the whole file; a missing file is an empty store. A link in its place is
    /// refused: the file is Keyport's own, in the user's private folder.
    pub fn load(&self) -> Result<StoreData> {
        match self.read()? {
            Some(bytes) => parse(&self.path(), &bytes),
            None => Ok(StoreData {
                version: VERSION,
                ..StoreData::default()
            }),
        }
    }

    /// The file's bytes; `None` when there is no file.
    fn read(&self) -> Result<Option<Vec<u8>>> {
        let path = self.path();
        if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Error::StoreData {
                path,
                detail: "it is a link; Keyport reads and replaces only its own plain file. Remove the link and put the file itself there".into(),
            });
        }
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Store {
                action: "read",
                path,
                source,
            }),
        }
    }

    pub fn get(&self, name: &str) -> Result<Connection> {
        self.find(name)?.ok_or_else(|| Error::NotFound(name.into()))
    }

    /// One connection, the others skipped unparsed (`scan`); `None` when it is not there.
    pub fn find(&self, name: &str) -> Result<Option<Connection>> {
        let stamp = self.stamp();
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let (Some(stamp), Some((at, c))) = (stamp, last.as_ref()) {
            if *at == stamp && c.name == name {
                return Ok(Some(c.clone()));
            }
        }
        let Some(bytes) = self.read()? else {
            return Ok(None);
        };
        let path = self.path();
        let found = super::scan::find(&bytes, name).map_err(|e| Error::StoreData {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        if let Some(v) = found.version.filter(|v| *v > VERSION) {
            return Err(newer(&path, v));
        }
        *last = match (stamp, &found.connection) {
            (Some(s), Some(c)) => Some((s, c.clone())),
            _ => None,
        };
        Ok(found.connection)
    }

    /// Read-modify-write under the store lock.
    pub fn update<T>(&self, f: impl FnOnce(&mut StoreData) -> Result<T>) -> Result<T> {
        self.ensure_dir()?;
        let _lock = FileLock::acquire(&self.dir.join("store.lock"))?;
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.sweep_temp_files();
        let mut data = self.load()?;
        let out = f(&mut data)?;
        self.write(&data)?;
        Ok(out)
    }

    /// `AlreadyExists` when a connection has that name and it is not to be replaced.
    pub fn ensure_new(&self, name: &str, replace: bool) -> Result<()> {
        if !replace && self.load()?.connections.iter().any(|c| c.name == name) {
            return Err(Error::AlreadyExists(name.to_owned()));
        }
        Ok(())
    }

    /// Changes one connection; `NotFound` when it is gone (revoked meanwhile).
    pub fn update_connection(
        &self,
        name: &str,
        f: impl FnOnce(&mut Connection),
    ) -> Result<Connection> {
        self.update(|data| {
            let c = data
                .connections
                .iter_mut()
                .find(|c| c.name == name)
                .ok_or_else(|| Error::NotFound(name.into()))?;
            f(c);
            Ok(c.clone())
        })
    }

    /// Temp files left by a writer that was killed before its rename. Only called under
    /// the store lock, so no live writer's file is among them.
    fn sweep_temp_files(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".connections.json.") && name.ends_with(".tmp") {
                let _ = fs::remove_file(e.path());
            }
        }
    }

    fn write(&self, data: &StoreData) -> Result<()> {
        let path = self.path();
        let io = |action, source| Error::Store {
            action,
            path: path.clone(),
            source,
        };
        let bytes = serde_json::to_vec_pretty(data).expect("metadata serialises");
        let tmp = self.dir.join(format!(
            ".connections.json.{}.{}.tmp",
            std::process::id(),
            crate::oauth::random_token(6)
        ));
        let written = (|| {
            let mut opts = OpenOptions::new();
            // A new file of our own: a planted file or link at that name is refused.
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
            }
            let mut f = opts.open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            drop(f);
            replace(&tmp, &path)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(io("write", e));
        }
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Renames `tmp` over `path` (atomic: a reader sees the old file or the new). Windows
/// refuses a rename over a file another process has open at that instant (a reader
/// without delete sharing, an antivirus scan): that is tried again for up to a second.
fn replace(tmp: &Path, path: &Path) -> std::io::Result<()> {
    let mut tries = 0;
    loop {
        match fs::rename(tmp, path) {
            Err(e)
                if cfg!(windows)
                    && e.kind() == std::io::ErrorKind::PermissionDenied
                    && tries < 50 =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// The metadata file as the [`MetadataStore`] of this computer.
#[async_trait]
impl MetadataStore for Store {
    fn location(&self) -> String {
        self.path().display().to_string()
    }

    async fn list(&self) -> Result<Vec<Connection>> {
        Ok(self.load()?.connections)
    }

    async fn get(&self, name: &str) -> Result<Connection> {
        Store::get(self, name)
    }

    async fn ensure_new(&self, name: &str, replace: bool) -> Result<()> {
        Store::ensure_new(self, name, replace)
    }

    async fn put(&self, conn: Connection) -> Result<()> {
        self.update(|data| {
            data.connections.retain(|c| c.name != conn.name);
            data.connections.push(conn);
            data.connections.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(())
        })
    }

    async fn remove(&self, name: &str) -> Result<()> {
        self.update(|d| {
            d.connections.retain(|c| c.name != name);
            Ok(())
        })
    }

    async fn update_connection(&self, name: &str, f: Change<'_>) -> Result<Connection> {
        Store::update_connection(self, name, f)
    }

    async fn registrations(&self) -> Result<Vec<Registration>> {
        Ok(self.load()?.registrations)
    }

    async fn put_new(&self, conns: Vec<Connection>, regs: Vec<Registration>) -> Result<usize> {
        self.update(|d| {
            if let Some(c) = conns
                .iter()
                .find(|c| d.connections.iter().any(|o| o.name == c.name))
            {
                return Err(Error::AlreadyExists(c.name.clone()));
            }
            d.connections.extend(conns);
            d.connections.sort_by(|a, b| a.name.cmp(&b.name));
            let mut added = 0;
            for r in regs {
                if !d.registrations.iter().any(|k| k.same_app(&r)) {
                    d.registrations.push(r);
                    added += 1;
                }
            }
            Ok(added)
        })
    }

    async fn remember(&self, reg: Registration) -> Result<bool> {
        self.update(|d| {
            let had = d
                .registrations
                .iter()
                .any(|r| r.same_app(&reg) && r.secret_saved);
            d.registrations.retain(|r| !r.same_app(&reg));
            d.registrations.insert(0, reg);
            Ok(had)
        })
    }
}

pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<StoreData> {
    let bad = |detail: String| Error::StoreData {
        path: path.into(),
        detail,
    };
    // Checked as UTF-8 once, whole, rather than string by string as it is read.
    let text =
        std::str::from_utf8(bytes).map_err(|e| bad(format!("it is not UTF-8 text ({e})")))?;
    let data: StoreData = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    if data.version > VERSION {
        return Err(newer(path, data.version));
    }
    Ok(data)
}

fn newer(path: &Path, version: u32) -> Error {
    Error::StoreData {
        path: path.into(),
        detail: format!(
            "it was written by a newer Keyport (format {version}, this one reads {VERSION}); update Keyport"
        ),
    }
}

#[cfg(test)]
#[path = "metadata_tests.rs"]
mod tests;
