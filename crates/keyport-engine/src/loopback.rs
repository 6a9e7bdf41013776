//! The RFC 8252 loopback redirect: a one-shot HTTP listener on 127.0.0.1 that serves only
//! the registered path, checks the `Host` header (DNS rebinding), `state` (constant
//! time) and `iss` (RFC 9207), accepts exactly one valid callback and then closes.

use crate::oauth::ct_eq;
use crate::secret::SecretString;
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Cancels a wait from another thread (the window's Cancel button, Ctrl-C).
#[derive(Clone, Default, Debug)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What the redirect must carry to be accepted.
pub struct Expect {
    pub state: String,
    /// The issuer, when known; `iss` must then match if present.
    pub issuer: Option<String>,
    /// The provider promised `iss` (RFC 9207): a redirect without it is refused.
    pub iss_required: bool,
}

/// A callback that passed every check.
#[derive(Debug)]
pub struct Callback {
    pub code: SecretString,
    /// Every other parameter except `state`, `code` and `iss` (MYOB's `businessId`…).
    pub extra: BTreeMap<String, String>,
}

/// Events while waiting, for countdowns and warnings.
#[derive(Debug, Clone)]
pub enum WaitEvent {
    /// Whole seconds left in the window; sent once a second.
    Tick(u64),
    /// A request came in and was refused without ending the wait.
    Ignored(String),
}

/// The verdict on one set of redirect parameters.
pub(crate) enum Verdict {
    Accept(Callback),
    /// Ends the attempt (the vendor said no, or the redirect is wrong in a way that waiting cannot fix).
    Fail(Error),
    /// Not this attempt's redirect (wrong or missing `state`): refuse it, keep waiting.
    Ignore(String),
}

pub(crate) fn judge(params: Vec<(String, String)>, expect: &Expect) -> Verdict {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in params {
        // A repeated parameter is ambiguous: refuse rather than pick one.
        if map.insert(k.clone(), v).is_some() {
            return Verdict::Ignore(format!("the parameter '{k}' appeared twice"));
        }
    }
    match map.remove("state") {
        Some(s) if ct_eq(&s, &expect.state) => {}
        Some(_) => return Verdict::Ignore("its state does not match this attempt".into()),
        None => return Verdict::Ignore("it carries no state".into()),
    }
    match (map.remove("iss"), &expect.issuer) {
        (Some(got), Some(want)) if got.trim_end_matches('/') != want.trim_end_matches('/') => {
            return Verdict::Fail(Error::IssuerMismatch {
                expected: want.clone(),
                got,
            })
        }
        (None, Some(want)) if expect.iss_required => {
            return Verdict::Fail(Error::IssuerMismatch {
                expected: want.clone(),
                got: "(none)".into(),
            })
        }
        _ => {}
    }
    if let Some(error) = map.remove("error") {
        return Verdict::Fail(Error::Denied {
            error,
            description: map.remove("error_description"),
        });
    }
    match map.remove("code") {
        Some(code) if !code.is_empty() => Verdict::Accept(Callback {
            code: code.into(),
            extra: map,
        }),
        _ => Verdict::Fail(Error::Denied {
            error: "no_code".into(),
            description: Some("the redirect carried neither a code nor an error".into()),
        }),
    }
}

/// A bound loopback listener for one redirect path.
pub struct Listener {
    listener: TcpListener,
    port: u16,
    path: String,
}

impl Listener {
    /// Binds 127.0.0.1:`port` (0 picks a free port). The socket is opened before the
    /// browser is sent anywhere, so a busy port fails before the user signs in.
    pub fn bind(port: u16, path: &str) -> Result<Listener> {
        let addr = format!("127.0.0.1:{port}");
        let listener = TcpListener::bind(&addr).map_err(|e| match e.kind() {
            ErrorKind::AddrInUse => Error::PortBusy { port },
            _ => Error::Listen {
                addr: addr.clone(),
                detail: e.to_string(),
            },
        })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
        Ok(Listener {
            listener,
            port,
            path: path.to_owned(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until one valid callback arrives, the vendor reports an error, the window
    /// closes or `cancel` fires. The socket is closed when this returns, whatever happened.
    ///
    /// A helper thread blocks in `accept` and hands connections over a channel, so a
    /// callback is served the moment it arrives; this thread keeps the countdown and
    /// watches `cancel`. On return the helper is woken, drops the socket and is joined.
    pub fn wait(
        self,
        expect: &Expect,
        window: Duration,
        cancel: &Cancel,
        on_event: &mut dyn FnMut(WaitEvent),
    ) -> Result<Callback> {
        let Listener {
            listener,
            port,
            path,
        } = self;
        let served = Served { port, path };
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel::<TcpStream>();
        let acceptor = {
            let stop = stop.clone();
            let _ = listener.set_nonblocking(false);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(s) = stream {
                        if tx.send(s).is_err() {
                            break;
                        }
                    }
                }
                // `listener` is dropped here: the port is free.
            })
        };

        let start = Instant::now();
        let mut last_tick = None;
        let result = loop {
            if cancel.is_cancelled() {
                break Err(Error::Cancelled);
            }
            let elapsed = start.elapsed();
            if elapsed >= window {
                break Err(Error::Timeout {
                    secs: window.as_secs(),
                });
            }
            let left = window - elapsed;
            if last_tick != Some(left.as_secs()) {
                last_tick = Some(left.as_secs());
                on_event(WaitEvent::Tick(left.as_secs()));
            }
            // Wake at least every 100 ms for Cancel, and on each whole second for the countdown.
            let to_next_second =
                Duration::from_nanos(u64::from(left.subsec_nanos())).max(Duration::from_millis(1));
            match rx.recv_timeout(to_next_second.min(Duration::from_millis(100))) {
                Ok(stream) => match served.serve(stream, expect) {
                    Outcome::Done(result) => break result,
                    Outcome::Refused(reason) => on_event(WaitEvent::Ignored(reason)),
                    Outcome::Noise => {}
                },
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    break Err(Error::Listen {
                        addr: format!("127.0.0.1:{port}"),
                        detail: "the listener stopped accepting connections".into(),
                    })
                }
            }
        };
        stop.store(true, Ordering::SeqCst);
        drop(rx);
        // Wake the blocked `accept` so the helper sees `stop` and drops the socket.
        let _ = TcpStream::connect_timeout(
            &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            Duration::from_secs(1),
        );
        let _ = acceptor.join();
        result
    }
}

/// What the listener serves: one path on one port.
struct Served {
    port: u16,
    path: String,
}

impl Served {
    fn serve(&self, mut stream: TcpStream, expect: &Expect) -> Outcome {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(3)));
        let Some(head) = read_head(&mut stream) else {
            return Outcome::Noise;
        };
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default();
        let mut parts = request_line.split(' ');
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let host = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("host"))
            .map(|(_, v)| v.trim().to_ascii_lowercase());
        let allowed = [
            format!("127.0.0.1:{}", self.port),
            format!("localhost:{}", self.port),
            format!("[::1]:{}", self.port),
        ];
        if !host
            .as_deref()
            .is_some_and(|h| allowed.iter().any(|a| a == h))
        {
            respond(
                &mut stream,
                400,
                "Not for Keyport",
                "This request's Host header is not Keyport's loopback address, so it was refused.",
            );
            return Outcome::Refused(format!(
                "a request with Host {} was refused (only 127.0.0.1:{} is served)",
                host.as_deref().unwrap_or("(none)"),
                self.port
            ));
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if path != self.path {
            respond(
                &mut stream,
                404,
                "Not found",
                "Keyport serves only the redirect path of the connection it is waiting for.",
            );
            return Outcome::Noise;
        }
        if method != "GET" {
            respond(
                &mut stream,
                405,
                "Method not allowed",
                "Keyport expects the browser's GET redirect here.",
            );
            return Outcome::Noise;
        }
        let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        match judge(params, expect) {
            Verdict::Accept(cb) => {
                respond(&mut stream, 200, "Keyport is connected", "Keyport received the authorization and is storing the tokens. You can close this tab and return to Keyport.");
                Outcome::Done(Ok(cb))
            }
            Verdict::Fail(e) => {
                respond(&mut stream, 400, "Not connected", &e.to_string());
                Outcome::Done(Err(e))
            }
            Verdict::Ignore(why) => {
                let msg = format!("Keyport refused this redirect because {why}. If you started a new connection meanwhile, finish that one; this tab can be closed.");
                respond(&mut stream, 400, "Redirect refused", &msg);
                Outcome::Refused(format!(
                    "a redirect was refused because {why}; still waiting"
                ))
            }
        }
    }
}

