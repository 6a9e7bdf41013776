//! What a person (or the window, or `keyport list --json`) sees of a connection: status,
//! time left, deadlines and warnings, and what can be done. Derived from metadata only;
//! no secret is read to make it.

use crate::error::{Action, ActionKind};
use crate::model::{Connection, Health};
use crate::time::{format_utc, human_duration, human_span, now};
use crate::vendors::{self, Deadline, Detail, Kind};
use serde::Serialize;

/// Warn this long before a deadline that needs a person (token expiry, chain end, re-consent).
pub const WARN_DAYS: i64 = 7;

/// Background refresh (the window, `keyport agent`) renews an access token when it has less
/// than this many seconds left.
pub const REFRESH_AHEAD: i64 = 300;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Status {
    Valid,
    ExpiringSoon,
    /// The access token has expired; an OAuth connection's is refreshed on next use.
    Expired,
    NeedsReconnect,
    RefreshFailed,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Warning {
    /// `7d`, `1d` or `expired`: one desktop notification per key.
    pub key: &'static str,
    pub message: String,
}

/// A date by which a person must act.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeadlineView {
    pub at: i64,
    pub what: &'static str,
    pub todo: &'static str,
}

/// The app registration an OAuth connection signed in with (never its secret).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RegistrationView {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    pub authorize_url: String,
    pub token_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_url: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConnectionView {
    pub name: String,
    /// The vendor's id.
    pub vendor: String,
    pub vendor_label: &'static str,
    pub kind: Kind,
    /// Company file, tenant, user or host, when known: one line for lists.
    pub account: Option<String>,
    /// Which account and API the connection reaches (company file, tenant, issuer,
    /// user, scopes…), as its vendor names them.
    pub details: Vec<Detail>,
    /// The client (customer) it works for.
    pub client: Option<String>,
    pub note: Option<String>,
    pub status: Status,
    pub status_text: String,
    /// The access token's (or admin-issued token's) expiry, unix seconds.
    pub expires_at: Option<i64>,
    /// When a person must act, whichever deadline is first.
    pub deadline: Option<i64>,
    pub deadline_label: Option<String>,
    /// Every date by which a person must act, soonest first.
    pub deadlines: Vec<DeadlineView>,
    pub last_refresh: Option<i64>,
    /// Who (`host/user`) refreshed last, when a shared store records it.
    pub last_refresh_by: Option<String>,
    /// Where it lives: `None` on this computer, else the shared store's address.
    pub store: Option<String>,
    /// Who handed it to the shared store, and when.
    pub shared_by: Option<String>,
    pub shared_at: Option<i64>,
    /// When the person last granted consent (OAuth).
    pub consented_at: Option<i64>,
    pub can_refresh: bool,
    /// Something needs the person: a new sign-in or token, a failed refresh, a deadline
    /// within [`WARN_DAYS`]. The window, the tray, the list and `token` go by this.
    pub needs_attention: bool,
    /// Why the credential was stored untried (the vendor could not be reached).
    pub unverified: Option<String>,
    pub warnings: Vec<Warning>,
    /// What the person can do now (reconnect, issue a new token…).
    pub actions: Vec<Action>,
    pub revoke_note: &'static str,
    pub reissue_steps: Option<&'static str>,
    pub base_url: Option<String>,
    pub test_path: Option<String>,
    /// The app registration's client ID, to reconnect with.
    pub client_id: Option<String>,
    pub registration: Option<RegistrationView>,
    pub created_at: i64,
}

impl ConnectionView {
    /// The view now, taking the connection (`at` for one that is kept).
    pub fn of(c: Connection) -> Self {
        Self::owned(c, now())
    }

    /// Whether background refresh should renew it at `now`: an OAuth connection that can
    /// refresh, is not waiting for a new sign-in, and has less than [`REFRESH_AHEAD`] left.
    pub fn refresh_due(&self, now: i64) -> bool {
        self.kind == Kind::Oauth
            && self.can_refresh
            && matches!(
                self.status,
                Status::Valid | Status::ExpiringSoon | Status::Expired
            )
            && self.expires_at.is_some_and(|e| e - now < REFRESH_AHEAD)
    }

    /// Why a token handed out now comes with a warning: the connection is failing (a new
    /// sign-in or token is needed, or the last refresh failed) though its token still works.
    pub fn failing(&self) -> Option<&str> {
        matches!(self.status, Status::NeedsReconnect | Status::RefreshFailed)
            .then_some(self.status_text.as_str())
    }

    pub fn at(c: &Connection, now: i64) -> Self {
        Self::owned(c.clone(), now)
    }

