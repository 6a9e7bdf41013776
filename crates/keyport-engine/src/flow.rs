//! Connect: the authorization code flow of RFC 8252. `begin` resolves the endpoints, binds
//! the loopback listener (before the browser opens, so a busy port fails first) and builds
//! the consent URL; the caller opens it and waits (or takes a pasted URL); `finish`
//! exchanges the code at once and stores the tokens: keychain first, then metadata.

use crate::loopback::{judge, Callback, Cancel, Expect, Listener, Verdict, WaitEvent};
use crate::oauth::{self, discover, random_token, Client, Op, Pkce};
use crate::secret::SecretString;
use crate::store::{Account, ClientAuth, Connection, Health, OAuthMeta, Registration};
use crate::time::now;
use crate::vault::Secrets;
use crate::vendors::{self, join, VendorId};
use crate::{Error, Keyport, Result};
use std::time::{Duration, Instant};
use url::Url;

/// How long the user has to finish the vendor's sign-in by default.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(300);

pub struct ConnectRequest {
    pub name: String,
    /// Keep the client secret in the keychain with the remembered app registration, so
    /// the next connection need not ask for it.
    pub remember_secret: bool,
    /// Replace an existing connection of that name (reconnect).
    pub replace: bool,
    pub window: Duration,
    pub setup: Setup,
}

pub enum Setup {
    Myob(MyobSetup),
    Advanced(AdvancedSetup),
    Oidc(OidcSetup),
}

impl Setup {
    /// The app registration behind this setup, to prefill the next connection.
    pub fn registration(&self) -> Registration {
        let some = |v: &str| (!v.trim().is_empty()).then(|| v.to_owned());
        let (vendor, client_id, redirect_uri, scopes, instance_url) = match self {
            Setup::Myob(s) => (
                VendorId::Myob,
                &s.client_id,
                some(&s.redirect_uri),
                some(&s.scopes),
                None,
            ),
            Setup::Advanced(s) => (
                VendorId::MyobAdvanced,
                &s.client_id,
                some(&s.redirect_uri),
                s.scopes.clone(),
                some(&s.instance_url),
            ),
            Setup::Oidc(s) => (
                VendorId::Oidc,
                &s.client_id,
                s.redirect_uri.clone(),
                some(&s.scopes),
                s.issuer.clone(),
            ),
        };
        Registration {
            vendor,
            client_id: client_id.clone(),
            redirect_uri,
            scopes,
            instance_url,
            secret_saved: false,
        }
    }
}

pub struct MyobSetup {
    /// The API key.
    pub client_id: String,
    /// The API secret.
    pub client_secret: SecretString,
    /// Exactly as registered with the key (scheme, host, port, path, trailing slash).
    pub redirect_uri: String,
    /// `CompanyFile` for keys made before 12 March 2025, else space-separated `sme-*` scopes.
    pub scopes: String,
    pub auth_base: Option<String>,
    pub api_base: Option<String>,
    /// Company-file credentials for `x-myobapi-cftoken` (default `Administrator`, empty password).
    pub cf_username: Option<String>,
    pub cf_password: Option<SecretString>,
}

pub struct AdvancedSetup {
    pub instance_url: String,
    /// `GUID@Company`.
    pub client_id: String,
    pub client_secret: SecretString,
    pub redirect_uri: String,
    pub scopes: Option<String>,
    /// Length of the refresh-token chain; `Some(0)` for an instance with no fixed end.
    pub chain_days: Option<u32>,
}

pub struct OidcSetup {
    /// With discovery. Without it, `authorize_url` and `token_url` are required.
    pub issuer: Option<String>,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub revocation_url: Option<String>,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    pub client_auth: ClientAuth,
    /// None: an ephemeral loopback port, `http://127.0.0.1:{port}/callback`.
    pub redirect_uri: Option<String>,
    pub scopes: String,
    pub extra_params: Vec<(String, String)>,
    /// An API URL `keyport test` may read with the token.
    pub test_url: Option<String>,
}

/// A started attempt. Drop it to abandon the attempt: the listener closes with it.
pub struct PendingConnect {
    name: String,
    replace: bool,
    vendor: VendorId,
    meta: OAuthMeta,
    secrets: Secrets,
    base_url: Option<String>,
    test_path: Option<String>,
    expect: Expect,
    pkce: Option<Pkce>,
    /// MYOB wants `scope` again in the code exchange.
    scope_in_exchange: bool,
    listener: Option<Listener>,
    authorize_url: String,
    started: Instant,
    /// Remembered (non-secret fields) once the connection is stored.
    registration: Registration,
    remember_secret: bool,
    window: Duration,
    expires_at: i64,
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

