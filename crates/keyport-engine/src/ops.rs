//! Everything after connect: hand out (token, headers, curl), refresh (single-flight
//! across threads and processes), test, revoke, and admin-issued tokens.

use crate::http::{excerpt, Method};
use crate::oauth::{self, Client, Op};
use crate::secret::SecretString;
use crate::store::{validate_name, Account, Connection, Health};
use crate::time::{now, parse_date_end};
use crate::vault::{self, Secrets};
use crate::vendors::{self, Kind, VendorId};
use crate::{ConnectionView, Error, Keyport, Registration, Result};
use serde::Serialize;

/// A token the user pasted from a vendor's admin screen, with what goes with it.
pub struct ManualRequest {
    pub name: String,
    pub vendor: VendorId,
    pub base_url: Option<String>,
    /// `YYYY-MM-DD`, the last day the token works.
    pub expires: Option<String>,
    pub test_path: Option<String>,
    /// The company file id (AccountRight desktop).
    pub company_file: Option<String>,
    pub note: Option<String>,
    pub token: Option<SecretString>,
    pub username: Option<SecretString>,
    pub password: Option<SecretString>,
    pub api_key: Option<SecretString>,
    pub replace: bool,
}

#[derive(Debug, Serialize)]
pub struct TestReport {
    pub ok: bool,
    pub status: Option<u16>,
    pub url: String,
    pub summary: String,
}

#[derive(Debug, Serialize)]
pub struct RevokeReport {
    /// What happened at the vendor, one line per step.
    pub vendor_steps: Vec<String>,
    /// What the user must still do at the vendor (admin-issued tokens, MYOB).
    pub manual_steps: Option<&'static str>,
    /// Vendor steps failed and `force` removed the connection anyway.
    pub forced: bool,
}

fn parse_expiry(s: &Option<String>) -> Result<Option<i64>> {
    s.as_deref()
        .filter(|d| !d.trim().is_empty())
        .map(|d| {
            parse_date_end(d).ok_or_else(|| {
                Error::input(format!(
                    "'{d}' is not a date; give the expiry as YYYY-MM-DD, e.g. 2026-12-31."
                ))
            })
        })
        .transpose()
}

fn check_base(url: &str) -> Result<String> {
    let u = url::Url::parse(url.trim()).map_err(|e| {
        Error::input(format!("'{url}' is not a valid base URL ({e}); give it with scheme, e.g. https://acme.xentral.biz."))
    })?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(Error::input(format!(
            "'{url}' must start with https:// (or http:// for a local server)."
        )));
    }
    Ok(url.trim().trim_end_matches('/').to_owned())
}

impl Keyport {
    pub fn list(&self) -> Result<Vec<ConnectionView>> {
        let t = now();
        Ok(self
            .store
            .load()?
            .connections
            .iter()
            .map(|c| ConnectionView::at(c, t))
            .collect())
    }

    pub fn view(&self, name: &str) -> Result<ConnectionView> {
        Ok(ConnectionView::of(&self.store.get(name)?))
    }

    /// A valid access token (or admin-issued token), refreshed first when it has less than
    /// `min_valid` seconds left. The fast path reads the metadata file and one keychain entry.
    pub fn token(&self, name: &str, min_valid: i64) -> Result<SecretString> {
        let conn = self.store.get(name)?;
        if fresh(&conn, min_valid) {
            if let Some(t) = self.secrets(name)?.access_token {
                return Ok(t);
            }
        }
        self.refresh_inner(name, min_valid, false).map(|(t, _)| t)
    }

    /// Refreshes now, whatever the expiry says (the user asked).
    pub fn refresh(&self, name: &str) -> Result<ConnectionView> {
        let conn = self.store.get(name)?;
        if conn.vendor.kind() == Kind::Manual {
            return Err(Error::Unsupported(format!(
                "{} tokens are issued in the vendor's admin screen, not refreshed by Keyport. {}",
                conn.vendor.label(),
                conn.vendor.reissue_steps().unwrap_or_default()
            )));
        }
        self.refresh_inner(name, crate::DEFAULT_MIN_VALID, true)
            .map(|(_, c)| ConnectionView::of(&c))
    }

