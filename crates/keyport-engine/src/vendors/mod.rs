//! Vendors, one file each, owning every fact about the vendor: the fields a person fills
//! in, how its OAuth flow differs from the standard (or that its tokens are issued in an
//! admin screen), what it sends back worth keeping, its header set, the cheap read that
//! proves a credential, its deadlines, and how a token is revoked or issued again.
//! Nothing outside this folder names a vendor. Adding one is a new file and a line in
//! [`ALL`].

mod exo;
mod machship;
mod myob;
mod myob_advanced;
mod myob_desktop;
mod o4;
mod oidc;
mod xentral;

use crate::http::Method;
use crate::model::Secrets;
use crate::model::{Account, ClientAuth, Connection};
use crate::secret::{secret, ExposeSecret, SecretString};
use crate::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;

/// Every vendor Keyport knows, in the order people see them.
static ALL: &[&dyn Vendor] = &[
    &myob::Myob,
    &myob_advanced::MyobAdvanced,
    &oidc::Oidc,
    &exo::Exo,
    &xentral::Xentral,
    &o4::O4,
    &machship::MachShip,
    &myob_desktop::MyobDesktop,
];

pub fn all() -> impl Iterator<Item = &'static dyn Vendor> {
    ALL.iter().copied()
}

/// The vendor with this id (case-insensitive), or a sentence listing the ids.
pub fn find(id: &str) -> Result<&'static dyn Vendor> {
    all()
        .find(|v| v.id().eq_ignore_ascii_case(id.trim()))
        .ok_or_else(|| {
            let ids: Vec<_> = all().map(|v| v.id()).collect();
            Error::input(format!(
                "Unknown vendor '{}'. Choose one of: {}.",
                crate::http::excerpt(id),
                ids.join(", ")
            ))
        })
}

/// Where a connection's tokens come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Kind {
    /// Signed in with OAuth 2.0 in the browser; refreshed by Keyport.
    Oauth,
    /// Issued in the vendor's admin screen and given to Keyport.
    Admin,
}

/// Everything Keyport knows about one vendor.
pub trait Vendor: Sync {
    /// The stable id (`keyport connect ID`, the metadata file).
    fn id(&self) -> &'static str;
    fn label(&self) -> &'static str;
    /// One sentence: how its tokens are made.
    fn summary(&self) -> &'static str;
    /// What a person fills in, in order.
    fn fields(&self) -> &'static [Field];
    /// Said before a token is added or a connection made (e.g. unlimited permissions).
    fn warning(&self) -> Option<&'static str> {
        None
    }
    /// How it connects with OAuth; `None` for tokens issued in an admin screen.
    fn oauth(&self) -> Option<&dyn OAuth> {
        None
    }
    /// The full header set for calls to its API; by default the token as a bearer token
    /// (RFC 6750).
    fn headers(&self, conn: &Connection, s: &Secrets) -> Result<Vec<Header>> {
        Ok(vec![Header::bearer(need(&s.access_token, conn, "token")?)])
    }
    /// A request that proves the stored credentials work without changing anything.
    fn probe(&self, conn: &Connection) -> Result<Probe>;
    /// Where its API lives when the person gives no base URL.
    fn default_base(&self) -> Option<&'static str> {
        None
    }
    /// Dates by which a person must act, beyond the access token's own expiry.
    fn deadlines(&self, conn: &Connection) -> Vec<Deadline> {
        standard_deadlines(conn)
    }
    /// What revoking does at the vendor, said before the person confirms.
    fn revoke_note(&self) -> &'static str;
    /// What the person must still do at the vendor once Keyport has revoked what it can.
    fn revoke_steps(&self) -> Option<&'static str> {
        None
    }
    /// How to issue a new token in the vendor's admin screen.
    fn reissue_steps(&self) -> Option<&'static str> {
        None
    }
    /// Checks the values of an admin-issued token's form (beyond each field's own rule).
    fn check_admin(&self, _values: &Values) -> Result<()> {
        Ok(())
    }
    /// What identifies the account from the form (an admin token's company file).
    fn admin_account(&self, _values: &Values) -> Account {
        Account::default()
    }
    /// The plain (non-secret) values of an admin-issued connection's form, from what is
    /// stored: to give it its secrets again (an imported connection) with the rest filled.
    fn admin_form(&self, conn: &Connection) -> BTreeMap<String, String> {
        standard_admin_form(self.fields(), conn)
    }
    /// The non-secret values that say which account and API the connection reaches, in
    /// the order people read them; by default the OpenID ones ([`standard_context`]).
    fn context(&self, conn: &Connection) -> Vec<Detail> {
        standard_context(conn)
    }
    /// How its API's list answers name the next page, where it documents one; `None`: no
    /// paging Keyport knows.
    fn next_page(&self) -> Option<NextPage> {
        None
    }
}

/// The next page's URL from a list answer's JSON body; `None` on the last page.
pub type NextPage = fn(&serde_json::Value) -> Option<String>;

impl dyn Vendor + '_ {
    pub fn kind(&self) -> Kind {
        if self.oauth().is_some() {
            Kind::Oauth
        } else {
            Kind::Admin
        }
    }

    pub fn field(&self, key: &str) -> Option<&'static Field> {
        self.fields().iter().find(|f| f.key == key)
    }
}

