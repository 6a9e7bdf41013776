//! A mock of the vendors Keyport talks to, for tests and demos.
//!
//! URL layout under the base URL (`http://127.0.0.1:PORT`):
//!
//! | path | what |
//! |---|---|
//! | `/_mock/…` | control API: `clients`, `config`, `clock`, `fail_next`, `issue`, `stats` |
//! | `/myob/secure/oauth2/account/authorize`, `…/decide`, `/myob/secure/oauth2/v1/authorize` | MYOB sign-in, consent, token |
//! | `/myob/api/accountright/{businessId}/` | MYOB Business API cheap read |
//! | `/myob/api/accountright/{businessId}/Contact/Customer` | MYOB customers: GET a paged list (`$top`, `$skip`; `Items`, `NextPageLink`, `Count`), POST one (201, `Location`) |
//! | `/advanced/identity/.well-known/openid-configuration`, `/advanced/identity/connect/{authorize,decide,token,revocation,userinfo,endsession}` | MYOB Advanced identity |
//! | `/advanced/entity`, `/advanced/entity/auth/logout` | MYOB Advanced cheap read, logout |
//! | `/oidc/.well-known/openid-configuration`, `/oidc/{authorize,decide,token,revoke,userinfo}` | generic OIDC provider |
//! | `/exo/debtor`, `/exo/token` | MYOB Exo |
//! | `/xentral/api/v3/products` | Xentral |
//! | `/o4/api/…` | O4 |
//! | `/machship/apiv2/authenticate/ping` | MachShip |
//! | `/accountright-desktop/accountright/{company_file}/` | AccountRight desktop (local API) |

mod advanced;
mod control;
mod http;
mod manual;
mod myob;
mod oauth;
mod state;

use std::io;
use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use http::{Req, Resp};
pub use myob::{BUSINESS_ID, BUSINESS_NAME};
use state::State;
pub use state::{
    ClientReg, ConfigPatch, Endpoint, FailNext, IssueReq, IssuedCredentials, ManualVendor,
    OAuthVendor, RequestRecord, RevocationRecord, Stats, TokenRequestRecord,
};

type Shared = Arc<Mutex<State>>;

/// A running mock; dropping it stops serving and frees the port.
pub struct MockServer {
    base: String,
    state: Shared,
    server: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Binds 127.0.0.1 on a free port.
    pub fn start() -> io::Result<MockServer> {
        MockServer::start_on("127.0.0.1:0")
    }

    pub fn start_on(addr: &str) -> io::Result<MockServer> {
        let server = Arc::new(tiny_http::Server::http(addr).map_err(io::Error::other)?);
        let local = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| io::Error::other("not an IP listener"))?;
        let host = match local.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        };
        let base = format!("http://{host}:{}", local.port());
        let state = Arc::new(Mutex::new(State::new(base.clone())));
        let stopping = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (server, state, stopping) = (server.clone(), state.clone(), stopping.clone());
            std::thread::Builder::new()
                .name("keyport-mock".into())
                .spawn(move || loop {
                    match server.recv() {
                        Ok(rq) => {
                            let state = state.clone();
                            std::thread::spawn(move || serve_one(&state, rq));
                        }
                        Err(_) if stopping.load(Ordering::SeqCst) => break,
                        Err(_) => {}
                    }
                })?
        };
        Ok(MockServer {
            base,
            state,
            server,
            stopping,
            acceptor: Some(acceptor),
        })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        self.base.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    pub fn register_client(&self, c: ClientReg) {
        self.lock().register(c);
    }

    pub fn configure(&self, c: ConfigPatch) {
        self.lock().configure(c);
    }

    pub fn advance_clock(&self, secs: i64) {
        self.lock().clock_offset += secs;
    }

    /// Panics if `status` is not an HTTP status (100..=599).
    pub fn fail_next(&self, f: FailNext) {
        if control::set_failure(&mut self.lock(), f).is_err() {
            panic!("fail_next: status must be 100..=599");
        }
    }

    /// Panics if `expires` is not a `YYYY-MM-DD` date.
    pub fn issue_manual(&self, req: IssueReq) -> IssuedCredentials {
        manual::issue(&mut self.lock(), req).unwrap_or_else(|e| panic!("issue_manual: {e}"))
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
        // The last `Arc<Server>` goes with `self`, which closes the listening socket.
    }
}

fn lock(state: &Shared) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn serve_one(state: &Shared, mut rq: tiny_http::Request) {
    let req = Req::read(&mut rq);
    let (resp, delay) = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut st = lock(state);
        st.answer_delay_ms = 0;
        let resp = route(&mut st, &req);
        (resp, st.answer_delay_ms)
    }))
    .unwrap_or_else(|_| {
        let body = serde_json::json!({"error": "mock_panicked"});
        (Resp::json(500, &body), 0)
    });
    // The state is already changed (a refresh token rotated); only the answer is late.
    std::thread::sleep(std::time::Duration::from_millis(delay));
    let _ = rq.respond(resp.into_tiny());
}

fn route(st: &mut State, req: &Req) -> Resp {
    let path = req.path.as_str();
    if let Some(rest) = path.strip_prefix("/_mock/") {
        return control::handle(st, req, rest);
    }
    st.record(req);
    if let Some(rest) = path.strip_prefix("/myob/") {
        myob::handle(st, req, rest)
    } else if path.starts_with("/advanced/") {
        advanced::handle(st, req, &advanced::ADVANCED)
    } else if path == "/oidc" || path.starts_with("/oidc/") {
        advanced::handle(st, req, &advanced::OIDC)
    } else if let Some(r) = manual::handle(st, req) {
        r
    } else if path == "/" {
        Resp::new(200, "text/plain; charset=utf-8", guide(&st.base))
    } else {
        Resp::not_found()
    }
}

/// A short human guide to the base URLs Keyport should be given.
pub fn guide(base: &str) -> String {
    format!(
        "\
Base URLs to give Keyport:
  MYOB Business API    --auth-base {base}/myob/secure --api-base {base}/myob/api
  MYOB Advanced        --instance {base}/advanced
  Generic OIDC         --issuer {base}/oidc
  MYOB Exo             --base-url {base}/exo
  Xentral              --base-url {base}/xentral
  O4                   --base-url {base}/o4 --test-path /api/orderstatus
  MachShip             --base-url {base}/machship/apiv2
  AccountRight desktop --base-url {base}/accountright-desktop
Control API (JSON): POST {base}/_mock/clients, /_mock/config, /_mock/clock, /_mock/fail_next,
  /_mock/issue {{\"vendor\":\"exo\"|\"xentral\"|\"o4\"|\"machship\"|\"myob-desktop\"}}; GET {base}/_mock/stats
"
    )
}