    fn secrets(&self, name: &str) -> Result<Secrets> {
        vault::load(self.vault.as_ref(), name)?.ok_or_else(|| Error::KeychainData {
            name: name.into(),
            detail: "its keychain entry is missing".into(),
        })
    }

    /// Single-flight: the connection lock is held across read, refresh request and both
    /// writes, and the state is read again under it, so of N callers one refreshes and the
    /// rest find the new token. The rotated refresh token reaches the keychain before the
    /// new access token is handed out.
    fn refresh_inner(
        &self,
        name: &str,
        min_valid: i64,
        force: bool,
    ) -> Result<(SecretString, Connection)> {
        let _lock = self.store.connection_lock(name)?;
        let conn = self.store.get(name)?;
        let secrets = self.secrets(name)?;
        let access = secrets
            .access_token
            .clone()
            .ok_or_else(|| Error::KeychainData {
                name: name.into(),
                detail: "the token is missing".into(),
            })?;
        if !force && fresh(&conn, min_valid) {
            return Ok((access, conn));
        }
        let expired = conn.expires_at.is_some_and(|e| e <= now());
        let Some(meta) = conn.oauth.clone() else {
            // Admin-issued token: nothing to refresh; past its date it is dead.
            return if expired {
                Err(Error::NeedsReconnect {
                    name: name.into(),
                    reason: format!(
                        "the token expired; {}",
                        conn.vendor.reissue_steps().unwrap_or("issue a new one")
                    ),
                })
            } else {
                Ok((access, conn))
            };
        };
        if let Health::NeedsReconnect { reason, .. } = &conn.health {
            return Err(Error::NeedsReconnect {
                name: name.into(),
                reason: reason.clone(),
            });
        }
        let Some(refresh_token) = secrets.refresh_token.clone() else {
            return if expired {
                Err(Error::NeedsReconnect {
                    name: name.into(),
                    reason: "the access token expired and the vendor gave no refresh token (was offline_access granted?)".into(),
                })
            } else {
                Ok((access, conn))
            };
        };

        let label = conn.vendor.label();
        let client = Client {
            id: &meta.client_id,
            secret: secrets.client_secret.as_ref(),
            auth: &meta.client_auth,
        };
        let params = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        let result = self.http_token_refresh(label, &meta.token_url, &client, &params);
        let t = now();
        let tokens = match result {
            Ok(tokens) => tokens,
            Err(RefreshFailure::Rejected(reason)) => {
                let reason = format!("{label} refused the refresh token ({reason})");
                let _ = self.store.update_connection(name, |c| {
                    c.health = Health::NeedsReconnect {
                        reason: reason.clone(),
                        at: t,
                    }
                });
                return Err(Error::NeedsReconnect {
                    name: name.into(),
                    reason,
                });
            }
            Err(RefreshFailure::Other(e)) => {
                let reason = e.to_string();
                let _ = self.store.update_connection(name, |c| {
                    c.health = Health::RefreshFailed { reason, at: t }
                });
                return Err(e);
            }
        };
        let mut next = secrets;
        next.access_token = Some(tokens.access_token.clone());
        // A vendor that does not rotate sends no new refresh token: keep the old one.
        if let Some(rotated) = tokens.refresh_token {
            next.refresh_token = Some(rotated);
        }
        self.save_rotated(name, &next)?;
        let conn = self.store.update_connection(name, |c| {
            c.expires_at = tokens.expires_in.map(|s| t + s as i64);
            c.last_refresh = Some(t);
            c.health = Health::Ok;
        })?;
        Ok((tokens.access_token, conn))
    }

    /// The vendor has already forgotten the old refresh token: try hard to keep the new one.
    fn save_rotated(&self, name: &str, next: &Secrets) -> Result<()> {
        let mut last = None;
        for wait in [0u64, 200, 1000] {
            std::thread::sleep(std::time::Duration::from_millis(wait));
            match vault::save(self.vault.as_ref(), name, next) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("three attempts were made"))
    }

