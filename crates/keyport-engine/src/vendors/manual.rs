//! Vendors whose tokens are issued in their own admin screens. Sources: seeds 000 (Exo),
//! 002 (Xentral), 003 (O4), 001 (AccountRight desktop) and the facts found since.

use super::{bearer, join, need, Header, ManualField, Probe, VendorId};
use crate::http::{b64_pair, basic, Method};
use crate::store::Connection;
use crate::vault::Secrets;
use crate::{Error, Result};

pub struct Facts {
    pub fields: &'static [ManualField],
    pub default_base: Option<&'static str>,
    pub revoke_steps: &'static str,
    pub reissue_steps: &'static str,
    pub add_warning: Option<&'static str>,
}

pub fn facts(v: VendorId) -> &'static Facts {
    match v {
        VendorId::Exo => &EXO,
        VendorId::Xentral => &XENTRAL,
        VendorId::O4 => &O4,
        VendorId::Machship => &MACHSHIP,
        VendorId::MyobDesktop => &DESKTOP,
        VendorId::Myob | VendorId::MyobAdvanced | VendorId::Oidc => {
            unreachable!("{v} is an OAuth vendor")
        }
    }
}

static EXO: Facts = Facts {
    fields: &[ManualField::Username, ManualField::Password, ManualField::ApiKey, ManualField::Token],
    // The cloud API; an on-premises API server (often http://localhost:8888) is given with --base-url.
    default_base: Some("https://exo.api.myob.com"),
    revoke_steps: "In MYOB Exo Config (MYOB Configurator): Staff tab → select the integration user → API tab → untick Allow API Access → Save. The token stops working at once; ticking it again later issues a new one.",
    reissue_steps: "In MYOB Exo Config: Staff tab → find the integration user → API tab → untick Allow API Access → Save → tick Allow API Access → Save. Copy the new token and give it to Keyport with `keyport set-token NAME` (it reads the token from standard input). Exo tokens also end with the yearly module licence.",
    add_warning: None,
};

static XENTRAL: Facts = Facts {
    fields: &[ManualField::Token],
    default_base: None,
    revoke_steps: "In Xentral: click your user name (bottom left) → Account settings → Developer settings → Personal Access Tokens → Edit on this token → Delete token. A deleted token cannot be restored.",
    reissue_steps: "In Xentral: Account settings → Developer settings → Personal Access Tokens → + Create Token, give it a name and an expiry (at most 180 days for new tokens), copy it (it is shown once), then `keyport set-token NAME`.",
    add_warning: Some("Xentral personal access tokens have unlimited permissions on the whole Xentral instance. Keep this one for integrations you fully trust, give it an expiry, and delete it in Xentral when it is no longer needed."),
};

static O4: Facts = Facts {
    fields: &[ManualField::Token],
    default_base: None,
    revoke_steps: "In O4, delete the bearer token where it was made: your own under Security Settings → Authentication; another user's under Configuration → Users → the user → API Tokens; a customer contact's under Contacts → the contact → General → User Keys & Web Access.",
    reissue_steps: "In O4: Security Settings → Authentication → Generate API Bearer Token (or Configuration → Users → API Tokens for another user), name it, set its expiration date, save, then `keyport set-token NAME --expires YYYY-MM-DD`.",
    add_warning: None,
};

static MACHSHIP: Facts = Facts {
    fields: &[ManualField::Token],
    default_base: Some("https://live.machship.com/apiv2"),
    revoke_steps: "In MachShip: your user menu → My API Tokens (or Users → View User → API tokens for another user) → revoke this token.",
    reissue_steps: "In MachShip: My API Tokens → add a new token, copy it (it is shown once), then `keyport set-token NAME`. A token made for a user in test mode is a test token.",
    add_warning: None,
};

static DESKTOP: Facts = Facts {
    fields: &[ManualField::Username, ManualField::Password],
    default_base: Some("http://localhost:8080"),
    revoke_steps: "These are company-file credentials: change the user's password (or remove the user) in AccountRight under Setup → User Access to stop them working.",
    reissue_steps: "Change the company-file user's password in AccountRight (Setup → User Access), then add the connection again with the new password.",
    add_warning: None,
};

pub fn field_prompt(v: VendorId, f: ManualField) -> &'static str {
    match (v, f) {
        (VendorId::Exo, ManualField::Username) => "Exo integration user name",
        (VendorId::Exo, ManualField::Password) => "Exo integration user password",
        (VendorId::Exo, ManualField::ApiKey) => "MYOB developer key (x-myobapi-key)",
        (VendorId::Exo, ManualField::Token) => "Exo API token (Exo Config → Staff → API tab)",
        (VendorId::Xentral, _) => "Xentral personal access token",
        (VendorId::O4, _) => "O4 bearer token",
        (VendorId::Machship, _) => "MachShip API token",
        (VendorId::MyobDesktop, ManualField::Username) => "Company-file user name",
        (VendorId::MyobDesktop, ManualField::Password) => "Company-file password",
        _ => "Secret",
    }
}

pub fn headers(v: VendorId, conn: &Connection, s: &Secrets) -> Result<Vec<Header>> {
    let token = || need(&s.access_token, conn, "token");
    let user = || need(&s.username, conn, "user name");
    let pass = || s.password.as_ref().map(|p| p.expose()).unwrap_or("");
    Ok(match v {
        VendorId::Exo => vec![
            Header {
                name: "Authorization",
                value: basic(user()?.expose(), pass()).into(),
            },
            Header {
                name: "x-myobapi-key",
                value: need(&s.api_key, conn, "developer key")?.clone(),
            },
            Header {
                name: "x-myobapi-exotoken",
                value: token()?.clone(),
            },
        ],
        VendorId::Xentral => vec![
            Header {
                name: "Authorization",
                value: bearer(token()?),
            },
            Header {
                name: "Accept",
                value: "application/json".into(),
            },
        ],
        VendorId::Machship => vec![Header {
            name: "token",
            value: token()?.clone(),
        }],
        VendorId::MyobDesktop => vec![
            Header {
                name: "x-myobapi-cftoken",
                value: b64_pair(user()?.expose(), pass()).into(),
            },
            Header {
                name: "x-myobapi-version",
                value: super::myob::API_VERSION.into(),
            },
        ],
        other => unreachable!("{other} has its own header set"),
    })
}

pub fn probe(v: VendorId, conn: &Connection) -> Result<Probe> {
    let base = conn
        .base_url
        .as_deref()
        .or(facts(v).default_base)
        .ok_or_else(|| {
            Error::input("This connection has no base URL; add it again with --base-url.")
        })?;
    let (method, path) = match v {
        // Never `GET /token`: it re-issues the Exo token and kills the stored one.
        VendorId::Exo => (Method::Get, "debtor?pagesize=1".to_owned()),
        VendorId::Xentral => (Method::Get, "api/v3/products?perPage=1".to_owned()),
        VendorId::Machship => (Method::Post, "authenticate/ping".to_owned()),
        VendorId::O4 => (
            Method::Get,
            conn.test_path.clone().ok_or_else(|| {
                Error::input("O4 publishes no standard read endpoint: add the connection with --test-path /api/… (a read your token may make).")
            })?,
        ),
        VendorId::MyobDesktop => match &conn.account.business_id {
            Some(cf) => (Method::Get, format!("accountright/{cf}/")),
            None => (Method::Get, "accountright/".to_owned()),
        },
        other => unreachable!("{other} is an OAuth vendor"),
    };
    Ok(Probe {
        method,
        url: join(base, &path),
    })
}
