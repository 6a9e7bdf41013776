//! Revoke: at the vendor where it has a way (its API-session logout, then RFC 7009 for
//! the refresh and access tokens), then here. When a vendor step fails nothing is removed,
//! unless forced.

use crate::error::{ActionKind, VendorError};
use crate::http::{excerpt, Method};
use crate::oauth::{self, Client};
use crate::secret::ExposeSecret;
use crate::time::now;
use crate::vendors;
use crate::{Error, Keyport, Result};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct RevokeReport {
    /// What happened, one line per step.
    pub vendor_steps: Vec<String>,
    /// What the person must still do at the vendor.
    pub manual_steps: Option<&'static str>,
    /// Vendor steps failed and the connection was removed here anyway.
    pub forced: bool,
}

impl Keyport {
    pub async fn revoke(&self, name: &str, force: bool) -> Result<RevokeReport> {
        let _lock = self.store.connection_lock(name).await?;
        let conn = self.store.get(name)?;
        let vendor = vendors::find(&conn.vendor)?;
        let session = self.vault.session().await?;
        let secrets = session.load(name).await?;
        let mut steps = Vec::new();
        let mut failure: Option<Error> = None;
        if let (Some(meta), Some(s)) = (&conn.oauth, &secrets) {
            let label = vendor.label();
            // Logout first: it needs the access token the revocation is about to kill.
            let access_alive = conn.expires_at.is_none_or(|e| e > now());
            if let (Some(url), Some(at), true) = (&meta.logout_url, &s.access_token, access_alive) {
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
                    let Some(token) = token else { continue };
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
        }
        let forced = match failure {
            Some(e) if !force => return Err(with_force(e).for_connection(name)),
            Some(e) => {
                steps.push(format!("Not done at the vendor: {e}"));
                true
            }
            None => false,
        };
        session.delete(name).await?;
        self.store.update(|d| {
            d.connections.retain(|c| c.name != name);
            Ok(())
        })?;
        steps.push("Deleted the tokens from the keychain and the connection from Keyport.".into());
        Ok(RevokeReport {
            vendor_steps: steps,
            manual_steps: vendor.revoke_steps(),
            forced,
        })
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