    fn http_token_refresh(
        &self,
        label: &'static str,
        url: &str,
        client: &Client,
        params: &[(&str, &str)],
    ) -> std::result::Result<oauth::TokenResponse, RefreshFailure> {
        match oauth::token_request(&self.http, label, Op::Refresh, url, client, params) {
            Ok(t) => Ok(t),
            Err(Error::Vendor {
                oauth_error: Some(code),
                detail,
                ..
            }) if code == "invalid_grant" => Err(RefreshFailure::Rejected(detail.unwrap_or(code))),
            Err(e) => Err(RefreshFailure::Other(e)),
        }
    }

    /// The vendor's full header set, fresh.
    pub fn headers(&self, name: &str) -> Result<Vec<(String, SecretString)>> {
        let mut conn = self.store.get(name)?;
        let mut secrets = self.secrets(name)?;
        if !fresh(&conn, crate::DEFAULT_MIN_VALID) {
            let (token, current) = self.refresh_inner(name, crate::DEFAULT_MIN_VALID, false)?;
            secrets.access_token = Some(token);
            conn = current;
        }
        Ok(vendors::headers(&conn, &secrets)?
            .into_iter()
            .map(|h| (h.name.to_owned(), h.value))
            .collect())
    }

    /// A ready-to-run curl command with the header set (it holds secrets).
    pub fn curl(&self, name: &str, path: Option<&str>) -> Result<SecretString> {
        let conn = self.store.get(name)?;
        let url = match path {
            Some(p) if p.starts_with("http://") || p.starts_with("https://") => p.to_owned(),
            Some(p) => vendors::join(
                conn.base_url
                    .as_deref()
                    .or(conn.vendor.default_base())
                    .unwrap_or(""),
                p,
            ),
            None => vendors::probe(&conn)
                .map(|p| p.url)
                .unwrap_or_else(|_| conn.base_url.clone().unwrap_or_default()),
        };
        let mut cmd = String::from("curl -sS");
        for (k, v) in self.headers(name)? {
            cmd.push_str(&format!(
                " -H {}",
                shell_quote(&format!("{k}: {}", v.expose()))
            ));
        }
        cmd.push(' ');
        cmd.push_str(&shell_quote(&url));
        Ok(SecretString::new(cmd))
    }

    /// Calls the vendor's cheap read with the stored credentials.
    pub fn test(&self, name: &str) -> Result<TestReport> {
        let conn = self.store.get(name)?;
        let probe = vendors::probe(&conn)?;
        let headers: Vec<(String, String)> = self
            .headers(name)?
            .into_iter()
            .map(|(k, v)| (k, v.expose().to_owned()))
            .collect();
        let reply = self.http.request(probe.method, &probe.url, &headers)?;
        let ok = reply.is_success();
        let summary = match reply.status {
            s if (200..300).contains(&s) => format!("{} accepted the credentials (HTTP {s}).", conn.vendor.label()),
            401 | 403 => format!(
                "{} says unauthorised (HTTP {}): the token or credentials are wrong, expired or revoked. {}",
                conn.vendor.label(),
                reply.status,
                conn.vendor.reissue_steps().unwrap_or("Connect again.")
            ),
            s => format!("{} answered HTTP {s}: {}", conn.vendor.label(), excerpt(&reply.body)),
        };
        Ok(TestReport {
            ok,
            status: Some(reply.status),
            url: probe.url,
            summary,
        })
    }

