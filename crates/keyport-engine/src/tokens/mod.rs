//! Tokens after connect: handing them out (token, headers, curl, test), requests to the
//! API with them, refreshing them (single-flight across threads and processes), revoking
//! them, and the tokens people bring from vendors' admin screens.

mod admin;
mod handout;
mod refresh;
pub(crate) mod request;
mod revoke;

pub use handout::TestReport;
pub use request::{ApiReply, ApiRequest};
pub use revoke::{Retired, RevokeReport};

use crate::storage::keychain::Secrets;
use crate::storage::metadata::Connection;
use crate::time::now;
use crate::{ConnectionView, Keyport, Result};

/// Whether the stored access token is good for `min_valid` more seconds.
pub(crate) fn fresh(c: &Connection, min_valid: i64) -> bool {
    match c.expires_at {
        None => true,
        // An admin-issued token's date is the end of its last day: no margin.
        Some(e) if c.oauth.is_none() => e > now(),
        Some(e) => e - now() > min_valid,
    }
}

impl Keyport {
    /// Keychain first, then metadata; a failure in between leaves no orphan behind (a
    /// replaced connection gets its old secrets back). Returns what it replaced, if anything.
    pub(crate) async fn store_new(
        &self,
        conn: Connection,
        secrets: &Secrets,
        replace: bool,
    ) -> Result<(ConnectionView, Option<(Connection, Secrets)>)> {
        let name = conn.name.clone();
        let _lock = self.store.connection_lock(&name).await?;
        self.store.ensure_new(&name, replace)?;
        let session = self.vault.session().await?;
        let (old, previous) = if replace {
            (self.store.get(&name).ok(), session.load(&name).await?)
        } else {
            (None, None)
        };
        session.save(&name, secrets).await?;
        let view = ConnectionView::of(&conn);
        let written = self.store.update(|data| {
            data.connections.retain(|c| c.name != name);
            data.connections.push(conn);
            data.connections.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(())
        });
        if let Err(e) = written {
            let _ = match previous {
                Some(prev) => session.save(&name, &prev).await,
                None => session.delete(&name).await,
            };
            return Err(e);
        }
        Ok((view, old.zip(previous)))
    }
}
