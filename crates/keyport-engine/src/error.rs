//! Every failure Keyport can report. A message says what went wrong and what to do in
//! words; [`Error::code`] is the stable name callers match on, and [`Error::actions`] the
//! structured "what to do" that the CLI words as commands and the window as buttons. No
//! command-line syntax lives here.

use serde::Serialize;
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Something the person can do about an error or a warning. `name` is the connection it
/// is about, when there is one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Action {
    pub kind: ActionKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ActionKind {
    /// Sign in at the vendor again under the same name.
    Reconnect,
    /// Issue a new token in the vendor's admin screen and give it to Keyport.
    Reissue,
    /// Do it again, replacing the connection of that name.
    Replace,
    /// Revoke the connection.
    Revoke,
    /// Remove the connection here although the vendor step failed.
    ForceRevoke,
    /// Unlock the OS keychain (or start it).
    UnlockKeychain,
    /// Wait a little and try again.
    Retry,
    /// Correct what was typed.
    FixInput,
    /// Close the program holding the redirect port.
    FreePort,
    /// List the connections to find the right name.
    List,
    /// Move the damaged metadata file aside.
    MoveMetadataAside,
}

impl Action {
    pub fn new(kind: ActionKind, name: Option<&str>) -> Self {
        Action {
            kind,
            name: name.map(str::to_owned),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidInput(String),

    #[error("No connection named '{0}'.")]
    NotFound(String),

    #[error("A connection named '{0}' already exists. Pick another name, or replace it.")]
    AlreadyExists(String),

    #[error("The keychain is not available ({detail}). Keyport keeps secrets only in the OS keychain and never falls back to a plain file: start and unlock your Secret Service (GNOME Keyring or KeePassXC), then try again.")]
    Keychain { detail: String },

    #[error("The keychain entry for '{name}' is damaged ({detail}). Remove the connection and connect it again.")]
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

    #[error("Port {port} on {host} is in use by another program, and the redirect URI registered with the vendor fixes that port. Close that program or register another redirect URI, then connect again.")]
    PortBusy { host: String, port: u16 },

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

    #[error("{0}")]
    Vendor(Box<VendorError>),

    #[error("'{name}' needs to be connected again: {reason}. Its tokens were kept until you reconnect or revoke it.")]
    NeedsReconnect {
        name: String,
        reason: String,
        /// Admin-issued tokens are re-issued at the vendor rather than reconnected.
        reissue: bool,
    },

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

    /// A check-and-set write lost: another writer changed the entry first.
    #[error("Another computer changed this connection in the shared store at the same moment ({detail}); nothing was overwritten. Try again.")]
    Conflict { detail: String },

    /// The shared store (OpenBao / Vault) refused, is missing what Keyport needs, or
    /// could not be reached; `detail` says what to do.
    #[error("The shared store {address} {detail}")]
    SharedStore { address: String, detail: String },

    /// An export file that cannot be imported; nothing was written.
    #[error("This file cannot be imported: {detail}. Nothing was imported; export the connections again on the other computer and import that file.")]
    ImportFile { detail: String },
}

/// A vendor refused a request: what it said, what Keyport advises, what can be done.
#[derive(Debug)]
pub struct VendorError {
    pub vendor: &'static str,
    pub op: &'static str,
    pub status: u16,
    /// The vendor's `error` and `error_description`, or a short excerpt of its body.
    pub detail: Option<String>,
    /// The OAuth `error` code alone (`invalid_grant`…), when the body had one.
    pub oauth_error: Option<String>,
    pub advice: String,
    /// What the person can do; the window shows these as buttons.
    pub actions: Vec<ActionKind>,
    /// The connection it is about, when there is one.
    pub name: Option<String>,
}

impl std::fmt::Display for VendorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let detail = self
            .detail
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        let status = match self.status {
            0 => String::new(),
            s => format!(" (HTTP {s}{detail})"),
        };
        write!(
            f,
            "{} refused {}{status}. {}",
            self.vendor, self.op, self.advice
        )
    }
}

impl Error {
    pub(crate) fn vendor(v: VendorError) -> Self {
        Error::Vendor(Box::new(v))
    }

