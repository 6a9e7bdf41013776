//! Requests to a connection's API on the person's behalf (`keyport api`, the proxy): the
//! URL resolved under the connection's base URL, `{key}` placeholders filled from the
//! account, the person's headers checked, the vendor's header set added with a fresh
//! token, and a 401 answered by one refresh and one retry. Pagination follows the
//! vendor's own next-page link, on the same origin only.

use crate::http::{excerpt, read_body, strip_query, RESPONSE_BODY_LIMIT};
use crate::model::Connection;
use crate::secret::ExposeSecret;
use crate::vendors;
use crate::{Error, Keyport, Result};
use bytes::Bytes;
use url::Url;

/// The methods `api` sends.
pub const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
/// `paginate` stops with an error after this many pages.
const MAX_PAGES: usize = 10_000;

/// One request as the person gave it.
#[derive(Clone, Debug, Default)]
pub struct ApiRequest {
    /// One of [`METHODS`].
    pub method: String,
    /// A path under the base URL (with `{key}` placeholders and a query), or a full URL on
    /// the base URL's origin.
    pub path: String,
    /// Extra headers; `Authorization` and the vendor's own header names are refused.
    pub headers: Vec<(String, String)>,
    /// Sent as `application/json` unless `headers` names a `Content-Type`.
    pub body: Option<Vec<u8>>,
    /// Follow the vendor's next-page links (GET only).
    pub paginate: bool,
    /// The header set when the caller has it already (from a running agent); `None`:
    /// read it (refreshing first when the token is near expiry).
    pub header_set: Option<HeaderSet>,
}

/// One answer (one page).
#[derive(Debug)]
pub struct ApiReply {
    /// The URL asked, without its query.
    pub url: String,
    pub status: u16,
    /// The status's reason phrase (`Not Found`), when it has one.
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiReply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The vendor's body cut to a safe line, for an error message.
    pub fn excerpt(&self) -> String {
        excerpt(&String::from_utf8_lossy(&self.body))
    }
}

/// The values `{key}` placeholders take: the account context its vendor names
/// (`business_id`, `tenant`, `issuer`…), as `show` lists it.
fn placeholders(vendor: &dyn crate::vendors::Vendor, conn: &Connection) -> Vec<(String, String)> {
    vendor
        .context(conn)
        .into_iter()
        .map(|d| (d.key.to_owned(), d.value))
        .collect()
}

/// `path` with each `{key}` replaced by its value, percent-encoded for a path segment.
/// Braces around anything but a plain name are left as they are.
fn expand(path: &str, known: &[(String, String)]) -> Result<String> {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let key = after
            .find('}')
            .map(|close| &after[..close])
            .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        let Some(key) = key else {
            out.push('{');
            rest = after;
            continue;
        };
        let Some((_, value)) = known.iter().find(|(k, _)| k == key) else {
            let names: Vec<_> = known.iter().map(|(k, _)| format!("{{{k}}}")).collect();
            let names = if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            };
            return Err(Error::input(format!(
                "The path has the placeholder {{{}}}, which this connection has no value for. The placeholders it knows: {names}.",
                excerpt(key)
            )));
        };
        out.push_str(&encode_segment(value));
        rest = &after[key.len() + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `path` (and its query) joined to `base` and kept under it: `..`, `//host`, `@`,
/// backslashes and encoded dots cannot leave the base URL's origin or path.
pub(crate) fn under_base(base: &str, path: &str) -> Result<Url> {
    let b =
        Url::parse(base).map_err(|e| Error::input(format!("The base URL is invalid ({e}).")))?;
    let target = Url::parse(&vendors::join(base, path)).map_err(|e| {
        Error::input(format!(
            "The path '{}' does not make a URL ({e}).",
            excerpt(path)
        ))
    })?;
    let root = b.path().trim_end_matches('/');
    let inside = target.path() == root || target.path().starts_with(&format!("{root}/"));
    if !same_origin(&b, &target) || !inside || !target.username().is_empty() {
        return Err(Error::input(format!(
            "The path '{}' leads outside the connection's base URL {}; Keyport sends the vendor's headers only there.",
            excerpt(path),
            strip_query(base)
        )));
    }
    Ok(target)
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin() && b.password().is_none()
}

/// A full URL given by the person or the vendor: only on the base URL's origin.
fn on_origin(base: &str, url: &str, whose: &str) -> Result<Url> {
    let b =
        Url::parse(base).map_err(|e| Error::input(format!("The base URL is invalid ({e}).")))?;
    let u = Url::parse(url)
        .map_err(|e| Error::input(format!("{whose} '{}' is not a URL ({e}).", excerpt(url))))?;
    if !same_origin(&b, &u) || !u.username().is_empty() {
        return Err(Error::input(format!(
            "{whose} {} is not on the connection's origin {}; Keyport sends the vendor's headers to no other host.",
            strip_query(url),
            b.origin().ascii_serialization()
        )));
    }
    Ok(u)
}

/// Header names and values a person may add: no CR, LF or NUL, a token for a name, and
/// neither `Authorization` nor `Host`.
pub(crate) fn check_header(name: &str, value: &str) -> Result<()> {
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(tchar) {
        return Err(Error::input(format!(
            "'{}' is not a header name (letters, digits and -_. only).",
            excerpt(name)
        )));
    }
    if value.contains(['\r', '\n', '\0']) {
        return Err(Error::input(format!(
            "The value of header {name} has a line break or NUL; give it on one line."
        )));
    }
    if name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("host") {
        return Err(Error::input(format!(
            "Keyport refuses a {name} header given by hand: it sends the connection's own credentials to the connection's own host."
        )));
    }
    Ok(())
}

/// Whether a header name is in the vendor's header set.
/// A header set: names and values, which may be secret.
pub(crate) type HeaderSet = Vec<(String, crate::SecretString)>;

/// A request on its way to the connection's API, before its header set is added.
pub(crate) struct Outgoing<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub extra: &'a [(String, String)],
    pub body: Option<Bytes>,
}

