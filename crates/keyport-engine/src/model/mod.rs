//! What Keyport keeps, whichever store keeps it: a connection (its vendor, account,
//! OAuth endpoints, expiry, health), an app registration, and a connection's secrets.
//! No storage here and no vendor: the stores (`storage/`) and the vendors (`vendors/`)
//! both build on this module, and it on neither.

mod secrets;

pub use secrets::{Secrets, Slot};

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(crate) type Unknown = serde_json::Map<String, serde_json::Value>;

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

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    Post,
    /// HTTP Basic with the form-encoded id and secret (RFC 6749 §2.3.1).
    Basic,
    /// A public client: `client_id` only, PKCE protects the code.
    None,
}

impl ClientAuth {
    pub fn parse(s: &str) -> Option<ClientAuth> {
        match s.trim() {
            "post" | "client_secret_post" => Some(ClientAuth::Post),
            "basic" | "client_secret_basic" => Some(ClientAuth::Basic),
            "none" => Some(ClientAuth::None),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OAuthMeta {
    pub client_id: String,
    pub authorize_url: String,
    pub token_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_url: Option<String>,
    /// A vendor's API-session logout, called before revocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    pub redirect_uri: String,
    pub scopes: String,
    pub client_auth: ClientAuth,
    #[serde(default)]
    pub has_refresh_token: bool,
    /// When the refresh-token chain began (first sign-in), and how long it lives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_started_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_days: Option<u32>,
}

/// Who or what the connection reaches: a company file, a user, an instance.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Account {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// OpenID Connect `sub` and `email` from the ID token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Connection {
    pub name: String,
    /// The vendor's id (`vendors::find`).
    pub vendor: String,
    pub created_at: i64,
    #[serde(default)]
    pub health: Health,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthMeta>,
    #[serde(default)]
    pub account: Account,
    /// The API's base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The path or URL `test` reads, where the vendor publishes no cheap read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_path: Option<String>,
    /// When the access token (or the admin-issued token) stops working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// When the user granted consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consented_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refresh: Option<i64>,
    /// Free text the user gave (whose token it is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The client (customer) the connection works for, to group and filter by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Why the credential could not be tried when it was added (the vendor was not
    /// reachable); cleared by the first test the vendor accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unverified: Option<String>,
    /// Expiry warnings already shown as desktop notifications (`7d`, `1d`, `expired`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notified: Vec<String>,
    /// Where the connection lives when not on this computer: the shared store's address
    /// (this entry is then only a reference; its tokens are there, never here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// Who (`host/user`) made the last refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refresh_by: Option<String>,
    /// Who handed the connection to a shared store, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_at: Option<i64>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// An app registration remembered to prefill the next connection: the vendor's
/// non-secret form values. `authority` (the instance or issuer) is part of its key, so a
/// saved client secret only ever goes back to the server it was saved for.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Registration {
    pub vendor: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    #[serde(default)]
    pub secret_saved: bool,
}

impl Registration {
    /// The keychain key of its saved client secret.
    pub(crate) fn secret_key(&self) -> String {
        format!(
            "app:{}:{}:{}",
            self.vendor,
            self.authority.as_deref().unwrap_or(""),
            self.client_id
        )
    }

    pub(crate) fn same_app(&self, other: &Registration) -> bool {
        self.vendor == other.vendor
            && self.client_id == other.client_id
            && self.authority == other.authority
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
            "'{}' is not a usable connection name: use 1–64 letters, digits, '-', '_' or '.', not starting with '.' or '-'.",
            crate::http::excerpt(name)
        )))
    }
}
