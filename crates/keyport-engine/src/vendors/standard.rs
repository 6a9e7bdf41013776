//! What most vendors share, for their files to build on: the account an OpenID provider
//! names, the details a connection shows, the admin form's standard values, and the
//! deadlines of a refresh-token chain and of an admin-issued token.

use super::{Field, Input, TokenExtras};
use crate::error::ActionKind;
use crate::model::{Account, Connection};
use serde::Serialize;
use std::collections::BTreeMap;

/// The ID token's `sub`, `email` and a user name, for any OpenID provider.
pub fn standard_capture(t: &TokenExtras) -> Account {
    let claim = |k: &str| {
        t.id_claims
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    Account {
        subject: claim("sub"),
        email: claim("email"),
        username: claim("preferred_username"),
        ..Account::default()
    }
}

/// One non-secret value that says which account or API a connection reaches: shown by
/// `show` and the window, and handed to scripts by its `key` (references, `{key}` in
/// request paths) and its environment variable `env`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Detail {
    pub key: &'static str,
    pub label: &'static str,
    pub env: &'static str,
    pub value: String,
}

impl Detail {
    /// `Some` when there is a value.
    pub fn of(
        key: &'static str,
        label: &'static str,
        env: &'static str,
        value: Option<&str>,
    ) -> Option<Detail> {
        let value = value?.trim();
        (!value.is_empty()).then(|| Detail {
            key,
            label,
            env,
            value: value.to_owned(),
        })
    }
}

/// What any OpenID provider says of the account: the issuer, the signed-in user and the
/// granted scopes, and the client the connection signed in with.
pub fn standard_context(c: &Connection) -> Vec<Detail> {
    let a = &c.account;
    let o = c.oauth.as_ref();
    [
        Detail::of(
            "issuer",
            "Issuer",
            "KEYPORT_ISSUER",
            o.and_then(|o| o.issuer.as_deref()),
        ),
        Detail::of(
            "subject",
            "User ID (sub)",
            "KEYPORT_SUBJECT",
            a.subject.as_deref(),
        ),
        Detail::of("email", "E-mail", "KEYPORT_EMAIL", a.email.as_deref()),
        Detail::of(
            "username",
            "User",
            "KEYPORT_USERNAME",
            a.username.as_deref(),
        ),
        Detail::of(
            "scopes",
            "Granted scopes",
            "KEYPORT_SCOPES",
            o.map(|o| o.scopes.as_str()),
        ),
        Detail::of(
            "client_id",
            "Client ID",
            "KEYPORT_CLIENT_ID",
            o.map(|o| o.client_id.as_str()),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The base URL, the expiry date and the test path, where the vendor's form has them.
pub fn standard_admin_form(fields: &[Field], c: &Connection) -> BTreeMap<String, String> {
    let date = |t: i64| crate::time::format_utc(t)[..10].to_owned();
    fields
        .iter()
        .filter(|f| f.slot.is_none())
        .filter_map(|f| {
            let v = match f.key {
                "base_url" => c.base_url.clone(),
                "test_path" => c.test_path.clone(),
                _ if f.input == Input::Date => c.expires_at.map(date),
                _ => None,
            }?;
            Some((f.key.to_owned(), v))
        })
        .collect()
}

/// The refresh-token chain's end, and an admin-issued token's expiry.
pub fn standard_deadlines(c: &Connection) -> Vec<Deadline> {
    let mut out = Vec::new();
    if let Some(o) = &c.oauth {
        if let (Some(start), Some(days)) = (o.chain_started_at, o.chain_days.filter(|d| *d > 0)) {
            out.push(Deadline {
                at: start + days as i64 * 86_400,
                what: "the refresh-token chain ends",
                todo: "sign in again",
                action: ActionKind::Reconnect,
            });
        }
    } else if let Some(e) = c.expires_at {
        out.push(Deadline {
            at: e,
            what: "the token expires",
            todo: "issue a new token at the vendor and give it to Keyport",
            action: ActionKind::Reissue,
        });
    }
    out
}

/// A date by which a person must act.
#[derive(Clone, Debug)]
pub struct Deadline {
    pub at: i64,
    pub what: &'static str,
    pub todo: &'static str,
    pub action: ActionKind,
}