    /// Revokes at the vendor where it has a way, then removes the connection here. When a
    /// vendor step fails, nothing is removed unless `force`.
    pub fn revoke(&self, name: &str, force: bool) -> Result<RevokeReport> {
        let _lock = self.store.connection_lock(name)?;
        let conn = self.store.get(name)?;
        let secrets = vault::load(self.vault.as_ref(), name)?;
        let mut steps = Vec::new();
        let mut failure: Option<Error> = None;
        if let (Some(meta), Some(s)) = (&conn.oauth, &secrets) {
            let label = conn.vendor.label();
            let client = Client {
                id: &meta.client_id,
                secret: s.client_secret.as_ref(),
                auth: &meta.client_auth,
            };
            // Logout first: it needs the access token the revocation is about to kill.
            let access_alive = conn.expires_at.is_none_or(|e| e > now());
            if let (Some(url), Some(at), true) = (&meta.logout_url, &s.access_token, access_alive) {
                let headers = [(
                    "Authorization".to_owned(),
                    format!("Bearer {}", at.expose()),
                )];
                match self.http.request(Method::Post, url, &headers) {
                    Ok(r) if r.is_success() => {
                        steps.push(format!("{label} ended the API session (logout)."))
                    }
                    Ok(r) if r.status == 401 => {
                        steps.push(format!("{label} had no API session to end."))
                    }
                    Ok(r) => {
                        failure.get_or_insert(Error::Vendor {
                        vendor: label,
                        op: "the logout",
                        status: r.status,
                        detail: Some(excerpt(&r.body)),
                            oauth_error: None,
                        advice: if r.status == 429 {
                            "The licence's API session limit was hit; the session ends by itself when it times out. Add --force to remove the connection now.".into()
                        } else {
                            "Retry later, or add --force to remove it from this computer anyway.".into()
                        },
                        });
                    }
                    Err(e) => {
                        failure.get_or_insert(e);
                    }
                }
            }
            if let Some(url) = &meta.revocation_url {
                for (token, hint) in [
                    (&s.refresh_token, "refresh_token"),
                    (&s.access_token, "access_token"),
                ] {
                    let Some(token) = token else { continue };
                    match oauth::revoke(&self.http, label, url, &client, token, hint) {
                        Ok(()) => {
                            steps.push(format!("{label} revoked the {}.", hint.replace('_', " ")))
                        }
                        Err(e) => {
                            failure.get_or_insert(e);
                        }
                    }
                }
            }
        }
        let forced = match failure {
            Some(e) if !force => return Err(e),
            Some(e) => {
                steps.push(format!("Not done at the vendor: {e}"));
                true
            }
            None => false,
        };
        self.vault.delete(name)?;
        self.store.update(|d| {
            d.connections.retain(|c| c.name != name);
            Ok(())
        })?;
        steps.push("Deleted the tokens from the keychain and the connection from Keyport.".into());
        let manual_steps = match conn.vendor {
            VendorId::Myob => Some(conn.vendor.revoke_note()),
            v if v.kind() == Kind::Manual => Some(v.revoke_note()),
            _ => None,
        };
        Ok(RevokeReport {
            vendor_steps: steps,
            manual_steps,
            forced,
        })
    }

    /// Stores an admin-issued token (Exo, Xentral, O4, MachShip, AccountRight desktop).
    pub fn add_manual(&self, req: ManualRequest) -> Result<ConnectionView> {
        validate_name(&req.name)?;
        if req.vendor.kind() != Kind::Manual {
            return Err(Error::input(format!(
                "{} connects with OAuth: use `keyport connect {}`.",
                req.vendor.label(),
                req.vendor.slug()
            )));
        }
        let base_url = match (&req.base_url, req.vendor.default_base()) {
            (Some(b), _) => Some(check_base(b)?),
            (None, Some(d)) => Some(d.to_owned()),
            (None, None) => {
                return Err(Error::input(format!(
                "{} needs the instance URL: add --base-url (e.g. https://yourcompany.xentral.biz).",
                req.vendor.label()
            )))
            }
        };
        let mut secrets = Secrets::default();
        for field in req.vendor.manual_fields() {
            let (slot, value) = match field {
                crate::ManualField::Token => (&mut secrets.access_token, &req.token),
                crate::ManualField::Username => (&mut secrets.username, &req.username),
                crate::ManualField::Password => (&mut secrets.password, &req.password),
                crate::ManualField::ApiKey => (&mut secrets.api_key, &req.api_key),
            };
            match value {
                Some(v) if !v.expose().trim().is_empty() => {
                    *slot = Some(SecretString::new(v.expose().trim()))
                }
                // An empty company-file password is MYOB's default.
                _ if *field == crate::ManualField::Password => {
                    *slot = Some(SecretString::default())
                }
                _ => {
                    return Err(Error::input(format!(
                        "The {} is required.",
                        field.prompt(req.vendor).to_lowercase()
                    )))
                }
            }
        }
        let t = now();
        let conn = Connection {
            name: req.name,
            vendor: req.vendor,
            created_at: t,
            health: Health::Ok,
            oauth: None,
            account: Account {
                business_id: req.company_file,
                ..Account::default()
            },
            base_url,
            test_path: req.test_path,
            expires_at: parse_expiry(&req.expires)?,
            consented_at: None,
            last_refresh: None,
            note: req.note,
            notified: Vec::new(),
        };
        self.store_new(conn, &secrets, req.replace)
    }

