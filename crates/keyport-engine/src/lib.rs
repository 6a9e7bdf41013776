//! Keyport's engine: gets, keeps and hands out API tokens for ERP, accounting and
//! logistics systems. No UI here: the `keyport` CLI and the desktop shell both sit on
//! [`Keyport`].
//!
//! The path of a token: [`Keyport::begin_connect`] → browser consent → loopback callback
//! ([`loopback`]) → [`Keyport::finish_connect`] exchanges the code and writes the secrets
//! to the keychain ([`vault`]) and the rest to the metadata file ([`store`]) →
//! [`Keyport::token`] hands it out, refreshing under a file lock when it is near expiry.

#[cfg(unix)]
pub mod agent;
pub mod browser;
mod error;
pub mod flow;
mod http;
pub mod loopback;
mod oauth;
mod ops;
mod secret;
pub mod store;
pub mod time;
pub mod vault;
pub mod vendors;
mod view;

pub use error::{Error, Result};
pub use flow::{
    AdvancedSetup, ConnectRequest, MyobSetup, OidcSetup, PendingConnect, Setup, DEFAULT_WINDOW,
};
pub use loopback::{Callback, Cancel, WaitEvent};
pub use ops::{ManualRequest, RevokeReport, TestReport};
pub use secret::SecretString;
pub use store::{ClientAuth, Registration};
pub use vendors::{Kind, ManualField, VendorId};
pub use view::{ConnectionView, Status, Warning, WARN_DAYS};

use std::path::PathBuf;
use vault::{KeychainVault, Vault};

/// Refresh when the access token has less than this many seconds left.
pub const DEFAULT_MIN_VALID: i64 = 60;

pub struct Keyport {
    store: store::Store,
    vault: Box<dyn Vault>,
    http: http::Http,
}

impl Keyport {
    /// The user's Keyport: metadata in `$KEYPORT_CONFIG_DIR` (default: the platform config
    /// folder + `keyport`), secrets in the OS keychain under `$KEYPORT_KEYCHAIN_SERVICE`
    /// (default `keyport`).
    pub fn open() -> Result<Keyport> {
        Ok(Self::with_vault(
            Self::default_dir()?,
            Box::new(KeychainVault::new(Self::keychain_service())),
        ))
    }

    pub fn with_vault(dir: impl Into<PathBuf>, vault: Box<dyn Vault>) -> Keyport {
        Keyport {
            store: store::Store::new(dir),
            vault,
            http: http::Http::default(),
        }
    }

    pub fn default_dir() -> Result<PathBuf> {
        if let Some(d) = std::env::var_os("KEYPORT_CONFIG_DIR").filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(d));
        }
        dirs::config_dir()
            .map(|d| d.join("keyport"))
            .ok_or_else(|| Error::input("No configuration folder was found for this user; set KEYPORT_CONFIG_DIR to a folder Keyport may use."))
    }

    pub fn keychain_service() -> String {
        std::env::var("KEYPORT_KEYCHAIN_SERVICE")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "keyport".into())
    }

    /// Keyport's folder (metadata, locks, the agent's socket).
    pub fn config_dir(&self) -> &std::path::Path {
        self.store.dir()
    }

    /// Where the metadata file lives (for messages and the window's footer).
    pub fn metadata_path(&self) -> PathBuf {
        self.store.path()
    }
}