    /// The view at `now`, taking the connection's strings rather than copying them (a list
    /// of a thousand makes a thousand views and keeps no connection).
    pub fn owned(c: Connection, now: i64) -> Self {
        let vendor = vendors::find(&c.vendor).ok();
        let kind = vendor.map(|v| v.kind()).unwrap_or(if c.oauth.is_some() {
            Kind::Oauth
        } else {
            Kind::Admin
        });
        let refreshable = c.oauth.as_ref().is_some_and(|o| o.has_refresh_token);
        let mut deadlines: Vec<Deadline> = vendor.map(|v| v.deadlines(&c)).unwrap_or_default();
        deadlines.sort_by_key(|d| d.at);
        let first = deadlines.first().cloned();
        let left = |t: i64| t - now;

        let mut warnings = Vec::new();
        let mut actions = Vec::new();
        if let Some(d) = &first {
            let l = left(d.at);
            let key = match l {
                l if l <= 0 => Some("expired"),
                l if l <= 86_400 => Some("1d"),
                l if l <= WARN_DAYS * 86_400 => Some("7d"),
                _ => None,
            };
            if let Some(key) = key {
                let message = if l <= 0 {
                    format!("{} on {}: {}", d.what, format_utc(d.at), d.todo)
                } else {
                    format!(
                        "{} in {} ({}): {}",
                        d.what,
                        human_duration(l),
                        format_utc(d.at),
                        d.todo
                    )
                };
                warnings.push(Warning { key, message });
                actions.push(Action::new(d.action, Some(&c.name)));
            }
        }

        let (status, status_text) = match &c.health {
            Health::NeedsReconnect { reason, .. } => {
                let a = if kind == Kind::Admin {
                    ActionKind::Reissue
                } else {
                    ActionKind::Reconnect
                };
                actions.insert(0, Action::new(a, Some(&c.name)));
                (Status::NeedsReconnect, format!("needs reconnect: {reason}"))
            }
            Health::RefreshFailed { reason, .. } => {
                actions.insert(0, Action::new(ActionKind::Retry, Some(&c.name)));
                (Status::RefreshFailed, format!("refresh failed: {reason}"))
            }
            Health::Ok => match c.expires_at {
                Some(e) if left(e) <= 0 && kind == Kind::Oauth && refreshable => (
                    Status::Expired,
                    "access token expired; refreshed on next use".into(),
                ),
                Some(e) if left(e) <= 0 => (Status::Expired, "expired".into()),
                _ if warnings.iter().any(|w| w.key != "expired") => {
                    (Status::ExpiringSoon, warnings[0].message.clone())
                }
                Some(e) => (
                    Status::Valid,
                    format!("valid, {} left", human_span(left(e))),
                ),
                None => (Status::Valid, "valid, no expiry date".into()),
            },
        };
        actions.dedup();
        let details = vendor.map(|v| v.context(&c)).unwrap_or_default();
        let needs_attention = matches!(status, Status::NeedsReconnect | Status::RefreshFailed)
            || !warnings.is_empty();

        let account = account(&c, &details);
        let can_refresh = refreshable && !matches!(c.health, Health::NeedsReconnect { .. });
        let (client_id, registration) = match c.oauth {
            Some(o) => (
                Some(o.client_id.clone()),
                Some(RegistrationView {
                    client_id: o.client_id,
                    redirect_uri: o.redirect_uri,
                    scopes: o.scopes,
                    issuer: o.issuer,
                    authorize_url: o.authorize_url,
                    token_url: o.token_url,
                    revocation_url: o.revocation_url,
                }),
            ),
            None => (None, None),
        };
        ConnectionView {
            name: c.name,
            vendor: c.vendor,
            vendor_label: vendor.map(|v| v.label()).unwrap_or("an unknown vendor"),
            kind,
            account,
            details,
            client: c.client,
            note: c.note,
            status,
            status_text,
            expires_at: c.expires_at,
            deadline: first.as_ref().map(|d| d.at),
            deadline_label: first.as_ref().map(|d| d.what.to_owned()),
            deadlines: deadlines
                .iter()
                .map(|d| DeadlineView {
                    at: d.at,
                    what: d.what,
                    todo: d.todo,
                })
                .collect(),
            last_refresh: c.last_refresh,
            last_refresh_by: c.last_refresh_by,
            store: c.store,
            shared_by: c.shared_by,
            shared_at: c.shared_at,
            consented_at: c.consented_at,
            can_refresh,
            needs_attention,
            unverified: c.unverified,
            warnings,
            actions,
            revoke_note: vendor.map(|v| v.revoke_note()).unwrap_or_default(),
            reissue_steps: vendor.and_then(|v| v.reissue_steps()),
            base_url: c.base_url,
            test_path: c.test_path,
            client_id,
            registration,
            created_at: c.created_at,
        }
    }
}

/// The one line a list shows: the company file, tenant or user the vendor names, else the
/// note, else the API's host.
fn account(c: &Connection, details: &[Detail]) -> Option<String> {
    const FIRST: [&str; 6] = [
        "business_name",
        "business_id",
        "tenant",
        "email",
        "username",
        "subject",
    ];
    FIRST
        .iter()
        .find_map(|k| details.iter().find(|d| d.key == *k))
        .map(|d| d.value.clone())
        .or_else(|| c.note.clone())
        .or_else(|| c.base_url.as_deref().and_then(host))
}

/// The host of a stored base URL. Keyport stores them as the `url` crate wrote them
/// (scheme, `//`, an ASCII host): read straight off the text, a list of a thousand
/// connections parses no URL; anything unusual is parsed.
fn host(u: &str) -> Option<String> {
    let plain = |h: &str| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
    };
    let rest = u.split_once("://").map(|(_, r)| r)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let h = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if !authority.contains('@')
        && plain(h)
        && h.bytes().any(|b| b.is_ascii_alphabetic() || b == b'.')
    {
        return Some(h.to_ascii_lowercase());
    }
    url::Url::parse(u)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
