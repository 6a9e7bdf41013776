//! A loopback reverse proxy to one connection's API, for tools that cannot run a command.
//! It listens on 127.0.0.1 only, answers only a loopback `Host` (DNS rebinding) and only
//! paths under a random per-run key; a request to `/KEY/PATH?QUERY` goes to the base URL
//! joined with `PATH?QUERY` and nowhere else, with the client's headers minus credentials,
//! hop-by-hop headers and the vendor's own, plus the vendor's header set with a fresh
//! token (one refresh for many requests, one retry after a 401). Bodies in are capped;
//! answers are streamed back. Each request is logged as one line, without the query, a
//! header value or a secret.

use crate::http::{excerpt, REQUEST_BODY_LIMIT};
use crate::oauth::{ct_eq, random_token};
use crate::tokens::request::under_base;
use crate::{vendors, Error, Keyport, Result};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, CONTENT_LENGTH, HOST};
use hyper::{HeaderMap, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = BoxBody<Bytes, BoxError>;
/// Where each request's log line goes.
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// Calls at the vendor at once; more wait.
const MAX_IN_FLIGHT: usize = 256;
/// How long a stopping proxy waits for calls already at the vendor.
pub const STOP_GRACE: Duration = Duration::from_secs(30);
/// A request head must arrive within this.
const HEAD_DEADLINE: Duration = Duration::from_secs(30);

/// Headers of one hop only (RFC 9110 §7.6.1), never passed on either way.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The client's credentials and the parts Keyport or the HTTP client set themselves.
const NOT_FROM_CLIENT: &[&str] = &["authorization", "host", "cookie", "content-length"];

/// A bound proxy, not yet serving.
pub struct Proxy {
    listener: TcpListener,
    shared: Arc<Shared>,
}

struct Shared {
    kp: Arc<Keyport>,
    name: String,
    base: String,
    key: String,
    port: u16,
    /// One permit per call at the vendor.
    in_flight: Arc<Semaphore>,
}

impl Keyport {
    /// Binds the proxy for connection `name` on 127.0.0.1:`port` (0: any free port).
    pub async fn proxy(self: &Arc<Self>, name: &str, port: u16) -> Result<Proxy> {
        let conn = self.store.get(name).await?;
        let base = vendors::base(vendors::find(&conn.vendor)?, &conn)?.to_owned();
        crate::http::checked_url(&base, "base URL")?;
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| {
                Error::Unsupported(format!(
                    "Keyport could not listen on 127.0.0.1:{port} ({e}); choose another port, or 0 for any free one."
                ))
            })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
        Ok(Proxy {
            listener,
            shared: Arc::new(Shared {
                kp: self.clone(),
                name: name.to_owned(),
                base,
                key: random_token(16),
                port,
                in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            }),
        })
    }
}

