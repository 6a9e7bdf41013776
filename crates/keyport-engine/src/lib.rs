//! Keyport's engine: gets, keeps and hands out API tokens for ERP, accounting and
//! logistics systems. No UI here: the `keyport` CLI and the desktop window are thin
//! callers of [`Keyport`], built from [`Settings`] their caller makes.
//!
//! The path of a token: a [`Form`] → [`Keyport::begin_connect`] → browser consent →
//! loopback callback ([`PendingConnect::wait`]) → [`Keyport::finish_connect`] exchanges
//! the code and writes the secrets to the keychain and the rest to the metadata file →
//! [`Keyport::token`] hands it out, refreshing under a file lock when it is near expiry.
//!
//! Parts: `vendors/` (one file per vendor), `input` (forms → requests, registrations),
//! `connect/` (redirect rules, the loopback listener, pasted URLs), `oauth/` (PKCE,
//! discovery, token endpoint, revocation), `tokens/` (hand-out, refresh, revoke, admin
//! tokens, API requests), `storage/` (metadata, keychain, locks), `syntax` (what a value
//! may contain), `status`, `agent`, `proxy` (a loopback proxy to one connection's API).

pub mod activity;
pub mod agent;
mod connect;
mod error;
mod http;
mod input;
mod model;
mod oauth;
mod proxy;
mod secret;
mod settings;
mod status;
mod storage;
mod syntax;
pub mod time;
mod tokens;
mod transfer;
pub mod vendors;
#[cfg(windows)]
mod win;

pub use connect::{Callback, Cancel, Connected, PendingConnect, WaitEvent, DEFAULT_WINDOW};
pub use error::{Action, ActionKind, Error, KeychainWords, Result, VendorError, KEYCHAIN};
pub use input::Form;
pub use model::Registration;
pub use proxy::{Log as ProxyLog, Proxy};
pub use secret::{masked, secret, ExposeSecret, SecretString};
pub use settings::Settings;
pub use status::{
    ConnectionView, DeadlineView, RegistrationView, Status, Warning, REFRESH_AHEAD, WARN_DAYS,
};
pub use storage::bao::BaoAuth;
pub use syntax::safe_value;
pub use tokens::{
    dotenv_line, parse_reference, ApiReply, ApiRequest, Edit, Handout, Reconnect, Retired,
    RevokeReport, ScriptValue, TestReport, ASSUMED_LIFETIME, REFERENCE_SCHEME,
};
pub use transfer::{
    EnvFile, EnvTool, Export, ExportedAccount, ExportedConnection, ExportedOAuth,
    ExportedRegistration, ImportReport, Imported, OnConflict, EXPORT_FORMAT, EXPORT_VERSION,
};
pub use vendors::{Detail, Field, Kind};

#[cfg(any(test, feature = "testing"))]
pub use storage::memory::MemoryVault;

use std::sync::Arc;
use storage::{MetadataStore, SecretStore};

/// Keeps this process out of core dumps and `ptrace` by other processes of the user (as
/// ssh-agent does): for the long-lived processes that hold tokens in memory.
pub fn non_dumpable() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_DUMPABLE, 0) only changes this process's dumpable flag.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// Refresh when the access token has less than this many seconds left.
pub const DEFAULT_MIN_VALID: i64 = 60;

/// The most `min_valid` may ask for: a year.
pub const MAX_MIN_VALID: i64 = 366 * 86_400;

pub struct Keyport {
    settings: Settings,
    /// Connections and registrations: the metadata file, or a shared store.
    store: Arc<dyn MetadataStore>,
    /// Secrets: the OS keychain, or a shared store.
    vault: Arc<dyn SecretStore>,
    /// This computer's store, when Keyport runs on it (not on a shared store alone):
    /// connections are handed from it to a shared store and back.
    local: Option<storage::local::Local>,
    http: http::Http,
    handed: tokens::HeaderCache,
}

/// What the window and `keyport vendors` show of a vendor.
#[derive(serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VendorInfo {
    pub id: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub summary: &'static str,
    pub warning: Option<&'static str>,
    pub fields: &'static [Field],
}

impl Keyport {
    /// Keyport with the OS keychain.
    pub fn new(settings: Settings) -> Keyport {
        let keychain = storage::keychain::Keychain::new(
            settings.keychain_service.clone(),
            settings.keychain_timeout,
            settings.config_dir.join("locks"),
        );
        Self::on_this_computer(settings, Arc::new(keychain))
    }

    /// Keyport on the store the settings name: a shared store when `store` is set (then
    /// no keychain and no metadata file is touched), else this computer's.
    pub fn open(settings: Settings) -> Result<Keyport> {
        let Some(address) = settings.store.clone() else {
            return Ok(Self::new(settings));
        };
        let bao = storage::bao::Bao::new(
            storage::bao::Address::parse(&address)?,
            settings.bao.clone(),
        );
        Ok(Keyport {
            store: Arc::new(bao.clone()),
            vault: Arc::new(bao),
            local: None,
            settings,
            http: http::Http::default(),
            handed: Default::default(),
        })
    }

    fn on_this_computer(settings: Settings, keychain: Arc<dyn SecretStore>) -> Keyport {
        let local = storage::local::Local::new(
            storage::metadata::Store::new(&settings.config_dir),
            keychain,
            settings.bao.clone(),
        );
        Keyport {
            store: Arc::new(local.clone()),
            vault: Arc::new(local.clone()),
            local: Some(local),
            settings,
            http: http::Http::default(),
            handed: Default::default(),
        }
    }

