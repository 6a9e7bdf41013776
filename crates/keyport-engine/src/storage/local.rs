//! This computer's storage: the metadata file and the OS keychain (its claim the file
//! lock). A connection handed to a shared store stays in the metadata file as a
//! reference (`store`: the address); every call about it goes to that store, so the
//! engine above sees one store either way. The keychain is only opened for a connection
//! that lives here.

use super::bao::{Bao, BaoAuth};
use super::metadata::Store as File;
use super::{Change, Claim, Claimed, MetadataStore, SecretSession, SecretStore, Versioned};
use crate::model::{Connection, Registration};
use crate::secret::SecretString;
use crate::Result;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

#[derive(Clone)]
pub(crate) struct Local(Arc<Inner>);

struct Inner {
    file: File,
    keychain: Arc<dyn SecretStore>,
    auth: BaoAuth,
    shared: Mutex<HashMap<String, Bao>>,
}

impl Local {
    pub fn new(file: File, keychain: Arc<dyn SecretStore>, auth: BaoAuth) -> Local {
        Local(Arc::new(Inner {
            file,
            keychain,
            auth,
            shared: Mutex::new(HashMap::new()),
        }))
    }

    pub fn file(&self) -> &File {
        &self.0.file
    }

    pub fn keychain(&self) -> &Arc<dyn SecretStore> {
        &self.0.keychain
    }

    /// The shared store at `address`, opened once per process.
    pub fn open(&self, address: &str) -> Result<Bao> {
        let mut shared = self.0.shared.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = shared.get(address) {
            return Ok(b.clone());
        }
        let b = Bao::new(super::bao::Address::parse(address)?, self.0.auth.clone());
        shared.insert(address.to_owned(), b.clone());
        Ok(b)
    }

    /// The shared store a connection of this name lives in, if it is a reference.
    fn route(&self, name: &str) -> Result<Option<Bao>> {
        if crate::model::validate_name(name).is_err() {
            return Ok(None);
        }
        match self.0.file.find(name)?.and_then(|c| c.store) {
            Some(address) => self.open(&address).map(Some),
            None => Ok(None),
        }
    }
}

/// A reference's connection as the shared store keeps it, marked with where it lives.
async fn remote(bao: &Bao, name: &str) -> Result<Connection> {
    let mut c = bao.get(name).await?;
    c.store = Some(bao.address().to_string());
    Ok(c)
}

#[async_trait]
impl MetadataStore for Local {
    fn location(&self) -> String {
        self.0.file.path().display().to_string()
    }

    fn stamp(&self) -> Option<(std::time::SystemTime, u64)> {
        self.0.file.stamp()
    }

    async fn list(&self) -> Result<Vec<Connection>> {
        let mut out = Vec::new();
        for c in self.0.file.load()?.connections {
            match &c.store {
                // A shared store out of reach still lists its reference as kept here.
                Some(address) => match self.open(address) {
                    Ok(b) => out.push(remote(&b, &c.name).await.unwrap_or(c)),
                    Err(_) => out.push(c),
                },
                None => out.push(c),
            }
        }
        Ok(out)
    }

    async fn get(&self, name: &str) -> Result<Connection> {
        let c = self.0.file.get(name)?;
        match &c.store {
            Some(address) => remote(&self.open(address)?, name).await,
            None => Ok(c),
        }
    }

    async fn ensure_new(&self, name: &str, replace: bool) -> Result<()> {
        self.0.file.ensure_new(name, replace)
    }

    async fn put(&self, conn: Connection) -> Result<()> {
        match self.route(&conn.name)? {
            Some(b) => {
                b.put(Connection {
                    store: None,
                    ..conn
                })
                .await
            }
            None => MetadataStore::put(&self.0.file, conn).await,
        }
    }

    async fn remove(&self, name: &str) -> Result<()> {
        if let Some(b) = self.route(name)? {
            b.remove(name).await?;
        }
        MetadataStore::remove(&self.0.file, name).await
    }

    async fn update_connection(&self, name: &str, f: Change<'_>) -> Result<Connection> {
        match self.route(name)? {
            Some(b) => {
                let mut c = b.update_connection(name, f).await?;
                c.store = Some(b.address().to_string());
                Ok(c)
            }
            None => self.0.file.update_connection(name, f),
        }
    }

    async fn registrations(&self) -> Result<Vec<Registration>> {
        MetadataStore::registrations(&self.0.file).await
    }

    async fn remember(&self, reg: Registration) -> Result<bool> {
        self.0.file.remember(reg).await
    }

    async fn put_new(&self, conns: Vec<Connection>, regs: Vec<Registration>) -> Result<usize> {
        self.0.file.put_new(conns, regs).await
    }
}

#[async_trait]
impl SecretStore for Local {
    async fn session(&self) -> Result<Box<dyn SecretSession>> {
        Ok(Box::new(Session {
            local: self.clone(),
            keychain: OnceCell::new(),
        }))
    }
}

/// A session that opens the keychain only when a key that lives here is asked for.
struct Session {
    local: Local,
    keychain: OnceCell<Box<dyn SecretSession>>,
}

/// Where one key's calls go.
enum At<'a> {
    /// A shared store's session is the store itself.
    Shared(Bao),
    Here(&'a dyn SecretSession),
}

impl At<'_> {
    fn s(&self) -> &dyn SecretSession {
        match self {
            At::Shared(b) => b,
            At::Here(s) => *s,
        }
    }
}

impl Session {
    async fn at(&self, key: &str) -> Result<At<'_>> {
        if let Some(b) = self.local.route(key)? {
            return Ok(At::Shared(b));
        }
        let s = self
            .keychain
            .get_or_try_init(|| self.local.0.keychain.session())
            .await?;
        Ok(At::Here(s.as_ref()))
    }
}

#[async_trait]
impl SecretSession for Session {
    async fn read(&self, key: &str) -> Result<Option<Versioned>> {
        self.at(key).await?.s().read(key).await
    }

    async fn write(
        &self,
        key: &str,
        label: &str,
        value: &SecretString,
        cas: Option<u64>,
    ) -> Result<u64> {
        self.at(key).await?.s().write(key, label, value, cas).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.at(key).await?.s().delete(key).await
    }

    async fn is_locked(&self) -> Result<bool> {
        let s = self
            .keychain
            .get_or_try_init(|| self.local.0.keychain.session())
            .await?;
        s.is_locked().await
    }

    async fn claim(&self, key: &str, hold: Duration) -> Result<Claimed> {
        self.at(key).await?.s().claim(key, hold).await
    }

    async fn release(&self, key: &str, claim: Claim, refreshed: bool) -> Result<()> {
        self.at(key).await?.s().release(key, claim, refreshed).await
    }
}
