//! Vendor facts, one module each: endpoints, header sets, the cheap read that proves a
//! credential works, and how to kill a token at the source. A correction to a vendor's
//! behaviour touches its own file.

mod advanced;
mod manual;
mod myob;
mod oidc;

pub use advanced::{
    check_client_id as check_advanced_client_id, instance_discovery_url,
    logout_url as advanced_logout_url, DEFAULT_CHAIN_DAYS,
    DEFAULT_SCOPES as ADVANCED_DEFAULT_SCOPES,
};
pub use myob::{
    AUTHORIZE_PATH as MYOB_AUTHORIZE_PATH, LEGACY_SCOPE as MYOB_LEGACY_SCOPE, MYOB_API_BASE,
    MYOB_AUTH_BASE, TOKEN_PATH as MYOB_TOKEN_PATH,
};

pub fn myob_reconsent_days() -> i64 {
    myob::RECONSENT_DAYS
}

use crate::http::Method;
use crate::secret::SecretString;
use crate::store::Connection;
use crate::vault::Secrets;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum VendorId {
    /// MYOB Business API (AccountRight online, MYOB Business), OAuth 2.0.
    Myob,
    /// MYOB Advanced (Acumatica), OAuth 2.0 / OIDC with rotating refresh tokens.
    MyobAdvanced,
    /// Any OAuth 2.0 / OpenID Connect provider.
    Oidc,
    /// MYOB Exo API: integration user + developer key + Exo token from Exo Config.
    Exo,
    /// Xentral personal access token.
    Xentral,
    /// O4 bearer token.
    O4,
    /// MachShip API token.
    Machship,
    /// MYOB AccountRight desktop company file on the local API (no OAuth).
    MyobDesktop,
}

/// Where a connection's tokens come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    OAuth,
    /// Issued in the vendor's admin screen and pasted into Keyport.
    Manual,
}

/// A header that may carry a secret.
pub struct Header {
    pub name: &'static str,
    pub value: SecretString,
}

/// A request that proves the stored credentials work without changing anything.
pub struct Probe {
    pub method: Method,
    pub url: String,
}

impl VendorId {
    pub const ALL: [VendorId; 8] = [
        VendorId::Myob,
        VendorId::MyobAdvanced,
        VendorId::Oidc,
        VendorId::Exo,
        VendorId::Xentral,
        VendorId::O4,
        VendorId::Machship,
        VendorId::MyobDesktop,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            VendorId::Myob => "myob",
            VendorId::MyobAdvanced => "myob-advanced",
            VendorId::Oidc => "oidc",
            VendorId::Exo => "exo",
            VendorId::Xentral => "xentral",
            VendorId::O4 => "o4",
            VendorId::Machship => "machship",
            VendorId::MyobDesktop => "myob-desktop",
        }
    }

    pub fn parse(s: &str) -> Result<VendorId> {
        Self::ALL
            .into_iter()
            .find(|v| v.slug().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let all: Vec<_> = Self::ALL.iter().map(|v| v.slug()).collect();
                Error::input(format!(
                    "Unknown vendor '{s}'. Choose one of: {}.",
                    all.join(", ")
                ))
            })
    }

    pub fn label(self) -> &'static str {
        match self {
            VendorId::Myob => "MYOB Business API",
            VendorId::MyobAdvanced => "MYOB Advanced",
            VendorId::Oidc => "OAuth 2.0 / OIDC",
            VendorId::Exo => "MYOB Exo",
            VendorId::Xentral => "Xentral",
            VendorId::O4 => "O4",
            VendorId::Machship => "MachShip",
            VendorId::MyobDesktop => "MYOB AccountRight (desktop)",
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            VendorId::Myob | VendorId::MyobAdvanced | VendorId::Oidc => Kind::OAuth,
            _ => Kind::Manual,
        }
    }

    /// What revoking does at the vendor, said before the user confirms.
    pub fn revoke_note(self) -> &'static str {
        match self {
            VendorId::Myob => myob::REVOKE_NOTE,
            VendorId::MyobAdvanced => advanced::REVOKE_NOTE,
            VendorId::Oidc => oidc::REVOKE_NOTE,
            other => manual::facts(other).revoke_steps,
        }
    }

    /// The vendor's own steps to issue a new token, for tokens made in an admin screen.
    pub fn reissue_steps(self) -> Option<&'static str> {
        (self.kind() == Kind::Manual).then(|| manual::facts(self).reissue_steps)
    }

    /// Said when a token is added (Xentral's unlimited permissions).
    pub fn add_warning(self) -> Option<&'static str> {
        (self.kind() == Kind::Manual)
            .then(|| manual::facts(self).add_warning)
            .flatten()
    }

    /// The base URL used when the user gives none.
    pub fn default_base(self) -> Option<&'static str> {
        match self {
            VendorId::Myob => Some(MYOB_API_BASE),
            VendorId::MyobAdvanced | VendorId::Oidc => None,
            other => manual::facts(other).default_base,
        }
    }

    /// Which secrets `keyport add` asks for, in order, with a prompt each.
    pub fn manual_fields(self) -> &'static [ManualField] {
        if self.kind() == Kind::Manual {
            manual::facts(self).fields
        } else {
            &[]
        }
    }
}

impl std::fmt::Display for VendorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.slug())
    }
}

/// A secret a manual vendor needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ManualField {
    Token,
    Username,
    Password,
    ApiKey,
}

impl ManualField {
    pub fn prompt(self, vendor: VendorId) -> &'static str {
        manual::field_prompt(vendor, self)
    }
}

fn need<'a>(
    v: &'a Option<SecretString>,
    name: &Connection,
    what: &str,
) -> Result<&'a SecretString> {
    v.as_ref().ok_or_else(|| Error::KeychainData {
        name: name.name.clone(),
        detail: format!("the {what} is missing"),
    })
}

fn bearer(token: &SecretString) -> SecretString {
    SecretString::new(format!("Bearer {}", token.expose()))
}

/// The full header set for calls to the vendor's API.
pub fn headers(conn: &Connection, s: &Secrets) -> Result<Vec<Header>> {
    Ok(match conn.vendor {
        VendorId::Myob => myob::headers(conn, s)?,
        VendorId::MyobAdvanced | VendorId::Oidc | VendorId::O4 => vec![Header {
            name: "Authorization",
            value: bearer(need(&s.access_token, conn, "access token")?),
        }],
        other => manual::headers(other, conn, s)?,
    })
}

/// The cheap read `keyport test` makes.
pub fn probe(conn: &Connection) -> Result<Probe> {
    match conn.vendor {
        VendorId::Myob => myob::probe(conn),
        VendorId::MyobAdvanced => advanced::probe(conn),
        VendorId::Oidc => oidc::probe(conn),
        other => manual::probe(other, conn),
    }
}

pub(crate) fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}
