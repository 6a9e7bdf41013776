//! Every value of an export file checked at the edge, before anything is written: the
//! format and its version, names (`model::validate_name`: lock and log files stay in the
//! config folder), vendors, URLs (`http::checked_url`: HTTPS, plain HTTP only to this
//! computer), plain text without control characters (`syntax`: no CR, LF or NUL reaches
//! a header, a file or a line), registrations' values by their vendor's field rules, and
//! sizes. A message names the connection and the field, never a control character.

use super::{Export, ExportedConnection, ExportedRegistration, EXPORT_FORMAT, EXPORT_VERSION};
use crate::http::excerpt;
use crate::syntax::{self, Rule};
use crate::vendors::{self, Kind};
use crate::{Error, Result};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

/// The largest file read (a thousand connections take about half a megabyte).
pub const MAX_BYTES: u64 = 16 << 20;
/// The most connections one file may hold.
pub const MAX_CONNECTIONS: usize = 10_000;
/// The longest text value.
const MAX_TEXT: usize = 2048;

fn bad(detail: impl Into<String>) -> Error {
    Error::ImportFile {
        detail: detail.into(),
    }
}

/// The file's bytes, at most [`MAX_BYTES`].
pub(super) fn read(path: &Path) -> Result<Vec<u8>> {
    let io = |source| Error::Store {
        action: "read",
        path: path.into(),
        source,
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    f.take(MAX_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(bad(format!(
            "it is larger than {} MiB, more than any export of Keyport's",
            MAX_BYTES >> 20
        )));
    }
    Ok(bytes)
}

#[derive(serde::Deserialize)]
struct Head {
    format: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
}

/// Parses and checks a whole file.
pub(super) fn parse(bytes: &[u8]) -> Result<Export> {
    let head: Head = serde_json::from_slice(bytes).map_err(|e| {
        bad(format!(
            "it is not a JSON object as Keyport writes ({}), so it is damaged or not an export",
            excerpt(&e.to_string())
        ))
    })?;
    if head.format.as_ref().and_then(|f| f.as_str()) != Some(EXPORT_FORMAT) {
        return Err(bad(format!(
            "it is not a Keyport export (its \"format\" is not \"{EXPORT_FORMAT}\")"
        )));
    }
    let version = head.version.as_ref().and_then(|v| v.as_u64());
    match version {
        Some(v) if v > EXPORT_VERSION as u64 => {
            return Err(bad(format!(
                "it was written by a newer Keyport (format {v}; this one reads format {EXPORT_VERSION}); update Keyport here first"
            )))
        }
        Some(v) if v >= 1 => {}
        _ => return Err(bad("its \"version\" is missing or not a format version")),
    }
    let export: Export = serde_json::from_slice(bytes).map_err(|e| {
        bad(format!(
            "it does not match Keyport's export format {EXPORT_VERSION} ({})",
            excerpt(&e.to_string())
        ))
    })?;
    self::export(&export)?;
    Ok(export)
}

/// Checks every value of an export.
pub(super) fn export(e: &Export) -> Result<()> {
    if e.format != EXPORT_FORMAT || e.version != EXPORT_VERSION {
        return Err(bad(format!(
            "it is not a Keyport export of format {EXPORT_VERSION}"
        )));
    }
    if e.connections.len() > MAX_CONNECTIONS {
        return Err(bad(format!(
            "it holds {} connections, more than the {MAX_CONNECTIONS} Keyport imports at once",
            e.connections.len()
        )));
    }
    let mut seen = BTreeSet::new();
    for c in &e.connections {
        connection(c).map_err(|d| bad(format!("connection '{}': {d}", shown(&c.name))))?;
        if !seen.insert(c.name.as_str()) {
            return Err(bad(format!("it names the connection '{}' twice", c.name)));
        }
    }
    for (i, r) in e.registrations.iter().enumerate() {
        registration(r).map_err(|d| bad(format!("app registration {}: {d}", i + 1)))?;
    }
    Ok(())
}

/// A name as a message may show it: only when it is a valid name.
fn shown(name: &str) -> String {
    match crate::model::validate_name(name) {
        Ok(()) => name.to_owned(),
        Err(_) => "(not a usable name)".into(),
    }
}

type Flaw = String;

fn text(what: &str, v: &str) -> std::result::Result<(), Flaw> {
    if v.len() > MAX_TEXT {
        return Err(format!("its {what} is longer than {MAX_TEXT} bytes"));
    }
    match syntax::flaw(Rule::Plain, v) {
        Some(f) => Err(format!("its {what} has {f}")),
        None => Ok(()),
    }
}

fn opt_text(what: &str, v: &Option<String>) -> std::result::Result<(), Flaw> {
    v.as_deref().map_or(Ok(()), |v| text(what, v))
}

/// An endpoint: HTTPS, or plain HTTP to this computer.
fn url(what: &str, v: &str) -> std::result::Result<(), Flaw> {
    text(what, v)?;
    crate::http::checked_url(v, what)
        .map(drop)
        .map_err(|e| format!("its {what} is refused: {e}"))
}

fn opt_url(what: &str, v: &Option<String>) -> std::result::Result<(), Flaw> {
    v.as_deref().map_or(Ok(()), |v| url(what, v))
}

fn connection(c: &ExportedConnection) -> std::result::Result<(), Flaw> {
    crate::model::validate_name(&c.name).map_err(|e| e.to_string())?;
    text("vendor", &c.vendor)?;
    let vendor = vendors::find(&c.vendor).map_err(|e| e.to_string())?;
    if vendor.id() != c.vendor {
        return Err(format!(
            "its vendor is written '{}', not '{}'",
            c.vendor,
            vendor.id()
        ));
    }
    opt_text("client", &c.client)?;
    opt_text("note", &c.note)?;
    opt_url("base URL", &c.base_url)?;
    match c.test_path.as_deref() {
        Some(p) if p.starts_with("http://") || p.starts_with("https://") => url("test URL", p)?,
        Some(p) => text("test path", p)?,
        None => {}
    }
    let a = &c.account;
    for (what, v) in [
        ("company file ID", &a.business_id),
        ("company file name", &a.business_name),
        ("user name", &a.username),
        ("user ID", &a.uid),
        ("subject", &a.subject),
        ("e-mail", &a.email),
    ] {
        opt_text(what, v)?;
    }
    if c.created_at < 0 {
        return Err("its creation time is negative".into());
    }
    if let Some(s) = &c.store {
        text("shared store", s)?;
        crate::storage::bao::Address::parse(s).map_err(|e| e.to_string())?;
    }
    match (vendor.kind(), &c.oauth) {
        (Kind::Oauth, None) => Err(format!(
            "{} connects with OAuth, but it has no OAuth registration",
            vendor.label()
        )),
        (Kind::Admin, Some(_)) => Err(format!(
            "{} tokens are admin-issued, but it has an OAuth registration",
            vendor.label()
        )),
        (Kind::Oauth, Some(_)) if c.expires_at.is_some() => Err(
            "an OAuth connection's expiry is its access token's, which is never exported".into(),
        ),
        (_, Some(o)) => {
            if o.client_id.trim().is_empty() {
                return Err("its client ID is empty".into());
            }
            text("client ID", &o.client_id)?;
            text("scopes", &o.scopes)?;
            // A redirect URI may name a host that is not this computer (MYOB's
            // http://desktop, where the person pastes the URL): HTTP(S), one plain line.
            text("redirect URI", &o.redirect_uri)?;
            let ok = url::Url::parse(&o.redirect_uri)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                return Err("its redirect URI is not an http:// or https:// URL".into());
            }
            url("authorization endpoint", &o.authorize_url)?;
            url("token endpoint", &o.token_url)?;
            opt_url("revocation endpoint", &o.revocation_url)?;
            opt_url("logout endpoint", &o.logout_url)?;
            opt_url("issuer", &o.issuer)
        }
        (Kind::Admin, None) => Ok(()),
    }
}

fn registration(r: &ExportedRegistration) -> std::result::Result<(), Flaw> {
    text("vendor", &r.vendor)?;
    let vendor = vendors::find(&r.vendor).map_err(|e| e.to_string())?;
    if vendor.kind() != Kind::Oauth {
        return Err(format!("{} has no app registrations", vendor.label()));
    }
    if r.client_id.trim().is_empty() {
        return Err("its client ID is empty".into());
    }
    text("client ID", &r.client_id)?;
    opt_text("authority", &r.authority)?;
    for (k, v) in &r.values {
        text("field name", k)?;
        let field = vendor
            .field(k)
            .filter(|f| f.remember && f.slot.is_none())
            .ok_or_else(|| {
                format!(
                    "'{}' is not a field {} remembers (a registration never holds a secret)",
                    excerpt(k),
                    vendor.label()
                )
            })?;
        if v.len() > MAX_TEXT {
            return Err(format!("its {k} is longer than {MAX_TEXT} bytes"));
        }
        if let Some(f) = syntax::flaw(crate::input::rule(field), v) {
            return Err(format!("its {k} has {f}"));
        }
        crate::input::check(field, v).map_err(|e| e.to_string())?;
    }
    Ok(())
}
