//! The HTTP client: one lazily built `reqwest` client with rustls (nothing is set up on
//! the token path unless a request is made), form-encoded POSTs, plain replies that the
//! callers judge, any request with its answer unread (`send`), and the rule that secrets
//! travel over HTTPS only (loopback excepted).

use crate::{Error, Result};
use base64::Engine as _;
use std::sync::OnceLock;
use std::time::Duration;
use url::{Host, Url};

/// Bodies larger than this are not read (a token response is a few KiB).
const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Default)]
pub struct Http {
    client: OnceLock<reqwest::Client>,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// Parses an endpoint and refuses plain HTTP to anything but this computer: codes,
/// secrets and tokens must not cross a network in clear.
pub fn checked_url(url: &str, what: &str) -> Result<Url> {
    let u = Url::parse(url.trim()).map_err(|e| {
        Error::input(format!(
            "The {what} '{url}' is not a valid URL ({e}); give it with its scheme, e.g. https://…"
        ))
    })?;
    match u.scheme() {
        "https" => Ok(u),
        "http" if is_loopback(&u) => Ok(u),
        "http" => Err(Error::input(format!(
            "The {what} {u} uses plain HTTP to another computer; Keyport sends codes and tokens over HTTPS only (plain HTTP is allowed for this computer's own addresses). Use the https:// address."
        ))),
        other => Err(Error::input(format!(
            "The {what} '{url}' has the scheme '{other}'; Keyport needs https://."
        ))),
    }
}

pub fn is_loopback(u: &Url) -> bool {
    match u.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

impl Http {
    fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("keyport/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("the HTTP client builds")
        })
    }

    /// POSTs `form` as `application/x-www-form-urlencoded` in the body, never the query.
    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Result<Reply> {
        let u = checked_url(url, "endpoint")?;
        let mut req = self
            .client()
            .post(u)
            .header("Accept", "application/json")
            .form(form);
        if let Some((id, secret)) = basic {
            req = req.header("Authorization", basic_client_auth(id, secret));
        }
        finish(url, req.send().await).await
    }

    pub async fn request(
        &self,
        method: Method,
        url: &str,
        headers: &[(String, String)],
    ) -> Result<Reply> {
        let u = checked_url(url, "URL")?;
        let mut req = match method {
            Method::Get => self.client().get(u),
            Method::Post => self.client().post(u),
        };
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        finish(url, req.send().await).await
    }
}

/// A request body Keyport sends on a person's behalf (`api`, the proxy) is at most this.
pub const REQUEST_BODY_LIMIT: usize = 10 * 1024 * 1024;
/// A response body read whole (`api`) is at most this.
pub const RESPONSE_BODY_LIMIT: usize = 64 * 1024 * 1024;
/// A request made on a person's behalf may take this long, body included.
const SEND_TIMEOUT: Duration = Duration::from_secs(300);

impl Http {
    /// Any method, headers and body to `url` (HTTPS, or plain HTTP to this computer);
    /// the answer comes back with its body unread, for the caller to read or stream.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<bytes::Bytes>,
    ) -> Result<reqwest::Response> {
        let u = checked_url(url, "URL")?;
        let m = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| Error::input(format!("'{}' is not an HTTP method.", excerpt(method))))?;
        if body.as_ref().is_some_and(|b| b.len() > REQUEST_BODY_LIMIT) {
            return Err(Error::input(format!(
                "The request body is larger than {} MiB; send a smaller one.",
                REQUEST_BODY_LIMIT >> 20
            )));
        }
        let mut req = self.client().request(m, u).timeout(SEND_TIMEOUT);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        req.send().await.map_err(|e| Error::Unreachable {
            url: strip_query(url),
            detail: error_chain(&e),
        })
    }
}

/// Reads a whole body, refusing one over `limit` bytes rather than cutting it.
pub async fn read_body(mut resp: reqwest::Response, url: &str, limit: usize) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| Error::Unreachable {
        url: strip_query(url),
        detail: error_chain(&e),
    })? {
        if body.len() + chunk.len() > limit {
            return Err(Error::Unsupported(format!(
                "The answer from {} is larger than {} MiB, more than Keyport reads at once; ask for less (a page at a time).",
                strip_query(url),
                limit >> 20
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn finish(url: &str, res: reqwest::Result<reqwest::Response>) -> Result<Reply> {
    let unreachable = |e: reqwest::Error| Error::Unreachable {
        url: strip_query(url),
        detail: error_chain(&e),
    };
    let mut resp = res.map_err(unreachable)?;
    let status = resp.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(unreachable)? {
        if body.len() + chunk.len() > BODY_LIMIT {
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Reply {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// reqwest's outer message is "error sending request"; the cause says why.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    excerpt(&s)
}

pub fn strip_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_owned()
}

/// RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and encoded.
pub fn basic_client_auth(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    basic(&enc(id), &enc(secret))
}

/// `Basic base64(user:pass)`.
pub fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", b64_pair(user, pass))
}

/// `base64(user:pass)` without the scheme (a company-file token header).
pub fn b64_pair(user: &str, pass: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
}

/// Text from outside (a vendor's body or `error_description`) made safe to show and keep:
/// control characters become spaces, and it is cut to a line.
pub fn excerpt(body: &str) -> String {
    const MAX: usize = 200;
    let flat: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX)
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if body.chars().count() > MAX {
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
        assert_eq!(basic_client_auth("a b", "p:w"), basic("a+b", "p%3Aw"));
        assert_eq!(b64_pair("Administrator", ""), "QWRtaW5pc3RyYXRvcjo=");
        assert_eq!(strip_query("https://x/y?code=1"), "https://x/y");
        assert_eq!(excerpt("a\nb\x1b[31m"), "a b [31m");
        assert!(excerpt(&"x".repeat(500)).ends_with('…'));
    }

    #[test]
    fn plain_http_only_to_this_computer() {
        for ok in [
            "https://erp.example.com/token",
            "http://127.0.0.1:8080/x",
            "http://127.9.0.1/x",
            "http://localhost:8888/",
            "http://[::1]:9/x",
        ] {
            assert!(checked_url(ok, "endpoint").is_ok(), "{ok}");
        }
        for bad in [
            "http://erp.example.com",
            "http://10.0.0.1/t",
            "ftp://x/y",
            "nope",
        ] {
            let e = checked_url(bad, "endpoint").unwrap_err();
            assert_eq!(e.code(), "invalid_input", "{bad}");
        }
        let e = checked_url("http://erp.example.com/token", "token endpoint").unwrap_err();
        assert!(
            e.to_string().contains("http://erp.example.com/token"),
            "{e}"
        );
    }
}
