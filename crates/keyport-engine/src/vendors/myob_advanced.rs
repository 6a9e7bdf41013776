//! MYOB Advanced (Acumatica). Sources: the authorization code flow document (seeds 004)
//! and the facts found since (seeds README).
//!
//! - OpenID discovery at `<instance>/identity/.well-known/openid-configuration`.
//! - Client IDs look like `GUID@Company` (Connected Applications, SM303010).
//! - A refresh token needs `offline_access` with `api` or `openid`; refresh tokens rotate.
//!   By default the chain ends 30 days after the first sign-in; since 2024 R1 an instance
//!   may use sliding expiration, so the person can set the chain's length (0: none).
//! - `POST <instance>/entity/auth/logout` ends the API session: 204, or 429 when the
//!   licence's session limit is hit. RFC 7009 revocation only when discovery lists it.
//! - The cheap read: `GET <instance>/entity` lists the web-service endpoints.

use super::{
    common, join, Detail, Endpoints, Field, Input, OAuth, Pkce, Plan, Probe, Values, Vendor,
};
use crate::model::{ClientAuth, Connection};
use crate::{Error, Result};

const DEFAULT_CHAIN_DAYS: &str = "30";

pub struct MyobAdvanced;

static FIELDS: &[Field] = &[
    Field::text("instance_url", "instance", "Instance URL", "Your MYOB Advanced site, e.g. https://acme.myobadvanced.com.")
        .input(Input::Url)
        .placeholder("https://acme.myobadvanced.com")
        .required()
        .remember(),
    common::client_id("Client ID", "GUID@Company, from the Connected Applications form (SM303010).").placeholder("GUID@Company"),
    common::client_secret("Client secret"),
    common::redirect_uri("Exactly as entered under Connected Applications, including any trailing slash.").required(),
    common::scopes("api offline_access", "api offline_access by default; add openid or api:concurrent_access as needed."),
    Field::text("chain_days", "chain-days", "Refresh-token lifetime (days)", "How long the refresh-token chain lives from the first sign-in: 30 by default, 0 when the instance uses sliding expiration without an end.")
        .input(Input::Number)
        .default(DEFAULT_CHAIN_DAYS)
        .remember(),
];

impl Vendor for MyobAdvanced {
    fn id(&self) -> &'static str {
        "myob-advanced"
    }
    fn label(&self) -> &'static str {
        "MYOB Advanced"
    }
    fn summary(&self) -> &'static str {
        "OAuth 2.0 / OpenID Connect at the instance; refresh tokens rotate, and the chain ends 30 days after sign-in unless the instance says otherwise."
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    fn oauth(&self) -> Option<&dyn OAuth> {
        Some(self)
    }

    fn probe(&self, conn: &Connection) -> Result<Probe> {
        let base = conn
            .base_url
            .as_deref()
            .ok_or_else(|| Error::input("This connection has no instance URL."))?;
        Ok(Probe::get(join(base, "entity")))
    }

    /// The instance and the tenant (the company of the `GUID@Company` client ID, which the
    /// person signs in to), then what the ID token says of the user.
    fn context(&self, c: &Connection) -> Vec<Detail> {
        let client_id = c.oauth.as_ref().map(|o| o.client_id.as_str());
        let tenant = client_id.and_then(|id| id.split_once('@')).map(|(_, t)| t);
        let mut out: Vec<Detail> = [
            Detail::of(
                "instance",
                "Instance",
                "MYOB_ADVANCED_INSTANCE",
                c.base_url.as_deref(),
            ),
            Detail::of("tenant", "Tenant (company)", "MYOB_ADVANCED_TENANT", tenant),
        ]
        .into_iter()
        .flatten()
        .collect();
        out.extend(
            super::standard_context(c)
                .into_iter()
                .filter(|d| d.key != "issuer"),
        );
        out
    }

    fn revoke_note(&self) -> &'static str {
        "Keyport revokes the refresh and access tokens at the instance when its discovery document lists a revocation endpoint, ends the API session (POST /entity/auth/logout), and deletes the tokens from this computer. An administrator can revoke every token of the connected app on the Connected Applications form (SM303010) with Revoke Access."
    }
}

impl OAuth for MyobAdvanced {
    fn plan(&self, v: &Values) -> Result<Plan> {
        let client_id = v.get("client_id").unwrap_or_default();
        match client_id.split_once('@') {
            Some((guid, company)) if guid.len() >= 32 && !company.is_empty() => {}
            _ => {
                return Err(Error::input(format!(
                    "MYOB Advanced client IDs look like 88358B02-A48D-A50E-F710-39C1636C30F6@MyCompany; '{}' does not. Copy it from the Connected Applications form (SM303010).",
                    crate::http::excerpt(client_id)
                )))
            }
        }
        let instance = v
            .get("instance_url")
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned();
        let chain_days = v
            .get("chain_days")
            .unwrap_or(DEFAULT_CHAIN_DAYS)
            .parse()
            .map_err(|_| {
                Error::input("The refresh-token lifetime is a whole number of days (0 for none).")
            })?;
        Ok(Plan {
            endpoints: Endpoints::Discover {
                issuer: join(&instance, "identity"),
                revocation: None,
            },
            client_id: client_id.to_owned(),
            client_auth: ClientAuth::Post,
            redirect_uri: v.get("redirect_uri").map(str::to_owned),
            scopes: v.get("scopes").unwrap_or("api offline_access").to_owned(),
            authorize_extra: Vec::new(),
            scope_in_exchange: false,
            pkce: Pkce::Always,
            chain_days: Some(chain_days),
            logout_url: Some(join(&instance, "entity/auth/logout")),
            base_url: Some(instance.clone()),
            test_path: None,
            authority: Some(instance),
        })
    }

    fn logout_advice(&self, status: u16) -> Option<&'static str> {
        (status == 429).then_some(
            "The licence's API session limit was hit; the session ends by itself when it times out. Remove the connection here anyway, or retry later.",
        )
    }
}