    /// Keyport with a vault in memory, for tests.
    #[cfg(any(test, feature = "testing"))]
    pub fn in_memory(settings: Settings) -> (Keyport, std::sync::Arc<MemoryVault>) {
        let memory = std::sync::Arc::new(MemoryVault::default());
        let vault = Arc::new(storage::memory::Memory {
            vault: memory.clone(),
            locks: settings.config_dir.join("locks"),
        });
        let kp = Self::on_this_computer(settings, vault);
        (kp, memory)
    }

    /// For tests of the engine and its callers, which name no vendor: stores `token` as an
    /// admin-issued token of the first vendor whose form takes plain values, expiring in
    /// `days` when given.
    #[cfg(any(test, feature = "testing"))]
    pub async fn add_sample_token(
        &self,
        name: &str,
        token: &str,
        days: Option<i64>,
    ) -> Result<ConnectionView> {
        use vendors::{Input, Slot};
        let expires = days.map(|d| time::format_utc(time::now() + d * 86_400)[..10].to_owned());
        let mut last = None;
        for v in Self::vendors()
            .into_iter()
            .filter(|v| v.kind == Kind::Admin)
        {
            let values = v
                .fields
                .iter()
                .filter_map(|f| {
                    let value = match (f.slot, f.input) {
                        (Some(Slot::Token), _) => token.to_owned(),
                        (_, Input::Date) => expires.clone()?,
                        _ if !f.required || f.default.is_some() => return None,
                        (_, Input::Url) => "https://erp.example.com".to_owned(),
                        (_, Input::Number) => "1".to_owned(),
                        (_, Input::Choice) => f.choices[0].0.to_owned(),
                        _ => "sample-value-0123456789".to_owned(),
                    };
                    Some((f.key.to_owned(), value))
                })
                .collect();
            let form = Form {
                vendor: v.id.to_owned(),
                name: name.to_owned(),
                values,
                skip_test: true,
                ..Form::default()
            };
            match self.add_token(form).await {
                Ok(view) => return Ok(view),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::input("no vendor takes admin-issued tokens")))
    }

    /// For benchmarks and tests: stores many admin-issued tokens of `vendor` at once — one
    /// keychain session, one metadata write — each `(name, client)` with `token` and
    /// `base_url`, untried. Without `keychain` only the metadata is written (a list to
    /// show; no token can be handed out): gnome-keyring takes minutes to add a thousand
    /// items, the metadata alone takes a moment.
    #[cfg(any(test, feature = "testing"))]
    pub async fn seed_tokens(
        &self,
        vendor: &str,
        conns: &[(String, Option<String>)],
        token: &str,
        base_url: &str,
        keychain: bool,
    ) -> Result<usize> {
        use vendors::{Input, Slot};
        let v = vendors::find(vendor)?;
        let session = match keychain {
            true => Some(self.vault.session().await?),
            false => None,
        };
        let label = |n: &str| storage::label(n, v.label());
        let mut made = Vec::new();
        for (name, client) in conns {
            let values = v
                .fields()
                .iter()
                .filter_map(|f| {
                    let value = match (f.slot, f.input) {
                        (Some(Slot::Token), _) => token.to_owned(),
                        _ if f.key == "base_url" => base_url.to_owned(),
                        _ if !f.required || f.default.is_some() => return None,
                        (_, Input::Url) => base_url.to_owned(),
                        _ => "sample-value-0123456789".to_owned(),
                    };
                    Some((f.key.to_owned(), value))
                })
                .collect();
            let req = self.admin_request(Form {
                vendor: v.id().to_owned(),
                name: name.clone(),
                client: client.clone().unwrap_or_default(),
                values,
                skip_test: true,
                ..Form::default()
            })?;
            if let Some(session) = &session {
                session
                    .save(&req.name, &label(&req.name), &req.secrets)
                    .await?;
            }
            made.push(model::Connection {
                name: req.name,
                vendor: v.id().to_owned(),
                created_at: time::now(),
                account: req.account,
                base_url: Some(req.base_url),
                test_path: req.test_path,
                expires_at: req.expires_at,
                client: req.client,
                ..model::Connection::default()
            });
        }
        let n = made.len();
        self.store.put_new(made, Vec::new()).await?;
        Ok(n)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Where the metadata file lives (for messages and the window's footer).
    pub fn metadata_path(&self) -> std::path::PathBuf {
        self.settings.config_dir.join("connections.json")
    }

    /// Where connections live, for messages: the metadata file or a shared store.
    pub fn location(&self) -> String {
        self.store.location()
    }

    /// The metadata file, for tests that change a connection behind the engine's back.
    #[cfg(test)]
    pub(crate) fn metadata_file(&self) -> storage::metadata::Store {
        storage::metadata::Store::new(&self.settings.config_dir)
    }

    /// Every vendor, in the order people see them.
    pub fn vendors() -> Vec<VendorInfo> {
        vendors::all()
            .map(|v| VendorInfo {
                id: v.id(),
                label: v.label(),
                kind: v.kind(),
                summary: v.summary(),
                warning: v.warning(),
                fields: v.fields(),
            })
            .collect()
    }

    pub async fn list(&self) -> Result<Vec<ConnectionView>> {
        let t = time::now();
        Ok(self
            .store
            .list()
            .await?
            .into_iter()
            .map(|c| ConnectionView::owned(c, t))
            .collect())
    }

    pub async fn view(&self, name: &str) -> Result<ConnectionView> {
        Ok(ConnectionView::of(self.store.get(name).await?))
    }
}

#[cfg(test)]
mod tests;
