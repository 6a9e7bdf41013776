//! OAuth 2.0 pieces: state and PKCE, discovery, the token endpoint (code exchange and
//! refresh), RFC 7009 revocation, and turning a vendor's error body into advice.

use crate::http::{excerpt, Http, Reply};
use crate::secret::SecretString;
use crate::store::ClientAuth;
use crate::{Error, Result};
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// `n` random bytes from the OS, base64url without padding.
pub fn random_token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the OS random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Constant-time comparison for `state`.
pub fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// RFC 7636 S256.
pub struct Pkce {
    pub verifier: SecretString,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Self {
        let verifier = random_token(32); // 43 characters
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        Self {
            verifier: SecretString::new(verifier),
            challenge,
        }
    }
}

/// What Keyport needs from an OpenID Provider's discovery document.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

pub fn discover(http: &Http, vendor: &'static str, issuer: &str) -> Result<Discovery> {
    let issuer = issuer.trim_end_matches('/');
    let url = format!("{issuer}/.well-known/openid-configuration");
    let reply = http.request(crate::http::Method::Get, &url, &[])?;
    if !reply.is_success() {
        return Err(Error::Vendor {
            vendor,
            op: "the discovery request",
            status: reply.status,
            detail: Some(excerpt(&reply.body)),
            oauth_error: None,
            advice: format!("Check the URL: Keyport read {url}."),
        });
    }
    let d: Discovery = serde_json::from_str(&reply.body).map_err(|e| Error::BadResponse {
        vendor,
        what: "a discovery document",
        detail: e.to_string(),
    })?;
    // OpenID Connect Discovery §4.3: the issuer must be the one asked for.
    if d.issuer.trim_end_matches('/') != issuer {
        return Err(Error::IssuerMismatch {
            expected: issuer.into(),
            got: d.issuer,
        });
    }
    Ok(d)
}

/// `expires_in` as MYOB sends it ("1200") or as RFC 6749 says (1200).
fn de_expires_in<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        N(u64),
        F(f64),
        S(String),
    }
    Ok(match Option::<Num>::deserialize(d)? {
        None => None,
        Some(Num::N(n)) => Some(n),
        Some(Num::F(f)) if f >= 0.0 => Some(f as u64),
        Some(Num::F(_)) => None,
        Some(Num::S(s)) => Some(s.trim().parse().map_err(|_| {
            serde::de::Error::custom(format!("expires_in '{s}' is not a number of seconds"))
        })?),
    })
}

#[derive(Deserialize)]
struct RawToken {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default, deserialize_with = "de_expires_in")]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    user: Option<TokenUser>,
}

/// MYOB's token response names the signed-in my.MYOB user.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenUser {
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

#[derive(Debug)]
pub struct TokenResponse {
    pub access_token: SecretString,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<SecretString>,
    pub scope: Option<String>,
    pub user: Option<TokenUser>,
}

pub fn parse_token_response(vendor: &'static str, body: &str) -> Result<TokenResponse> {
    let raw: RawToken = serde_json::from_str(body).map_err(|e| Error::BadResponse {
        vendor,
        what: "a token response",
        detail: e.to_string(),
    })?;
    if raw.access_token.is_empty() {
        return Err(Error::BadResponse {
            vendor,
            what: "a token response",
            detail: "access_token is empty".into(),
        });
    }
    if let Some(t) = &raw.token_type {
        if !t.eq_ignore_ascii_case("bearer") {
            return Err(Error::BadResponse {
                vendor,
                what: "a token response",
                detail: format!("token_type '{t}' is not Bearer"),
            });
        }
    }
    Ok(TokenResponse {
        access_token: raw.access_token.into(),
        expires_in: raw.expires_in,
        refresh_token: raw.refresh_token.filter(|r| !r.is_empty()).map(Into::into),
        scope: raw.scope,
        user: raw.user,
    })
}

/// What an OAuth request is, for messages and advice.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    Exchange,
    Refresh,
    Revoke,
}

impl Op {
    fn label(self) -> &'static str {
        match self {
            Op::Exchange => "the authorization code exchange",
            Op::Refresh => "the token refresh",
            Op::Revoke => "the revocation",
        }
    }
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

pub fn vendor_error(vendor: &'static str, op: Op, reply: &Reply) -> Error {
    let body: ErrorBody = serde_json::from_str(&reply.body).unwrap_or_default();
    let code = body.error.clone().unwrap_or_default();
    let desc = body.error_description.clone().unwrap_or_default();
    let detail = match (&body.error, &body.error_description) {
        (Some(e), Some(d)) => Some(format!("{e}: {d}")),
        (Some(e), None) => Some(e.clone()),
        _ if reply.body.trim().is_empty() => None,
        _ => Some(excerpt(&reply.body)),
    };
    let mentions_redirect =
        desc.to_ascii_lowercase().contains("redirect") || code == "redirect_uri_mismatch";
    let advice = match (op, code.as_str(), reply.status) {
        (_, _, s) if s >= 500 => match op {
            Op::Refresh => "The vendor's server failed; Keyport kept the tokens and will try again. Retry in a minute.",
            Op::Revoke => "The vendor's server failed; nothing was removed. Retry later, or add --force to remove it from this computer anyway.",
            Op::Exchange => "The vendor's server failed; nothing was stored. Wait a minute and connect again.",
        }
        .to_owned(),
        (_, _, _) if mentions_redirect => "The redirect URI must equal the one registered with the vendor exactly (scheme, host, port, path and any trailing '/'). Fix it and connect again.".to_owned(),
        (_, "invalid_client", _) | (_, _, 401) => "Check the app registration's client ID (MYOB: API key) and client secret.".to_owned(),
        (Op::Exchange, "invalid_grant", _) => "The authorization code expired or was already used (codes live only minutes). Connect again and finish promptly.".to_owned(),
        (_, "invalid_scope", _) => "Ask only for scopes that the app registration allows.".to_owned(),
        (_, "unauthorized_client", _) => "The app registration does not allow this grant type; check its settings at the vendor.".to_owned(),
        _ => "Check the app registration and the URLs, then try again.".to_owned(),
    };
    Error::Vendor {
        vendor,
        op: op.label(),
        status: reply.status,
        detail,
        oauth_error: body.error,
        advice,
    }
}