impl Proxy {
    /// `http://127.0.0.1:PORT/KEY/`: the base URL to give the tool. It holds the key.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/{}/", self.shared.port, self.shared.key)
    }

    pub fn port(&self) -> u16 {
        self.shared.port
    }

    /// Serves until `stop` completes. Requests already at the vendor then finish (a
    /// refresh one started reaches the keychain), for at most [`STOP_GRACE`].
    pub async fn serve(self, log: Log, stop: impl std::future::Future<Output = ()>) {
        let shared = self.shared.clone();
        tokio::select! {
            _ = self.accept_loop(log) => {}
            _ = stop => {}
        }
        let all = MAX_IN_FLIGHT as u32;
        let _ = tokio::time::timeout(STOP_GRACE, shared.in_flight.acquire_many(all)).await;
    }

    async fn accept_loop(&self, log: Log) {
        let mut tasks = JoinSet::new();
        loop {
            let stream = match self.listener.accept().await {
                Ok((stream, _)) => stream,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            while tasks.try_join_next().is_some() {}
            let (shared, log) = (self.shared.clone(), log.clone());
            tasks.spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let (shared, log) = (shared.clone(), log.clone());
                    async move {
                        let started = Instant::now();
                        let method = req.method().to_string();
                        let (resp, shown) = shared.answer(req).await;
                        log(&format!(
                            "{method} {shown} {} {}ms",
                            resp.status().as_u16(),
                            started.elapsed().as_millis()
                        ));
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEAD_DEADLINE)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }
}

impl Shared {
    /// The answer, and the path to log (the forwarded one, without its query).
    async fn answer(&self, req: Request<Incoming>) -> (Response<Body>, String) {
        let host = req.headers().get(HOST).and_then(|h| h.to_str().ok());
        if !self.host_allowed(host) || req.uri().authority().is_some() {
            let text =
                "This request's Host is not this computer's loopback address, so it was refused.";
            return (plain(StatusCode::FORBIDDEN, text), "(refused: Host)".into());
        }
        let Some(rest) = self.strip_key(req.uri().path()) else {
            return (plain(StatusCode::NOT_FOUND, ""), "(not the key)".into());
        };
        let shown = excerpt(if rest.is_empty() { "/" } else { rest });
        let path = match req.uri().query() {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_owned(),
        };
        let target = match under_base(&self.base, &path) {
            Ok(t) => t,
            Err(e) => return (plain(StatusCode::BAD_REQUEST, &e.to_string()), shown),
        };
        let too_big = || {
            let text = format!("The request body is over {} MiB.", REQUEST_BODY_LIMIT >> 20);
            plain(StatusCode::PAYLOAD_TOO_LARGE, &text)
        };
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok());
        if declared
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > REQUEST_BODY_LIMIT as u64)
        {
            return (too_big(), shown);
        }
        let method = req.method().as_str().to_owned();
        let headers = client_headers(req.headers());
        let body = match Limited::new(req.into_body(), REQUEST_BODY_LIMIT)
            .collect()
            .await
        {
            Ok(b) => b.to_bytes(),
            Err(_) => return (too_big(), shown),
        };
        let body = match method.as_str() {
            "GET" | "HEAD" | "DELETE" | "OPTIONS" | "TRACE" if body.is_empty() => None,
            _ => Some(body),
        };
        // The call to the vendor runs as a task of its own, so that a client going away
        // (or the proxy stopping) never cuts a refresh short.
        let Ok(permit) = self.in_flight.clone().acquire_owned().await else {
            return (plain(StatusCode::SERVICE_UNAVAILABLE, ""), shown);
        };
        let (kp, name, url) = (self.kp.clone(), self.name.clone(), target.to_string());
        let sent = tokio::spawn(async move {
            let _permit = permit;
            let out = crate::tokens::Outgoing {
                method: &method,
                url: &url,
                extra: &headers,
                body,
            };
            kp.send_as(&name, out, false, None).await
        })
        .await
        .unwrap_or_else(|e| Err(Error::Unsupported(format!("The request stopped ({e})."))));
        match sent {
            Ok(resp) => {
                let mut r: Response<reqwest::Body> = resp.into();
                drop_hop_by_hop(r.headers_mut());
                (
                    r.map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed()),
                    shown,
                )
            }
            Err(e) => {
                let status = match e.code() {
                    "invalid_input" => StatusCode::BAD_REQUEST,
                    _ => StatusCode::BAD_GATEWAY,
                };
                (plain(status, &format!("keyport: {e}")), shown)
            }
        }
    }

    /// A loopback `Host` on this port.
    fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(host) = host.map(str::to_ascii_lowercase) else {
            return false;
        };
        ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .any(|n| host == format!("{n}:{}", self.port))
    }

    /// The path after `/KEY`, when the key matches (compared in constant time).
    fn strip_key<'a>(&self, path: &'a str) -> Option<&'a str> {
        let rest = path.strip_prefix('/')?;
        let (key, tail) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        ct_eq(key, &self.key).then_some(tail)
    }
}

/// The client's headers that go on to the vendor.
fn client_headers(h: &HeaderMap) -> Vec<(String, String)> {
    let listed = connection_listed(h);
    h.iter()
        .filter(|(k, _)| {
            let k = k.as_str();
            !HOP_BY_HOP.contains(&k)
                && !NOT_FROM_CLIENT.contains(&k)
                && !listed.contains(&k.to_owned())
        })
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_owned())))
        .collect()
}

/// Header names the `Connection` header lists (also of one hop only).
fn connection_listed(h: &HeaderMap) -> Vec<String> {
    h.get_all("connection")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .collect()
}

fn drop_hop_by_hop(h: &mut HeaderMap) {
    for name in connection_listed(h) {
        if let Ok(n) = HeaderName::from_bytes(name.as_bytes()) {
            h.remove(n);
        }
    }
    for name in HOP_BY_HOP {
        h.remove(*name);
    }
}

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(
        Full::new(Bytes::from(text.to_owned()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *r.status_mut() = status;
    if !text.is_empty() {
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_hop_by_hop_headers_stay_behind() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("authorization", "Bearer client"),
            ("cookie", "a=b"),
            ("connection", "keep-alive, x-one-hop"),
            ("x-one-hop", "1"),
            ("te", "trailers"),
            ("accept", "application/json"),
            ("x-custom", "yes"),
        ] {
            h.append(k, v.parse().unwrap());
        }
        let names: Vec<_> = client_headers(&h).into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["accept", "x-custom"]);
    }
}
