//! Revoke: at the vendor where it has a way (its API-session logout, then RFC 7009 for
//! the refresh and access tokens), then here. When a vendor step fails nothing is removed,
//! unless forced. A `connect --replace` retires the grant it replaces the same way, best
//! effort.

use crate::error::{ActionKind, VendorError};
use crate::http::{excerpt, Method};
use crate::model::Connection;
use crate::model::Secrets;
use crate::oauth::{self, Client};
use crate::secret::{ExposeSecret, SecretString};
use crate::time::now;
use crate::vendors::{self, Vendor};
use crate::{Error, Keyport, Result};
use serde::Serialize;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RevokeReport {
    /// What happened, one line per step.
    pub vendor_steps: Vec<String>,
    /// What the person must still do at the vendor.
    pub manual_steps: Option<&'static str>,
    /// Vendor steps failed and the connection was removed here anyway.
    pub forced: bool,
}

/// What became of the grant a `connect --replace` took the place of: revoked at the
/// vendor where it has a way, best effort. The new connection is stored either way.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Retired {
    /// What was done at the vendor, one line per step.
    pub steps: Vec<String>,
    /// Why a vendor step failed: the old grant may still be live there until it expires.
    pub problem: Option<String>,
}

impl Keyport {
    pub async fn revoke(&self, name: &str, force: bool) -> Result<RevokeReport> {
        let session = self.vault.session().await?;
        let claim = self.claim(&*session, name).await?;
        let conn = self.store.get(name).await?;
        let vendor = vendors::find(&conn.vendor)?;
        let secrets = session.load(name).await?;
        let (mut steps, failure) = match &secrets {
            Some(s) => self.revoke_at_vendor(vendor, &conn, s, None).await,
            None => (Vec::new(), None),
        };
        let forced = match failure {
            Some(e) if !force => return Err(with_force(e).for_connection(name)),
            Some(e) => {
                steps.push(format!("Not done at the vendor: {e}"));
                true
            }
            None => false,
        };
        session.delete(name).await?;
        self.store.remove(name).await?;
        drop(claim);
        steps.push("Deleted the tokens from the keychain and the connection from Keyport.".into());
        let detail = forced.then(|| "removed here only: the vendor step failed".to_owned());
        self.record(name, crate::activity::EventKind::Revoked, true, detail);
        Ok(RevokeReport {
            vendor_steps: steps,
            manual_steps: vendor.revoke_steps(),
            forced,
        })
    }

    /// Ends the grant a replaced OAuth connection held (its successor is already stored):
    /// logout and RFC 7009 revocation where the vendor has them, never touching a token
    /// the new connection also holds. Nothing here fails the connect.
    pub(crate) async fn retire(
        &self,
        old: &Connection,
        secrets: &Secrets,
        kept: &Secrets,
    ) -> Option<Retired> {
        old.oauth.as_ref()?;
        let vendor = vendors::find(&old.vendor).ok()?;
        let (mut steps, failure) = self
            .revoke_at_vendor(vendor, old, secrets, Some(kept))
            .await;
        if steps.is_empty() && failure.is_none() {
            steps.push(format!(
                "{} has no way to revoke the old sign-in: it is deleted from this computer and ends when its tokens expire.",
                vendor.label()
            ));
        }
        let after = format!("The new connection is stored and the old sign-in is deleted from this computer, but {} may keep it valid until its tokens expire.", vendor.label());
        let problem = failure.map(|e| match e {
            Error::Vendor(mut v) => {
                v.advice = after;
                v.to_string()
            }
            Error::Unreachable { url, detail } => {
                format!("Keyport could not reach {url} ({detail}). {after}")
            }
            other => format!("{other} {after}"),
        });
        Some(Retired { steps, problem })
    }

    /// The vendor's side of a revocation: its API-session logout, then RFC 7009 for the
    /// refresh and access tokens. Returns the steps done and the first failure; tokens
    /// also in `kept` are left alone.
    async fn revoke_at_vendor(
        &self,
        vendor: &'static dyn Vendor,
        conn: &Connection,
        s: &Secrets,
        kept: Option<&Secrets>,
    ) -> (Vec<String>, Option<Error>) {
        let mut steps = Vec::new();
        let mut failure: Option<Error> = None;
        let Some(meta) = &conn.oauth else {
            return (steps, failure);
        };
        let held = |t: &SecretString| {
            kept.is_some_and(|k| {
                [&k.access_token, &k.refresh_token]
                    .into_iter()
                    .flatten()
                    .any(|n| n.expose_secret() == t.expose_secret())
            })
        };
        let label = vendor.label();
        // Logout first: it needs the access token the revocation is about to kill.
        let access_alive = conn.expires_at.is_none_or(|e| e > now());
        if let (Some(url), Some(at), true) = (&meta.logout_url, &s.access_token, access_alive) {
            if !held(at) {
                let headers = [(
                    "Authorization".to_owned(),
                    format!("Bearer {}", at.expose_secret()),
                )];
                match self.http.request(Method::Post, url, &headers).await {
                    Ok(r) if r.is_success() => {
                        steps.push(format!("{label} ended the API session (logout)."))
                    }
                    Ok(r) if r.status == 401 => {
                        steps.push(format!("{label} had no API session to end."))
                    }
                    Ok(r) => {
                        let advice = vendor
                            .oauth()
                            .and_then(|o| o.logout_advice(r.status))
                            .unwrap_or("Retry later, or remove it from this computer anyway.");
                        failure.get_or_insert(Error::vendor(VendorError {
                            vendor: label,
                            op: "the logout",
                            status: r.status,
                            detail: Some(excerpt(&r.body)),
                            oauth_error: None,
                            advice: advice.to_owned(),
                            actions: vec![ActionKind::Retry, ActionKind::ForceRevoke],
                            name: None,
                        }));
                    }
                    Err(e) => {
                        failure.get_or_insert(e);
                    }
                }
            }
        }
        if let Some(url) = &meta.revocation_url {
            let client = Client {
                id: &meta.client_id,
                secret: s.client_secret.as_ref(),
                auth: meta.client_auth,
            };
            for (token, hint) in [
                (&s.refresh_token, "refresh_token"),
                (&s.access_token, "access_token"),
            ] {
                let Some(token) = token.as_ref().filter(|t| !held(t)) else {
                    continue;
                };
                match oauth::revoke(&self.http, label, url, &client, token, hint).await {
                    Ok(()) => {
                        steps.push(format!("{label} revoked the {}.", hint.replace('_', " ")))
                    }
                    Err(e) => {
                        failure.get_or_insert(e);
                    }
                }
            }
        }
        (steps, failure)
    }
}

/// A failed vendor step can always be overridden by removing the connection here.
fn with_force(e: Error) -> Error {
    match e {
        Error::Vendor(mut v) => {
            if !v.actions.contains(&ActionKind::ForceRevoke) {
                v.actions.push(ActionKind::ForceRevoke);
            }
            Error::Vendor(v)
        }
        Error::Unreachable { url, detail } => Error::vendor(VendorError {
            vendor: "The vendor",
            op: "the revocation",
            status: 0,
            detail: None,
            oauth_error: None,
            advice: format!("{url} could not be reached ({detail}). Nothing was removed. Retry when the network is back, or remove it from this computer anyway."),
            actions: vec![ActionKind::Retry, ActionKind::ForceRevoke],
            name: None,
        }),
        other => other,
    }
}