    /// Replaces an admin-issued token (after re-issuing it at the vendor), keeping the rest.
    pub fn set_token(
        &self,
        name: &str,
        token: SecretString,
        expires: Option<String>,
    ) -> Result<ConnectionView> {
        let _lock = self.store.connection_lock(name)?;
        let conn = self.store.get(name)?;
        if conn.vendor.kind() != Kind::Manual
            || !conn
                .vendor
                .manual_fields()
                .contains(&crate::ManualField::Token)
        {
            return Err(Error::Unsupported(format!(
                "{} has no pasted token to replace.",
                conn.vendor.label()
            )));
        }
        if token.expose().trim().is_empty() {
            return Err(Error::input("The new token is empty."));
        }
        let expires_at = parse_expiry(&expires)?;
        let mut s = self.secrets(name)?;
        s.access_token = Some(SecretString::new(token.expose().trim()));
        vault::save(self.vault.as_ref(), name, &s)?;
        let c = self.store.update_connection(name, |c| {
            c.health = Health::Ok;
            c.notified.clear();
            if expires.is_some() {
                c.expires_at = expires_at;
            }
        })?;
        Ok(ConnectionView::of(&c))
    }

    /// Remembers that a desktop notification for `key` was shown.
    pub fn mark_notified(&self, name: &str, key: &str) -> Result<()> {
        self.store
            .update_connection(name, |c| {
                if !c.notified.iter().any(|k| k == key) {
                    c.notified.push(key.to_owned());
                }
            })
            .map(drop)
    }

    pub fn notified(&self, name: &str) -> Result<Vec<String>> {
        Ok(self.store.get(name)?.notified)
    }

    /// App registrations remembered from earlier connections (no secrets).
    pub fn registrations(&self) -> Result<Vec<Registration>> {
        Ok(self.store.load()?.registrations)
    }

    /// Remembers an app registration; the client secret, if given, goes to the keychain.
    /// Without one, a secret saved earlier for the same registration is deleted.
    pub fn remember_registration(
        &self,
        reg: Registration,
        secret: Option<&SecretString>,
    ) -> Result<()> {
        let key = registration_key(reg.vendor, &reg.client_id);
        if let Some(s) = secret {
            self.vault.set(&key, s)?;
        }
        let reg = Registration {
            secret_saved: secret.is_some(),
            ..reg
        };
        let had_secret = self.store.update(|d| {
            let same = |r: &Registration| r.vendor == reg.vendor && r.client_id == reg.client_id;
            let had = d.registrations.iter().any(|r| same(r) && r.secret_saved);
            d.registrations.retain(|r| !same(r));
            d.registrations.insert(0, reg);
            Ok(had)
        })?;
        if secret.is_none() && had_secret {
            self.vault.delete(&key)?;
        }
        Ok(())
    }

    pub fn registration_secret(
        &self,
        vendor: VendorId,
        client_id: &str,
    ) -> Result<Option<SecretString>> {
        self.vault.get(&registration_key(vendor, client_id))
    }
}

fn registration_key(vendor: VendorId, client_id: &str) -> String {
    format!("app:{}:{client_id}", vendor.slug())
}

enum RefreshFailure {
    /// `invalid_grant`: the refresh token is dead; only a new sign-in helps.
    Rejected(String),
    Other(Error),
}

fn fresh(c: &Connection, min_valid: i64) -> bool {
    match c.expires_at {
        None => true,
        // An admin-issued token's date is the end of its last day: no margin.
        Some(e) if c.oauth.is_none() => e > now(),
        Some(e) => e - now() > min_valid,
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
