//! The public control types and the one shared state behind the mutex.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::http::{unix_now, Req, Resp};
use crate::manual::Manual;
use crate::oauth::{Access, Chain, Code, Refresh};

/// The OAuth vendors the mock plays.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum OAuthVendor {
    Myob,
    Advanced,
    Oidc,
}

impl OAuthVendor {
    pub fn key(self) -> &'static str {
        match self {
            OAuthVendor::Myob => "myob",
            OAuthVendor::Advanced => "advanced",
            OAuthVendor::Oidc => "oidc",
        }
    }
}

/// `POST /_mock/clients`: an app registered at a vendor.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ClientReg {
    pub vendor: OAuthVendor,
    pub client_id: String,
    /// `None` registers a public client (PKCE S256 required).
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// MYOB only: company-file user expected in `x-myobapi-cftoken`.
    #[serde(default = "default_cf_username")]
    pub cf_username: String,
    #[serde(default)]
    pub cf_password: String,
}

fn default_cf_username() -> String {
    "Administrator".into()
}

impl ClientReg {
    /// A client with one redirect URI and the default company-file login.
    pub fn new(vendor: OAuthVendor, client_id: &str, secret: Option<&str>, redirect: &str) -> Self {
        ClientReg {
            vendor,
            client_id: client_id.into(),
            client_secret: secret.map(Into::into),
            redirect_uris: vec![redirect.into()],
            cf_username: default_cf_username(),
            cf_password: String::new(),
        }
    }
}

/// `POST /_mock/config`: any subset of the settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigPatch {
    pub access_ttl_secs: Option<i64>,
    pub code_ttl_secs: Option<i64>,
    /// Refresh chain length for Advanced and OIDC; 0 means no limit.
    pub chain_days: Option<i64>,
    pub advanced_list_revocation: Option<bool>,
    pub advanced_iss: Option<bool>,
    pub logout_status: Option<u16>,
    /// Token-endpoint answers leave this many milliseconds after the grant was processed
    /// (a slow way back: the vendor has already rotated when the answer is late).
    pub token_answer_delay_ms: Option<u64>,
    /// Every token endpoint answers this literal access token, for the code exchange and
    /// refresh alike (a misbehaving vendor, e.g. one whose token holds a line break); the
    /// API accepts it. `""` turns it off.
    pub access_token_override: Option<String>,
    /// The same for the refresh token.
    pub refresh_token_override: Option<String>,
    /// Access tokens are JWTs (RFC 9068) whose `exp` is the only word on their lifetime:
    /// the token response carries no `expires_in`.
    pub jwt_access_tokens: Option<bool>,
}

/// Which kind of endpoint a `FailNext` hits.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Endpoint {
    Token,
    Revocation,
    Logout,
    Api,
}

/// `POST /_mock/fail_next`: the next request to `endpoint` gets exactly this, once.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FailNext {
    pub endpoint: Endpoint,
    pub status: u16,
    #[serde(default)]
    pub body: String,
    /// Default `application/json`.
    #[serde(default)]
    pub content_type: Option<String>,
}

/// Vendors whose tokens come from an admin screen.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum ManualVendor {
    Exo,
    Xentral,
    O4,
    Machship,
    MyobDesktop,
}

/// `POST /_mock/issue`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct IssueReq {
    pub vendor: ManualVendor,
    /// Last valid day, `YYYY-MM-DD`.
    #[serde(default)]
    pub expires: Option<String>,
}

/// What the vendor's admin screen shows once.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct IssuedCredentials {
    pub vendor: ManualVendor,
    pub token: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub key: Option<String>,
    pub company_file: Option<String>,
    pub expires: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RevocationRecord {
    pub vendor: OAuthVendor,
    pub token_type_hint: Option<String>,
    pub known: bool,
}

/// One token-endpoint request, without secret values.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TokenRequestRecord {
    pub vendor: OAuthVendor,
    pub method: String,
    /// The query string; values of secret parameters are replaced by `REDACTED`.
    pub query: String,
    pub content_type: Option<String>,
    pub form_keys: Vec<String>,
    pub grant_type: Option<String>,
    pub basic_auth: bool,
}

/// One request to a vendor endpoint (not the control API), without any header value.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// Lower-cased, in the order sent (a repeated header appears twice).
    pub header_names: Vec<String>,
    pub body_len: usize,
}

/// `GET /_mock/stats`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub authorize_requests: u64,
    pub consents_allowed: u64,
    pub consents_denied: u64,
    pub code_exchanges: u64,
    pub refreshes: u64,
    pub token_errors: u64,
    pub revocations: Vec<RevocationRecord>,
    pub logouts: u64,
    pub api_calls: BTreeMap<String, u64>,
    pub api_rejections: BTreeMap<String, u64>,
    pub exo_token_reissues: u64,
    /// The last 50, oldest first.
    pub token_requests: Vec<TokenRequestRecord>,
    /// Every request to a vendor endpoint, the last 200, oldest first.
    #[serde(default)]
    pub requests: Vec<RequestRecord>,
}

/// The effective settings (what `POST /_mock/config` answers with).
#[derive(Serialize, Clone, Debug)]
pub(crate) struct Config {
    pub access_ttl_secs: Option<i64>,
    pub code_ttl_secs: i64,
    pub chain_days: i64,
    pub advanced_list_revocation: bool,
    pub advanced_iss: bool,
    pub logout_status: u16,
    pub token_answer_delay_ms: u64,
    pub access_token_override: Option<String>,
    pub refresh_token_override: Option<String>,
    pub jwt_access_tokens: bool,
}

