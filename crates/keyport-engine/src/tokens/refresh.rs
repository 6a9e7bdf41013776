//! Refresh, single-flight: the connection's file lock is held across the read, the
//! vendor's answer and both writes, and the state is read again under it, so of N callers
//! (threads, the window, any number of CLI processes) one refreshes and the rest find the
//! new token. One keychain session serves the read and the write. The rotated refresh
//! token reaches the keychain before the new access token is handed out.

use super::fresh;
use crate::activity::EventKind;
use crate::oauth::{self, Client, Op, TokenResponse};
use crate::secret::{ExposeSecret, SecretString};

use crate::model::{Connection, Health, Secrets};
use crate::storage::{label, Claimed, SecretSession};
use crate::time::now;
use crate::vendors::{self, Kind};
use crate::{ConnectionView, Error, Keyport, Result, DEFAULT_MIN_VALID};

/// A token handed out, with what the person should know about its connection.
#[derive(Debug)]
pub struct Handout {
    pub token: SecretString,
    /// Set when the connection is failing: a new sign-in or token is needed soon.
    pub warning: Option<String>,
}

enum Failure {
    /// `invalid_grant`: the refresh token is dead; only a new sign-in helps.
    Rejected(String),
    Other(Error),
}

impl Keyport {
    /// Refreshes now, whatever the expiry says (the person asked).
    pub async fn refresh(&self, name: &str) -> Result<ConnectionView> {
        let conn = self.store.get(name).await?;
        let vendor = vendors::find(&conn.vendor)?;
        if vendor.kind() == Kind::Admin {
            return Err(Error::Unsupported(format!(
                "{} tokens are issued in the vendor's admin screen, not refreshed by Keyport. {}",
                vendor.label(),
                vendor.reissue_steps().unwrap_or_default()
            )));
        }
        self.refresh_inner(name, DEFAULT_MIN_VALID, true)
            .await
            .map(|(_, c)| ConnectionView::of(c))
    }

    /// Background refresh, one round: renews every connection whose token has less than
    /// [`crate::REFRESH_AHEAD`] left. A failure is kept in the connection's health (the list
    /// shows it). Returns the names it refreshed, or tried to.
    pub async fn refresh_due(&self) -> Vec<String> {
        let Ok(list) = self.list().await else {
            return Vec::new();
        };
        let t = now();
        let mut done = Vec::new();
        for v in list.iter().filter(|v| v.refresh_due(t)) {
            let _ = self.token(&v.name, crate::REFRESH_AHEAD).await;
            done.push(v.name.clone());
        }
        done
    }

    /// Whether the stored token is good for `min_valid` more seconds (metadata only).
    pub async fn is_fresh(&self, name: &str, min_valid: i64) -> Result<bool> {
        Ok(fresh(&self.store.get(name).await?, min_valid))
    }

    /// The stored token when it is good for `min_valid` more seconds, without refreshing:
    /// a caller that wants the refresh done elsewhere (a helper that outlives it) asks this
    /// first. It comes with a warning when the connection is failing though the token
    /// still works ([`ConnectionView::failing`]).
    pub async fn fresh_token(&self, name: &str, min_valid: i64) -> Result<Option<Handout>> {
        let conn = self.store.get(name).await?;
        if !fresh(&conn, min_valid) {
            return Ok(None);
        }
        let token = super::secrets_of(&*self.vault.session().await?, &conn)
            .await?
            .access_token;
        let Some(token) = token.map(|t| super::one_line(name, t)).transpose()? else {
            return Ok(None);
        };
        let warning = ConnectionView::of(conn).failing().map(str::to_owned);
        Ok(Some(Handout { token, warning }))
    }

    pub(crate) async fn refresh_inner(
        &self,
        name: &str,
        min_valid: i64,
        force: bool,
    ) -> Result<(SecretString, Connection)> {
        self.refresh_locked(name, min_valid, force, None).await
    }

