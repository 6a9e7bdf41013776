//! Changing what a person said about a connection (its note, client, base URL, test path,
//! an admin-issued token's expiry) without touching its secrets, and the form that signs
//! it in again with its saved registration.

use crate::http::{checked_url, excerpt};
use crate::input::Form;
use crate::model::Registration;
use crate::time::parse_date_end;
use crate::vendors::{self, Field, Kind};
use crate::{ConnectionView, Error, Keyport, Result};
use serde::Deserialize;

/// What to change; `None` leaves a value as it is, an empty string clears it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Edit {
    pub note: Option<String>,
    pub client: Option<String>,
    pub base_url: Option<String>,
    pub test_path: Option<String>,
    /// An admin-issued token's last day, `YYYY-MM-DD`.
    pub expires: Option<String>,
}

/// A reconnect: the form to sign in again with, and the secret fields it still lacks
/// (the caller asks for these; everything else comes from what is stored).
pub struct Reconnect {
    pub form: Form,
    pub missing: Vec<&'static Field>,
}

fn cleared(v: &Option<String>) -> Option<Option<String>> {
    v.as_ref()
        .map(|s| Some(s.trim().to_owned()).filter(|s| !s.is_empty()))
}

impl Keyport {
    /// Changes the note, client, base URL, test path or expiry; nothing else, no secret.
    pub async fn edit(&self, name: &str, edit: Edit) -> Result<ConnectionView> {
        let conn = self.store.get(name).await?;
        let vendor = vendors::find(&conn.vendor)?;
        let base_url = match cleared(&edit.base_url) {
            Some(Some(u)) => Some(Some(
                checked_url(&u, "base URL")?
                    .as_str()
                    .trim_end_matches('/')
                    .to_owned(),
            )),
            Some(None) if vendor.default_base().is_none() && conn.oauth.is_none() => {
                return Err(Error::input(format!(
                    "{} needs a base URL; give the new one instead of clearing it.",
                    vendor.label()
                )))
            }
            other => other,
        };
        let expires_at = match cleared(&edit.expires) {
            Some(_) if vendor.kind() == Kind::Oauth => {
                return Err(Error::input(
                    "An OAuth connection's expiry comes from the vendor with each token; only an admin-issued token's date can be set.",
                ))
            }
            Some(Some(d)) => Some(Some(parse_date_end(&d).ok_or_else(|| {
                Error::input(format!(
                    "'{}' is not a date; give the expiry as YYYY-MM-DD, e.g. 2026-12-31.",
                    excerpt(&d)
                ))
            })?)),
            Some(None) => Some(None),
            None => None,
        };
        let changed: Vec<&str> = [
            ("note", &edit.note),
            ("client", &edit.client),
            ("base URL", &edit.base_url),
            ("test path", &edit.test_path),
            ("expiry", &edit.expires),
        ]
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| *k)
        .collect();
        let c = self
            .store
            .update_connection(name, &mut |c| {
                if let Some(v) = cleared(&edit.note) {
                    c.note = v;
                }
                if let Some(v) = cleared(&edit.client) {
                    c.client = v;
                }
                if let Some(v) = base_url.clone() {
                    c.base_url = v;
                }
                if let Some(v) = cleared(&edit.test_path) {
                    c.test_path = v;
                }
                if let Some(v) = expires_at {
                    c.expires_at = v;
                    c.notified.clear();
                }
            })
            .await?;
        let detail = Some(changed.join(", "));
        self.record(name, crate::activity::EventKind::Edited, true, detail);
        Ok(ConnectionView::of(c))
    }

    /// The form that signs `name` in again under the same name, from its saved app
    /// registration and stored secrets: only the browser step is left, and any secret
    /// field listed in `missing`.
    pub async fn reconnect_form(&self, name: &str) -> Result<Reconnect> {
        let conn = &self.store.get(name).await?;
        let registrations = self.store.registrations().await?;
        let vendor = vendors::find(&conn.vendor)?;
        let Some(meta) = &conn.oauth else {
            return self.readd_form(conn, vendor).await;
        };
        // The registration it signed in with: same vendor and client ID (its authority is
        // part of the values it remembers).
        let saved: Option<&Registration> = registrations
            .iter()
            .find(|r| r.vendor == conn.vendor && r.client_id == meta.client_id);
        let mut values = saved.map(|r| r.values.clone()).unwrap_or_default();
        values.insert("client_id".into(), meta.client_id.clone());
        values
            .entry("redirect_uri".into())
            .or_insert_with(|| meta.redirect_uri.clone());
        values.retain(|k, _| vendor.field(k).is_some());
        let form = Form {
            vendor: conn.vendor.clone(),
            name: name.to_owned(),
            replace: true,
            remember_secret: true,
            reuse_secrets: true,
            note: conn.note.clone().unwrap_or_default(),
            client: conn.client.clone().unwrap_or_default(),
            values,
            ..Form::default()
        };
        let stored = self.vault.session().await?.load(name).await?;
        let has_secret = stored.as_ref().is_some_and(|s| s.client_secret.is_some())
            || saved.is_some_and(|r| r.secret_saved);
        let missing = vendor
            .fields()
            .iter()
            .filter(|f| {
                f.key == "client_secret"
                    && !has_secret
                    && meta.client_auth != crate::model::ClientAuth::None
            })
            .collect();
        Ok(Reconnect { form, missing })
    }

    /// An admin-issued connection with no secrets on this computer (an imported one): the
    /// form that adds it again with its plain values, and every secret field missing.
    async fn readd_form(
        &self,
        conn: &crate::model::Connection,
        vendor: &'static dyn vendors::Vendor,
    ) -> Result<Reconnect> {
        let name = &conn.name;
        if self.vault.session().await?.load(name).await?.is_some() {
            return Err(Error::Unsupported(format!(
                "'{name}' holds a token issued in {}'s admin screen: issue a new one there and replace the token instead of reconnecting.",
                vendor.label()
            )));
        }
        let form = Form {
            vendor: conn.vendor.clone(),
            name: name.clone(),
            replace: true,
            note: conn.note.clone().unwrap_or_default(),
            client: conn.client.clone().unwrap_or_default(),
            values: vendor.admin_form(conn),
            ..Form::default()
        };
        let missing = vendor
            .fields()
            .iter()
            .filter(|f| f.slot.is_some())
            .collect();
        Ok(Reconnect { form, missing })
    }
}