enum Outcome {
    Done(Result<Callback>),
    Refused(String),
    Noise,
}

fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > 16 * 1024 {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8(buf).ok()
}

fn respond(stream: &mut TcpStream, status: u16, title: &str, message: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Bad Request",
    };
    let ok = status == 200;
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>{title} — Keyport</title><style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:12vh auto;padding:0 1rem;color:#1d2430;background:#f6f7f9}}\
@media (prefers-color-scheme:dark){{body{{color:#e8eaee;background:#161a20}}}}h1{{font-size:1.4rem;color:{color}}}</style></head>\
<body><h1 id=\"title\">{title}</h1><p id=\"message\">{message}</p></body></html>",
        title = html_escape(title),
        message = html_escape(message),
        color = if ok { "#1a7f37" } else { "#c62828" },
    );
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect() -> Expect {
        Expect {
            state: "s1".into(),
            issuer: Some("https://idp".into()),
            iss_required: false,
        }
    }

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn judges_state_iss_and_errors() {
        assert!(matches!(
            judge(p(&[("code", "c")]), &expect()),
            Verdict::Ignore(_)
        ));
        assert!(matches!(
            judge(p(&[("code", "c"), ("state", "x")]), &expect()),
            Verdict::Ignore(_)
        ));
        assert!(matches!(
            judge(
                p(&[("code", "c"), ("state", "s1"), ("state", "s1")]),
                &expect()
            ),
            Verdict::Ignore(_)
        ));
        assert!(matches!(
            judge(
                p(&[("code", "c"), ("state", "s1"), ("iss", "https://evil")]),
                &expect()
            ),
            Verdict::Fail(Error::IssuerMismatch { .. })
        ));
        let strict = Expect {
            iss_required: true,
            ..expect()
        };
        assert!(matches!(
            judge(p(&[("code", "c"), ("state", "s1")]), &strict),
            Verdict::Fail(Error::IssuerMismatch { .. })
        ));
        assert!(matches!(
            judge(p(&[("error", "access_denied"), ("state", "s1")]), &expect()),
            Verdict::Fail(Error::Denied { .. })
        ));
        match judge(
            p(&[
                ("code", "c"),
                ("state", "s1"),
                ("iss", "https://idp/"),
                ("businessId", "b"),
            ]),
            &expect(),
        ) {
            Verdict::Accept(cb) => {
                assert_eq!(cb.code.expose(), "c");
                assert_eq!(cb.extra.get("businessId").map(String::as_str), Some("b"));
                assert!(!cb.extra.contains_key("state") && !cb.extra.contains_key("iss"));
            }
            _ => panic!("a valid callback must be accepted"),
        }
    }

    use std::io::{Read, Write};
    use std::net::TcpStream;

    /// Sends one raw request and returns the status code and body.
    fn send(port: u16, target: &str, host: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("listener accepts");
        write!(
            s,
            "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        let status = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, out)
    }

    type Waiting = std::thread::JoinHandle<(Result<Callback>, Vec<WaitEvent>)>;

    fn run_listener(window: Duration, cancel: Cancel) -> (u16, Waiting) {
        let l = Listener::bind(0, "/callback").expect("bind");
        let port = l.port();
        let h = std::thread::spawn(move || {
            let mut events = Vec::new();
            let r = l.wait(&expect(), window, &cancel, &mut |e| events.push(e));
            (r, events)
        });
        (port, h)
    }

    #[test]
    fn serves_only_the_path_host_and_state_then_closes() {
        let (port, h) = run_listener(Duration::from_secs(20), Cancel::default());
        let host = format!("127.0.0.1:{port}");
        assert_eq!(send(port, "/favicon.ico", &host).0, 404);
        let (st, body) = send(port, "/callback?code=c&state=s1", "evil.example:80");
        assert_eq!(st, 400);
        assert!(body.contains("Host header"), "{body}");
        let (st, body) = send(port, "/callback?code=c&state=wrong", &host);
        assert_eq!(st, 400);
        assert!(body.contains("state does not match"), "{body}");
        assert_eq!(send(port, "/callback?code=c", &host).0, 400);
        let (st, body) = send(
            port,
            "/callback?code=the-code&state=s1&businessId=b1",
            &format!("localhost:{port}"),
        );
        assert_eq!(st, 200, "{body}");
        assert!(body.contains("close this tab"));
        let (r, events) = h.join().expect("thread");
        let cb = r.expect("the valid callback is accepted");
        assert_eq!(cb.code.expose(), "the-code");
        assert_eq!(cb.extra.get("businessId").map(String::as_str), Some("b1"));
        let ignored = events
            .iter()
            .filter(|e| matches!(e, WaitEvent::Ignored(_)))
            .count();
        assert_eq!(
            ignored, 3,
            "wrong host, wrong state and no state are reported: {events:?}"
        );
        // One callback only: the port is closed now.
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "the listener must be closed"
        );
    }

    #[test]
    fn denied_consent_ends_the_wait_with_the_vendor_words() {
        let (port, h) = run_listener(Duration::from_secs(20), Cancel::default());
        let (st, body) = send(
            port,
            "/callback?error=access_denied&error_description=User+said+no&state=s1",
            &format!("127.0.0.1:{port}"),
        );
        assert_eq!(st, 400);
        assert!(body.contains("User said no"), "{body}");
        match h.join().expect("thread").0 {
            Err(Error::Denied { error, description }) => {
                assert_eq!(error, "access_denied");
                assert_eq!(description.as_deref(), Some("User said no"));
            }
            other => panic!("expected Denied, got {other:?}"),
        }
    }

    #[test]
    fn window_timeout_cancel_and_busy_port() {
        let (port, h) = run_listener(Duration::from_millis(300), Cancel::default());
        assert!(matches!(
            h.join().expect("thread").0,
            Err(Error::Timeout { .. })
        ));
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "closed after a timeout"
        );

        let cancel = Cancel::default();
        let (_, h) = run_listener(Duration::from_secs(30), cancel.clone());
        std::thread::sleep(Duration::from_millis(50));
        cancel.cancel();
        assert!(matches!(h.join().expect("thread").0, Err(Error::Cancelled)));

        let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let busy = holder.local_addr().expect("addr").port();
        match Listener::bind(busy, "/callback") {
            Err(Error::PortBusy { port }) => assert_eq!(port, busy),
            Err(other) => panic!("expected PortBusy, got {other:?}"),
            Ok(_) => panic!("expected PortBusy, the bind succeeded"),
        }
    }
}
