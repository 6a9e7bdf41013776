//! The RFC 8252 loopback listener, on hyper: a task per connection, a deadline for the
//! whole request head and for the connection, a bound on connections (the oldest is
//! dropped to make room, so idle sockets cannot crowd out the browser), only the
//! registered path, only a loopback `Host` (DNS rebinding), one accepted callback, and
//! request data never echoed unescaped or unbounded. Dropping the [`Listener`] or the
//! serving future closes every socket: the port is free on every exit path.

use super::redirect::{judge, Callback, Expect, Verdict};
use crate::http::excerpt;
use crate::{Error, Result};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Connections served at once; past this the oldest is closed.
const MAX_CONNECTIONS: usize = 64;
/// The whole request head must arrive within this.
const HEAD_DEADLINE: Duration = Duration::from_secs(5);
/// A connection lives at most this long.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(10);

/// What one request did, for the waiting side.
pub(crate) enum Outcome {
    Done(Result<Callback>),
    Refused(String),
}

/// Bound sockets for one redirect path, not yet serving.
pub(crate) struct Listener {
    sockets: Vec<TcpListener>,
    port: u16,
    path: String,
}

impl Listener {
    /// Binds every address on `port` (0: a free one, the same for every address). Done
    /// before the browser is sent anywhere, so a busy port fails first.
    pub async fn bind(addrs: &[IpAddr], port: u16, path: &str) -> Result<Listener> {
        let mut sockets = Vec::new();
        let mut port = port;
        for ip in addrs {
            let addr = SocketAddr::new(*ip, port);
            let host = match ip {
                IpAddr::V6(_) => format!("[{ip}]"),
                IpAddr::V4(_) => ip.to_string(),
            };
            let socket = TcpListener::bind(addr).await.map_err(|e| match e.kind() {
                std::io::ErrorKind::AddrInUse => Error::PortBusy { host, port },
                _ => Error::Listen {
                    addr: addr.to_string(),
                    detail: e.to_string(),
                },
            })?;
            port = socket.local_addr().map(|a| a.port()).unwrap_or(port);
            sockets.push(socket);
        }
        Ok(Listener {
            sockets,
            port,
            path: path.to_owned(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until dropped: every request's outcome goes to `tx`.
    pub async fn serve(self, expect: Arc<Expect>, tx: mpsc::Sender<Outcome>) {
        let shared = Arc::new(Shared {
            expect,
            port: self.port,
            path: self.path,
            accepted: AtomicBool::new(false),
            tx,
        });
        let mut tasks = JoinSet::new();
        let mut order: VecDeque<tokio::task::AbortHandle> = VecDeque::new();
        let accepts = self.sockets.iter().map(|s| Box::pin(s.accept()));
        let mut accepts: Vec<_> = accepts.collect();
        loop {
            let (res, i, _) = futures_select_all(&mut accepts).await;
            accepts[i] = Box::pin(self.sockets[i].accept());
            let stream = match res {
                Ok((stream, _)) => stream,
                // Out of file descriptors or a reset before accept: back off a moment
                // rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            while tasks.try_join_next().is_some() {}
            order.retain(|h| !h.is_finished());
            if order.len() >= MAX_CONNECTIONS {
                if let Some(oldest) = order.pop_front() {
                    oldest.abort();
                }
            }
            let shared = shared.clone();
            let handle = tasks.spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let shared = shared.clone();
                    async move { Ok::<_, std::convert::Infallible>(shared.handle(req).await) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEAD_DEADLINE)
                    .keep_alive(false)
                    .max_buf_size(16 * 1024)
                    .serve_connection(TokioIo::new(stream), service);
                let _ = tokio::time::timeout(CONNECTION_DEADLINE, conn).await;
            });
            order.push_back(handle);
        }
    }
}

/// Waits for the first of several accepts (a listener has one or two sockets).
async fn futures_select_all<F: std::future::Future + Unpin>(
    futs: &mut [F],
) -> (F::Output, usize, ()) {
    std::future::poll_fn(|cx| {
        for (i, f) in futs.iter_mut().enumerate() {
            if let std::task::Poll::Ready(out) = std::pin::Pin::new(f).poll(cx) {
                return std::task::Poll::Ready((out, i, ()));
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// A loopback `Host` for this port (DNS rebinding: no other name is served); a browser
/// leaves `:80` out.
fn host_allowed(host: Option<&str>, port: u16) -> bool {
    let Some(host) = host.map(str::to_ascii_lowercase) else {
        return false;
    };
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|n| host == format!("{n}:{port}") || (port == 80 && host == *n))
}

struct Shared {
    expect: Arc<Expect>,
    port: u16,
    path: String,
    /// One callback only: later ones are told the attempt is done.
    accepted: AtomicBool,
    tx: mpsc::Sender<Outcome>,
}

impl Shared {
    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let host = req
            .headers()
            .get(hyper::header::HOST)
            .and_then(|h| h.to_str().ok());
        if !host_allowed(host, self.port) {
            let shown = host.map(excerpt).unwrap_or_else(|| "(none)".into());
            let _ = self
                .tx
                .try_send(Outcome::Refused(format!(
                    "a request with Host {shown:?} was refused (only this computer's loopback address is served)"
                )));
            return page(
                StatusCode::BAD_REQUEST,
                "Not for Keyport",
                "This request's Host header is not Keyport's loopback address, so it was refused.",
            );
        }
        if req.uri().path() != self.path {
            return page(
                StatusCode::NOT_FOUND,
                "Not found",
                "Keyport serves only the redirect path of the connection it is waiting for.",
            );
        }
        if req.method() != hyper::Method::GET {
            return page(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "Keyport expects the browser's GET redirect here.",
            );
        }
        let query = req.uri().query().unwrap_or_default();
        let params = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        match judge(params, &self.expect) {
            Verdict::Accept(cb) => {
                if self.accepted.swap(true, Ordering::SeqCst) {
                    return page(
                        StatusCode::CONFLICT,
                        "Already connected",
                        "Keyport already took a sign-in for this attempt; this tab can be closed.",
                    );
                }
                let _ = self.tx.send(Outcome::Done(Ok(cb))).await;
                page(StatusCode::OK, "Keyport is connected", "Keyport received the authorization and is storing the tokens. You can close this tab and return to Keyport.")
            }
            Verdict::Fail(e) => {
                let text = e.to_string();
                let _ = self.tx.send(Outcome::Done(Err(e))).await;
                page(StatusCode::BAD_REQUEST, "Not connected", &text)
            }
            Verdict::Ignore(why) => {
                let _ = self.tx.try_send(Outcome::Refused(format!(
                    "a redirect was refused because {why}; still waiting"
                )));
                page(StatusCode::BAD_REQUEST, "Redirect refused", &format!("Keyport refused this redirect because {why}. If you started a new connection meanwhile, finish that one; this tab can be closed."))
            }
        }
    }
}

fn page(status: StatusCode, title: &str, message: &str) -> Response<Full<Bytes>> {
    let ok = status == StatusCode::OK;
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>{title} — Keyport</title><style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:12vh auto;padding:0 1rem;color:#1d2430;background:#f6f7f9}}\
@media (prefers-color-scheme:dark){{body{{color:#e8eaee;background:#161a20}}}}h1{{font-size:1.4rem;color:{color}}}</style></head>\
<body><h1 id=\"title\">{title}</h1><p id=\"message\">{message}</p></body></html>",
        title = html_escape(title),
        message = html_escape(message),
        color = if ok { "#1a7f37" } else { "#c62828" },
    );
    Response::builder()
        .status(status)
        .header("Content-Type", "text/html; charset=utf-8")
        .header("Cache-Control", "no-store")
        .header("Referrer-Policy", "no-referrer")
        .header("X-Content-Type-Options", "nosniff")
        .header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'",
        )
        .header("Connection", "close")
        .body(Full::new(Bytes::from(body)))
        .expect("a static response builds")
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::host_allowed;

    #[test]
    fn only_loopback_hosts_and_a_bare_host_only_on_port_80() {
        assert!(host_allowed(Some("127.0.0.1:8765"), 8765));
        assert!(host_allowed(Some("LOCALHOST:8765"), 8765));
        assert!(host_allowed(Some("[::1]:8765"), 8765));
        assert!(
            host_allowed(Some("127.0.0.1"), 80),
            "browsers leave :80 out"
        );
        assert!(!host_allowed(Some("127.0.0.1"), 8765));
        assert!(
            !host_allowed(Some("evil.example:8765"), 8765),
            "DNS rebinding"
        );
        assert!(!host_allowed(Some("127.0.0.1:1"), 8765));
        assert!(!host_allowed(None, 8765));
    }
}
