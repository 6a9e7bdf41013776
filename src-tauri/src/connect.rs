//! The window's side of a connection attempt: the form becomes an engine `Setup`, the
//! consent page opens in the system browser, and a worker thread waits for the redirect
//! (or the window pastes the URL the browser landed on), reporting through events:
//!
//! - `connect-tick` `{attempt, left}` once a second,
//! - `connect-ignored` `{attempt, message}` when a stray request was refused,
//! - `connect-done` `{attempt, view}` with the stored connection's metadata,
//! - `connect-failed` `{attempt, code, message}`.
//!
//! One attempt at a time: the registered redirect URI fixes the loopback port.

use crate::error::{CmdResult, CommandError};
use keyport_engine::{
    browser, time, AdvancedSetup, Callback, Cancel, ClientAuth, ConnectRequest, ConnectionView,
    Keyport, MyobSetup, OidcSetup, PendingConnect, SecretString, Setup, VendorId, WaitEvent,
    DEFAULT_WINDOW,
};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tauri::{AppHandle, Emitter, Runtime};

/// The connect form as the window sends it. Empty strings mean "not given".
/// No `Debug`: it carries the client secret and the company-file password.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ConnectForm {
    /// `myob`, `myob-advanced` or `oidc`.
    pub vendor: String,
    pub name: String,
    pub replace: bool,
    pub client_id: String,
    pub client_secret: String,
    /// Save the client secret in the keychain with the registration.
    pub remember_secret: bool,
    pub redirect_uri: String,
    pub scopes: String,
    // MYOB
    pub cf_username: String,
    pub cf_password: String,
    pub auth_base: String,
    pub api_base: String,
    // MYOB Advanced
    pub instance_url: String,
    pub chain_days: Option<u32>,
    // OAuth 2.0 / OIDC
    pub issuer: String,
    pub authorize_url: String,
    pub token_url: String,
    pub revocation_url: String,
    pub client_auth: String,
    pub test_url: String,
}

