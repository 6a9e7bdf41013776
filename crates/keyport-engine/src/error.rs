//! Every failure Keyport can report. Each message says what went wrong and what to do;
//! [`Error::code`] is the stable machine-readable name the desktop shell and `--json` use.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidInput(String),

    #[error("No connection named '{0}'. Run `keyport list` to see the names.")]
    NotFound(String),

    #[error("A connection named '{0}' already exists. Pick another name, or revoke the old one first (`keyport revoke {0}`).")]
    AlreadyExists(String),

    #[error("The keychain is not available ({detail}). Keyport keeps secrets only in the OS keychain and never falls back to a plain file: start and unlock your Secret Service (GNOME Keyring or KeePassXC), then try again.")]
    Keychain { detail: String },

    #[error("The keychain entry for '{name}' is damaged ({detail}). Reconnect it (`keyport revoke {name} --force`, then connect again).")]
    KeychainData { name: String, detail: String },

    #[error("Keyport could not {action} {path}: {source}. Check that the folder exists and is writable.")]
    Store {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("Keyport's metadata file {path} is damaged ({detail}). Move it aside and reconnect; the keychain entries stay until revoked.")]
    StoreData { path: PathBuf, detail: String },

    #[error("Port {port} on 127.0.0.1 is in use by another program, and the redirect URI registered with the vendor fixes that port. Close that program (`ss -ltnp 'sport = :{port}'` shows it) or register another redirect URI, then connect again.")]
    PortBusy { port: u16 },

    #[error("Keyport could not listen on {addr} for the browser's redirect ({detail}). Register a redirect URI on 127.0.0.1 with a port above 1024, e.g. http://127.0.0.1:8765/callback.")]
    Listen { addr: String, detail: String },

    #[error("No answer came from the browser within {minutes} minutes, so nothing was stored. Connect again and finish the vendor's sign-in page in time.", minutes = .secs.div_ceil(60))]
    Timeout { secs: u64 },

    #[error("The connection attempt was cancelled; nothing was stored.")]
    Cancelled,

    #[error("The vendor did not grant access ({error}{}). Nothing was stored; connect again and choose Allow on the consent page.", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Denied {
        error: String,
        description: Option<String>,
    },

    #[error("The URL's `state` does not match this connection attempt, so it was refused (it may come from an older attempt, or from someone else). Paste the URL from the attempt you just started.")]
    StateMismatch,

    #[error("The redirect came from issuer '{got}', not '{expected}' (RFC 9207 mix-up protection), so it was refused. Check the provider URL and connect again.")]
    IssuerMismatch { expected: String, got: String },

    #[error("{vendor} refused {op} (HTTP {status}{}). {advice}", .detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Vendor {
        vendor: &'static str,
        op: &'static str,
        status: u16,
        /// The vendor's `error` and `error_description`, or a short excerpt of its body.
        detail: Option<String>,
        /// The OAuth `error` code alone (`invalid_grant`…), when the body had one.
        oauth_error: Option<String>,
        advice: String,
    },

    #[error("'{name}' needs to be connected again: {reason}. Its tokens were kept until you reconnect (`keyport connect … --name {name} --replace`) or revoke it.")]
    NeedsReconnect { name: String, reason: String },

    #[error(
        "Keyport could not reach {url} ({detail}). Check the network and the URL, then try again."
    )]
    Unreachable { url: String, detail: String },

    #[error("{vendor} sent {what} that Keyport could not read ({detail}). Nothing was stored; try again, and report it if it keeps happening.")]
    BadResponse {
        vendor: &'static str,
        what: &'static str,
        detail: String,
    },

    #[error("{0}")]
    Unsupported(String),
}

impl Error {
    /// Stable codes; the desktop front end mirrors this list.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidInput(_) => "invalid_input",
            Error::NotFound(_) => "not_found",
            Error::AlreadyExists(_) => "already_exists",
            Error::Keychain { .. } => "keychain_unavailable",
            Error::KeychainData { .. } => "keychain_data",
            Error::Store { .. } | Error::StoreData { .. } => "store",
            Error::PortBusy { .. } => "port_busy",
            Error::Listen { .. } => "listen",
            Error::Timeout { .. } => "timeout",
            Error::Cancelled => "cancelled",
            Error::Denied { .. } => "consent_denied",
            Error::StateMismatch => "state_mismatch",
            Error::IssuerMismatch { .. } => "issuer_mismatch",
            Error::Vendor { .. } => "vendor_error",
            Error::NeedsReconnect { .. } => "needs_reconnect",
            Error::Unreachable { .. } => "unreachable",
            Error::BadResponse { .. } => "bad_response",
            Error::Unsupported(_) => "unsupported",
        }
    }

    /// The process exit code `keyport` uses for this error (documented in `keyport --help`).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::InvalidInput(_) | Error::AlreadyExists(_) | Error::Unsupported(_) => 2,
            Error::NotFound(_) => 3,
            Error::Keychain { .. } | Error::KeychainData { .. } => 4,
            Error::NeedsReconnect { .. } => 5,
            Error::Vendor { .. } | Error::BadResponse { .. } => 6,
            Error::Unreachable { .. } => 7,
            Error::Denied { .. }
            | Error::Timeout { .. }
            | Error::Cancelled
            | Error::StateMismatch
            | Error::IssuerMismatch { .. }
            | Error::PortBusy { .. }
            | Error::Listen { .. } => 8,
            Error::Store { .. } | Error::StoreData { .. } => 9,
        }
    }

    pub(crate) fn input(msg: impl Into<String>) -> Self {
        Error::InvalidInput(msg.into())
    }
}
