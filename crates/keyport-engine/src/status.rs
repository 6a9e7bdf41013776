//! What a person (or the window, or `keyport list --json`) sees of a connection: status,
//! time left, deadlines and warnings, and what can be done. Derived from metadata only;
//! no secret is read to make it.

use crate::error::{Action, ActionKind};
use crate::storage::metadata::{Connection, Health};
use crate::time::{format_utc, human_span, now};
use crate::vendors::{self, Deadline, Kind};
use serde::Serialize;

/// Warn this long before a deadline that needs a person (token expiry, chain end, re-consent).
pub const WARN_DAYS: i64 = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Valid,
    ExpiringSoon,
    /// The access token has expired; an OAuth connection's is refreshed on next use.
    Expired,
    NeedsReconnect,
    RefreshFailed,
}

#[derive(Clone, Debug, Serialize)]
pub struct Warning {
    /// `7d`, `1d` or `expired`: one desktop notification per key.
    pub key: &'static str,
    pub message: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ConnectionView {
    pub name: String,
    /// The vendor's id.
    pub vendor: String,
    pub vendor_label: &'static str,
    pub kind: Kind,
    /// Company file, user or instance, when known.
    pub account: Option<String>,
    pub status: Status,
    pub status_text: String,
    /// The access token's (or admin-issued token's) expiry, unix seconds.
    pub expires_at: Option<i64>,
    /// When a person must act, whichever deadline is first.
    pub deadline: Option<i64>,
    pub deadline_label: Option<String>,
    pub last_refresh: Option<i64>,
    pub can_refresh: bool,
    pub warnings: Vec<Warning>,
    /// What the person can do now (reconnect, issue a new token…).
    pub actions: Vec<Action>,
    pub revoke_note: &'static str,
    pub reissue_steps: Option<&'static str>,
    pub base_url: Option<String>,
    /// The app registration's client ID, to reconnect with.
    pub client_id: Option<String>,
    pub created_at: i64,
}

impl ConnectionView {
    pub fn of(c: &Connection) -> Self {
        Self::at(c, now())
    }

    pub fn at(c: &Connection, now: i64) -> Self {
        let vendor = vendors::find(&c.vendor).ok();
        let kind = vendor.map(|v| v.kind()).unwrap_or(if c.oauth.is_some() {
            Kind::Oauth
        } else {
            Kind::Admin
        });
        let refreshable = c.oauth.as_ref().is_some_and(|o| o.has_refresh_token);
        let first: Option<Deadline> = vendor
            .map(|v| v.deadlines(c))
            .unwrap_or_default()
            .into_iter()
            .min_by_key(|d| d.at);
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
                        human_span(l),
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

        ConnectionView {
            name: c.name.clone(),
            vendor: c.vendor.clone(),
            vendor_label: vendor.map(|v| v.label()).unwrap_or("an unknown vendor"),
            kind,
            account: account(c),
            status,
            status_text,
            expires_at: c.expires_at,
            deadline: first.as_ref().map(|d| d.at),
            deadline_label: first.as_ref().map(|d| d.what.to_owned()),
            last_refresh: c.last_refresh,
            can_refresh: refreshable && !matches!(c.health, Health::NeedsReconnect { .. }),
            warnings,
            actions,
            revoke_note: vendor.map(|v| v.revoke_note()).unwrap_or_default(),
            reissue_steps: vendor.and_then(|v| v.reissue_steps()),
            base_url: c.base_url.clone(),
            client_id: c.oauth.as_ref().map(|o| o.client_id.clone()),
            created_at: c.created_at,
        }
    }
}

fn account(c: &Connection) -> Option<String> {
    let a = &c.account;
    a.business_name
        .clone()
        .or_else(|| a.business_id.clone())
        .or_else(|| a.username.clone())
        .or_else(|| a.email.clone())
        .or_else(|| c.note.clone())
        .or_else(|| {
            c.base_url
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok())
                .and_then(|u| u.host_str().map(str::to_owned))
        })
}
