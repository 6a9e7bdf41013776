//! Any OAuth 2.0 / OpenID Connect provider: endpoints from discovery or given by hand,
//! PKCE on, loopback redirect on any port (RFC 8252 §7.3).

use super::{join, Probe};
use crate::http::Method;
use crate::store::Connection;
use crate::{Error, Result};

pub const REVOKE_NOTE: &str = "Keyport revokes the tokens at the provider when it has a revocation endpoint (RFC 7009), and deletes them from this computer.";

pub fn probe(conn: &Connection) -> Result<Probe> {
    let url = match (&conn.test_path, &conn.base_url) {
        (Some(p), _) if p.starts_with("http://") || p.starts_with("https://") => p.clone(),
        (Some(p), Some(base)) => join(base, p),
        _ => {
            return Err(Error::input(
                "This connection has no test URL. Connect it again with --test-url URL (an API read that needs the token).",
            ))
        }
    };
    Ok(Probe {
        method: Method::Get,
        url,
    })
}
