//! The HTTP API of OpenBao / HashiCorp Vault, as much as Keyport needs: token or AppRole
//! login, the KV v2 mount check, and reading, writing (with check-and-set), listing and
//! deleting one entry. Spoken with the engine's own reqwest client: `vaultrs` 0.8.0, the
//! kept client crate, is built on reqwest 0.13 while Keyport is on reqwest 0.12, and a
//! second reqwest (and a second rustls setup) in every binary is not worth five requests.

use super::Address;
use crate::http::{read_body, Http};
use crate::secret::{ExposeSecret, SecretString};
use crate::{Error, Result};
use serde_json::{json, Value};
use tokio::sync::OnceCell;

/// What the server's exact words for a lost check-and-set are (HTTP 400).
const CAS_MISMATCH: &str = "check-and-set parameter did not match the current version";

/// How Keyport logs in: a token (`BAO_TOKEN` / `VAULT_TOKEN`), or AppRole
/// (`BAO_ROLE_ID` and `BAO_SECRET_ID`) for servers.
#[derive(Clone, Debug, Default)]
pub struct BaoAuth {
    pub token: Option<SecretString>,
    pub role_id: Option<String>,
    pub secret_id: Option<SecretString>,
    /// `BAO_NAMESPACE` / `VAULT_NAMESPACE`, where the server has namespaces.
    pub namespace: Option<String>,
}

/// One entry as read: its data and version (`0`: there is none).
pub(crate) struct Read {
    pub data: Option<Value>,
    pub version: u64,
}

pub(crate) struct Client {
    pub address: Address,
    auth: BaoAuth,
    http: Http,
    token: OnceCell<SecretString>,
    checked: OnceCell<()>,
}

impl Client {
    pub fn new(address: Address, auth: BaoAuth) -> Client {
        Client {
            address,
            auth,
            http: Http::default(),
            token: OnceCell::new(),
            checked: OnceCell::new(),
        }
    }

    fn fail(&self, detail: impl Into<String>) -> Error {
        Error::SharedStore {
            address: self.address.to_string(),
            detail: detail.into(),
        }
    }

    async fn token(&self) -> Result<&SecretString> {
        self.token
            .get_or_try_init(|| async {
                if let Some(t) = &self.auth.token {
                    return Ok(t.clone());
                }
                let (Some(role), Some(secret)) = (&self.auth.role_id, &self.auth.secret_id) else {
                    return Err(self.fail(
                        "needs a login: set BAO_TOKEN (or VAULT_TOKEN), or BAO_ROLE_ID and BAO_SECRET_ID for AppRole.",
                    ));
                };
                let body = json!({"role_id": role, "secret_id": secret.expose_secret()});
                let (status, v) = self.raw("POST", "auth/approle/login", Some(body), None).await?;
                match v["auth"]["client_token"].as_str() {
                    Some(t) if status == 200 => Ok(crate::secret::secret(t)),
                    _ => Err(self.fail(format!(
                        "refused the AppRole login (HTTP {status}: {}); check BAO_ROLE_ID and BAO_SECRET_ID.",
                        errors(&v)
                    ))),
                }
            })
            .await
    }

