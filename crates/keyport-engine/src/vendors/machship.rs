//! MachShip API tokens. Source: the facts found since (seeds README).
//!
//! - Made under My API Tokens (or Users → View User → API tokens); the value is shown
//!   once. No sandbox host: a token made for a user in test mode is a test token.
//! - Header `token: <api token>`; base `https://live.machship.com/apiv2`.
//! - The cheap check: `POST /apiv2/authenticate/ping` → 200 `{"object":true}`, 401 when bad.

use super::{common, join, need, Field, Header, Probe, Vendor};
use crate::http::Method;
use crate::model::Connection;
use crate::model::Secrets;
use crate::secret::ExposeSecret;
use crate::Result;

pub struct MachShip;

static FIELDS: &[Field] = &[
    common::base_url("MachShip's API; only a test server needs another.")
        .default("https://live.machship.com/apiv2"),
    common::token("MachShip API token"),
    common::expires("If the token was given an end date."),
];

impl Vendor for MachShip {
    fn id(&self) -> &'static str {
        "machship"
    }
    fn label(&self) -> &'static str {
        "MachShip"
    }
    fn summary(&self) -> &'static str {
        "An API token from My API Tokens (shown once)."
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    fn default_base(&self) -> Option<&'static str> {
        Some("https://live.machship.com/apiv2")
    }

    fn headers(&self, conn: &Connection, s: &Secrets) -> Result<Vec<Header>> {
        Ok(vec![Header::new(
            "token",
            need(&s.access_token, conn, "token")?.expose_secret(),
        )])
    }

    fn probe(&self, conn: &Connection) -> Result<Probe> {
        Ok(Probe {
            method: Method::Post,
            url: join(super::base(self, conn)?, "authenticate/ping"),
        })
    }

    fn revoke_note(&self) -> &'static str {
        "In MachShip: your user menu → My API Tokens (or Users → View User → API tokens for another user) → revoke this token."
    }
    fn revoke_steps(&self) -> Option<&'static str> {
        Some(self.revoke_note())
    }
    fn reissue_steps(&self) -> Option<&'static str> {
        Some("In MachShip: My API Tokens → add a new token, copy it (it is shown once), then give it to Keyport as the connection's new token. A token made for a user in test mode is a test token.")
    }
}
