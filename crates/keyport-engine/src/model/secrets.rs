//! A connection's secrets: one JSON object per connection, so a rotated refresh token is
//! written with the access token it came with, in one call.

use crate::secret::{secret, serde_secret, ExposeSecret, SecretString};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Where a secret field's value is kept in the connection's secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Token,
    ClientSecret,
    Username,
    Password,
    ApiKey,
}

/// The secrets of one connection. Which fields are set depends on the vendor.
#[derive(Clone, Default, Debug, Serialize, Deserialize)]
pub struct Secrets {
    /// The OAuth access token, or the admin-issued API token.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_secret"
    )]
    pub access_token: Option<SecretString>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_secret"
    )]
    pub refresh_token: Option<SecretString>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_secret"
    )]
    pub client_secret: Option<SecretString>,
    /// A user name sent beside the token (a company-file user, an integration user).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_secret"
    )]
    pub username: Option<SecretString>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_secret"
    )]
    pub password: Option<SecretString>,
    /// A developer key sent beside the token.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_secret"
    )]
    pub api_key: Option<SecretString>,
}

impl Secrets {
    pub(crate) fn to_secret(&self) -> SecretString {
        secret(serde_json::to_string(self).expect("secrets serialise"))
    }

    pub(crate) fn from_secret(name: &str, s: &SecretString) -> Result<Self> {
        serde_json::from_str(s.expose_secret()).map_err(|e| Error::KeychainData {
            name: name.into(),
            detail: e.to_string(),
        })
    }

    /// The slot a secret field of a vendor's form goes to.
    pub fn slot(&mut self, slot: Slot) -> &mut Option<SecretString> {
        match slot {
            Slot::Token => &mut self.access_token,
            Slot::ClientSecret => &mut self.client_secret,
            Slot::Username => &mut self.username,
            Slot::Password => &mut self.password,
            Slot::ApiKey => &mut self.api_key,
        }
    }
}