pub(crate) fn given(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn input_error(msg: impl Into<String>) -> CommandError {
    CommandError::new("invalid_input", msg)
}

/// Turns the form into the engine's request (which remembers the app registration once
/// the connection is stored). An empty secret field uses the secret saved with it.
pub fn build_request(kp: &Keyport, form: ConnectForm) -> CmdResult<ConnectRequest> {
    let vendor = VendorId::parse(&form.vendor)?;
    let client_id = given(&form.client_id)
        .ok_or_else(|| input_error("The client ID (MYOB: the API key) is required."))?;
    let secret = match given(&form.client_secret) {
        Some(s) => Some(SecretString::new(s)),
        None => kp.registration_secret(vendor, &client_id)?,
    };
    let need_secret = || {
        secret.clone().ok_or_else(|| {
            input_error("The client secret is required (it is shown with the app registration at the vendor).")
        })
    };
    let redirect_uri = given(&form.redirect_uri);
    let scopes = given(&form.scopes);
    let setup = match vendor {
        VendorId::Myob => Setup::Myob(MyobSetup {
            client_id,
            client_secret: need_secret()?,
            redirect_uri: redirect_uri.ok_or_else(|| {
                input_error("The redirect URI is required, exactly as registered with the API key (including any trailing slash).")
            })?,
            scopes: scopes.unwrap_or_default(),
            auth_base: given(&form.auth_base),
            api_base: given(&form.api_base),
            cf_username: given(&form.cf_username),
            cf_password: given(&form.cf_password).map(SecretString::new),
        }),
        VendorId::MyobAdvanced => {
            let instance_url = given(&form.instance_url).ok_or_else(|| {
                input_error("The MYOB Advanced instance URL is required, e.g. https://acme.myobadvanced.com.")
            })?;
            Setup::Advanced(AdvancedSetup {
                instance_url,
                client_id,
                client_secret: need_secret()?,
                redirect_uri: redirect_uri.ok_or_else(|| {
                    input_error("The redirect URI is required, exactly as registered in Connected Applications.")
                })?,
                scopes,
                chain_days: form.chain_days,
            })
        }
        VendorId::Oidc => {
            let client_auth = match form.client_auth.trim() {
                "" | "post" => ClientAuth::Post,
                "basic" => ClientAuth::Basic,
                "none" => ClientAuth::None,
                other => {
                    return Err(input_error(format!(
                        "'{other}' is not a client authentication; choose post, basic or none."
                    )))
                }
            };
            let client_secret = match client_auth {
                ClientAuth::None => None,
                _ => Some(need_secret()?),
            };
            Setup::Oidc(OidcSetup {
                issuer: given(&form.issuer),
                authorize_url: given(&form.authorize_url),
                token_url: given(&form.token_url),
                revocation_url: given(&form.revocation_url),
                client_id,
                client_secret,
                client_auth,
                redirect_uri,
                scopes: scopes.unwrap_or_else(|| "openid offline_access".into()),
                extra_params: Vec::new(),
                test_url: given(&form.test_url),
            })
        }
        other => {
            return Err(input_error(format!(
                "{} tokens are issued in the vendor's admin screen: use Add token.",
                other.label()
            )))
        }
    };
    Ok(ConnectRequest {
        name: form.name.trim().to_owned(),
        remember_secret: form.remember_secret,
        replace: form.replace,
        window: DEFAULT_WINDOW,
        setup,
    })
}

/// What the window needs to show the waiting panel.
#[derive(Debug, Serialize)]
pub struct Started {
    pub attempt: u64,
    pub name: String,
    pub vendor_label: &'static str,
    pub redirect_uri: String,
    /// False: the window shows the "paste the URL you landed on" field.
    pub loopback: bool,
    /// When the window closes, unix seconds.
    pub expires_at: i64,
    pub left: u64,
    /// Set when the system browser could not be opened.
    pub browser_error: Option<String>,
}

struct Attempt {
    id: u64,
    cancel: Cancel,
    authorize_url: String,
    /// Only for pasted redirects; a loopback attempt's worker owns its `PendingConnect`.
    pending: Option<PendingConnect>,
}

/// The single running attempt, if any.
#[derive(Default, Clone)]
pub struct Attempts {
    slot: Arc<Mutex<Option<Attempt>>>,
    next_id: Arc<Mutex<u64>>,
}

#[derive(Clone, Serialize)]
struct Tick {
    attempt: u64,
    left: u64,
}

#[derive(Clone, Serialize)]
struct Ignored {
    attempt: u64,
    message: String,
}

#[derive(Clone, Serialize)]
struct Done {
    attempt: u64,
    view: ConnectionView,
}

#[derive(Clone, Serialize)]
struct Failed {
    attempt: u64,
    code: String,
    message: String,
}

fn emit_failed<R: Runtime>(app: &AppHandle<R>, attempt: u64, e: CommandError) {
    let _ = app.emit(
        "connect-failed",
        Failed {
            attempt,
            code: e.code,
            message: e.message,
        },
    );
}

impl Attempts {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Attempt>> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_current(&self, id: u64) -> bool {
        self.lock().as_ref().is_some_and(|a| a.id == id)
    }

    /// Removes attempt `id` (and only it) from the slot.
    fn take(&self, id: u64) -> Option<Attempt> {
        let mut slot = self.lock();
        if slot.as_ref().is_some_and(|a| a.id == id) {
            slot.take()
        } else {
            None
        }
    }

    /// Begins an attempt (binds the loopback listener), opens the browser and starts the
    /// worker. Blocking: call it off the main thread.
    pub fn start<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        kp: &Arc<Keyport>,
        form: ConnectForm,
    ) -> CmdResult<Started> {
        if self.lock().is_some() {
            return Err(CommandError::new(
                "busy",
                "Another connection attempt is still waiting for the browser. Finish or cancel it first.",
            ));
        }
        let request = build_request(kp, form)?;
        let mut pending = kp.begin_connect(request)?;
        let id = {
            let mut n = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
            *n += 1;
            *n
        };
        let cancel = Cancel::default();
        let started = Started {
            attempt: id,
            name: pending.name().to_owned(),
            vendor_label: pending.vendor().label(),
            redirect_uri: pending.redirect_uri().to_owned(),
            loopback: pending.is_loopback(),
            expires_at: pending.expires_at(),
            left: (pending.expires_at() - time::now()).max(0) as u64,
            browser_error: browser::open(pending.authorize_url())
                .err()
                .map(|e| e.to_string()),
        };
        let authorize_url = pending.authorize_url().to_owned();
        if pending.is_loopback() {
            {
                let mut slot = self.lock();
                if slot.is_some() {
                    return Err(CommandError::new(
                        "busy",
                        "Another connection attempt started at the same moment; cancel it first.",
                    ));
                }
                *slot = Some(Attempt {
                    id,
                    cancel: cancel.clone(),
                    authorize_url,
                    pending: None,
                });
            }
            let (app, kp, me) = (app.clone(), kp.clone(), self.clone());
            std::thread::Builder::new()
                .name("connect-wait".into())
                .spawn(move || {
                    let mut on_event = |ev: WaitEvent| {
                        let _ = match ev {
                            WaitEvent::Tick(left) => {
                                app.emit("connect-tick", Tick { attempt: id, left })
                            }
                            WaitEvent::Ignored(message) => app.emit(
                                "connect-ignored",
                                Ignored {
                                    attempt: id,
                                    message: format!(
                                        "A request to the redirect address was refused: {message}. Still waiting."
                                    ),
                                },
                            ),
                        };
                    };
                    let result = pending.wait(&cancel, &mut on_event);
                    me.finish(&app, &kp, id, pending, result);
                })
                .map_err(|e| {
                    self.take(id);
                    CommandError::internal(format!("Keyport could not start waiting for the browser ({e})."))
                })?;
        } else {
            self.lock().replace(Attempt {
                id,
                cancel: cancel.clone(),
                authorize_url,
                pending: Some(pending),
            });
            // No listener to wait on: tick until the window closes or the URL is pasted.
            let (app, me) = (app.clone(), self.clone());
            let expires_at = started.expires_at;
            std::thread::Builder::new()
                .name("connect-paste-timer".into())
                .spawn(move || loop {
                    std::thread::sleep(Duration::from_secs(1));
                    if !me.is_current(id) {
                        return;
                    }
                    let left = expires_at - time::now();
                    if cancel.is_cancelled() {
                        me.take(id);
                        emit_failed(&app, id, keyport_engine::Error::Cancelled.into());
                        return;
                    }
                    if left <= 0 {
                        me.take(id);
                        emit_failed(
                            &app,
                            id,
                            keyport_engine::Error::Timeout {
                                secs: DEFAULT_WINDOW.as_secs(),
                            }
                            .into(),
                        );
                        return;
                    }
                    let _ = app.emit(
                        "connect-tick",
                        Tick {
                            attempt: id,
                            left: left as u64,
                        },
                    );
                })
                .map_err(|e| {
                    CommandError::internal(format!("Keyport could not start the countdown ({e})."))
                })?;
        }
        Ok(started)
    }

    /// Exchanges the code (or reports the failure) and ends attempt `id`.
    fn finish<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        kp: &Keyport,
        id: u64,
        pending: PendingConnect,
        callback: keyport_engine::Result<Callback>,
    ) {
        self.take(id);
        let outcome = callback.and_then(|cb| kp.finish_connect(pending, cb));
        match outcome {
            Ok(view) => {
                let _ = app.emit("connect-done", Done { attempt: id, view });
                let _ = app.emit("connections-changed", ());
            }
            Err(e) => emit_failed(app, id, e.into()),
        }
    }

    /// Cancels the running attempt and waits (briefly) until its listener is closed, so a
    /// new attempt can bind the same port at once.
    pub fn cancel(&self) {
        let id = {
            let slot = self.lock();
            match slot.as_ref() {
                Some(a) => {
                    a.cancel.cancel();
                    a.id
                }
                None => return,
            }
        };
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.is_current(id) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        // Should the worker be stuck, the slot is freed anyway; its listener closes with it.
        self.take(id);
    }

    /// Takes the URL the browser landed on (for a non-loopback redirect URI). A URL that
    /// does not belong to this attempt leaves it waiting; a refusal by the vendor ends it.
    pub fn paste<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        kp: &Keyport,
        url: &str,
    ) -> CmdResult<ConnectionView> {
        let (id, callback) = {
            let slot = self.lock();
            let a = slot.as_ref().ok_or_else(|| {
                CommandError::new(
                    "no_attempt",
                    "No connection attempt is waiting for a pasted URL. Start one with Connect.",
                )
            })?;
            let pending = a.pending.as_ref().ok_or_else(|| {
                CommandError::new("no_attempt", "This attempt waits for the browser on this computer; there is nothing to paste.")
            })?;
            (a.id, pending.accept_pasted(url))
        };
        let callback = match callback {
            Ok(cb) => cb,
            Err(
                e @ (keyport_engine::Error::InvalidInput(_) | keyport_engine::Error::StateMismatch),
            ) => return Err(e.into()),
            Err(e) => {
                self.take(id);
                let e: CommandError = e.into();
                emit_failed(app, id, e.clone());
                return Err(e);
            }
        };
        let attempt = self.take(id).ok_or_else(|| {
            CommandError::new(
                "no_attempt",
                "The connection attempt ended meanwhile; connect again.",
            )
        })?;
        let pending = attempt
            .pending
            .expect("paste attempts keep their pending connect");
        match kp.finish_connect(pending, callback) {
            Ok(view) => {
                let _ = app.emit(
                    "connect-done",
                    Done {
                        attempt: id,
                        view: view.clone(),
                    },
                );
                let _ = app.emit("connections-changed", ());
                Ok(view)
            }
            Err(e) => {
                let e: CommandError = e.into();
                emit_failed(app, id, e.clone());
                Err(e)
            }
        }
    }

    /// Opens the running attempt's consent page again (the first tab was closed).
    pub fn reopen(&self) -> CmdResult<()> {
        let url = self
            .lock()
            .as_ref()
            .map(|a| a.authorize_url.clone())
            .ok_or_else(|| {
                CommandError::new(
                    "no_attempt",
                    "No connection attempt is running; start one with Connect.",
                )
            })?;
        browser::open(&url).map_err(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyport_engine::vault::MemoryVault;

    fn keyport() -> (Keyport, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "keyport-app-test-{}-{}",
            std::process::id(),
            time::now()
        ));
        (
            Keyport::with_vault(&dir, Box::new(MemoryVault::default())),
            dir,
        )
    }

    fn myob_form() -> ConnectForm {
        ConnectForm {
            vendor: "myob".into(),
            name: " acme ".into(),
            client_id: "key-1".into(),
            client_secret: "s3cret".into(),
            remember_secret: true,
            redirect_uri: "http://127.0.0.1:8765/callback".into(),
            ..ConnectForm::default()
        }
    }

    #[test]
    fn myob_form_becomes_a_request_and_a_registration() {
        let (kp, dir) = keyport();
        let req = build_request(&kp, myob_form()).unwrap();
        let reg = req.setup.registration();
        assert_eq!(req.name, "acme");
        assert!(
            matches!(req.setup, Setup::Myob(ref s) if s.client_secret.expose() == "s3cret" && s.auth_base.is_none())
        );
        assert_eq!(reg.vendor, VendorId::Myob);
        assert_eq!(
            reg.redirect_uri.as_deref(),
            Some("http://127.0.0.1:8765/callback")
        );
        assert!(req.remember_secret, "the form's choice reaches the engine");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_empty_secret_uses_the_saved_one_and_a_missing_one_is_a_sentence() {
        let (kp, dir) = keyport();
        let mut form = myob_form();
        form.client_secret.clear();
        let e = build_request(&kp, form).err().unwrap();
        assert_eq!(e.code, "invalid_input");
        assert!(
            e.message.contains("client secret is required"),
            "{}",
            e.message
        );

        let req = build_request(&kp, myob_form()).unwrap();
        kp.remember_registration(req.setup.registration(), Some(&"s3cret".into()))
            .unwrap();
        let mut form = myob_form();
        form.client_secret.clear();
        let req = build_request(&kp, form).unwrap();
        assert!(matches!(req.setup, Setup::Myob(ref s) if s.client_secret.expose() == "s3cret"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn manual_vendors_and_public_oidc_clients() {
        let (kp, dir) = keyport();
        let form = ConnectForm {
            vendor: "xentral".into(),
            client_id: "x".into(),
            ..ConnectForm::default()
        };
        assert!(build_request(&kp, form)
            .err()
            .unwrap()
            .message
            .contains("Add token"));
        let form = ConnectForm {
            vendor: "oidc".into(),
            name: "idp".into(),
            client_id: "public".into(),
            client_auth: "none".into(),
            issuer: "https://login.example.com".into(),
            ..ConnectForm::default()
        };
        let req = build_request(&kp, form).unwrap();
        let reg = req.setup.registration();
        assert!(
            matches!(req.setup, Setup::Oidc(ref s) if s.client_secret.is_none() && s.scopes == "openid offline_access")
        );
        assert_eq!(
            reg.instance_url.as_deref(),
            Some("https://login.example.com")
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
