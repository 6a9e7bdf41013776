//! Xentral personal access tokens. Sources: seeds 002 and the facts found since.
//!
//! - Made under Account settings → Developer settings → Personal Access Tokens; they have
//!   unlimited permissions on the instance. Since release 26.47 new ones expire within
//!   180 days (older ones may have no expiry): keep an optional date and warn before it.
//! - Sent as `Authorization: Bearer`; base `https://{xentralId}.xentral.biz` or a custom
//!   domain. The cheap read: `GET /api/v3/products?perPage=1` with `Accept:
//!   application/json` (v1/v2 want vendor media types, and a wrong one gives 406).

use super::{common, join, need, Field, Header, Probe, Vendor};
use crate::model::Connection;
use crate::model::Secrets;
use crate::Result;

pub struct Xentral;

static FIELDS: &[Field] = &[
    common::base_url("Your instance, e.g. https://acme.xentral.biz (or its custom domain).")
        .placeholder("https://yourcompany.xentral.biz")
        .required(),
    common::token("Xentral personal access token"),
    common::expires("The expiry you gave the token (new tokens: at most 180 days)."),
];

impl Vendor for Xentral {
    fn id(&self) -> &'static str {
        "xentral"
    }
    fn label(&self) -> &'static str {
        "Xentral"
    }
    fn summary(&self) -> &'static str {
        "A personal access token from Account settings → Developer settings (unlimited permissions; new ones expire within 180 days)."
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    fn warning(&self) -> Option<&'static str> {
        Some("Xentral personal access tokens have unlimited permissions on the whole Xentral instance. Keep this one for integrations you fully trust, give it an expiry, and delete it in Xentral when it is no longer needed.")
    }

    fn headers(&self, conn: &Connection, s: &Secrets) -> Result<Vec<Header>> {
        Ok(vec![
            Header::bearer(need(&s.access_token, conn, "token")?),
            Header::new("Accept", "application/json"),
        ])
    }

    fn probe(&self, conn: &Connection) -> Result<Probe> {
        Ok(Probe::get(join(
            super::base(self, conn)?,
            "api/v3/products?perPage=1",
        )))
    }

    fn revoke_note(&self) -> &'static str {
        "In Xentral: click your user name (bottom left) → Account settings → Developer settings → Personal Access Tokens → Edit on this token → Delete token. A deleted token cannot be restored."
    }
    fn revoke_steps(&self) -> Option<&'static str> {
        Some(self.revoke_note())
    }
    fn reissue_steps(&self) -> Option<&'static str> {
        Some("In Xentral: Account settings → Developer settings → Personal Access Tokens → + Create Token, give it a name and an expiry (at most 180 days for new tokens), copy it (it is shown once), then give it to Keyport as the connection's new token.")
    }
}
