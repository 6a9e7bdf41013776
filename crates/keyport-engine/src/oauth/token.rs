//! The token endpoint: the code exchange and refresh, the response read with care
//! (`expires_in` as a number, or as a string as some vendors send it), and a vendor's error body
//! turned into advice.

use super::Client;
use crate::error::ActionKind;
use crate::http::{excerpt, Http, Reply};
use crate::secret::{secret, SecretString};
use crate::syntax::{self, Rule};
use crate::vendors::TokenExtras;
use crate::{Error, Result};
use base64::Engine as _;
use serde::Deserialize;

/// `expires_in` as RFC 6749 says (1200) or as a string ("1200"), as some vendors send it.
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
            serde::de::Error::custom(format!(
                "expires_in '{}' is not a number of seconds",
                excerpt(&s)
            ))
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
    id_token: Option<String>,
    #[serde(default)]
    user: Option<RawUser>,
}

#[derive(Deserialize)]
struct RawUser {
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

#[derive(Debug)]
pub(crate) struct TokenResponse {
    pub access_token: SecretString,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<SecretString>,
    pub scope: Option<String>,
    pub extras: TokenExtras,
}

pub(crate) fn parse_token_response(vendor: &'static str, body: &str) -> Result<TokenResponse> {
    let bad = |detail: String| Error::BadResponse {
        vendor,
        what: "a token response",
        detail,
    };
    let raw: RawToken = serde_json::from_str(body).map_err(|e| bad(excerpt(&e.to_string())))?;
    if raw.access_token.is_empty() {
        return Err(bad("access_token is empty".into()));
    }
    // A token goes into headers and onto stdout: one that could split a line is refused.
    let tokens = [
        ("access_token", Some(&raw.access_token)),
        ("refresh_token", raw.refresh_token.as_ref()),
    ];
    for (key, t) in tokens {
        if let Some(f) = t.and_then(|t| syntax::flaw(Rule::Token, t)) {
            return Err(bad(format!(
                "its {key} has {f}, outside the token syntax of RFC 6749"
            )));
        }
    }
    if let Some(t) = &raw.token_type {
        if !t.eq_ignore_ascii_case("bearer") {
            return Err(bad(format!("token_type '{}' is not Bearer", excerpt(t))));
        }
    }
    let expires_in = raw.expires_in.filter(|s| *s <= 10 * 365 * 86_400);
    Ok(TokenResponse {
        access_token: secret(raw.access_token),
        expires_in,
        refresh_token: raw.refresh_token.filter(|r| !r.is_empty()).map(secret),
        scope: raw.scope.map(|s| excerpt(&s)),
        extras: TokenExtras {
            user: raw
                .user
                .map(|u| (u.uid.map(|s| excerpt(&s)), u.username.map(|s| excerpt(&s)))),
            id_claims: raw.id_token.as_deref().map(claims).unwrap_or_default(),
        },
    })
}

/// The claims of an ID token, for display only (who signed in): the token came straight
/// from the token endpoint over TLS, and nothing is authorised on its strength.
fn claims(jwt: &str) -> serde_json::Map<String, serde_json::Value> {
    payload(jwt)
        .map(|m| {
            m.into_iter()
                .filter_map(|(k, v)| match v {
                    serde_json::Value::String(s) => {
                        Some((k, serde_json::Value::String(excerpt(&s))))
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A JWT's payload, undecoded beyond JSON; `None` for a token that is not a JWT.
fn payload(jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let mut parts = jwt.split('.');
    let (_, payload, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next()) else {
        return None;
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| match v {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        })
}

/// The `exp` claim of an access token that is a JWT (RFC 9068), unix seconds: when the
/// response gives no `expires_in`, the token itself still says when it ends.
pub(crate) fn jwt_exp(token: &str) -> Option<i64> {
    payload(token)?.get("exp")?.as_i64()
}

/// What an OAuth request is, for messages and advice.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Op {
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

pub(crate) fn vendor_error(vendor: &'static str, op: Op, reply: &Reply) -> Error {
    let body: ErrorBody = serde_json::from_str(&reply.body).unwrap_or_default();
    // Text from outside: capped and stripped of control characters before it is kept.
    let code = body.error.as_deref().map(excerpt);
    let desc = body.error_description.as_deref().map(excerpt);
    let detail = match (&code, &desc) {
        (Some(e), Some(d)) => Some(format!("{e}: {d}")),
        (Some(e), None) => Some(e.clone()),
        _ if reply.body.trim().is_empty() => None,
        _ => Some(excerpt(&reply.body)),
    };
    let code_str = code.as_deref().unwrap_or_default();
    let mentions_redirect = desc
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase()
        .contains("redirect")
        || code_str == "redirect_uri_mismatch";
    use ActionKind as A;
    let (advice, actions): (&str, &[ActionKind]) = match (op, code_str, reply.status) {
        (Op::Refresh, _, s) if s >= 500 => ("The vendor's server failed; Keyport kept the tokens and will try again. Retry in a minute.", &[A::Retry]),
        (Op::Revoke, _, s) if s >= 500 => ("The vendor's server failed; nothing was removed. Retry later, or remove it from this computer anyway.", &[A::Retry, A::ForceRevoke]),
        (Op::Exchange, _, s) if s >= 500 => ("The vendor's server failed; nothing was stored. Wait a minute and connect again.", &[A::Retry]),
        _ if mentions_redirect => ("The redirect URI must equal the one registered with the vendor exactly (scheme, host, port, path and any trailing '/'). Fix it and connect again.", &[A::FixInput]),
        (_, "invalid_client", _) | (_, _, 401) => ("Check the app registration's client ID and client secret.", &[A::FixInput]),
        (Op::Exchange, "invalid_grant", _) => ("The authorization code expired or was already used (codes live only minutes). Connect again and finish promptly.", &[]),
        (_, "invalid_scope", _) => ("Ask only for scopes that the app registration allows.", &[A::FixInput]),
        (_, "unauthorized_client", _) => ("The app registration does not allow this grant type; check its settings at the vendor.", &[A::FixInput]),
        (Op::Revoke, _, _) => ("Nothing was removed. Retry later, or remove it from this computer anyway.", &[A::Retry, A::ForceRevoke]),
        _ => ("Check the app registration and the URLs, then try again.", &[A::FixInput]),
    };
    Error::vendor(crate::error::VendorError {
        vendor,
        op: op.label(),
        status: reply.status,
        detail,
        oauth_error: code,
        advice: advice.to_owned(),
        actions: actions.to_vec(),
        name: None,
    })
}

/// POSTs a token request (`grant_type` and the rest in `params`) and reads the answer.
pub(crate) async fn token_request(
    http: &Http,
    vendor: &'static str,
    op: Op,
    token_url: &str,
    client: &Client<'_>,
    params: &[(&str, &str)],
) -> Result<TokenResponse> {
    let mut form: Vec<(&str, &str)> = params.to_vec();
    let basic = client.apply(&mut form);
    let reply = http.post_form(token_url, &form, basic).await?;
    if !reply.is_success() {
        return Err(vendor_error(vendor, op, &reply));
    }
    parse_token_response(vendor, &reply.body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ExposeSecret;

    #[test]
    fn expires_in_is_read_as_string_or_number() {
        let string_shaped = r#"{"access_token":"a","token_type":"bearer","expires_in":"1200","refresh_token":"r","scope":"CompanyFile","user":{"uid":"u","username":"x@y"}}"#;
        let t = parse_token_response("Acme", string_shaped).expect("string shape");
        assert_eq!(t.expires_in, Some(1200));
        assert_eq!(t.extras.user.and_then(|u| u.1).as_deref(), Some("x@y"));
        let std = r#"{"access_token":"a","token_type":"Bearer","expires_in":3600}"#;
        let t = parse_token_response("X", std).expect("rfc shape");
        assert_eq!(t.expires_in, Some(3600));
        assert_eq!(t.access_token.expose_secret(), "a");
        assert!(t.refresh_token.is_none());
        assert!(parse_token_response("X", r#"{"access_token":"a","expires_in":"soon"}"#).is_err());
        assert!(parse_token_response("X", r#"{"access_token":"a","token_type":"mac"}"#).is_err());
        assert!(matches!(
            parse_token_response("X", "{not json"),
            Err(Error::BadResponse { .. })
        ));
    }

    #[test]
    fn id_token_claims_are_read_for_display() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"u-1","email":"a@b.example","exp":1}"#);
        let body = format!(r#"{{"access_token":"a","id_token":"h.{payload}.s"}}"#);
        let t = parse_token_response("X", &body).expect("parse");
        assert_eq!(t.extras.id_claims["sub"], "u-1");
        assert_eq!(t.extras.id_claims["email"], "a@b.example");
    }

    #[test]
    fn vendor_errors_carry_advice_and_are_made_safe() {
        let r = Reply {
            status: 400,
            body: r#"{"error":"invalid_grant","error_description":"code expired"}"#.into(),
        };
        let msg = vendor_error("Acme", Op::Exchange, &r).to_string();
        assert!(
            msg.contains("HTTP 400: invalid_grant: code expired"),
            "{msg}"
        );
        assert!(msg.contains("Connect again"), "{msg}");
        let r = Reply {
            status: 502,
            body: "<html>Bad gateway</html>".into(),
        };
        assert!(vendor_error("Acme", Op::Refresh, &r)
            .to_string()
            .contains("kept the tokens"));
        let r = Reply {
            status: 400,
            body: r#"{"error":"invalid_request","error_description":"redirect_uri mismatch"}"#
                .into(),
        };
        assert!(vendor_error("Acme", Op::Exchange, &r)
            .to_string()
            .contains("trailing '/'"));
        let evil = format!(
            r#"{{"error":"x","error_description":"\u001b[2J{}"}}"#,
            "A".repeat(5000)
        );
        let msg = vendor_error(
            "X",
            Op::Exchange,
            &Reply {
                status: 400,
                body: evil,
            },
        )
        .to_string();
        assert!(!msg.contains('\u{1b}') && msg.len() < 800, "{}", msg.len());
    }
}