/// The client-authentication part of a token or revocation request.
pub struct Client<'a> {
    pub id: &'a str,
    pub secret: Option<&'a SecretString>,
    pub auth: &'a ClientAuth,
}

impl Client<'_> {
    /// Adds the body fields for this client, and returns the Basic credentials if any.
    fn apply<'f>(&'f self, form: &mut Vec<(&'f str, &'f str)>) -> Option<(&'f str, &'f str)> {
        match (self.auth, self.secret) {
            (ClientAuth::Basic, Some(s)) => Some((self.id, s.expose())),
            (ClientAuth::Post, Some(s)) => {
                form.push(("client_id", self.id));
                form.push(("client_secret", s.expose()));
                None
            }
            _ => {
                form.push(("client_id", self.id));
                None
            }
        }
    }
}

/// POSTs a token request (`grant_type` and the rest in `params`) and reads the answer.
pub fn token_request(
    http: &Http,
    vendor: &'static str,
    op: Op,
    token_url: &str,
    client: &Client,
    params: &[(&str, &str)],
) -> Result<TokenResponse> {
    let mut form: Vec<(&str, &str)> = params.to_vec();
    let basic = client.apply(&mut form);
    let reply = http.post_form(token_url, &form, basic)?;
    if !reply.is_success() {
        return Err(vendor_error(vendor, op, &reply));
    }
    parse_token_response(vendor, &reply.body)
}

/// RFC 7009. A 200 means done (even for a token the server did not know).
pub fn revoke(
    http: &Http,
    vendor: &'static str,
    url: &str,
    client: &Client,
    token: &SecretString,
    hint: &str,
) -> Result<()> {
    let mut form = vec![("token", token.expose()), ("token_type_hint", hint)];
    let basic = client.apply(&mut form);
    let reply = http.post_form(url, &form, basic)?;
    if reply.is_success() {
        Ok(())
    } else {
        Err(vendor_error(vendor, Op::Revoke, &reply))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_in_is_read_as_string_or_number() {
        let myob = r#"{"access_token":"a","token_type":"bearer","expires_in":"1200","refresh_token":"r","scope":"CompanyFile","user":{"uid":"u","username":"x@y"}}"#;
        let t = parse_token_response("MYOB", myob).expect("myob shape");
        assert_eq!(t.expires_in, Some(1200));
        assert_eq!(t.user.and_then(|u| u.username).as_deref(), Some("x@y"));
        let std = r#"{"access_token":"a","token_type":"Bearer","expires_in":3600}"#;
        let t = parse_token_response("X", std).expect("rfc shape");
        assert_eq!(t.expires_in, Some(3600));
        assert!(t.refresh_token.is_none());
        assert!(parse_token_response("X", r#"{"access_token":"a","expires_in":"soon"}"#).is_err());
        assert!(parse_token_response("X", r#"{"access_token":"a","token_type":"mac"}"#).is_err());
        assert!(matches!(
            parse_token_response("X", "{not json"),
            Err(Error::BadResponse { .. })
        ));
    }

    #[test]
    fn pkce_and_state_are_random_and_well_formed() {
        let p = Pkce::new();
        assert_eq!(p.verifier.expose().len(), 43);
        let expect = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(p.verifier.expose().as_bytes()));
        assert_eq!(p.challenge, expect);
        assert_ne!(random_token(16), random_token(16));
        assert!(ct_eq("abc", "abc") && !ct_eq("abc", "abd") && !ct_eq("abc", "ab"));
    }

    #[test]
    fn vendor_errors_carry_advice() {
        let r = Reply {
            status: 400,
            body: r#"{"error":"invalid_grant","error_description":"code expired"}"#.into(),
        };
        let msg = vendor_error("MYOB", Op::Exchange, &r).to_string();
        assert!(
            msg.contains("HTTP 400: invalid_grant: code expired"),
            "{msg}"
        );
        assert!(msg.contains("Connect again"), "{msg}");
        let r = Reply {
            status: 502,
            body: "<html>Bad gateway</html>".into(),
        };
        let msg = vendor_error("MYOB", Op::Refresh, &r).to_string();
        assert!(msg.contains("kept the tokens"), "{msg}");
        let r = Reply {
            status: 400,
            body: r#"{"error":"invalid_request","error_description":"redirect_uri mismatch"}"#
                .into(),
        };
        assert!(vendor_error("MYOB", Op::Exchange, &r)
            .to_string()
            .contains("trailing '/'"));
    }
}
