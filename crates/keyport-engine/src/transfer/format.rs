//! The export file's types, version 1. None has a field that could hold a secret, and
//! every one refuses fields it does not know (`deny_unknown_fields`): a file with a token
//! in it was not written by Keyport and is not read.

use crate::model::{Account, ClientAuth};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole export file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Export {
    pub format: String,
    pub version: u32,
    pub exported_at: i64,
    #[serde(default)]
    pub connections: Vec<ExportedConnection>,
    #[serde(default)]
    pub registrations: Vec<ExportedRegistration>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExportedConnection {
    pub name: String,
    pub vendor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_path: Option<String>,
    #[serde(default)]
    pub account: ExportedAccount,
    /// An admin-issued token's expiry (the date the person gave).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<ExportedOAuth>,
    /// A shared connection's store: imported as a reference to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

/// Which account a connection reaches (the same fields as the metadata's).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExportedAccount {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl From<&Account> for ExportedAccount {
    fn from(a: &Account) -> Self {
        ExportedAccount {
            business_id: a.business_id.clone(),
            business_name: a.business_name.clone(),
            username: a.username.clone(),
            uid: a.uid.clone(),
            subject: a.subject.clone(),
            email: a.email.clone(),
        }
    }
}

impl From<&ExportedAccount> for Account {
    fn from(a: &ExportedAccount) -> Self {
        Account {
            business_id: a.business_id.clone(),
            business_name: a.business_name.clone(),
            username: a.username.clone(),
            uid: a.uid.clone(),
            subject: a.subject.clone(),
            email: a.email.clone(),
        }
    }
}

/// An OAuth connection's registration and endpoints.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExportedOAuth {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: String,
    pub authorize_url: String,
    pub token_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    pub client_auth: ClientAuth,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_days: Option<u32>,
}

/// An app registration: the vendor's remembered, non-secret form values. Its client
/// secret stays behind.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExportedRegistration {
    pub vendor: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}
