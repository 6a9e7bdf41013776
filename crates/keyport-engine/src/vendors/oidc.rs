//! Any OAuth 2.0 / OpenID Connect provider: endpoints from discovery or given by hand,
//! PKCE S256 always (RFC 9700), a loopback redirect on any free port (RFC 8252 §7.3),
//! client authentication in the body, with HTTP Basic, or none (a public client).

use super::{join, Endpoints, Field, Input, OAuth, Pkce, Plan, Probe, Values, Vendor};
use crate::model::{ClientAuth, Connection};
use crate::{Error, Result};

pub struct Oidc;

static FIELDS: &[Field] = &[
    Field::text("issuer", "issuer", "Issuer URL", "Keyport reads the provider's discovery document from it.")
        .input(Input::Url)
        .placeholder("https://login.example.com")
        .remember(),
    super::common::client_id("Client ID", "The client's id at the provider."),
    Field::secret("client_secret", "secret-env", super::Slot::ClientSecret, "Client secret", "Not for a public client. Leave it empty to use the one Keyport saved with the registration."),
    Field::text("client_auth", "client-auth", "Client authentication", "How the client proves itself at the token endpoint.")
        .choices(&[
            ("post", "Secret in the request body"),
            ("basic", "HTTP Basic"),
            ("none", "None (public client, PKCE)"),
        ])
        .default("post")
        .remember(),
    super::common::scopes("openid offline_access", "Space-separated; offline_access asks for a refresh token."),
    super::common::redirect_uri("Leave empty for any free port on 127.0.0.1; give one if the provider wants an exact match.")
        .placeholder("any free port on 127.0.0.1"),
    Field::text("authorize_url", "authorize-url", "Authorization endpoint", "Only without an issuer (no discovery).")
        .input(Input::Url)
        .advanced()
        .remember(),
    Field::text("token_url", "token-url", "Token endpoint", "Only without an issuer (no discovery).")
        .input(Input::Url)
        .advanced()
        .remember(),
    Field::text("revocation_url", "revocation-url", "Revocation endpoint", "RFC 7009; discovery's is used when this is empty.")
        .input(Input::Url)
        .advanced()
        .remember(),
    Field::text("test_url", "test-url", "Test URL", "An API URL that Test may read with the token.")
        .input(Input::Url)
        .remember(),
    Field::text("params", "param", "Extra authorization parameters", "key=value, one per line (the CLI flag repeats), e.g. prompt=consent.")
        .input(Input::Lines)
        .advanced(),
];

impl Vendor for Oidc {
    fn id(&self) -> &'static str {
        "oidc"
    }
    fn label(&self) -> &'static str {
        "OAuth 2.0 / OIDC"
    }
    fn summary(&self) -> &'static str {
        "Any OAuth 2.0 / OpenID Connect provider: discovery or explicit endpoints, PKCE, secret in the body, Basic or none."
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    fn oauth(&self) -> Option<&dyn OAuth> {
        Some(self)
    }

    fn probe(&self, conn: &Connection) -> Result<Probe> {
        match (&conn.test_path, &conn.base_url) {
            (Some(p), _) if p.starts_with("http://") || p.starts_with("https://") => Ok(Probe::get(p.clone())),
            (Some(p), Some(base)) => Ok(Probe::get(join(base, p))),
            _ => Err(Error::input(
                "This connection has no test URL. Connect it again with a test URL (an API read that needs the token).",
            )),
        }
    }

    fn revoke_note(&self) -> &'static str {
        "Keyport revokes the tokens at the provider when it has a revocation endpoint (RFC 7009), and deletes them from this computer."
    }
}

impl OAuth for Oidc {
    fn plan(&self, v: &Values) -> Result<Plan> {
        let given = |k| v.get(k).map(str::to_owned);
        let endpoints = match (given("issuer"), given("authorize_url"), given("token_url")) {
            (Some(issuer), _, _) => Endpoints::Discover {
                issuer,
                revocation: given("revocation_url"),
            },
            (None, Some(authorize), Some(token)) => Endpoints::Fixed {
                authorize,
                token,
                revocation: given("revocation_url"),
            },
            _ => {
                return Err(Error::input(
                    "Give the issuer URL, or both the authorization and the token endpoint.",
                ))
            }
        };
        let authority = given("issuer").or_else(|| given("authorize_url"));
        let client_auth =
            ClientAuth::parse(v.get("client_auth").unwrap_or("post")).ok_or_else(|| {
                Error::input("The client authentication is one of post, basic or none.")
            })?;
        for (k, _) in v.pairs("params") {
            if k.is_empty() {
                return Err(Error::input("An extra parameter must look like key=value."));
            }
        }
        if v.get("params")
            .is_some_and(|p| p.lines().any(|l| !l.trim().is_empty() && !l.contains('=')))
        {
            return Err(Error::input("An extra parameter must look like key=value."));
        }
        Ok(Plan {
            endpoints,
            client_id: v.get("client_id").unwrap_or_default().to_owned(),
            client_auth,
            redirect_uri: given("redirect_uri"),
            scopes: v
                .get("scopes")
                .unwrap_or("openid offline_access")
                .to_owned(),
            authorize_extra: v.pairs("params"),
            scope_in_exchange: false,
            pkce: Pkce::Always,
            chain_days: None,
            logout_url: None,
            base_url: None,
            test_path: given("test_url"),
            authority,
        })
    }
}