    /// One request to `/v1/{path}` with Keyport's login.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value)> {
        let token = self.token().await?;
        self.raw(method, path, body, Some(token)).await
    }

    /// One request to `/v1/{path}`; the status and the JSON answer (`null` when empty).
    async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&SecretString>,
    ) -> Result<(u16, Value)> {
        let url = format!("{}/v1/{path}", self.address.base);
        let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        if let Some(t) = token {
            headers.push(("X-Vault-Token".into(), t.expose_secret().to_owned()));
        }
        if let Some(ns) = &self.auth.namespace {
            headers.push(("X-Vault-Namespace".into(), ns.clone()));
        }
        let body = body.map(|b| bytes::Bytes::from(b.to_string()));
        let resp = self
            .http
            .send(method, &url, &headers, body)
            .await
            .map_err(|e| {
                self.fail(format!(
                    "could not be reached ({e}). Check the address and that the server runs."
                ))
            })?;
        let status = resp.status().as_u16();
        let bytes = read_body(resp, &url, 4 << 20).await?;
        let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, v))
    }

    /// Refusals every call shares: a bad token, a sealed server.
    fn judge(&self, status: u16, v: &Value) -> Result<()> {
        match status {
            200..=299 => Ok(()),
            401 | 403 => Err(self.fail(format!(
                "refused Keyport's token ({}); check BAO_TOKEN (or the AppRole) and that its policy allows {}/data/{}/*. Nothing was written.",
                errors(v),
                self.address.mount,
                self.address.prefix
            ))),
            503 => Err(self.fail("is sealed or not ready; unseal it and try again.")),
            s => Err(self.fail(format!("answered HTTP {s} ({}).", errors(v)))),
        }
    }

    /// The mount must be KV version 2: version 1 ignores check-and-set, so two computers
    /// could both refresh and one rotated refresh token would be lost.
    pub async fn check_mount(&self) -> Result<()> {
        self.checked
            .get_or_try_init(|| async {
                let mount = &self.address.mount;
                let (status, v) = self.call("GET", &format!("{mount}/config"), None).await?;
                let text = errors(&v);
                match status {
                    200 if v["data"].get("max_versions").is_some()
                        || v["data"].get("cas_required").is_some() =>
                    {
                        Ok(())
                    }
                    404 if text.contains("no handler for route") => Err(self.fail(format!(
                        "has no secrets engine mounted at '{mount}/'; enable one with `bao secrets enable -path={mount} -version=2 kv`, or give the right mount. Nothing was written."
                    ))),
                    200 | 404 => Err(self.fail(format!(
                        "mounts '{mount}/' as KV version 1, which ignores check-and-set, so a refresh could not be made exactly once; upgrade it (`bao kv enable-versioning {mount}`) or use a KV version 2 mount. Nothing was written."
                    ))),
                    s => self.judge(s, &v),
                }
            })
            .await
            .map(|_| ())
    }

    fn data_path(&self, key: &str) -> String {
        format!("{}/data/{}", self.address.mount, self.address.key(key))
    }

    pub async fn read(&self, key: &str) -> Result<Read> {
        self.check_mount().await?;
        let (status, v) = self.call("GET", &self.data_path(key), None).await?;
        let version = v["data"]["metadata"]["version"].as_u64().unwrap_or(0);
        if status == 404 {
            // A deleted latest version still has a number that check-and-set names.
            return Ok(Read {
                data: None,
                version,
            });
        }
        self.judge(status, &v)?;
        let data = v["data"]["data"].clone();
        Ok(Read {
            data: (!data.is_null()).then_some(data),
            version,
        })
    }

    /// Writes `data` only over version `cas` (`0`: only if there is none); the new version.
    pub async fn write(&self, key: &str, data: &Value, cas: u64) -> Result<u64> {
        self.check_mount().await?;
        let body = json!({"options": {"cas": cas}, "data": data});
        let (status, v) = self.call("POST", &self.data_path(key), Some(body)).await?;
        if status == 400 && errors(&v).contains(CAS_MISMATCH) {
            return Err(Error::Conflict {
                detail: format!("version {cas} of '{key}' was replaced"),
            });
        }
        self.judge(status, &v)?;
        v["data"]["version"].as_u64().ok_or_else(|| {
            self.fail("answered a write without a version; is the mount KV version 2?")
        })
    }

    /// Removes the entry with every version (so a new one starts at check-and-set 0).
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.check_mount().await?;
        let path = format!("{}/metadata/{}", self.address.mount, self.address.key(key));
        let (status, v) = self.call("DELETE", &path, None).await?;
        if status == 404 {
            return Ok(());
        }
        self.judge(status, &v)
    }

    /// The names under the prefix.
    pub async fn list(&self) -> Result<Vec<String>> {
        self.check_mount().await?;
        let path = format!(
            "{}/metadata/{}?list=true",
            self.address.mount, self.address.prefix
        );
        let (status, v) = self.call("GET", &path, None).await?;
        if status == 404 {
            return Ok(Vec::new());
        }
        self.judge(status, &v)?;
        Ok(v["data"]["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k.as_str())
            .filter(|k| !k.ends_with('/'))
            .map(str::to_owned)
            .collect())
    }
}

/// The server's `errors`, joined (they never hold a secret).
fn errors(v: &Value) -> String {
    v["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}