impl std::fmt::Debug for dyn Vendor + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// How an OAuth vendor's flow is set up and what it sends back worth keeping.
pub trait OAuth: Sync {
    /// Turns the form's values into a plan for the flow (endpoints, scopes, extras).
    fn plan(&self, values: &Values) -> Result<Plan>;
    /// What to keep from the redirect's extra parameters and the token response.
    fn capture(&self, redirect: &BTreeMap<String, String>, token: &TokenExtras) -> Account {
        let _ = redirect;
        standard_capture(token)
    }
    /// Advice when its API-session logout is refused with `status`.
    fn logout_advice(&self, _status: u16) -> Option<&'static str> {
        None
    }
}

/// The OAuth flow of one connection attempt, as its vendor wants it.
pub struct Plan {
    pub endpoints: Endpoints,
    pub client_id: String,
    pub client_auth: ClientAuth,
    /// `None`: an ephemeral port on 127.0.0.1 (providers that allow any loopback port).
    pub redirect_uri: Option<String>,
    pub scopes: String,
    /// Extra authorization parameters.
    pub authorize_extra: Vec<(String, String)>,
    /// Send `scope` again in the code exchange.
    pub scope_in_exchange: bool,
    pub pkce: Pkce,
    /// Length of the refresh-token chain, when it has one.
    pub chain_days: Option<u32>,
    /// The API-session logout to call before revocation.
    pub logout_url: Option<String>,
    pub base_url: Option<String>,
    pub test_path: Option<String>,
    /// The server the registration belongs to (part of its key).
    pub authority: Option<String>,
}

pub enum Endpoints {
    Fixed {
        authorize: String,
        token: String,
        revocation: Option<String>,
    },
    /// OpenID discovery at `issuer`; a given revocation URL wins over the discovered one.
    Discover {
        issuer: String,
        revocation: Option<String>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pkce {
    /// S256 always (RFC 9700).
    Always,
    /// The vendor documents no PKCE.
    Never,
}

/// The parts of a token response that are not tokens.
#[derive(Debug, Default)]
pub struct TokenExtras {
    /// A `user` object (`uid`, `username`), as MYOB sends.
    pub user: Option<(Option<String>, Option<String>)>,
    /// The ID token's claims (`sub`, `email`, `preferred_username`…), when one came.
    pub id_claims: serde_json::Map<String, serde_json::Value>,
}

/// A header that may carry a secret.
pub struct Header {
    pub name: &'static str,
    pub value: SecretString,
    /// The environment variable `exec` and `env` give its value in, when scripts need it
    /// apart from the token.
    pub env: Option<&'static str>,
}

impl Header {
    pub fn new(name: &'static str, value: impl Into<String>) -> Self {
        Header {
            name,
            value: secret(value),
            env: None,
        }
    }

    /// Names the environment variable its value is given in.
    pub fn env(mut self, var: &'static str) -> Self {
        self.env = Some(var);
        self
    }

    pub fn bearer(token: &SecretString) -> Self {
        Header::new("Authorization", format!("Bearer {}", token.expose_secret()))
    }
}

/// A request that proves the stored credentials work without changing anything.
pub struct Probe {
    pub method: Method,
    pub url: String,
}

impl Probe {
    pub fn get(url: String) -> Self {
        Probe {
            method: Method::Get,
            url,
        }
    }
}

pub use crate::model::Slot;

mod field;
mod standard;
pub use field::{common, Field, Input};
pub use standard::{
    standard_admin_form, standard_capture, standard_context, standard_deadlines, Deadline, Detail,
};

/// A form's values after the fields' rules: defaults applied, required ones present,
/// URLs, numbers and dates checked; secrets in their keychain slots.
#[derive(Default)]
pub struct Values {
    plain: BTreeMap<&'static str, String>,
    pub secrets: Secrets,
}

impl Values {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.plain.get(key).map(String::as_str)
    }

    pub fn set(&mut self, key: &'static str, value: String) {
        self.plain.insert(key, value);
    }

    /// The values a registration remembers.
    pub fn remembered(&self, fields: &[Field]) -> BTreeMap<String, String> {
        fields
            .iter()
            .filter(|f| f.remember)
            .filter_map(|f| Some((f.key.to_owned(), self.get(f.key)?.to_owned())))
            .collect()
    }

    /// `key=value` lines of a `lines` field.
    pub fn pairs(&self, key: &str) -> Vec<(String, String)> {
        self.get(key)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect()
    }

    /// A secret the vendor needs at this point.
    pub fn secret(&self, slot: Slot) -> Option<&SecretString> {
        let s = &self.secrets;
        match slot {
            Slot::Token => s.access_token.as_ref(),
            Slot::ClientSecret => s.client_secret.as_ref(),
            Slot::Username => s.username.as_ref(),
            Slot::Password => s.password.as_ref(),
            Slot::ApiKey => s.api_key.as_ref(),
        }
    }
}

/// A secret a header needs, or the sentence for a damaged entry.
pub(crate) fn need<'a>(
    v: &'a Option<SecretString>,
    conn: &Connection,
    what: &str,
) -> Result<&'a SecretString> {
    v.as_ref().ok_or_else(|| Error::KeychainData {
        name: conn.name.clone(),
        detail: format!("the {what} is missing"),
    })
}

/// `base` + `/` + `path`, with one slash between.
pub fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// The connection's base URL, else the vendor's default.
pub(crate) fn base<'a>(v: &'a dyn Vendor, conn: &'a Connection) -> Result<&'a str> {
    conn.base_url
        .as_deref()
        .or(v.default_base())
        .ok_or_else(|| {
            Error::input("This connection has no base URL; add it again with its base URL.")
        })
}

#[cfg(test)]
pub(crate) mod tests;