pub(crate) struct State {
    pub base: String,
    /// How long the answer being made waits before it leaves (set per request).
    pub answer_delay_ms: u64,
    pub clock_offset: i64,
    pub config: Config,
    pub clients: HashMap<(OAuthVendor, String), ClientReg>,
    pub codes: HashMap<String, Code>,
    pub access: HashMap<String, Access>,
    pub refresh: HashMap<String, Refresh>,
    pub chains: Vec<Chain>,
    pub manual: Vec<Manual>,
    pub failures: HashMap<Endpoint, FailNext>,
    pub stats: Stats,
    /// MYOB Business API: the company file's customers (`Contact/Customer`).
    pub myob_customers: Vec<serde_json::Value>,
}

impl State {
    pub fn new(base: String) -> State {
        State {
            base,
            clock_offset: 0,
            config: Config {
                access_ttl_secs: None,
                code_ttl_secs: 180,
                chain_days: 30,
                advanced_list_revocation: true,
                advanced_iss: false,
                logout_status: 204,
                token_answer_delay_ms: 0,
                access_token_override: None,
                refresh_token_override: None,
                jwt_access_tokens: false,
            },
            clients: HashMap::new(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            chains: Vec::new(),
            manual: Vec::new(),
            failures: HashMap::new(),
            stats: Stats::default(),
            answer_delay_ms: 0,
            myob_customers: crate::myob::seed_customers(),
        }
    }

    /// The mock clock: real time plus the advanced offset.
    pub fn now(&self) -> i64 {
        unix_now() + self.clock_offset
    }

    pub fn register(&mut self, c: ClientReg) {
        self.clients.insert((c.vendor, c.client_id.clone()), c);
    }

    pub fn client(&self, vendor: OAuthVendor, id: &str) -> Option<ClientReg> {
        self.clients.get(&(vendor, id.to_owned())).cloned()
    }

    pub fn configure(&mut self, p: ConfigPatch) {
        let c = &mut self.config;
        c.access_ttl_secs = p.access_ttl_secs.or(c.access_ttl_secs);
        c.code_ttl_secs = p.code_ttl_secs.unwrap_or(c.code_ttl_secs);
        c.chain_days = p.chain_days.unwrap_or(c.chain_days);
        c.advanced_list_revocation = p
            .advanced_list_revocation
            .unwrap_or(c.advanced_list_revocation);
        c.advanced_iss = p.advanced_iss.unwrap_or(c.advanced_iss);
        c.logout_status = p.logout_status.unwrap_or(c.logout_status);
        c.token_answer_delay_ms = p.token_answer_delay_ms.unwrap_or(c.token_answer_delay_ms);
        c.jwt_access_tokens = p.jwt_access_tokens.unwrap_or(c.jwt_access_tokens);
        let set = |v: Option<String>, was: &mut Option<String>| {
            if let Some(v) = v {
                *was = Some(v).filter(|v| !v.is_empty());
            }
        };
        set(p.access_token_override, &mut c.access_token_override);
        set(p.refresh_token_override, &mut c.refresh_token_override);
    }

    pub fn access_ttl(&self, vendor: OAuthVendor) -> i64 {
        self.config.access_ttl_secs.unwrap_or(match vendor {
            OAuthVendor::Myob => 1200,
            _ => 3600,
        })
    }

    /// Keeps a record of a request to a vendor endpoint (the last 200).
    pub fn record(&mut self, req: &Req) {
        let list = &mut self.stats.requests;
        if list.len() >= 200 {
            list.remove(0);
        }
        list.push(RequestRecord {
            method: req.method.clone(),
            path: req.path.clone(),
            header_names: req.headers.iter().map(|(n, _)| n.clone()).collect(),
            body_len: req.body.len(),
        });
    }

    /// The injected response for this endpoint kind, if one is pending.
    pub fn take_failure(&mut self, kind: Endpoint) -> Option<Resp> {
        let f = self.failures.remove(&kind)?;
        let ct = f.content_type.as_deref().unwrap_or("application/json");
        Some(Resp::new(f.status, ct, f.body))
    }

    /// Runs a cheap read, honouring `fail_next api` and counting the outcome under `vendor`.
    pub fn api_call(
        &mut self,
        vendor: &str,
        req: &Req,
        check: impl FnOnce(&mut State, &Req) -> Resp,
    ) -> Resp {
        let resp = match self.take_failure(Endpoint::Api) {
            Some(r) => r,
            None => check(self, req),
        };
        let counter = if resp.ok() {
            &mut self.stats.api_calls
        } else {
            &mut self.stats.api_rejections
        };
        *counter.entry(vendor.to_owned()).or_default() += 1;
        resp
    }
}

/// `{"error":…,"error_description":…}` as OAuth servers answer.
/// The answer to a token request whose `grant_type` is missing or not one the endpoint takes.
pub(crate) fn unsupported_grant(grant_type: Option<&str>) -> Resp {
    match grant_type {
        Some(other) => oauth_error(
            400,
            "unsupported_grant_type",
            &format!("grant_type {other} is not supported"),
        ),
        None => oauth_error(
            400,
            "invalid_request",
            "The grant_type parameter is missing",
        ),
    }
}

pub(crate) fn oauth_error(status: u16, error: &str, description: &str) -> Resp {
    Resp::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}