    /// Refreshes after the vendor refused the header set `refused`, unless the stored
    /// credentials no longer make it (another task or process refreshed meanwhile): many
    /// refusals of one token make one refresh.
    pub(crate) async fn refresh_refused(
        &self,
        name: &str,
        refused: &[(String, SecretString)],
    ) -> Result<()> {
        self.refresh_locked(name, DEFAULT_MIN_VALID, true, Some(refused))
            .await
            .map(|_| ())
    }

    async fn refresh_locked(
        &self,
        name: &str,
        min_valid: i64,
        force: bool,
        refused: Option<&[(String, SecretString)]>,
    ) -> Result<(SecretString, Connection)> {
        let session = self.vault.session().await?;
        let claim = loop {
            match session.claim(name, self.settings.claim_hold).await? {
                Claimed::Won(c) => break c,
                // Another refresher finished meanwhile: its token is the new one.
                Claimed::Waited if refused.is_none() => {
                    let conn = self.store.get(name).await?;
                    if fresh(&conn, min_valid.min(DEFAULT_MIN_VALID)) {
                        if let Some(t) = session.secrets(name).await?.access_token {
                            return Ok((t, conn));
                        }
                    }
                }
                Claimed::Waited => {}
            }
        };
        let version = claim.version;
        let mut result = self
            .refresh_claimed(&*session, name, min_valid, force, refused, version)
            .await;
        if let (Err(Error::NeedsReconnect { reason, .. }), Some(by)) =
            (&mut result, &claim.taken_over)
        {
            reason.push_str(&format!(
                "; a refresh by {by} was cut off before it could save the vendor's answer, and the vendor had already replaced the refresh token"
            ));
        }
        let refreshed = result.as_ref().is_ok_and(|r| r.2);
        let released = session.release(name, claim, refreshed).await;
        let (token, conn, _) = result?;
        released?;
        Ok((token, conn))
    }

    /// The refresh itself, under the claim; `version` is the one the claim was written at.
    /// The third value says whether the vendor was asked.
    async fn refresh_claimed(
        &self,
        session: &dyn SecretSession,
        name: &str,
        min_valid: i64,
        force: bool,
        refused: Option<&[(String, SecretString)]>,
        version: Option<u64>,
    ) -> Result<(SecretString, Connection, bool)> {
        let conn = self.store.get(name).await?;
        let secrets = session.secrets(name).await?;
        let access = secrets
            .access_token
            .clone()
            .ok_or_else(|| Error::KeychainData {
                name: name.into(),
                detail: "the token is missing".into(),
            })?;
        if !force && fresh(&conn, min_valid) {
            return Ok((access, conn, false));
        }
        let vendor = vendors::find(&conn.vendor)?;
        if let Some(refused) = refused {
            let current = vendor.headers(&conn, &secrets)?;
            let same = current.len() == refused.len()
                && current
                    .iter()
                    .zip(refused)
                    .all(|(h, (k, v))| h.name == k && h.value.expose_secret() == v.expose_secret());
            if !same {
                return Ok((access, conn, false));
            }
        }
        let expired = conn.expires_at.is_some_and(|e| e <= now());
        let Some(meta) = conn.oauth.clone() else {
            // An admin-issued token: nothing to refresh; past its date it is dead.
            return if expired {
                Err(Error::NeedsReconnect {
                    name: name.into(),
                    reason: format!(
                        "the token expired; {}",
                        vendor
                            .reissue_steps()
                            .unwrap_or("issue a new one at the vendor")
                    ),
                    reissue: true,
                })
            } else {
                Ok((access, conn, false))
            };
        };
        if let Health::NeedsReconnect { reason, .. } = &conn.health {
            return Err(Error::NeedsReconnect {
                name: name.into(),
                reason: reason.clone(),
                reissue: false,
            });
        }
        let Some(refresh_token) = secrets.refresh_token.clone() else {
            return if expired {
                Err(Error::NeedsReconnect {
                    name: name.into(),
                    reason: "the access token expired and the vendor gave no refresh token (was offline_access granted?)".into(),
                    reissue: false,
                })
            } else {
                Ok((access, conn, false))
            };
        };

        let label = vendor.label();
        let client = Client {
            id: &meta.client_id,
            secret: secrets.client_secret.as_ref(),
            auth: meta.client_auth,
        };
        let params = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        let result = match oauth::token_request(
            &self.http,
            label,
            Op::Refresh,
            &meta.token_url,
            &client,
            &params,
        )
        .await
        {
            Ok(t) => Ok(t),
            Err(Error::Vendor(v)) if v.oauth_error.as_deref() == Some("invalid_grant") => Err(
                Failure::Rejected(v.detail.unwrap_or_else(|| "invalid_grant".into())),
            ),
            Err(e) => Err(Failure::Other(e)),
        };
        let t = now();
        let tokens = match result {
            Ok(tokens) => tokens,
            Err(Failure::Rejected(reason)) => {
                let reason = format!("{label} refused the refresh token ({reason})");
                self.record(name, EventKind::Refreshed, false, Some(reason.clone()));
                let _ = self
                    .store
                    .update_connection(name, &mut |c| {
                        c.health = Health::NeedsReconnect {
                            reason: reason.clone(),
                            at: t,
                        }
                    })
                    .await;
                return Err(Error::NeedsReconnect {
                    name: name.into(),
                    reason,
                    reissue: false,
                });
            }
            Err(Failure::Other(e)) => {
                let reason = e.to_string();
                self.record(name, EventKind::Refreshed, false, Some(reason.clone()));
                let _ = self
                    .store
                    .update_connection(name, &mut |c| {
                        c.health = Health::RefreshFailed {
                            reason: reason.clone(),
                            at: t,
                        }
                    })
                    .await;
                return Err(e.for_connection(name));
            }
        };
        self.keep_rotated(session, name, label, secrets, &tokens, version)
            .await?;
        let expires_at = super::expiry(t, &tokens, true);
        let by = crate::storage::who();
        let conn = self
            .store
            .update_connection(name, &mut |c| {
                c.expires_at = expires_at;
                c.last_refresh = Some(t);
                c.last_refresh_by = Some(by.clone());
                c.health = Health::Ok;
            })
            .await?;
        self.record(name, EventKind::Refreshed, true, None);
        Ok((tokens.access_token, conn, true))
    }

