//! Handing tokens out: the token itself, the vendor's header set, a curl command, and
//! the cheap read that proves the credentials work. The fast path reads the metadata file
//! and one keychain entry over one keychain session. Nothing that could split a line or
//! add a header leaves here.

use super::{fresh, one_line};
use crate::http::{excerpt, Method};
use crate::secret::{ExposeSecret, SecretString};
use crate::vendors::{self, join};
use crate::{Keyport, Result, DEFAULT_MIN_VALID};
use serde::Serialize;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TestReport {
    pub ok: bool,
    pub status: Option<u16>,
    pub url: String,
    pub summary: String,
}

impl Keyport {
    /// A valid access token (or admin-issued token), refreshed first when it has less than
    /// `min_valid` seconds left.
    pub async fn token(&self, name: &str, min_valid: i64) -> Result<SecretString> {
        let conn = self.store.get(name).await?;
        if fresh(&conn, min_valid) {
            let session = self.vault.session().await?;
            if let Some(t) = super::secrets_of(&*session, &conn).await?.access_token {
                return one_line(name, t);
            }
        }
        let (t, _) = self.refresh_inner(name, min_valid, false).await?;
        one_line(name, t)
    }

    /// The vendor's full header set, with a fresh token. A long-lived caller (the proxy,
    /// the agent, the window) keeps it in memory while the metadata file is unchanged and
    /// the token fresh, so a request costs no keychain read.
    pub async fn headers(&self, name: &str) -> Result<Vec<(String, SecretString)>> {
        let stamp = self.store.stamp();
        let mut conn = self.store.get(name).await?;
        // A shared connection changes elsewhere too: only a local one is kept in memory.
        let stamp = stamp.filter(|_| conn.store.is_none());
        if fresh(&conn, DEFAULT_MIN_VALID) {
            if let Some(h) = self.handed.get(name, stamp) {
                return Ok(h);
            }
        }
        let headers = self.read_headers(name, &mut conn).await?;
        if fresh(&conn, DEFAULT_MIN_VALID) {
            self.handed.put(name, stamp, &headers);
        }
        Ok(headers)
    }

    async fn read_headers(
        &self,
        name: &str,
        conn: &mut crate::model::Connection,
    ) -> Result<Vec<(String, SecretString)>> {
        let mut secrets = super::secrets_of(&*self.vault.session().await?, conn).await?;
        if !fresh(conn, DEFAULT_MIN_VALID) {
            let (token, current) = self.refresh_inner(name, DEFAULT_MIN_VALID, false).await?;
            secrets.access_token = Some(token);
            *conn = current;
        }
        let vendor = vendors::find(&conn.vendor)?;
        let headers = vendor.headers(conn, &secrets)?;
        for h in &headers {
            let what = format!("the {} header of '{name}'", h.name);
            crate::safe_value(&what, h.value.expose_secret())?;
        }
        Ok(headers
            .into_iter()
            .map(|h| (h.name.to_owned(), h.value))
            .collect())
    }

    /// A ready-to-run curl command that reads the header set from `keyport headers` on its
    /// standard input (`-H @-`): no secret is in it, and none reaches curl's arguments,
    /// which any local process can read in `/proc`.
    pub async fn curl(&self, name: &str, path: Option<&str>) -> Result<String> {
        let conn = self.store.get(name).await?;
        let vendor = vendors::find(&conn.vendor)?;
        let (method, url) = match path {
            Some(p) if p.starts_with("http://") || p.starts_with("https://") => {
                (Method::Get, p.to_owned())
            }
            Some(p) => (
                Method::Get,
                join(vendors::base(vendor, &conn).unwrap_or(""), p),
            ),
            None => match vendor.probe(&conn).ok() {
                Some(p) => (p.method, p.url),
                None => (Method::Get, conn.base_url.clone().unwrap_or_default()),
            },
        };
        let post = if method == Method::Post {
            " -X POST"
        } else {
            ""
        };
        Ok(format!(
            "keyport headers {} | curl -sS{post} -H @- {}",
            shell_quote(name),
            shell_quote(&url)
        ))
    }

    /// Calls the vendor's cheap read with the stored credentials. An OAuth token the vendor
    /// calls unauthorised is refreshed once and the read tried again (a vendor may end a
    /// token before the time it gave). A read the vendor accepts clears "unverified".
    pub async fn test(&self, name: &str) -> Result<TestReport> {
        let conn = self.store.get(name).await?;
        let vendor = vendors::find(&conn.vendor)?;
        let probe = vendor.probe(&conn)?;
        let mut reply = self.probe_once(name, &probe).await?;
        let refreshable = conn.oauth.as_ref().is_some_and(|o| o.has_refresh_token);
        if reply.status == 401 && refreshable {
            self.refresh_inner(name, DEFAULT_MIN_VALID, true).await?;
            reply = self.probe_once(name, &probe).await?;
        }
        if reply.is_success() && conn.unverified.is_some() {
            self.store
                .update_connection(name, &mut |c| c.unverified = None)
                .await?;
        }
        let status = format!("HTTP {}", reply.status);
        self.record(
            name,
            crate::activity::EventKind::Tested,
            reply.is_success(),
            Some(status),
        );
        let label = vendor.label();
        let summary = match reply.status {
            s if (200..300).contains(&s) => format!("{label} accepted the credentials (HTTP {s})."),
            401 | 403 => format!(
                "{label} says unauthorised (HTTP {}): the token or credentials are wrong, expired or revoked. {}",
                reply.status,
                vendor.reissue_steps().unwrap_or("Connect again.")
            ),
            s => format!("{label} answered HTTP {s}: {}", excerpt(&reply.body)),
        };
        Ok(TestReport {
            ok: reply.is_success(),
            status: Some(reply.status),
            url: probe.url,
            summary,
        })
    }

    async fn probe_once(&self, name: &str, probe: &vendors::Probe) -> Result<crate::http::Reply> {
        let headers: Vec<(String, String)> = self
            .headers(name)
            .await?
            .into_iter()
            .map(|(k, v)| (k, v.expose_secret().to_owned()))
            .collect();
        self.http.request(probe.method, &probe.url, &headers).await
    }
}

/// Header sets handed out while the metadata file stays as it was (its modification time
/// and length): any refresh, revoke or new token elsewhere changes it.
#[derive(Default)]
pub(crate) struct HeaderCache(
    std::sync::Mutex<std::collections::HashMap<String, (FileStamp, super::HeaderSet)>>,
);

pub(crate) type FileStamp = Option<(std::time::SystemTime, u64)>;

impl HeaderCache {
    fn get(&self, name: &str, stamp: FileStamp) -> Option<Vec<(String, SecretString)>> {
        stamp?;
        let m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.get(name)
            .filter(|(s, _)| *s == stamp)
            .map(|(_, h)| h.clone())
    }

    fn put(&self, name: &str, stamp: FileStamp, headers: &[(String, SecretString)]) {
        if stamp.is_none() {
            return;
        }
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.insert(name.to_owned(), (stamp, headers.to_vec()));
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
