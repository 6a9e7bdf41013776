//! The HTTP client: one lazily built `ureq` agent (nothing is set up on the token path
//! unless a request is made), form-encoded POSTs, and plain replies the callers judge.

use crate::{Error, Result};
use base64::Engine as _;
use std::sync::OnceLock;
use std::time::Duration;

pub struct Http {
    agent: OnceLock<ureq::Agent>,
}

/// A reply of any status; callers decide what a 4xx means for them.
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

pub enum Method {
    Get,
    Post,
}

impl Default for Http {
    fn default() -> Self {
        Self {
            agent: OnceLock::new(),
        }
    }
}

impl Http {
    fn agent(&self) -> &ureq::Agent {
        self.agent.get_or_init(|| {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_connect(Some(Duration::from_secs(10)))
                .timeout_global(Some(Duration::from_secs(30)))
                .max_redirects(0)
                .user_agent(concat!("keyport/", env!("CARGO_PKG_VERSION")))
                .build()
                .into()
        })
    }

    /// POSTs `form` as `application/x-www-form-urlencoded` in the body, never the query.
    pub fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Result<Reply> {
        let mut req = self.agent().post(url).header("Accept", "application/json");
        if let Some((id, secret)) = basic {
            req = req.header("Authorization", basic_client_auth(id, secret));
        }
        finish(url, req.send_form(form.iter().copied()))
    }

    pub fn request(
        &self,
        method: Method,
        url: &str,
        headers: &[(String, String)],
    ) -> Result<Reply> {
        match method {
            Method::Get => {
                let mut req = self.agent().get(url);
                for (k, v) in headers {
                    req = req.header(k.as_str(), v.as_str());
                }
                finish(url, req.call())
            }
            Method::Post => {
                let mut req = self.agent().post(url);
                for (k, v) in headers {
                    req = req.header(k.as_str(), v.as_str());
                }
                finish(url, req.send_empty())
            }
        }
    }
}

fn finish(url: &str, res: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Reply> {
    let unreachable = |e: ureq::Error| Error::Unreachable {
        url: strip_query(url),
        detail: e.to_string(),
    };
    let mut resp = res.map_err(unreachable)?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(1024 * 1024)
        .read_to_string()
        .map_err(unreachable)?;
    Ok(Reply { status, body })
}

fn strip_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_owned()
}

/// RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and encoded.
pub fn basic_client_auth(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    basic(&enc(id), &enc(secret))
}

/// `Basic base64(user:pass)`, as MYOB's `x-myobapi-cftoken` and Exo's Authorization want
/// (the cftoken is the same encoding without the `Basic ` prefix).
pub fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", b64_pair(user, pass))
}

pub fn b64_pair(user: &str, pass: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
}

/// A short, single-line excerpt of a body for an error message.
pub fn excerpt(body: &str) -> String {
    let flat: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(160)
        .collect();
    let flat = flat.trim().to_owned();
    if body.chars().count() > 160 {
        format!("{flat}…")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_encodes_like_rfc6749() {
        // "a b" and "p:w" are form-encoded first (a+b, p%3Aw), then joined.
        assert_eq!(basic_client_auth("a b", "p:w"), basic("a+b", "p%3Aw"));
        assert_eq!(b64_pair("Administrator", ""), "QWRtaW5pc3RyYXRvcjo=");
        assert_eq!(strip_query("https://x/y?code=1"), "https://x/y");
        assert_eq!(excerpt("a\nb"), "a b");
    }
}