    /// The vendor has already forgotten the old refresh token: try hard to keep the new
    /// one, and if it truly cannot be kept, say so plainly and mark the connection.
    async fn keep_rotated(
        &self,
        session: &dyn SecretSession,
        name: &str,
        vendor_label: &str,
        mut next: Secrets,
        tokens: &TokenResponse,
        mut version: Option<u64>,
    ) -> Result<()> {
        next.access_token = Some(tokens.access_token.clone());
        let rotated = tokens.refresh_token.is_some();
        // A vendor that does not rotate sends no new refresh token: keep the old one.
        if let Some(r) = &tokens.refresh_token {
            next.refresh_token = Some(r.clone());
        }
        let mut last = None;
        let started = std::time::Instant::now();
        for wait in [0u64, 200, 1000] {
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            match session
                .save_over(name, &label(name, vendor_label), &next, version)
                .await
            {
                Ok(_) => return Ok(()),
                // The claim was taken over meanwhile (this host was slower than the
                // claim's time): the vendor's new tokens are the newest there are, so
                // they go over whatever is there now rather than being lost.
                Err(Error::Conflict { .. }) => {
                    version = session.read(name).await.ok().flatten().map(|v| v.version);
                    last = Some(Error::Conflict {
                        detail: "another computer took the refresh over".into(),
                    });
                }
                Err(e) => last = Some(e),
            }
            // A keychain that used its whole timeout (locked, its unlock prompt not
            // answered) is not waited for again.
            if started.elapsed() >= self.settings.keychain_timeout {
                break;
            }
        }
        let e = last.expect("three attempts were made");
        if rotated {
            let reason = format!(
                "the vendor issued a new refresh token but {} could not keep it ({e})",
                self.store.location()
            );
            let _ = self
                .store
                .update_connection(name, &mut |c| {
                    c.health = Health::NeedsReconnect {
                        reason: reason.clone(),
                        at: now(),
                    }
                })
                .await;
            return Err(Error::NeedsReconnect {
                name: name.into(),
                reason,
                reissue: false,
            });
        }
        Err(e)
    }
}
