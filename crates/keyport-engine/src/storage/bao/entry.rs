//! The shared store as both interfaces: the entry's `secrets` behind [`SecretStore`], its
//! `connection` behind [`MetadataStore`], its `claim` as the single-flight claim.

use super::client::{BaoAuth, Client, Read};
use super::Address;
use crate::model::{Connection, Registration};
use crate::secret::{secret, ExposeSecret, SecretString};
use crate::storage::{
    Change, Claim, Claimed, MetadataStore, SecretSession, SecretStore, Versioned,
};
use crate::{Error, Result};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// How often a waiting refresher looks again, and how long it waits at most beyond a
/// claim's time.
const POLL: Duration = Duration::from_millis(150);
const PATIENCE: Duration = Duration::from_secs(90);
/// A write that lost only to an unrelated change is made again this many times.
const RETRIES: usize = 20;

#[derive(Clone)]
pub(crate) struct Bao(Arc<Client>);

impl Bao {
    pub fn new(address: Address, auth: BaoAuth) -> Bao {
        Bao(Arc::new(Client::new(address, auth)))
    }

    pub fn address(&self) -> &Address {
        &self.0.address
    }

    /// Checks the login and the mount before anything is written.
    pub async fn check(&self) -> Result<()> {
        self.0.check_mount().await
    }

    /// Creates the entry of a connection handed over from a computer: connection and
    /// secrets in one write, only if there is none (check-and-set 0).
    pub async fn create(&self, conn: &Connection, secrets: &SecretString) -> Result<u64> {
        let secrets: Value =
            serde_json::from_str(secrets.expose_secret()).map_err(|e| Error::KeychainData {
                name: conn.name.clone(),
                detail: e.to_string(),
            })?;
        let data = json!({
            "connection": to_value(conn),
            "secrets": secrets,
        });
        let r = self.0.read(&conn.name).await?;
        if r.data.is_some() {
            return Err(Error::AlreadyExists(conn.name.clone()));
        }
        match self.0.write(&conn.name, &data, r.version).await {
            Err(Error::Conflict { .. }) => Err(Error::AlreadyExists(conn.name.clone())),
            other => other,
        }
    }