fn is_vendor_header(set: &[(String, crate::SecretString)], name: &str) -> bool {
    set.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
}

impl Keyport {
    /// Sends a request to the connection's API with the vendor's header set; on HTTP 401
    /// for an OAuth connection, refreshes once (unless another caller just did) and sends
    /// it again with the new set. `extra` headers named in the vendor's set are refused
    /// (`strict`) or dropped; `preset` is the header set when the caller has it.
    pub(crate) async fn send_as(
        &self,
        name: &str,
        out: Outgoing<'_>,
        strict: bool,
        preset: Option<HeaderSet>,
    ) -> Result<reqwest::Response> {
        let Outgoing {
            method,
            url,
            extra,
            body,
        } = out;
        let mut set = match preset {
            Some(set) => set,
            None => self.headers(name).await?,
        };
        let mut retried = false;
        loop {
            let mut headers = Vec::with_capacity(extra.len() + set.len());
            for (k, v) in extra {
                if !is_vendor_header(&set, k) {
                    headers.push((k.clone(), v.clone()));
                } else if strict {
                    return Err(Error::input(format!(
                        "The header {k} is part of the connection's header set, which Keyport sets itself; leave it out."
                    )));
                }
            }
            headers.extend(
                set.iter()
                    .map(|(k, v)| (k.clone(), v.expose_secret().to_owned())),
            );
            let resp = self.http.send(method, url, &headers, body.clone()).await?;
            if resp.status() != 401 || retried || self.store.get(name).await?.oauth.is_none() {
                return Ok(resp);
            }
            self.refresh_refused(name, &set).await?;
            let next = self.headers(name).await?;
            let same = next.len() == set.len()
                && next
                    .iter()
                    .zip(&set)
                    .all(|((a, x), (b, y))| a == b && x.expose_secret() == y.expose_secret());
            if same {
                // Nothing new to try (no refresh token): the 401 stands.
                return Ok(resp);
            }
            set = next;
            retried = true;
        }
    }

    /// `keyport api`: one request, or with `paginate` one per page (only the last may
    /// be unsuccessful).
    pub async fn api(&self, name: &str, req: &ApiRequest) -> Result<Vec<ApiReply>> {
        let conn = self.store.get(name).await?;
        let vendor = vendors::find(&conn.vendor)?;
        let method = req.method.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(Error::input(format!(
                "Keyport sends {}; not '{}'.",
                METHODS.join(", "),
                excerpt(&req.method)
            )));
        }
        if req.paginate && method != "GET" {
            return Err(Error::input("Only GET requests are paginated."));
        }
        let next_page = vendor.next_page();
        if req.paginate && next_page.is_none() {
            return Err(Error::Unsupported(format!(
                "{} documents no way of paging that Keyport knows; ask for each page yourself (see the vendor's API documentation for its paging parameters).",
                vendor.label()
            )));
        }
        let mut headers = req.headers.clone();
        for (k, v) in &headers {
            check_header(k, v)?;
        }
        if req.body.is_some()
            && !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        let base = vendors::base(vendor, &conn)?;
        let path = expand(&req.path, &placeholders(vendor, &conn))?;
        let mut url = if path.starts_with("http://") || path.starts_with("https://") {
            on_origin(base, &path, "The URL")?
        } else {
            under_base(base, &path)?
        };
        let body = req.body.clone().map(Bytes::from);
        let mut pages = Vec::new();
        let mut preset = req.header_set.clone();
        loop {
            let resp = self
                .send_as(
                    name,
                    Outgoing {
                        method: &method,
                        url: url.as_str(),
                        extra: &headers,
                        body: body.clone(),
                    },
                    true,
                    preset.take(),
                )
                .await?;
            let reply = ApiReply {
                url: strip_query(url.as_str()),
                status: resp.status().as_u16(),
                reason: resp.status().canonical_reason().unwrap_or("").to_owned(),
                headers: resp
                    .headers()
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect(),
                body: read_body(resp, url.as_str(), RESPONSE_BODY_LIMIT).await?,
            };
            let next = match (req.paginate, reply.is_success(), next_page) {
                (true, true, Some(link)) => serde_json::from_slice(&reply.body)
                    .ok()
                    .and_then(|v| link(&v)),
                _ => None,
            };
            pages.push(reply);
            let Some(next) = next else {
                return Ok(pages);
            };
            if pages.len() >= MAX_PAGES {
                return Err(Error::Unsupported(format!(
                    "{} kept sending next-page links after {MAX_PAGES} pages; Keyport stopped. Ask for fewer items.",
                    vendor.label()
                )));
            }
            let next = on_origin(base, &next, "The vendor's next-page link")?;
            if next == url {
                return Ok(pages);
            }
            url = next;
        }
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
