//! MYOB Advanced (Acumatica). Source: the authorization code flow document (seeds 004)
//! and the facts found since (seeds README).

use super::{join, Probe};
use crate::http::Method;
use crate::store::Connection;
use crate::{Error, Result};

/// The refresh-token chain ends this many days after the first sign-in, unless the
/// instance is set to sliding expiration (the user can change the length per connection).
pub const DEFAULT_CHAIN_DAYS: u32 = 30;
pub const DEFAULT_SCOPES: &str = "api offline_access";
pub const LOGOUT_PATH: &str = "entity/auth/logout";

pub const REVOKE_NOTE: &str = "Keyport revokes the refresh and access tokens at the instance when its discovery document lists a revocation endpoint, ends the API session (POST /entity/auth/logout), and deletes the tokens from this computer. An administrator can revoke every token of the connected app on the Connected Applications form (SM303010) with Revoke Access.";

/// The OIDC issuer of an instance: `<instance>/identity`.
pub fn instance_discovery_url(instance: &str) -> String {
    join(instance, "identity")
}

pub fn logout_url(instance: &str) -> String {
    join(instance, LOGOUT_PATH)
}

/// A client ID has the form `GUID@Company`: the company is part of the ID.
pub fn check_client_id(id: &str) -> Result<()> {
    match id.split_once('@') {
        Some((guid, company)) if guid.len() >= 32 && !company.is_empty() => Ok(()),
        _ => Err(Error::input(format!(
            "MYOB Advanced client IDs look like 88358B02-A48D-A50E-F710-39C1636C30F6@MyCompany; '{id}' does not. Copy it from the Connected Applications form (SM303010)."
        ))),
    }
}

/// `GET <instance>/entity` lists the web-service endpoints: a read that changes nothing.
pub fn probe(conn: &Connection) -> Result<Probe> {
    let base = conn
        .base_url
        .as_deref()
        .ok_or_else(|| Error::input("This connection has no instance URL."))?;
    Ok(Probe {
        method: Method::Get,
        url: join(base, "entity"),
    })
}
