//! Connect: the authorization code flow of RFC 8252. [`Keyport::begin_connect`] reads the
//! form, resolves the endpoints, binds the loopback listener (before the browser opens,
//! so a busy port fails first) and builds the consent URL; the caller opens it and waits
//! ([`PendingConnect::wait`]) or takes a pasted URL; [`Keyport::finish_connect`] exchanges
//! the code at once and stores the tokens: keychain first, then metadata.

mod browser;
mod listener;
pub(crate) mod redirect;

pub use redirect::Callback;

use crate::input::Form;
use crate::model::Secrets;
use crate::model::{Connection, Health, OAuthMeta, Registration};
use crate::oauth::{self, Client, Op, Pkce};
use crate::time::now;
use crate::tokens::Retired;
use crate::vendors::{self, Endpoints, Vendor};
use crate::{ConnectionView, Error, Keyport, Result};
use listener::{Listener, Outcome};
use redirect::{Expect, Target};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use url::Url;

pub use tokio_util::sync::CancellationToken as Cancel;

/// How long the person has to finish the vendor's sign-in by default.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(300);

/// A finished connect: the stored connection and, for a replace, what became of the
/// grant it replaced.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Connected {
    #[serde(flatten)]
    pub connection: ConnectionView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced: Option<Retired>,
}

/// Events while waiting, for countdowns and warnings.
#[derive(Debug, Clone)]
pub enum WaitEvent {
    /// Whole seconds left in the window; sent once a second.
    Tick(u64),
    /// A request came in and was refused without ending the wait.
    Ignored(String),
}

/// A started attempt. Drop it to abandon the attempt: the listener closes with it.
pub struct PendingConnect {
    name: String,
    note: Option<String>,
    client: Option<String>,
    replace: bool,
    vendor: &'static dyn Vendor,
    meta: OAuthMeta,
    secrets: Secrets,
    base_url: Option<String>,
    test_path: Option<String>,
    expect: Arc<Expect>,
    pkce: Option<Pkce>,
    scope_in_exchange: bool,
    listener: Option<Listener>,
    authorize_url: String,
    deadline: Instant,
    window: Duration,
    expires_at: i64,
    registration: Registration,
    remember_secret: bool,
}

impl PendingConnect {
    /// The vendor's consent page, to open in the system browser.
    pub fn authorize_url(&self) -> &str {
        &self.authorize_url
    }

    pub fn redirect_uri(&self) -> &str {
        &self.meta.redirect_uri
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn vendor_label(&self) -> &'static str {
        self.vendor.label()
    }

    /// False when the registered redirect URI is not on this computer (such as
    /// `http://desktop`): the person pastes the URL they landed on instead.
    pub fn is_loopback(&self) -> bool {
        self.listener.is_some()
    }

    /// When the attempt's window closes, unix seconds.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    fn check_time(&self) -> Result<()> {
        if Instant::now() >= self.deadline {
            return Err(Error::Timeout {
                secs: self.window.as_secs(),
            });
        }
        Ok(())
    }

    /// Waits for the browser's redirect on the loopback listener, until a valid callback,
    /// the vendor's refusal, the window's end or `cancel` — whatever clients connect and
    /// however slowly they talk. The listener is closed when this returns.
    pub async fn wait(
        &mut self,
        cancel: &Cancel,
        mut on_event: impl FnMut(WaitEvent),
    ) -> Result<Callback> {
        let listener = self.listener.take().ok_or_else(|| {
            Error::input("This connection attempt does not listen on this computer; paste the URL the browser landed on.")
        })?;
        self.check_time()?;
        let port = listener.port();
        let (tx, mut rx) = mpsc::channel(16);
        let serve = listener.serve(self.expect.clone(), tx);
        tokio::pin!(serve);
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(Error::Cancelled),
                _ = tokio::time::sleep_until(self.deadline) => {
                    return Err(Error::Timeout { secs: self.window.as_secs() })
                }
                Some(outcome) = rx.recv() => match outcome {
                    Outcome::Done(result) => return result,
                    Outcome::Refused(why) => on_event(WaitEvent::Ignored(why)),
                },
                _ = &mut serve => {
                    return Err(Error::Listen {
                        addr: format!("port {port}"),
                        detail: "the listener stopped accepting connections".into(),
                    })
                }
                _ = ticker.tick() => {
                    let left = self.deadline.saturating_duration_since(Instant::now());
                    on_event(WaitEvent::Tick(left.as_secs_f64().round() as u64));
                }
            }
        }
    }

    /// Takes the URL the browser landed on (for redirect URIs not on this computer).
    pub fn accept_pasted(&self, landed: &str) -> Result<Callback> {
        self.check_time()?;
        redirect::pasted(landed, &self.meta.redirect_uri, &self.expect)
    }
}

