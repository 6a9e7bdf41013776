//! Non-secret metadata: one small JSON file, replaced atomically (temp file, fsync,
//! rename), so a reader never sees half a file. Writers take `store.lock`; the token
//! path only reads. Nothing in here is secret, and `Connection` has no field that could
//! hold one.

use crate::vendors::VendorId;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StoreData {
    #[serde(default = "version")]
    pub version: u32,
    #[serde(default)]
    pub connections: Vec<Connection>,
    /// App registrations remembered for the next connection (no secrets: the client
    /// secret, when saved, is in the keychain under `app:<vendor>:<client_id>`).
    #[serde(default)]
    pub registrations: Vec<Registration>,
}

fn version() -> u32 {
    1
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Health {
    #[default]
    Ok,
    /// The vendor refused the refresh token; only a new sign-in helps.
    NeedsReconnect { reason: String, at: i64 },
    /// The last refresh failed for a reason that may pass (network, HTTP 5xx).
    RefreshFailed { reason: String, at: i64 },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    Post,
    /// HTTP Basic with the form-encoded id and secret (RFC 6749 §2.3.1).
    Basic,
    /// A public client: `client_id` only, PKCE protects the code.
    None,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OAuthMeta {
    pub client_id: String,
    pub authorize_url: String,
    pub token_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_url: Option<String>,
    /// MYOB Advanced: `<instance>/entity/auth/logout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    pub redirect_uri: String,
    pub scopes: String,
    pub client_auth: ClientAuth,
    /// Sent again with the refresh request where the vendor wants it (MYOB).
    #[serde(default)]
    pub has_refresh_token: bool,
    /// When the refresh-token chain began (first sign-in), and how long it lives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_started_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_days: Option<u32>,
}

/// Who or what the connection reaches: a MYOB company file, a user, an instance.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Account {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Connection {
    pub name: String,
    pub vendor: VendorId,
    pub created_at: i64,
    #[serde(default)]
    pub health: Health,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthMeta>,
    #[serde(default)]
    pub account: Account,
    /// The API's base URL (MYOB `https://api.myob.com`, an Exo server, a Xentral instance…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The path `keyport test` reads (O4, whose API has no published cheap read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_path: Option<String>,
    /// When the access token (or the admin-issued token) stops working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// When the user granted consent (MYOB asks for it again yearly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consented_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refresh: Option<i64>,
    /// Free text the user gave (O4: which user or contact the token belongs to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Expiry warnings already shown as desktop notifications (`7d`, `1d`, `expired`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notified: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Registration {
    pub vendor: VendorId,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<String>,
    /// MYOB Advanced instance, or an OIDC issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_url: Option<String>,
    #[serde(default)]
    pub secret_saved: bool,
}

pub struct Store {
    dir: PathBuf,
}

/// A lock on a file, released when dropped. `flock` semantics: exclusive across
/// processes and across separately opened handles inside one process.
pub struct FileLock(File);

impl FileLock {
    pub fn acquire(path: &Path) -> Result<FileLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|source| Error::Store {
                action: "open the lock file",
                path: path.into(),
                source,
            })?;
        file.lock().map_err(|source| Error::Store {
            action: "lock",
            path: path.into(),
            source,
        })?;
        Ok(FileLock(file))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl Store {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("connections.json")
    }

    fn ensure_dir(&self) -> Result<()> {
        let locks = self.dir.join("locks");
        if locks.is_dir() {
            return Ok(());
        }
        fs::create_dir_all(&locks).map_err(|source| Error::Store {
            action: "create",
            path: locks.clone(),
            source,
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700));
        }
        Ok(())
    }

    /// Reads the whole file; a missing file is an empty store.
    pub fn load(&self) -> Result<StoreData> {
        let path = self.path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::StoreData {
                path,
                detail: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StoreData {
                version: 1,
                ..StoreData::default()
            }),
            Err(source) => Err(Error::Store {
                action: "read",
                path,
                source,
            }),
        }
    }

    pub fn get(&self, name: &str) -> Result<Connection> {
        self.load()?
            .connections
            .into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| Error::NotFound(name.into()))
    }

    /// Read-modify-write under the store lock.
    pub fn update<T>(&self, f: impl FnOnce(&mut StoreData) -> Result<T>) -> Result<T> {
        self.ensure_dir()?;
        let _lock = FileLock::acquire(&self.dir.join("store.lock"))?;
        let mut data = self.load()?;
        let out = f(&mut data)?;
        self.write(&data)?;
        Ok(out)
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

    /// The per-connection lock that makes refresh and revoke single-flight.
    pub fn connection_lock(&self, name: &str) -> Result<FileLock> {
        self.ensure_dir()?;
        FileLock::acquire(&self.dir.join("locks").join(format!("{name}.lock")))
    }

    fn write(&self, data: &StoreData) -> Result<()> {
        let path = self.path();
        let tmp = self
            .dir
            .join(format!(".connections.json.{}.tmp", std::process::id()));
        let io = |action, source| Error::Store {
            action,
            path: path.clone(),
            source,
        };
        let bytes = serde_json::to_vec_pretty(data).expect("metadata serialises");
        {
            let mut opts = OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&tmp).map_err(|e| io("write", e))?;
            f.write_all(&bytes).map_err(|e| io("write", e))?;
            f.sync_all().map_err(|e| io("write", e))?;
        }
        fs::rename(&tmp, &path).map_err(|e| io("replace", e))?;
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Connection names become file names (lock files) and keychain keys: keep them plain.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(['.', '-'])
        && !name.starts_with("app:")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::input(format!(
            "'{name}' is not a usable connection name: use 1–64 letters, digits, '-', '_' or '.', not starting with '.' or '-'."
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(name: &str) -> Connection {
        Connection {
            name: name.into(),
            vendor: VendorId::Xentral,
            created_at: 1,
            health: Health::Ok,
            oauth: None,
            account: Account::default(),
            base_url: None,
            test_path: None,
            expires_at: None,
            consented_at: None,
            last_refresh: None,
            note: None,
            notified: vec![],
        }
    }

    #[test]
    fn writes_atomically_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("keyport-store-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
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
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "no temp file is left behind");
        fs::write(store.path(), b"{broken").expect("corrupt");
        assert!(matches!(store.load(), Err(Error::StoreData { .. })));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn names_are_checked() {
        assert!(validate_name("myob-prod_1.2").is_ok());
        for bad in ["", "../x", "a b", "-x", ".x", "app:x", &"x".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