    /// Read-modify-write of one entry: `f` gets the data (`None`: there is none yet) and
    /// gives the new data (`None`: leave it), or refuses; a check-and-set lost to another writer reads again and retries.
    async fn modify<T>(
        &self,
        key: &str,
        mut f: impl FnMut(Option<&Value>) -> Result<(Option<Value>, T)> + Send,
    ) -> Result<T> {
        let mut last = None;
        for _ in 0..RETRIES {
            let Read { data, version } = self.0.read(key).await?;
            let (new, out) = f(data.as_ref())?;
            let Some(new) = new else {
                return Ok(out);
            };
            match self.0.write(key, &new, version).await {
                Ok(_) => return Ok(out),
                Err(e @ Error::Conflict { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
            tokio::time::sleep(POLL / 3).await;
        }
        Err(last.expect("a write was tried"))
    }
}

/// The entry's connection, marked with where it lives (the entry itself keeps no address:
/// it is wherever it is read from).
fn connection_of(name: &str, data: &Value, address: &Address) -> Result<Option<Connection>> {
    match data.get("connection") {
        None | Some(Value::Null) => Ok(None),
        Some(c) => serde_json::from_value::<Connection>(c.clone())
            .map(|c| {
                Some(Connection {
                    store: Some(address.to_string()),
                    ..c
                })
            })
            .map_err(|e| Error::KeychainData {
                name: name.into(),
                detail: format!("its shared entry's connection is unreadable ({e})"),
            }),
    }
}

fn to_value(c: &Connection) -> Value {
    let c = Connection {
        store: None,
        ..c.clone()
    };
    serde_json::to_value(&c).expect("a connection serialises")
}

/// A claim that is someone's and still running.
fn live_claim(data: &Value) -> Option<&Value> {
    let c = data.get("claim").filter(|c| c.is_object())?;
    (c["until"].as_i64().unwrap_or(0) > crate::time::now()).then_some(c)
}

#[async_trait]
impl SecretStore for Bao {
    async fn session(&self) -> Result<Box<dyn SecretSession>> {
        self.0.check_mount().await?;
        Ok(Box::new(self.clone()))
    }
}

#[async_trait]
impl SecretSession for Bao {
    async fn read(&self, key: &str) -> Result<Option<Versioned>> {
        let r = self.0.read(key).await?;
        let Some(s) = r.data.as_ref().and_then(|d| d.get("secrets")) else {
            return Ok(None);
        };
        Ok(Some(Versioned {
            value: secret(s.to_string()),
            version: r.version,
        }))
    }

    async fn write(
        &self,
        key: &str,
        _label: &str,
        value: &SecretString,
        cas: Option<u64>,
    ) -> Result<u64> {
        let secrets: Value = serde_json::from_str(value.expose_secret()).map_err(|e| {
            Error::Unsupported(format!("Keyport's secrets did not serialise ({e})."))
        })?;
        let write = |r: Read| {
            let mut data = r.data.unwrap_or_else(|| json!({}));
            data["secrets"] = secrets.clone();
            (data, r.version)
        };
        match cas {
            // Under a claim: exactly over the version the claim was written at.
            Some(v) => {
                let r = self.0.read(key).await?;
                if r.version != v {
                    return Err(Error::Conflict {
                        detail: format!("'{key}' is at version {}, not {v}", r.version),
                    });
                }
                let (data, version) = write(r);
                self.0.write(key, &data, version).await
            }
            None => {
                for _ in 0..RETRIES {
                    let (data, version) = write(self.0.read(key).await?);
                    match self.0.write(key, &data, version).await {
                        Err(Error::Conflict { .. }) => tokio::time::sleep(POLL / 3).await,
                        other => return other,
                    }
                }
                Err(Error::Conflict {
                    detail: format!("'{key}' kept changing"),
                })
            }
        }
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.0.delete(key).await
    }

    async fn is_locked(&self) -> Result<bool> {
        Ok(false)
    }

    async fn claim(&self, key: &str, hold: Duration) -> Result<Claimed> {
        let started = std::time::Instant::now();
        let mut waited = false;
        loop {
            let Read { data, version } = self.0.read(key).await?;
            let Some(mut data) = data else {
                // No entry yet: creating it with check-and-set 0 is the claim.
                return Ok(Claimed::Won(Claim {
                    version: Some(0),
                    id: None,
                    taken_over: None,
                    _held: None,
                }));
            };
            if live_claim(&data).is_some() {
                if started.elapsed() > hold + PATIENCE {
                    let by = data["claim"]["by"].as_str().unwrap_or("another computer");
                    return Err(Error::Conflict {
                        detail: format!("{by} holds the refresh of '{key}' and does not finish"),
                    });
                }
                waited = true;
                tokio::time::sleep(POLL).await;
                continue;
            }
            // The claim waited on was given up: its refresh is done, read again. One that
            // only ran out (its host died or stalls) is taken over below.
            if waited && data.get("claim").is_none_or(|c| c.is_null()) {
                return Ok(Claimed::Waited);
            }
            let taken_over = data["claim"]["by"].as_str().map(str::to_owned);
            let id = crate::oauth::random_token(12);
            let until = crate::time::now() + hold.as_secs() as i64;
            data["claim"] = json!({"until": until, "by": crate::storage::who(), "id": id});
            match self.0.write(key, &data, version).await {
                Ok(v) => {
                    return Ok(Claimed::Won(Claim {
                        version: Some(v),
                        id: Some(id),
                        taken_over,
                        _held: None,
                    }))
                }
                // Someone wrote first (most likely their claim): wait for it.
                Err(Error::Conflict { .. }) => waited = true,
                Err(e) => return Err(e),
            }
        }
    }

    async fn release(&self, key: &str, claim: Claim, _refreshed: bool) -> Result<()> {
        let Some(id) = claim.id else {
            return Ok(());
        };
        self.modify(key, |data| {
            let Some(data) = data else {
                return Ok((None, ()));
            };
            // Taken over meanwhile: the claim is someone else's now.
            if data["claim"]["id"].as_str() != Some(id.as_str()) {
                return Ok((None, ()));
            }
            let mut d = data.clone();
            if let Some(o) = d.as_object_mut() {
                o.remove("claim");
            }
            Ok((Some(d), ()))
        })
        .await
    }
}

#[async_trait]
impl MetadataStore for Bao {
    fn location(&self) -> String {
        format!("the shared store {}", self.0.address)
    }

    async fn list(&self) -> Result<Vec<Connection>> {
        let mut out = Vec::new();
        for name in self.0.list().await? {
            if let Some(data) = self.0.read(&name).await?.data {
                out.extend(connection_of(&name, &data, &self.0.address)?);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn get(&self, name: &str) -> Result<Connection> {
        crate::model::validate_name(name)?;
        let data = self.0.read(name).await?.data;
        data.as_ref()
            .map(|d| connection_of(name, d, &self.0.address))
            .transpose()?
            .flatten()
            .ok_or_else(|| Error::NotFound(name.into()))
    }

    async fn ensure_new(&self, name: &str, replace: bool) -> Result<()> {
        match self.get(name).await {
            Ok(_) if !replace => Err(Error::AlreadyExists(name.into())),
            Ok(_) | Err(Error::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn put(&self, conn: Connection) -> Result<()> {
        let value = to_value(&conn);
        self.modify(&conn.name.clone(), |data| {
            let mut d = data.cloned().unwrap_or_else(|| json!({}));
            d["connection"] = value.clone();
            Ok((Some(d), ()))
        })
        .await
    }

    async fn remove(&self, name: &str) -> Result<()> {
        self.0.delete(name).await
    }

    async fn update_connection(&self, name: &str, f: Change<'_>) -> Result<Connection> {
        self.modify(name, |data| {
            let Some(data) = data else {
                return Err(Error::NotFound(name.into()));
            };
            let mut c = connection_of(name, data, &self.0.address)?
                .ok_or_else(|| Error::NotFound(name.into()))?;
            f(&mut c);
            let mut d = data.clone();
            d["connection"] = to_value(&c);
            Ok((Some(d), c))
        })
        .await
    }

    /// App registrations stay on the computer that connects; a shared store keeps none.
    async fn registrations(&self) -> Result<Vec<Registration>> {
        Ok(Vec::new())
    }

    async fn remember(&self, _reg: Registration) -> Result<bool> {
        Ok(false)
    }
}
