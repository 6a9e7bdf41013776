//! What a person (or the window, or `keyport list --json`) sees of a connection: status,
//! time left, warnings. Derived from metadata only; no secret is read to make it.

use crate::store::{Connection, Health};
use crate::time::{format_utc, human_span, now};
use crate::vendors::{self, Kind, VendorId};
use serde::Serialize;

/// Warn this long before a deadline that needs a person (token expiry, chain end, re-consent).
pub const WARN_DAYS: i64 = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Valid,
    ExpiringSoon,
    /// The access token has expired; for OAuth connections it is refreshed on next use.
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
    pub vendor: VendorId,
    pub vendor_label: &'static str,
    pub kind: Kind,
    /// Company file, user or instance, when known.
    pub account: Option<String>,
    pub status: Status,
    pub status_text: String,
    /// The access token's (or admin-issued token's) expiry, unix seconds.
    pub expires_at: Option<i64>,
    /// When a person must act: chain end, re-consent or token expiry, whichever is first.
    pub deadline: Option<i64>,
    pub deadline_label: Option<String>,
    pub last_refresh: Option<i64>,
    pub can_refresh: bool,
    pub warnings: Vec<Warning>,
    pub revoke_note: &'static str,
    pub reissue_steps: Option<&'static str>,
    pub base_url: Option<String>,
    /// The app registration's client ID (MYOB: the API key), to reconnect with.
    pub client_id: Option<String>,
    pub created_at: i64,
}

impl ConnectionView {
    pub fn of(c: &Connection) -> Self {
        Self::at(c, now())
    }

    pub fn at(c: &Connection, now: i64) -> Self {
        let kind = c.vendor.kind();
        let refreshable = c.oauth.as_ref().is_some_and(|o| o.has_refresh_token);
        let (deadline, deadline_label) = deadline(c);
        let left = |t: i64| t - now;

        let mut warnings = Vec::new();
        if let (Some(d), Some(label)) = (deadline, &deadline_label) {
            let l = left(d);
            let key = if l <= 0 {
                Some("expired")
            } else if l <= 86_400 {
                Some("1d")
            } else if l <= WARN_DAYS * 86_400 {
                Some("7d")
            } else {
                None
            };
            if let Some(key) = key {
                let message = if l <= 0 {
                    format!("{} on {}: {}", label, format_utc(d), action(c))
                } else {
                    format!(
                        "{} in {} ({}): {}",
                        label,
                        human_span(l),
                        format_utc(d),
                        action(c)
                    )
                };
                warnings.push(Warning { key, message });
            }
        }

        let (status, status_text) = match &c.health {
            Health::NeedsReconnect { reason, .. } => {
                (Status::NeedsReconnect, format!("needs reconnect: {reason}"))
            }
            Health::RefreshFailed { reason, .. } => {
                (Status::RefreshFailed, format!("refresh failed: {reason}"))
            }
            Health::Ok => match (kind, c.expires_at) {
                (_, Some(e)) if left(e) <= 0 && kind == Kind::OAuth && refreshable => (
                    Status::Expired,
                    "access token expired; refreshed on next use".into(),
                ),
                (_, Some(e)) if left(e) <= 0 => (Status::Expired, "expired".into()),
                _ if warnings.iter().any(|w| w.key != "expired") => {
                    (Status::ExpiringSoon, warnings[0].message.clone())
                }
                (_, Some(e)) => (
                    Status::Valid,
                    format!("valid, {} left", human_span(left(e))),
                ),
                (_, None) => (Status::Valid, "valid, no expiry date".into()),
            },
        };

        ConnectionView {
            name: c.name.clone(),
            vendor: c.vendor,
            vendor_label: c.vendor.label(),
            kind,
            account: account(c),
            status,
            status_text,
            expires_at: c.expires_at,
            deadline,
            deadline_label,
            last_refresh: c.last_refresh,
            can_refresh: refreshable && !matches!(c.health, Health::NeedsReconnect { .. }),
            warnings,
            revoke_note: c.vendor.revoke_note(),
            reissue_steps: c.vendor.reissue_steps(),
            base_url: c.base_url.clone(),
            client_id: c.oauth.as_ref().map(|o| o.client_id.clone()),
            created_at: c.created_at,
        }
    }
}

fn action(c: &Connection) -> &'static str {
    match c.vendor {
        VendorId::MyobAdvanced => "sign in again (keyport connect … --replace)",
        VendorId::Myob => "a company-file admin must approve the app again",
        _ if c.vendor.kind() == Kind::Manual => {
            "issue a new token at the vendor and `keyport set-token`"
        }
        _ => "connect again",
    }
}

fn deadline(c: &Connection) -> (Option<i64>, Option<String>) {
    let mut out: Vec<(i64, String)> = Vec::new();
    if let Some(o) = &c.oauth {
        if let (Some(start), Some(days)) = (o.chain_started_at, o.chain_days.filter(|d| *d > 0)) {
            out.push((
                start + days as i64 * 86_400,
                "the refresh-token chain ends".into(),
            ));
        }
    }
    if c.vendor == VendorId::Myob {
        if let Some(t) = c.consented_at {
            out.push((
                t + vendors::myob_reconsent_days() * 86_400,
                "MYOB's yearly consent ends".into(),
            ));
        }
    }
    if c.vendor.kind() == Kind::Manual {
        if let Some(e) = c.expires_at {
            out.push((e, "the token expires".into()));
        }
    }
    match out.into_iter().min_by_key(|(t, _)| *t) {
        Some((t, l)) => (Some(t), Some(l)),
        None => (None, None),
    }
}

fn account(c: &Connection) -> Option<String> {
    let a = &c.account;
    a.business_name
        .clone()
        .or_else(|| a.business_id.clone())
        .or_else(|| a.username.clone())
        .or_else(|| c.note.clone())
        .or_else(|| {
            c.base_url
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok())
                .and_then(|u| u.host_str().map(str::to_owned))
        })
}
