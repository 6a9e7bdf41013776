//! O4 bearer tokens. Sources: seeds 003 and the facts found since.
//!
//! - Tokens are made for yourself (Security Settings → Authentication), for other users
//!   (Configuration → Users → API Tokens) or for customer contacts (Contacts → General →
//!   User Keys & Web Access), each with a name and an expiration date.
//! - Sent as `Authorization: Bearer`. No public description of the JSON API's base URL
//!   was found: the person gives the instance URL and a path to test with.

use super::{common, join, Field, Probe, Vendor};
use crate::model::Connection;
use crate::{Error, Result};

pub struct O4;

static FIELDS: &[Field] = &[
    common::base_url("Your O4 instance's address.")
        .placeholder("https://yourcompany.example.com")
        .required(),
    common::token("O4 bearer token"),
    common::expires("The expiration date set when the token was made."),
    Field::text("test_path", "test-path", "Path Test reads", "O4 publishes no standard read endpoint: a read your token may make, e.g. /api/orderstatus.")
        .placeholder("/api/…")
        .required(),
];

impl Vendor for O4 {
    fn id(&self) -> &'static str {
        "o4"
    }
    fn label(&self) -> &'static str {
        "O4"
    }
    fn summary(&self) -> &'static str {
        "A bearer token from Security Settings, Users or Contacts, with an expiration date."
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }

    fn probe(&self, conn: &Connection) -> Result<Probe> {
        let path = conn.test_path.as_deref().ok_or_else(|| {
            Error::input("O4 publishes no standard read endpoint: add the connection again with a path to test (a read your token may make).")
        })?;
        Ok(Probe::get(join(super::base(self, conn)?, path)))
    }

    fn revoke_note(&self) -> &'static str {
        "In O4, delete the bearer token where it was made: your own under Security Settings → Authentication; another user's under Configuration → Users → the user → API Tokens; a customer contact's under Contacts → the contact → General → User Keys & Web Access."
    }
    fn revoke_steps(&self) -> Option<&'static str> {
        Some(self.revoke_note())
    }
    fn reissue_steps(&self) -> Option<&'static str> {
        Some("In O4: Security Settings → Authentication → Generate API Bearer Token (or Configuration → Users → API Tokens for another user), name it, set its expiration date, save, then give it to Keyport as the connection's new token with its date.")
    }
}
