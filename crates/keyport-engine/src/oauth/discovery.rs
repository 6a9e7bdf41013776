//! OpenID Connect Discovery: the provider's endpoints from
//! `{issuer}/.well-known/openid-configuration`, with the issuer checked (§4.3) and every
//! endpoint held to the HTTPS rule.

use crate::http::{checked_url, excerpt, Http, Method};
use crate::{Error, Result};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

pub(crate) async fn discover(http: &Http, vendor: &'static str, issuer: &str) -> Result<Discovery> {
    let issuer = issuer.trim_end_matches('/');
    checked_url(issuer, "issuer")?;
    let url = format!("{issuer}/.well-known/openid-configuration");
    let reply = http.request(Method::Get, &url, &[]).await?;
    if !reply.is_success() {
        return Err(Error::vendor(crate::error::VendorError {
            vendor,
            op: "the discovery request",
            status: reply.status,
            detail: Some(excerpt(&reply.body)),
            oauth_error: None,
            advice: format!("Check the URL: Keyport read {url}."),
            actions: vec![crate::error::ActionKind::FixInput],
            name: None,
        }));
    }
    parse(vendor, issuer, &reply.body)
}

pub(crate) fn parse(vendor: &'static str, issuer: &str, body: &str) -> Result<Discovery> {
    let d: Discovery = serde_json::from_str(body).map_err(|e| Error::BadResponse {
        vendor,
        what: "a discovery document",
        detail: excerpt(&e.to_string()),
    })?;
    // OpenID Connect Discovery §4.3: the issuer must be the one asked for, exactly.
    if d.issuer.trim_end_matches('/') != issuer {
        return Err(Error::IssuerMismatch {
            expected: issuer.into(),
            got: excerpt(&d.issuer),
        });
    }
    checked_url(
        &d.authorization_endpoint,
        "discovered authorization endpoint",
    )?;
    checked_url(&d.token_endpoint, "discovered token endpoint")?;
    if let Some(r) = &d.revocation_endpoint {
        checked_url(r, "discovered revocation endpoint")?;
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_and_endpoints_are_checked() {
        let doc = |iss: &str, tok: &str| {
            format!(
                r#"{{"issuer":"{iss}","authorization_endpoint":"https://idp.example/a","token_endpoint":"{tok}"}}"#
            )
        };
        assert!(parse(
            "X",
            "https://idp.example",
            &doc("https://idp.example/", "https://idp.example/t")
        )
        .is_ok());
        assert!(matches!(
            parse(
                "X",
                "https://idp.example",
                &doc("https://evil.example", "https://idp.example/t")
            ),
            Err(Error::IssuerMismatch { .. })
        ));
        let e = parse(
            "X",
            "https://idp.example",
            &doc("https://idp.example", "http://idp.example/t"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("http://idp.example/t"), "{e}");
        assert!(matches!(
            parse("X", "https://idp.example", "{"),
            Err(Error::BadResponse { .. })
        ));
    }
}