    pub fn vendor(&self) -> VendorId {
        self.vendor
    }

    /// False when the registered redirect URI is not a loopback address (MYOB's
    /// `http://desktop`): the user pastes the URL they landed on instead.
    pub fn is_loopback(&self) -> bool {
        self.listener.is_some()
    }

    /// When the attempt's window closes, unix seconds.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    fn remaining(&self) -> Result<Duration> {
        self.window
            .checked_sub(self.started.elapsed())
            .filter(|d| !d.is_zero())
            .ok_or(Error::Timeout {
                secs: self.window.as_secs(),
            })
    }

    /// Waits for the browser's redirect on the loopback listener.
    pub fn wait(
        &mut self,
        cancel: &Cancel,
        on_event: &mut dyn FnMut(WaitEvent),
    ) -> Result<Callback> {
        let listener = self.listener.take().ok_or_else(|| {
            Error::input("This connection attempt does not listen on a loopback address; paste the URL the browser landed on.")
        })?;
        let left = self.remaining()?;
        listener.wait(&self.expect, left, cancel, on_event)
    }

    /// Takes the URL the browser landed on (for non-loopback redirect URIs, or by hand).
    pub fn accept_pasted(&self, landed: &str) -> Result<Callback> {
        self.remaining()?;
        let url = Url::parse(landed.trim()).map_err(|_| {
            Error::input("That is not a URL. Copy the whole address from the browser's address bar after the vendor's page redirected.")
        })?;
        let registered = Url::parse(&self.meta.redirect_uri).ok();
        let same_target = registered.as_ref().is_some_and(|r| {
            r.scheme() == url.scheme()
                && r.host_str() == url.host_str()
                && r.port_or_known_default() == url.port_or_known_default()
                && r.path() == url.path()
        });
        if !same_target {
            return Err(Error::input(format!(
                "That URL does not start with the registered redirect URI {}; paste the address the vendor sent the browser to.",
                self.meta.redirect_uri
            )));
        }
        match judge(url.query_pairs().into_owned().collect(), &self.expect) {
            Verdict::Accept(cb) => Ok(cb),
            Verdict::Fail(e) => Err(e),
            Verdict::Ignore(_) => Err(Error::StateMismatch),
        }
    }
}

fn required(v: Option<String>, what: &str) -> Result<String> {
    v.filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Error::input(format!("{what} is required.")))
}

enum RedirectPlan {
    Loopback { port: u16, path: String },
    Paste,
}

fn plan_redirect(uri: &str) -> Result<RedirectPlan> {
    let u = Url::parse(uri).map_err(|e| {
        Error::input(format!("The redirect URI '{uri}' is not a valid URL ({e}). Give it exactly as registered with the vendor."))
    })?;
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if u.scheme() == "http" && loopback {
        if u.query().is_some() || u.fragment().is_some() {
            return Err(Error::input("A loopback redirect URI with a query or fragment is not supported; register one like http://127.0.0.1:8765/callback."));
        }
        Ok(RedirectPlan::Loopback {
            port: u.port_or_known_default().unwrap_or(80),
            path: u.path().to_owned(),
        })
    } else {
        Ok(RedirectPlan::Paste)
    }
}

