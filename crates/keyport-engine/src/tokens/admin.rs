//! Tokens issued in a vendor's admin screen: tried with the vendor's cheap read, stored
//! (trimmed, in the token syntax), replaced after the person re-issues them at the vendor.

use crate::error::{ActionKind, VendorError};
use crate::http::excerpt;
use crate::input::Form;
use crate::model::Secrets;
use crate::model::{Connection, Health};
use crate::secret::{secret, ExposeSecret, SecretString};
use crate::syntax;
use crate::time::{now, parse_date_end};
use crate::vendors::{self, Kind, Slot, Vendor};
use crate::{ConnectionView, Error, Keyport, Result};

impl Keyport {
    /// Stores an admin-issued token with what goes with it, after trying it with the
    /// vendor's cheap read (unless the form skips the test): a token the vendor refuses
    /// (401/403) is not stored; one that could not be tried is stored as unverified.
    pub async fn add_token(&self, form: Form) -> Result<ConnectionView> {
        let req = self.admin_request(form)?;
        let mut conn = Connection {
            name: req.name,
            vendor: req.vendor.id().to_owned(),
            created_at: now(),
            health: Health::Ok,
            oauth: None,
            account: req.account,
            base_url: Some(req.base_url),
            test_path: req.test_path,
            expires_at: req.expires_at,
            consented_at: None,
            last_refresh: None,
            note: req.note,
            client: req.client,
            unverified: None,
            notified: Vec::new(),
            ..Connection::default()
        };
        if !req.skip_test {
            self.store.ensure_new(&conn.name, req.replace).await?;
            conn.unverified = self.try_credential(req.vendor, &conn, &req.secrets).await?;
        }
        // An admin-issued token is ended in the vendor's admin screen, where ending the old
        // one may also end the new: the replaced one is only deleted here.
        let view = self.store_new(conn, &req.secrets, req.replace).await?.0;
        let detail = view.unverified.as_ref().map(|w| format!("not tried: {w}"));
        self.record(&view.name, crate::activity::EventKind::Added, true, detail);
        Ok(view)
    }

    /// The vendor's cheap read with credentials not yet stored. `Err` when the vendor
    /// refuses them; `Ok(Some(why))` when they could not be tried.
    async fn try_credential(
        &self,
        vendor: &'static dyn Vendor,
        conn: &Connection,
        secrets: &Secrets,
    ) -> Result<Option<String>> {
        let probe = match vendor.probe(conn) {
            Ok(p) => p,
            Err(e) => return Ok(Some(e.to_string())),
        };
        let headers: Vec<(String, String)> = vendor
            .headers(conn, secrets)?
            .into_iter()
            .map(|h| (h.name.to_owned(), h.value.expose_secret().to_owned()))
            .collect();
        let label = vendor.label();
        match self.http.request(probe.method, &probe.url, &headers).await {
            Ok(r) if r.is_success() => Ok(None),
            Ok(r) if matches!(r.status, 401 | 403) => Err(Error::vendor(VendorError {
                vendor: label,
                op: "the token",
                status: r.status,
                detail: Some(excerpt(&r.body)).filter(|d| !d.is_empty()),
                oauth_error: None,
                advice: format!(
                    "Nothing was stored. Copy the whole token again from the vendor's admin screen (or issue a new one) and check the base URL. {}",
                    vendor.reissue_steps().unwrap_or_default()
                )
                .trim_end()
                .to_owned(),
                actions: vec![ActionKind::FixInput],
                name: None,
            })),
            Ok(r) => Ok(Some(format!(
                "{label} answered HTTP {} to {}: {}",
                r.status,
                probe.url,
                excerpt(&r.body)
            ))),
            Err(e) => Ok(Some(e.to_string())),
        }
    }

    /// Replaces an admin-issued token (after re-issuing it at the vendor), keeping the rest.
    /// `expires` is `YYYY-MM-DD`; `None` keeps the date there was.
    pub async fn set_token(
        &self,
        name: &str,
        token: SecretString,
        expires: Option<&str>,
    ) -> Result<ConnectionView> {
        let session = self.vault.session().await?;
        let claim = self.claim(&*session, name).await?;
        let conn = self.store.get(name).await?;
        let vendor = vendors::find(&conn.vendor)?;
        let has_token = vendor.fields().iter().any(|f| f.slot == Some(Slot::Token));
        if vendor.kind() != Kind::Admin || !has_token {
            return Err(Error::Unsupported(format!(
                "{} has no pasted token to replace.",
                vendor.label()
            )));
        }
        let token = syntax::pasted_token("new token", token.expose_secret())?;
        let expires_at = match expires.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => Some(parse_date_end(d).ok_or_else(|| {
                Error::input(format!(
                    "'{}' is not a date; give the expiry as YYYY-MM-DD, e.g. 2026-12-31.",
                    crate::http::excerpt(d)
                ))
            })?),
            None => None,
        };
        // An imported connection has no secrets here yet: the token alone will do where
        // it is the vendor's only secret.
        let mut s = match session.load(name).await? {
            Some(s) => s,
            None => {
                let others: Vec<&str> = vendor
                    .fields()
                    .iter()
                    .filter(|f| f.slot.is_some_and(|s| s != Slot::Token) && f.required)
                    .map(|f| f.label)
                    .collect();
                if !others.is_empty() {
                    return Err(Error::Unsupported(format!(
                        "'{name}' has no secrets on this computer yet, and {} needs more than the token ({}): reconnect it to give them all.",
                        vendor.label(),
                        others.join(", ")
                    )));
                }
                Secrets::default()
            }
        };
        s.access_token = Some(secret(token));
        session
            .save_over(
                name,
                &crate::storage::label(name, vendor.label()),
                &s,
                claim.version,
            )
            .await?;
        let c = self
            .store
            .update_connection(name, &mut |c| {
                c.health = Health::Ok;
                c.notified.clear();
                if expires_at.is_some() {
                    c.expires_at = expires_at;
                }
            })
            .await?;
        session.release(name, claim, false).await?;
        self.record(name, crate::activity::EventKind::TokenReplaced, true, None);
        Ok(ConnectionView::of(c))
    }

    /// Remembers that a desktop notification for `key` was shown.
    pub async fn mark_notified(&self, name: &str, key: &str) -> Result<()> {
        self.store
            .update_connection(name, &mut |c| {
                if !c.notified.iter().any(|k| k == key) {
                    c.notified.push(key.to_owned());
                }
            })
            .await
            .map(drop)
    }

    pub async fn notified(&self, name: &str) -> Result<Vec<String>> {
        Ok(self.store.get(name).await?.notified)
    }
}
