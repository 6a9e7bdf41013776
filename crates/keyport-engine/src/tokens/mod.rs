//! Tokens after connect: handing them out (token, headers, curl, test), requests to the
//! API with them, refreshing them (single-flight across threads and processes), revoking
//! them, and the tokens people bring from vendors' admin screens.

mod admin;
mod edit;
mod handout;
mod refresh;
pub(crate) mod request;
mod revoke;
mod script;
mod share;

pub use edit::{Edit, Reconnect};
pub(crate) use handout::HeaderCache;
pub use handout::TestReport;
pub use refresh::Handout;
pub use request::{ApiReply, ApiRequest};
pub(crate) use request::{HeaderSet, Outgoing};
pub use revoke::{Retired, RevokeReport};
pub use script::{dotenv_line, parse_reference, ScriptValue, REFERENCE_SCHEME};

use crate::model::Connection;
use crate::model::Secrets;
use crate::oauth::TokenResponse;
use crate::secret::{ExposeSecret, SecretString};
use crate::time::now;
use crate::{ConnectionView, Keyport, Result};

/// How long an access token is taken to live when neither the response (`expires_in`) nor
/// the token (a JWT's `exp`) says: it is refreshed after this, and on the first 401.
pub const ASSUMED_LIFETIME: i64 = 3600;

/// When a new access token ends: `expires_in`, else the JWT's `exp`, else (when it can be
/// refreshed) [`ASSUMED_LIFETIME`] from `t`.
pub(crate) fn expiry(t: i64, tokens: &TokenResponse, refreshable: bool) -> Option<i64> {
    use crate::secret::ExposeSecret;
    if let Some(s) = tokens.expires_in {
        return Some(t + s as i64);
    }
    crate::oauth::jwt_exp(tokens.access_token.expose_secret())
        .or(refreshable.then_some(t + ASSUMED_LIFETIME))
}

/// Whether the stored access token is good for `min_valid` more seconds.
pub(crate) fn fresh(c: &Connection, min_valid: i64) -> bool {
    match c.expires_at {
        None => true,
        // An admin-issued token's date is the end of its last day: no margin.
        Some(e) if c.oauth.is_none() => e > now(),
        Some(e) => e - now() > min_valid,
    }
}

/// A connection's secrets. One with none here that waits for the person (an imported
/// connection, before its sign-in or token) says so, not that its entry is damaged.
pub(crate) async fn secrets_of(
    session: &dyn crate::storage::SecretSession,
    conn: &Connection,
) -> Result<Secrets> {
    match session.load(&conn.name).await? {
        Some(s) => Ok(s),
        None => Err(match &conn.health {
            crate::model::Health::NeedsReconnect { reason, .. } => crate::Error::NeedsReconnect {
                name: conn.name.clone(),
                reason: reason.clone(),
                reissue: conn.oauth.is_none(),
            },
            _ => crate::Error::KeychainData {
                name: conn.name.clone(),
                detail: "its keychain entry is missing".into(),
            },
        }),
    }
}

/// The last guard on the way out: a stored token that could split a line (an entry an
/// older Keyport wrote) is not handed out.
pub(crate) fn one_line(name: &str, token: SecretString) -> Result<SecretString> {
    crate::safe_value(&format!("the token of '{name}'"), token.expose_secret())?;
    Ok(token)
}

impl Keyport {
    /// The claim on `name` (its file lock on this computer; a check-and-set entry in a
    /// shared store): waits while another writer holds it.
    pub(crate) async fn claim(
        &self,
        session: &dyn crate::storage::SecretSession,
        name: &str,
    ) -> Result<crate::storage::Claim> {
        loop {
            if let crate::storage::Claimed::Won(c) =
                session.claim(name, self.settings.claim_hold).await?
            {
                return Ok(c);
            }
        }
    }

    /// Keychain first, then metadata; a failure in between leaves no orphan behind (a
    /// replaced connection gets its old secrets back). Returns what it replaced, if anything.
    pub(crate) async fn store_new(
        &self,
        conn: Connection,
        secrets: &Secrets,
        replace: bool,
    ) -> Result<(ConnectionView, Option<(Connection, Secrets)>)> {
        let name = conn.name.clone();
        let label = crate::storage::label(
            &name,
            crate::vendors::find(&conn.vendor).map_or("", |v| v.label()),
        );
        let session = self.vault.session().await?;
        let claim = self.claim(&*session, &name).await?;
        self.store.ensure_new(&name, replace).await?;
        let (old, previous) = if replace {
            (self.store.get(&name).await.ok(), session.load(&name).await?)
        } else {
            (None, None)
        };
        session
            .save_over(&name, &label, secrets, claim.version)
            .await?;
        let view = ConnectionView::of(conn.clone());
        let written = self.store.put(conn).await;
        let _ = session.release(&name, claim, false).await;
        if let Err(e) = written {
            let _ = match previous {
                Some(prev) => session.save(&name, &label, &prev).await,
                None => session.delete(&name).await,
            };
            return Err(e);
        }
        Ok((view, old.zip(previous)))
    }
}
