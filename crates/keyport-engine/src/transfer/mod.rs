//! Moving connections between computers: an export file of connections' metadata and app
//! registrations — never a secret: the types below have no field that could hold one —
//! and its import into another profile, where each connection waits for a new sign-in
//! (OAuth) or its admin-issued token. A versioned JSON format; a file that is not one,
//! comes from a newer Keyport or holds a value that fails a check (`check.rs`) is refused
//! whole before anything is written. Also the environment files of API tools
//! (`envfile.rs`: Postman, Insomnia, Bruno).

mod check;
mod envfile;
mod format;

pub use envfile::{EnvFile, EnvTool};
pub use format::{
    Export, ExportedAccount, ExportedConnection, ExportedOAuth, ExportedRegistration,
};

use crate::model::{Account, Connection, Health, OAuthMeta, Registration};
use crate::time::now;
use crate::{ConnectionView, Error, Keyport, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// The file's `format`.
pub const EXPORT_FORMAT: &str = "keyport-export";
/// The format version this build writes and reads.
pub const EXPORT_VERSION: u32 = 1;

/// Why an imported connection waits: an OAuth one for a sign-in, an admin-issued one for
/// its token.
pub const IMPORTED_OAUTH: &str = "imported from another computer; sign in again here";
pub const IMPORTED_ADMIN: &str = "imported from another computer; give Keyport its token here";

/// What to do with a connection whose name is taken here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum OnConflict {
    /// Refuse the whole import (nothing is written).
    #[default]
    Fail,
    /// Leave the connection here as it is and import the rest.
    Skip,
    /// Import it as NAME-2 (or the first free NAME-N).
    Rename,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportReport {
    pub imported: Vec<Imported>,
    /// Names in the file left alone because they are taken here.
    pub skipped: Vec<String>,
    /// App registrations added (one already here is kept as it is).
    pub registrations: usize,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Imported {
    /// Its name here.
    pub name: String,
    /// Its name in the file.
    pub from: String,
    pub connection: ConnectionView,
}

impl Export {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("an export serialises") + "\n"
    }

    /// Reads and checks a whole file (its format, version and every value).
    pub fn parse(bytes: &[u8]) -> Result<Export> {
        check::parse(bytes)
    }

    fn of(conns: &[Connection], regs: &[Registration]) -> Export {
        let connections: Vec<ExportedConnection> = conns.iter().map(exported).collect();
        let used: BTreeSet<(&str, &str)> = conns
            .iter()
            .filter_map(|c| Some((c.vendor.as_str(), c.oauth.as_ref()?.client_id.as_str())))
            .collect();
        let registrations = regs
            .iter()
            .filter(|r| used.contains(&(r.vendor.as_str(), r.client_id.as_str())))
            .map(|r| ExportedRegistration {
                vendor: r.vendor.clone(),
                client_id: r.client_id.clone(),
                authority: r.authority.clone(),
                values: r.values.clone(),
            })
            .collect();
        Export {
            format: EXPORT_FORMAT.into(),
            version: EXPORT_VERSION,
            exported_at: now(),
            connections,
            registrations,
        }
    }
}

fn exported(c: &Connection) -> ExportedConnection {
    ExportedConnection {
        name: c.name.clone(),
        vendor: c.vendor.clone(),
        client: c.client.clone(),
        note: c.note.clone(),
        base_url: c.base_url.clone(),
        test_path: c.test_path.clone(),
        account: ExportedAccount::from(&c.account),
        // An OAuth connection's expiry is its access token's, which stays behind.
        expires_at: c.expires_at.filter(|_| c.oauth.is_none()),
        created_at: c.created_at,
        oauth: c.oauth.as_ref().map(|o| ExportedOAuth {
            client_id: o.client_id.clone(),
            redirect_uri: o.redirect_uri.clone(),
            scopes: o.scopes.clone(),
            authorize_url: o.authorize_url.clone(),
            token_url: o.token_url.clone(),
            revocation_url: o.revocation_url.clone(),
            logout_url: o.logout_url.clone(),
            issuer: o.issuer.clone(),
            client_auth: o.client_auth,
            chain_days: o.chain_days,
        }),
        store: c.store.clone(),
    }
}

/// The connection an imported entry becomes: no token, waiting for the person.
fn imported(e: &ExportedConnection, name: &str, t: i64) -> Connection {
    let reason = if e.oauth.is_some() {
        IMPORTED_OAUTH
    } else {
        IMPORTED_ADMIN
    };
    Connection {
        name: name.to_owned(),
        vendor: e.vendor.clone(),
        created_at: e.created_at,
        health: match e.store {
            // A shared connection's tokens are in its store, ready.
            Some(_) => Health::Ok,
            None => Health::NeedsReconnect {
                reason: reason.into(),
                at: t,
            },
        },
        oauth: e.oauth.as_ref().map(|o| OAuthMeta {
            client_id: o.client_id.clone(),
            authorize_url: o.authorize_url.clone(),
            token_url: o.token_url.clone(),
            revocation_url: o.revocation_url.clone(),
            logout_url: o.logout_url.clone(),
            issuer: o.issuer.clone(),
            redirect_uri: o.redirect_uri.clone(),
            scopes: o.scopes.clone(),
            client_auth: o.client_auth,
            has_refresh_token: false,
            chain_started_at: None,
            chain_days: o.chain_days,
        }),
        account: Account::from(&e.account),
        base_url: e.base_url.clone(),
        test_path: e.test_path.clone(),
        expires_at: e.expires_at,
        note: e.note.clone(),
        client: e.client.clone(),
        store: e.store.clone(),
        ..Connection::default()
    }
}

/// The first of NAME-2, NAME-3… that is free (and a valid name).
fn free_name(name: &str, taken: &BTreeSet<String>) -> Result<String> {
    (2..10_000)
        .map(|i| {
            let suffix = format!("-{i}");
            let keep = name.len().min(64 - suffix.len());
            format!("{}{suffix}", &name[..keep])
        })
        .find(|n| !taken.contains(n) && crate::model::validate_name(n).is_ok())
        .ok_or_else(|| Error::input(format!("No free name was found for '{name}'.")))
}

impl Keyport {
    /// The named connections (all when `names` is empty) and the app registrations they
    /// signed in with. No secret is read.
    pub async fn export(&self, names: &[String]) -> Result<Export> {
        let all = self.store.list().await?;
        let chosen: Vec<Connection> = if names.is_empty() {
            all
        } else {
            let mut out = Vec::new();
            for n in names {
                let c = all
                    .iter()
                    .find(|c| &c.name == n)
                    .ok_or_else(|| Error::NotFound(n.clone()))?;
                if !out.iter().any(|o: &Connection| &o.name == n) {
                    out.push(c.clone());
                }
            }
            out
        };
        let regs = self.store.registrations().await?;
        Ok(Export::of(&chosen, &regs))
    }

    /// [`Keyport::export`] written to `path` (mode 0600, replaced whole, never through a
    /// link). Returns how many connections it holds.
    pub async fn write_export(&self, names: &[String], path: &Path) -> Result<usize> {
        let e = self.export(names).await?;
        write_file(path, e.to_json().as_bytes(), true)?;
        Ok(e.connections.len())
    }

    /// Reads, checks and imports a file ([`Keyport::import`]).
    pub async fn import_file(&self, path: &Path, on_conflict: OnConflict) -> Result<ImportReport> {
        let bytes = check::read(path)?;
        self.import(Export::parse(&bytes)?, on_conflict).await
    }

    /// Adds the file's connections, each waiting for a sign-in or its token, and its app
    /// registrations (without their secrets), in one write: all or nothing.
    pub async fn import(&self, export: Export, on_conflict: OnConflict) -> Result<ImportReport> {
        // A value built in code, not read from a file, is checked the same way.
        check::export(&export)?;
        let mut taken: BTreeSet<String> = self
            .store
            .list()
            .await?
            .into_iter()
            .map(|c| c.name)
            .collect();
        let t = now();
        let (mut conns, mut skipped, mut names) = (Vec::new(), Vec::new(), Vec::new());
        for e in &export.connections {
            let name = match (taken.contains(&e.name), on_conflict) {
                (false, _) => e.name.clone(),
                (true, OnConflict::Fail) => return Err(Error::AlreadyExists(e.name.clone())),
                (true, OnConflict::Skip) => {
                    skipped.push(e.name.clone());
                    continue;
                }
                (true, OnConflict::Rename) => free_name(&e.name, &taken)?,
            };
            taken.insert(name.clone());
            names.push((name.clone(), e.name.clone()));
            conns.push(imported(e, &name, t));
        }
        let regs: Vec<Registration> = export
            .registrations
            .iter()
            .map(|r| Registration {
                vendor: r.vendor.clone(),
                client_id: r.client_id.clone(),
                authority: r.authority.clone(),
                values: r.values.clone(),
                secret_saved: false,
            })
            .collect();
        let views: Vec<ConnectionView> = conns.iter().map(|c| ConnectionView::at(c, t)).collect();
        let registrations = self.store.put_new(std::mem::take(&mut conns), regs).await?;
        let imported = names
            .into_iter()
            .zip(views)
            .map(|((name, from), connection)| Imported {
                name,
                from,
                connection,
            })
            .collect::<Vec<_>>();
        for i in &imported {
            let detail = (i.name != i.from).then(|| format!("as '{}' (was '{}')", i.name, i.from));
            self.record(&i.name, crate::activity::EventKind::Imported, true, detail);
        }
        Ok(ImportReport {
            imported,
            skipped,
            registrations,
        })
    }
}

/// Writes `bytes` to `path` as a whole: a new file beside it (0600 when `private`, else
/// 0644), then renamed over the old one (a link there is replaced, never followed). On
/// Windows a new file takes its folder's access list: `private` has no mode to set there.
pub(crate) fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    use std::io::Write;
    #[cfg(not(unix))]
    let _ = private;
    let io = |action, source| Error::Store {
        action,
        path: path.into(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    let file = path
        .file_name()
        .ok_or_else(|| Error::input(format!("{} is not a file name.", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        file.to_string_lossy(),
        crate::oauth::random_token(6)
    ));
    let written = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(if private { 0o600 } else { 0o644 })
                .custom_flags(libc::O_NOFOLLOW);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("write", e));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
