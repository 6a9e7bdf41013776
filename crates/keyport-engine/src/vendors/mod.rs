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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Account, ClientAuth, Health, OAuthMeta};

    fn conn(vendor: VendorId) -> Connection {
        Connection {
            name: "c".into(),
            vendor,
            created_at: 0,
            health: Health::Ok,
            oauth: (vendor.kind() == Kind::OAuth).then(|| OAuthMeta {
                client_id: "api-key".into(),
                authorize_url: String::new(),
                token_url: String::new(),
                revocation_url: None,
                logout_url: None,
                issuer: None,
                redirect_uri: String::new(),
                scopes: String::new(),
                client_auth: ClientAuth::Post,
                has_refresh_token: true,
                chain_started_at: None,
                chain_days: None,
            }),
            account: Account {
                business_id: Some("cf-1".into()),
                ..Account::default()
            },
            base_url: Some("https://base.example".into()),
            test_path: Some("/api/orderstatus".into()),
            expires_at: None,
            consented_at: None,
            last_refresh: None,
            note: None,
            notified: vec![],
        }
    }

    fn secrets() -> Secrets {
        Secrets {
            access_token: Some("tok".into()),
            refresh_token: Some("rt".into()),
            client_secret: Some("cs".into()),
            username: Some("user".into()),
            password: Some("pass".into()),
            api_key: Some("devkey".into()),
        }
    }

    fn header_set(v: VendorId) -> Vec<String> {
        headers(&conn(v), &secrets())
            .expect("headers")
            .into_iter()
            .map(|h| format!("{}: {}", h.name, h.value.expose()))
            .collect()
    }

    #[test]
    fn every_vendor_has_its_documented_header_set() {
        let basic = format!("Basic {}", crate::http::b64_pair("user", "pass"));
        let cf = crate::http::b64_pair("user", "pass");
        assert_eq!(
            header_set(VendorId::Myob),
            [
                "Authorization: Bearer tok".to_owned(),
                "x-myobapi-key: api-key".into(),
                "x-myobapi-version: v2".into(),
                format!("x-myobapi-cftoken: {cf}"),
            ]
        );
        assert_eq!(
            header_set(VendorId::MyobAdvanced),
            ["Authorization: Bearer tok"]
        );
        assert_eq!(header_set(VendorId::Oidc), ["Authorization: Bearer tok"]);
        assert_eq!(
            header_set(VendorId::Exo),
            [
                format!("Authorization: {basic}"),
                "x-myobapi-key: devkey".into(),
                "x-myobapi-exotoken: tok".into(),
            ]
        );
        assert_eq!(
            header_set(VendorId::Xentral),
            ["Authorization: Bearer tok", "Accept: application/json"]
        );
        assert_eq!(header_set(VendorId::O4), ["Authorization: Bearer tok"]);
        assert_eq!(header_set(VendorId::Machship), ["token: tok"]);
        assert_eq!(
            header_set(VendorId::MyobDesktop),
            [
                format!("x-myobapi-cftoken: {cf}"),
                "x-myobapi-version: v2".into()
            ]
        );
    }

    #[test]
    fn cheap_reads_never_reissue_and_follow_the_vendor() {
        let url = |v| probe(&conn(v)).expect("probe").url;
        assert_eq!(
            url(VendorId::Myob),
            "https://base.example/accountright/cf-1/"
        );
        assert_eq!(url(VendorId::MyobAdvanced), "https://base.example/entity");
        assert_eq!(url(VendorId::Exo), "https://base.example/debtor?pagesize=1");
        assert!(!url(VendorId::Exo).contains("/token"));
        assert_eq!(
            url(VendorId::Xentral),
            "https://base.example/api/v3/products?perPage=1"
        );
        assert_eq!(url(VendorId::O4), "https://base.example/api/orderstatus");
        assert_eq!(
            url(VendorId::Machship),
            "https://base.example/authenticate/ping"
        );
        assert!(matches!(
            probe(&conn(VendorId::Machship)).expect("probe").method,
            Method::Post
        ));
        let mut no_key = secrets();
        no_key.api_key = None;
        assert!(matches!(
            headers(&conn(VendorId::Exo), &no_key),
            Err(Error::KeychainData { .. })
        ));
    }
}