impl Keyport {
    /// Starts a connection attempt. Nothing is stored until [`Keyport::finish_connect`].
    pub fn begin_connect(&self, req: ConnectRequest) -> Result<PendingConnect> {
        crate::store::validate_name(&req.name)?;
        if !req.replace
            && self
                .store
                .load()?
                .connections
                .iter()
                .any(|c| c.name == req.name)
        {
            return Err(Error::AlreadyExists(req.name));
        }
        let registration = req.setup.registration();
        let mut extra: Vec<(String, String)> = Vec::new();
        let mut secrets = Secrets::default();
        let (vendor, mut meta, base_url, test_path, iss_required, pkce, scope_in_exchange) =
            match req.setup {
                Setup::Myob(s) => {
                    let auth = s
                        .auth_base
                        .unwrap_or_else(|| vendors::MYOB_AUTH_BASE.into());
                    secrets.client_secret = Some(s.client_secret);
                    secrets.username = Some(
                        s.cf_username
                            .unwrap_or_else(|| "Administrator".into())
                            .into(),
                    );
                    secrets.password = Some(s.cf_password.unwrap_or_default());
                    // With prompt=consent MYOB adds businessId and businessName to the redirect.
                    extra.push(("prompt".into(), "consent".into()));
                    let meta = OAuthMeta {
                        client_id: required(Some(s.client_id), "The MYOB API key (client ID)")?,
                        authorize_url: join(&auth, vendors::MYOB_AUTHORIZE_PATH),
                        token_url: join(&auth, vendors::MYOB_TOKEN_PATH),
                        revocation_url: None,
                        logout_url: None,
                        issuer: None,
                        redirect_uri: s.redirect_uri,
                        scopes: if s.scopes.trim().is_empty() {
                            vendors::MYOB_LEGACY_SCOPE.into()
                        } else {
                            s.scopes
                        },
                        client_auth: ClientAuth::Post,
                        has_refresh_token: false,
                        chain_started_at: None,
                        chain_days: None,
                    };
                    (
                        VendorId::Myob,
                        meta,
                        Some(s.api_base.unwrap_or_else(|| vendors::MYOB_API_BASE.into())),
                        None,
                        false,
                        false,
                        true,
                    )
                }
                Setup::Advanced(s) => {
                    crate::vendors::check_advanced_client_id(&s.client_id)?;
                    let instance = s.instance_url.trim_end_matches('/').to_owned();
                    let d = discover(
                        &self.http,
                        VendorId::MyobAdvanced.label(),
                        &vendors::instance_discovery_url(&instance),
                    )?;
                    secrets.client_secret = Some(s.client_secret);
                    let pkce = d
                        .code_challenge_methods_supported
                        .iter()
                        .any(|m| m == "S256");
                    let meta = OAuthMeta {
                        client_id: s.client_id,
                        authorize_url: d.authorization_endpoint,
                        token_url: d.token_endpoint,
                        revocation_url: d.revocation_endpoint,
                        logout_url: Some(vendors::advanced_logout_url(&instance)),
                        issuer: Some(d.issuer),
                        redirect_uri: s.redirect_uri,
                        scopes: s
                            .scopes
                            .unwrap_or_else(|| vendors::ADVANCED_DEFAULT_SCOPES.into()),
                        client_auth: ClientAuth::Post,
                        has_refresh_token: false,
                        chain_started_at: None,
                        chain_days: Some(s.chain_days.unwrap_or(vendors::DEFAULT_CHAIN_DAYS)),
                    };
                    (
                        VendorId::MyobAdvanced,
                        meta,
                        Some(instance),
                        None,
                        d.authorization_response_iss_parameter_supported,
                        pkce,
                        false,
                    )
                }
                Setup::Oidc(s) => {
                    let (authorize, token, revocation, issuer, iss_required) = match &s.issuer {
                        Some(iss) => {
                            let d = discover(&self.http, VendorId::Oidc.label(), iss)?;
                            (
                                d.authorization_endpoint,
                                d.token_endpoint,
                                s.revocation_url.clone().or(d.revocation_endpoint),
                                Some(d.issuer),
                                d.authorization_response_iss_parameter_supported,
                            )
                        }
                        None => (
                            required(
                                s.authorize_url.clone(),
                                "Without --issuer, the authorization endpoint URL",
                            )?,
                            required(
                                s.token_url.clone(),
                                "Without --issuer, the token endpoint URL",
                            )?,
                            s.revocation_url.clone(),
                            None,
                            false,
                        ),
                    };
                    if s.client_auth != ClientAuth::None && s.client_secret.is_none() {
                        return Err(Error::input("A client secret is needed for client authentication 'post' or 'basic'; use 'none' for a public client."));
                    }
                    secrets.client_secret = s.client_secret;
                    extra.extend(s.extra_params);
                    let meta = OAuthMeta {
                        client_id: s.client_id,
                        authorize_url: authorize,
                        token_url: token,
                        revocation_url: revocation,
                        logout_url: None,
                        issuer,
                        redirect_uri: s.redirect_uri.unwrap_or_default(),
                        scopes: s.scopes,
                        client_auth: s.client_auth,
                        has_refresh_token: false,
                        chain_started_at: None,
                        chain_days: None,
                    };
                    (
                        VendorId::Oidc,
                        meta,
                        None,
                        s.test_url,
                        iss_required,
                        true,
                        false,
                    )
                }
            };
        if meta.client_id.trim().is_empty() {
            return Err(Error::input("The client ID is required."));
        }

        // The listener is bound now, before any browser is opened.
        let listener = if meta.redirect_uri.is_empty() {
            let l = Listener::bind(0, "/callback")?;
            meta.redirect_uri = format!("http://127.0.0.1:{}/callback", l.port());
            Some(l)
        } else {
            match plan_redirect(&meta.redirect_uri)? {
                RedirectPlan::Loopback { port, path } => Some(Listener::bind(port, &path)?),
                RedirectPlan::Paste => None,
            }
        };

        let state = random_token(16);
        let pkce = pkce.then(Pkce::new);
        let mut url = Url::parse(&meta.authorize_url).map_err(|e| {
            Error::input(format!(
                "The authorization endpoint '{}' is not a valid URL ({e}).",
                meta.authorize_url
            ))
        })?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &meta.client_id)
                .append_pair("redirect_uri", &meta.redirect_uri)
                .append_pair("scope", &meta.scopes)
                .append_pair("state", &state);
            if let Some(p) = &pkce {
                q.append_pair("code_challenge", &p.challenge)
                    .append_pair("code_challenge_method", "S256");
            }
            for (k, v) in &extra {
                q.append_pair(k, v);
            }
        }
        let expect = Expect {
            state,
            issuer: meta.issuer.clone(),
            iss_required,
        };
        Ok(PendingConnect {
            name: req.name,
            replace: req.replace,
            vendor,
            meta,
            secrets,
            base_url,
            test_path,
            expect,
            pkce,
            scope_in_exchange,
            listener,
            authorize_url: url.into(),
            started: Instant::now(),
            registration,
            remember_secret: req.remember_secret,
            window: req.window,
            expires_at: now() + req.window.as_secs() as i64,
        })
    }

    /// Exchanges the code (immediately: it lives minutes) and stores the connection.
    pub fn finish_connect(&self, p: PendingConnect, cb: Callback) -> Result<crate::ConnectionView> {
        let label = p.vendor.label();
        let mut params: Vec<(&str, &str)> = vec![
            ("grant_type", "authorization_code"),
            ("code", cb.code.expose()),
            ("redirect_uri", &p.meta.redirect_uri),
        ];
        if p.scope_in_exchange {
            params.push(("scope", &p.meta.scopes));
        }
        if let Some(pk) = &p.pkce {
            params.push(("code_verifier", pk.verifier.expose()));
        }
        let client = Client {
            id: &p.meta.client_id,
            secret: p.secrets.client_secret.as_ref(),
            auth: &p.meta.client_auth,
        };
        let tokens = oauth::token_request(
            &self.http,
            label,
            Op::Exchange,
            &p.meta.token_url,
            &client,
            &params,
        )?;

        let t = now();
        let mut meta = p.meta;
        meta.has_refresh_token = tokens.refresh_token.is_some();
        if meta.chain_days.is_some() {
            meta.chain_started_at = Some(t);
        }
        if let Some(granted) = tokens.scope.filter(|s| !s.is_empty()) {
            meta.scopes = granted;
        }
        let user = tokens.user.unwrap_or(oauth::TokenUser {
            uid: None,
            username: None,
        });
        let account = Account {
            business_id: cb.extra.get("businessId").cloned(),
            business_name: cb.extra.get("businessName").cloned(),
            username: user.username,
            uid: user.uid,
        };
        let remembered_secret = p
            .remember_secret
            .then(|| p.secrets.client_secret.clone())
            .flatten();
        let mut secrets = p.secrets;
        secrets.access_token = Some(tokens.access_token);
        secrets.refresh_token = tokens.refresh_token;
        let conn = Connection {
            name: p.name.clone(),
            vendor: p.vendor,
            created_at: t,
            health: Health::Ok,
            oauth: Some(meta),
            account,
            base_url: p.base_url,
            test_path: p.test_path,
            expires_at: tokens.expires_in.map(|s| t + s as i64),
            consented_at: Some(t),
            last_refresh: None,
            note: None,
            notified: Vec::new(),
        };
        let view = self.store_new(conn, &secrets, p.replace)?;
        // The connection works without it; only the next form is not prefilled.
        let _ = self.remember_registration(p.registration, remembered_secret.as_ref());
        Ok(view)
    }

    /// Keychain first, then metadata; a failure in between leaves no orphan behind.
    pub(crate) fn store_new(
        &self,
        conn: Connection,
        secrets: &Secrets,
        replace: bool,
    ) -> Result<crate::ConnectionView> {
        let name = conn.name.clone();
        let _lock = self.store.connection_lock(&name)?;
        if !replace
            && self
                .store
                .load()?
                .connections
                .iter()
                .any(|c| c.name == name)
        {
            return Err(Error::AlreadyExists(name));
        }
        let previous = if replace {
            crate::vault::load(self.vault.as_ref(), &name)?
        } else {
            None
        };
        crate::vault::save(self.vault.as_ref(), &name, secrets)?;
        let view = crate::ConnectionView::of(&conn);
        let written = self.store.update(|data| {
            data.connections.retain(|c| c.name != name);
            data.connections.push(conn);
            data.connections.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(())
        });
        if let Err(e) = written {
            let _ = match previous {
                Some(prev) => crate::vault::save(self.vault.as_ref(), &name, &prev),
                None => self.vault.delete(&name),
            };
            return Err(e);
        }
        Ok(view)
    }
}
