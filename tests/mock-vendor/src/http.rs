//! Small helpers: reading requests, building responses, encoding.

use std::collections::HashMap;
use std::io::Read;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::Value;

/// A request read in full, so handlers never touch the socket.
pub(crate) struct Req {
    pub method: String,
    pub path: String,
    /// Raw query string (without `?`); `has_query` tells whether a `?` was present at all.
    pub query: String,
    pub has_query: bool,
    /// Header names are lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn read(rq: &mut tiny_http::Request) -> Req {
        let url = rq.url().to_owned();
        let (path, query, has_query) = match url.split_once('?') {
            Some((p, q)) => (p.to_owned(), q.to_owned(), true),
            None => (url, String::new(), false),
        };
        let headers = rq
            .headers()
            .iter()
            .map(|h| {
                let name = h.field.as_str().as_str().to_ascii_lowercase();
                (name, h.value.as_str().to_owned())
            })
            .collect();
        let mut body = Vec::new();
        let _ = rq.as_reader().take(1 << 20).read_to_end(&mut body);
        Req {
            method: rq.method().as_str().to_ascii_uppercase(),
            path,
            query,
            has_query,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn query_map(&self) -> HashMap<String, String> {
        parse_pairs(self.query.as_bytes())
    }

    pub fn is_form(&self) -> bool {
        self.header("content-type").is_some_and(|ct| {
            ct.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
    }

    /// The body as a form; empty unless the content type says it is one.
    pub fn form(&self) -> HashMap<String, String> {
        if self.is_form() {
            parse_pairs(&self.body)
        } else {
            HashMap::new()
        }
    }

    pub fn bearer(&self) -> Option<&str> {
        let v = self.header("authorization")?;
        let (scheme, token) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }

    /// `Authorization: Basic` decoded into (user, password), undecoded otherwise.
    pub fn basic(&self) -> Option<(String, String)> {
        let v = self.header("authorization")?;
        let (scheme, b64) = v.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let raw = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
        let (u, p) = raw.split_once(':')?;
        Some((u.to_owned(), p.to_owned()))
    }
}

/// Form/query pairs; the first occurrence of a name wins.
pub(crate) fn parse_pairs(bytes: &[u8]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(bytes) {
        map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    map
}

pub(crate) struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Resp {
        Resp {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    pub fn json(status: u16, v: &Value) -> Resp {
        Resp::new(status, "application/json", v.to_string())
    }

    pub fn html(status: u16, body: String) -> Resp {
        Resp::new(status, "text/html; charset=utf-8", body)
    }

    pub fn empty(status: u16) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn redirect(location: &str) -> Resp {
        Resp::empty(302).with_header("Location", location)
    }

    pub fn not_found() -> Resp {
        Resp::json(404, &serde_json::json!({"error": "not_found"}))
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Resp {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn into_tiny(self) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
        let mut r = tiny_http::Response::from_data(self.body).with_status_code(self.status);
        for (n, v) in self.headers {
            if let Ok(h) = tiny_http::Header::from_bytes(n.as_bytes(), v.as_bytes()) {
                r.add_header(h);
            }
        }
        r
    }
}

/// A readable HTML error page (the vendors show one instead of redirecting).
pub(crate) fn error_page(status: u16, title: &str, message: &str) -> Resp {
    Resp::html(
        status,
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
             <body><h1>{t}</h1><p id=\"error\">{m}</p></body></html>",
            t = esc(title),
            m = esc(message)
        ),
    )
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `uri` with the pairs appended to its query string.
pub(crate) fn with_params(uri: &str, pairs: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{query}")
}

/// 32 random bytes, base64url, behind a recognisable prefix.
pub(crate) fn random_token(prefix: &str) -> String {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).expect("system random source");
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(buf))
}

pub(crate) fn b64(s: &str) -> String {
    STANDARD.encode(s)
}

pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Undoes application/x-www-form-urlencoded encoding of one value (`+` is a space).
pub(crate) fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = s
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(v)) => {
                out.push(v);
                i += 2;
            }
            (c, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