    /// Stable codes; the window and `--json` output use these names.
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
            Error::Vendor(_) => "vendor_error",
            Error::NeedsReconnect { .. } => "needs_reconnect",
            Error::Unreachable { .. } => "unreachable",
            Error::BadResponse { .. } => "bad_response",
            Error::Unsupported(_) => "unsupported",
            Error::Conflict { .. } => "store_conflict",
            Error::SharedStore { .. } => "shared_store",
            Error::ImportFile { .. } => "import_file",
        }
    }

    /// What the person can do about it, most useful first.
    pub fn actions(&self) -> Vec<Action> {
        use ActionKind as A;
        let named = |kinds: &[ActionKind], name: &str| {
            kinds.iter().map(|k| Action::new(*k, Some(name))).collect()
        };
        let plain = |kinds: &[ActionKind]| kinds.iter().map(|k| Action::new(*k, None)).collect();
        match self {
            Error::InvalidInput(_) | Error::StateMismatch | Error::ImportFile { .. } => {
                plain(&[A::FixInput])
            }
            Error::NotFound(_) => plain(&[A::List]),
            Error::AlreadyExists(n) => named(&[A::Replace, A::Revoke], n),
            Error::Keychain { .. } => plain(&[A::UnlockKeychain]),
            Error::KeychainData { name, .. } => named(&[A::ForceRevoke, A::Reconnect], name),
            Error::StoreData { .. } => plain(&[A::MoveMetadataAside]),
            Error::PortBusy { .. } => plain(&[A::FreePort]),
            Error::Listen { .. } | Error::IssuerMismatch { .. } => plain(&[A::FixInput]),
            Error::NeedsReconnect { name, reissue, .. } => {
                let first = if *reissue { A::Reissue } else { A::Reconnect };
                named(&[first, A::Revoke], name)
            }
            Error::Vendor(v) => v
                .actions
                .iter()
                .map(|k| Action::new(*k, v.name.as_deref()))
                .collect(),
            Error::Unreachable { .. }
            | Error::BadResponse { .. }
            | Error::Store { .. }
            | Error::Conflict { .. } => plain(&[A::Retry]),
            Error::SharedStore { .. } => plain(&[]),
            Error::Timeout { .. } | Error::Cancelled | Error::Denied { .. } => plain(&[]),
            Error::Unsupported(_) => plain(&[]),
        }
    }

    /// The process exit code `keyport` uses for this error (documented in `keyport --help`).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::InvalidInput(_)
            | Error::AlreadyExists(_)
            | Error::Unsupported(_)
            | Error::ImportFile { .. } => 2,
            Error::NotFound(_) => 3,
            Error::Keychain { .. } | Error::KeychainData { .. } => 4,
            Error::NeedsReconnect { .. } => 5,
            Error::Vendor(_) | Error::BadResponse { .. } => 6,
            Error::Unreachable { .. } => 7,
            Error::Denied { .. }
            | Error::Timeout { .. }
            | Error::Cancelled
            | Error::StateMismatch
            | Error::IssuerMismatch { .. }
            | Error::PortBusy { .. }
            | Error::Listen { .. } => 8,
            Error::Store { .. } | Error::StoreData { .. } | Error::Conflict { .. } => 9,
            Error::SharedStore { .. } => 13,
        }
    }

    /// Attaches the connection a vendor error is about (for actions such as "revoke anyway").
    pub(crate) fn for_connection(mut self, conn: &str) -> Self {
        if let Error::Vendor(v) = &mut self {
            v.name = Some(conn.to_owned());
        }
        self
    }

    pub(crate) fn input(msg: impl Into<String>) -> Self {
        Error::InvalidInput(msg.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_no_command_syntax_and_actions_name_the_connection() {
        let e = Error::NeedsReconnect {
            name: "acme".into(),
            reason: "the chain ended".into(),
            reissue: false,
        };
        assert!(!e.to_string().contains("keyport "), "{e}");
        assert!(!e.to_string().contains("--"), "{e}");
        assert_eq!(
            e.actions(),
            [
                Action::new(ActionKind::Reconnect, Some("acme")),
                Action::new(ActionKind::Revoke, Some("acme"))
            ]
        );
        assert_eq!(e.exit_code(), 5);
        let e = Error::AlreadyExists("acme".into());
        assert_eq!(e.actions()[0].kind, ActionKind::Replace);
        let json = serde_json::to_value(Action::new(ActionKind::ForceRevoke, None)).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "force_revoke"}));
    }
}
