//! MYOB Exo API. Sources: seeds 000 (the API token in Exo Config) and the facts found
//! since (seeds README).
//!
//! - An integration user's token is made in Exo Config: Staff tab → the user → API tab →
//!   Allow API Access. Unticking it kills the token; ticking it again issues a new one.
//! - Every request carries `Authorization: Basic base64(user:pass)`, `x-myobapi-key` (the
//!   developer key) and `x-myobapi-exotoken`.
//! - Base URL `https://exo.api.myob.com` in the cloud, or the on-premises API server
//!   (often `http://localhost:8888`).
//! - The cheap read is `GET {base}/debtor?pagesize=1`. Never `GET {base}/token`: it
//!   re-issues the Exo token and kills the stored one.
//! - Exo tokens end with the yearly module licence.

use super::{common, join, need, Field, Header, Probe, Slot, Vendor};
use crate::http::basic;
use crate::model::Connection;
use crate::model::Secrets;
use crate::secret::ExposeSecret;
use crate::Result;

pub struct Exo;

static FIELDS: &[Field] = &[
    common::base_url(
        "The cloud API, or your on-premises API server (often http://localhost:8888).",
    )
    .default("https://exo.api.myob.com"),
    Field::secret(
        "username",
        "username-env",
        Slot::Username,
        "Exo integration user name",
        "The Exo staff member the token belongs to.",
    )
    .unmasked()
    .required(),
    Field::secret(
        "password",
        "password-env",
        Slot::Password,
        "Exo integration user password",
        "That staff member's password.",
    )
    .required(),
    Field::secret(
        "api_key",
        "key-env",
        Slot::ApiKey,
        "MYOB developer key (x-myobapi-key)",
        "Your developer key from the MYOB developer centre.",
    )
    .required(),
    common::token("Exo API token (Exo Config → Staff → API tab)"),
    common::expires("When the yearly module licence ends, if you want a reminder."),
];

impl Vendor for Exo {
    fn id(&self) -> &'static str {
        "exo"
    }
    fn label(&self) -> &'static str {
        "MYOB Exo"
    }
    fn summary(&self) -> &'static str {
        "An integration user's API token from Exo Config → Staff → API tab."
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    fn default_base(&self) -> Option<&'static str> {
        Some("https://exo.api.myob.com")
    }

    fn headers(&self, conn: &Connection, s: &Secrets) -> Result<Vec<Header>> {
        let user = need(&s.username, conn, "user name")?.expose_secret();
        let pass = s.password.as_ref().map(|p| p.expose_secret()).unwrap_or("");
        Ok(vec![
            Header::new("Authorization", basic(user, pass)).env("EXO_AUTHORIZATION"),
            Header::new(
                "x-myobapi-key",
                need(&s.api_key, conn, "developer key")?.expose_secret(),
            )
            .env("EXO_API_KEY"),
            Header::new(
                "x-myobapi-exotoken",
                need(&s.access_token, conn, "token")?.expose_secret(),
            ),
        ])
    }

    fn probe(&self, conn: &Connection) -> Result<Probe> {
        // Never `GET /token`: it re-issues the Exo token and kills the stored one.
        Ok(Probe::get(join(
            super::base(self, conn)?,
            "debtor?pagesize=1",
        )))
    }

    fn revoke_note(&self) -> &'static str {
        "In MYOB Exo Config (MYOB Configurator): Staff tab → select the integration user → API tab → untick Allow API Access → Save. The token stops working at once; ticking it again later issues a new one."
    }
    fn revoke_steps(&self) -> Option<&'static str> {
        Some(self.revoke_note())
    }
    fn reissue_steps(&self) -> Option<&'static str> {
        Some("In MYOB Exo Config: Staff tab → find the integration user → API tab → untick Allow API Access → Save → tick Allow API Access → Save. Copy the new token and give it to Keyport as the connection's new token. Exo tokens also end with the yearly module licence.")
    }
}