impl Keyport {
    /// Starts a connection attempt from a form. Nothing is stored until
    /// [`Keyport::finish_connect`].
    pub async fn begin_connect(&self, form: Form) -> Result<PendingConnect> {
        let req = self.connect_request(form).await?;
        let crate::input::ConnectRequest {
            name,
            note,
            client,
            replace,
            remember_secret,
            vendor,
            plan,
            values,
            window,
        } = req;
        self.store.ensure_new(&name, replace).await?;
        let (authorize_url, token_url, revocation_url, issuer, iss_required) = match &plan.endpoints
        {
            Endpoints::Fixed {
                authorize,
                token,
                revocation,
            } => {
                for (u, what) in [
                    (authorize, "authorization endpoint"),
                    (token, "token endpoint"),
                ] {
                    crate::http::checked_url(u, what)?;
                }
                if let Some(r) = revocation {
                    crate::http::checked_url(r, "revocation endpoint")?;
                }
                (
                    authorize.clone(),
                    token.clone(),
                    revocation.clone(),
                    None,
                    false,
                )
            }
            Endpoints::Discover { issuer, revocation } => {
                let d = oauth::discover(&self.http, vendor.label(), issuer).await?;
                (
                    d.authorization_endpoint,
                    d.token_endpoint,
                    revocation.clone().or(d.revocation_endpoint),
                    Some(d.issuer),
                    d.authorization_response_iss_parameter_supported,
                )
            }
        };

        // The listener is bound now, before any browser is opened.
        let (listener, redirect_uri) = match &plan.redirect_uri {
            None => {
                let l =
                    Listener::bind(&[std::net::Ipv4Addr::LOCALHOST.into()], 0, "/callback").await?;
                let uri = format!("http://127.0.0.1:{}/callback", l.port());
                (Some(l), uri)
            }
            Some(uri) => match redirect::target(uri)? {
                Target::Loopback { addrs, port, path } => (
                    Some(Listener::bind(&addrs, port, &path).await?),
                    uri.clone(),
                ),
                Target::Paste => (None, uri.clone()),
            },
        };

        let state = oauth::random_token(16);
        let pkce = (plan.pkce == vendors::Pkce::Always).then(Pkce::new);
        let mut url = crate::http::checked_url(&authorize_url, "authorization endpoint")?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &plan.client_id)
                .append_pair("redirect_uri", &redirect_uri)
                .append_pair("scope", &plan.scopes)
                .append_pair("state", &state);
            if let Some(p) = &pkce {
                q.append_pair("code_challenge", &p.challenge)
                    .append_pair("code_challenge_method", "S256");
            }
            for (k, v) in &plan.authorize_extra {
                q.append_pair(k, v);
            }
        }
        let registration = Registration {
            vendor: vendor.id().to_owned(),
            client_id: plan.client_id.clone(),
            authority: plan.authority.clone(),
            values: values.remembered(vendor.fields()),
            secret_saved: false,
        };
        let meta = OAuthMeta {
            client_id: plan.client_id,
            authorize_url,
            token_url,
            revocation_url,
            logout_url: plan.logout_url,
            issuer: issuer.clone(),
            redirect_uri,
            scopes: plan.scopes,
            client_auth: plan.client_auth,
            has_refresh_token: false,
            chain_started_at: None,
            chain_days: plan.chain_days,
        };
        Ok(PendingConnect {
            name,
            note,
            client,
            replace,
            vendor,
            meta,
            secrets: values.secrets,
            base_url: plan.base_url,
            test_path: plan.test_path,
            expect: Arc::new(Expect {
                state,
                issuer,
                iss_required,
            }),
            pkce,
            scope_in_exchange: plan.scope_in_exchange,
            listener,
            authorize_url: Url::into(url),
            deadline: Instant::now() + window,
            window,
            expires_at: now() + window.as_secs() as i64,
            registration,
            remember_secret,
        })
    }

    /// Exchanges the code (at once: it lives minutes) and stores the connection.
    pub async fn finish_connect(&self, p: PendingConnect, cb: Callback) -> Result<Connected> {
        use crate::secret::ExposeSecret;
        let label = p.vendor.label();
        let mut params: Vec<(&str, &str)> = vec![
            ("grant_type", "authorization_code"),
            ("code", cb.code.expose_secret()),
            ("redirect_uri", &p.meta.redirect_uri),
        ];
        if p.scope_in_exchange {
            params.push(("scope", &p.meta.scopes));
        }
        if let Some(pk) = &p.pkce {
            params.push(("code_verifier", pk.verifier.expose_secret()));
        }
        let client = Client {
            id: &p.meta.client_id,
            secret: p.secrets.client_secret.as_ref(),
            auth: p.meta.client_auth,
        };
        let tokens = oauth::token_request(
            &self.http,
            label,
            Op::Exchange,
            &p.meta.token_url,
            &client,
            &params,
        )
        .await?;

        let t = now();
        let oauth_vendor = p
            .vendor
            .oauth()
            .expect("a pending connect is an OAuth vendor's");
        let account = oauth_vendor.capture(&cb.extra, &tokens.extras);
        let mut meta = p.meta;
        meta.has_refresh_token = tokens.refresh_token.is_some();
        if meta.chain_days.is_some() {
            meta.chain_started_at = Some(t);
        }
        if let Some(granted) = tokens.scope.clone().filter(|s| !s.is_empty()) {
            meta.scopes = granted;
        }
        let remembered_secret = p
            .remember_secret
            .then(|| p.secrets.client_secret.clone())
            .flatten();
        let expires_at = crate::tokens::expiry(t, &tokens, meta.has_refresh_token);
        let mut secrets = p.secrets;
        secrets.access_token = Some(tokens.access_token);
        secrets.refresh_token = tokens.refresh_token;
        let conn = Connection {
            name: p.name,
            vendor: p.vendor.id().to_owned(),
            created_at: t,
            health: Health::Ok,
            oauth: Some(meta),
            account,
            base_url: p.base_url,
            test_path: p.test_path,
            expires_at,
            consented_at: Some(t),
            last_refresh: None,
            note: p.note,
            client: p.client,
            unverified: None,
            notified: Vec::new(),
            ..Connection::default()
        };
        let (view, old) = self.store_new(conn, &secrets, p.replace).await?;
        // The connection works without it; only the next form is not prefilled.
        let _ = self
            .remember_registration(p.registration, remembered_secret.as_ref())
            .await;
        let what = if old.is_some() {
            crate::activity::EventKind::Reconnected
        } else {
            crate::activity::EventKind::Connected
        };
        self.record(&view.name, what, true, None);
        let replaced = match old {
            Some((old, old_secrets)) => self.retire(&old, &old_secrets, &secrets).await,
            None => None,
        };
        Ok(Connected {
            connection: view,
            replaced,
        })
    }
}
