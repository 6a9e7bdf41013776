//! MYOB Business API (AccountRight online). Source: the MYOB authentication document
//! (seeds 001) and the facts found since (seeds README).

use super::{bearer, join, need, Header, Probe};
use crate::http::{b64_pair, Method};
use crate::secret::SecretString;
use crate::store::Connection;
use crate::vault::Secrets;
use crate::Result;

/// Authorize is `{auth base}/oauth2/account/authorize`; token and refresh are both a form
/// POST to `{auth base}/oauth2/v1/authorize` (parameters in the body: in the query it fails).
pub const MYOB_AUTH_BASE: &str = "https://secure.myob.com";
pub const MYOB_API_BASE: &str = "https://api.myob.com";
pub const AUTHORIZE_PATH: &str = "/oauth2/account/authorize";
pub const TOKEN_PATH: &str = "/oauth2/v1/authorize";
/// Keys created before 12 March 2025 use `CompanyFile`; newer keys space-separated `sme-*` scopes.
pub const LEGACY_SCOPE: &str = "CompanyFile";
pub const API_VERSION: &str = "v2";
/// MYOB asks company-file admins to approve again every year.
pub const RECONSENT_DAYS: i64 = 365;

pub const REVOKE_NOTE: &str = "MYOB has no revocation endpoint: Keyport deletes the tokens from this computer. To end the app's access at MYOB too, remove it from the apps with access to your business in my.MYOB (a company-file administrator can do this per file).";

pub fn headers(conn: &Connection, s: &Secrets) -> Result<Vec<Header>> {
    let key = conn
        .oauth
        .as_ref()
        .map(|o| o.client_id.clone())
        .unwrap_or_default();
    let user = s
        .username
        .as_ref()
        .map(SecretString::expose)
        .unwrap_or("Administrator");
    let pass = s.password.as_ref().map(SecretString::expose).unwrap_or("");
    Ok(vec![
        Header {
            name: "Authorization",
            value: bearer(need(&s.access_token, conn, "access token")?),
        },
        Header {
            name: "x-myobapi-key",
            value: key.into(),
        },
        Header {
            name: "x-myobapi-version",
            value: API_VERSION.into(),
        },
        Header {
            name: "x-myobapi-cftoken",
            value: b64_pair(user, pass).into(),
        },
    ])
}

/// Keys made after 12 March 2025 can no longer list files at `/accountright/`; the
/// company file's own root is the cheap read.
pub fn probe(conn: &Connection) -> Result<Probe> {
    let base = conn.base_url.as_deref().unwrap_or(MYOB_API_BASE);
    let path = match &conn.account.business_id {
        Some(id) => format!("accountright/{id}/"),
        None => "accountright/".into(),
    };
    Ok(Probe {
        method: Method::Get,
        url: join(base, &path),
    })
}
