//! The window's side of a connection attempt. The engine turns the form into a pending
//! connect (the loopback listener is bound before the browser opens), the consent page
//! opens in the system browser, and a task on the async runtime waits for the browser's
//! redirect — or, when the registered redirect URI is not on this computer, for the URL
//! the person pastes — reporting through events:
//!
//! - `connect-tick` `{attempt, left}` once a second,
//! - `connect-ignored` `{attempt, message}` when a stray request was refused,
//! - `connect-done` `{attempt, view}` with the stored connection's metadata,
//! - `connect-failed` `{attempt, code, message, actions}`.
//!
//! One attempt at a time: the registered redirect URI fixes the loopback port.

use crate::error::{CmdResult, CommandError};
use keyport_engine::{time, Cancel, Connected, Error, Form, Keyport, PendingConnect, WaitEvent};
use serde::Serialize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::{mpsc, oneshot};

/// What the window needs to show the waiting panel.
#[derive(Debug, Serialize, specta::Type)]
pub struct Started {
    pub attempt: u64,
    pub name: String,
    pub vendor_label: &'static str,
    pub redirect_uri: String,
    /// False: the window shows the "paste the URL you landed on" field.
    pub loopback: bool,
    /// When the attempt's window closes, unix seconds.
    pub expires_at: i64,
    pub left: u64,
    /// Set when the system browser could not be opened.
    pub browser_error: Option<String>,
}

/// A pasted URL and where its outcome goes.
type Pasted = (String, oneshot::Sender<CmdResult<Connected>>);

struct Attempt {
    id: u64,
    cancel: Cancel,
    /// Cancelled when the attempt's task has ended (its listener is closed by then).
    ended: Cancel,
    authorize_url: String,
    /// The task's inbox for pasted URLs; `None` when the browser comes back to this computer.
    paste: Option<mpsc::Sender<Pasted>>,
}

#[derive(Default)]
struct Slot {
    current: Option<Attempt>,
    last_id: u64,
}

impl Slot {
    fn busy(&self) -> bool {
        self.current
            .as_ref()
            .is_some_and(|a| !a.ended.is_cancelled())
    }
}

/// The single running attempt, if any.
#[derive(Default, Clone)]
pub struct Attempts {
    slot: Arc<Mutex<Slot>>,
}

/// The payload of a `connect-*` event (typed in the window's bindings).
#[derive(Clone, Serialize, specta::Type)]
pub struct Tick {
    pub attempt: u64,
    pub left: u64,
}

/// The payload of a `connect-*` event (typed in the window's bindings).
#[derive(Clone, Serialize, specta::Type)]
pub struct Ignored {
    pub attempt: u64,
    pub message: String,
}

/// The payload of a `connect-*` event (typed in the window's bindings).
#[derive(Clone, Serialize, specta::Type)]
pub struct Done {
    pub attempt: u64,
    pub view: Connected,
}

/// The payload of a `connect-*` event (typed in the window's bindings).
#[derive(Clone, Serialize, specta::Type)]
pub struct Failed {
    pub attempt: u64,
    #[serde(flatten)]
    pub error: CommandError,
}

fn busy() -> CommandError {
    CommandError::new(
        "busy",
        "Another connection attempt is still waiting for the browser. Finish or cancel it first.",
    )
}

fn no_attempt(message: &str) -> CommandError {
    CommandError::new("no_attempt", message)
}

/// The engine's refusal note as a sentence of its own.
fn sentence(note: &str) -> String {
    let mut c = note.trim().chars();
    let mut s: String = c
        .next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default();
    if !s.is_empty() && !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// Tells the window how attempt `id` ended.
fn report<R: Runtime>(app: &AppHandle<R>, id: u64, outcome: CmdResult<Connected>) {
    match outcome {
        Ok(view) => {
            let _ = app.emit("connect-done", Done { attempt: id, view });
            let _ = app.emit("connections-changed", ());
        }
        Err(error) => {
            let _ = app.emit("connect-failed", Failed { attempt: id, error });
        }
    }
}

impl Attempts {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Removes attempt `id` (and only it): from now on another attempt may begin.
    fn take(&self, id: u64) {
        let mut slot = self.lock();
        if slot.current.as_ref().is_some_and(|a| a.id == id) {
            slot.current = None;
        }
    }

    /// Begins an attempt (binds the loopback listener), opens the browser and starts the
    /// task that waits for the answer.
    pub async fn start<R: Runtime>(
        &self,
        app: AppHandle<R>,
        kp: Arc<Keyport>,
        form: Form,
    ) -> CmdResult<Started> {
        if self.lock().busy() {
            return Err(busy());
        }
        let pending = kp.begin_connect(form).await?;
        let (cancel, ended) = (Cancel::new(), Cancel::new());
        let (paste, inbox) = match pending.is_loopback() {
            true => (None, None),
            false => {
                let (tx, rx) = mpsc::channel(1);
                (Some(tx), Some(rx))
            }
        };
        let id = {
            let mut slot = self.lock();
            if slot.busy() {
                // Two starts at once: this one's listener closes as `pending` drops.
                return Err(busy());
            }
            slot.last_id += 1;
            slot.current = Some(Attempt {
                id: slot.last_id,
                cancel: cancel.clone(),
                ended: ended.clone(),
                authorize_url: pending.authorize_url().to_owned(),
                paste,
            });
            slot.last_id
        };
        let started = Started {
            attempt: id,
            name: pending.name().to_owned(),
            vendor_label: pending.vendor_label(),
            redirect_uri: pending.redirect_uri().to_owned(),
            loopback: pending.is_loopback(),
            expires_at: pending.expires_at(),
            left: (pending.expires_at() - time::now()).max(0) as u64,
            browser_error: kp
                .open_browser(pending.authorize_url())
                .err()
                .map(|e| e.to_string()),
        };
        let me = self.clone();
        tauri::async_runtime::spawn(async move {
            let _ended = ended.drop_guard();
            let outcome = match inbox {
                None => me.wait_redirect(&app, &kp, id, pending, &cancel).await,
                Some(inbox) => me.wait_pasted(&app, &kp, id, pending, &cancel, inbox).await,
            };
            report(&app, id, outcome);
        });
        Ok(started)
    }

    /// Waits for the browser's redirect on the loopback listener, then exchanges the code.
    async fn wait_redirect<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        kp: &Keyport,
        id: u64,
        mut pending: PendingConnect,
        cancel: &Cancel,
    ) -> CmdResult<Connected> {
        let callback = pending
            .wait(cancel, |event| {
                let _ = match event {
                    WaitEvent::Tick(left) => app.emit("connect-tick", Tick { attempt: id, left }),
                    WaitEvent::Ignored(note) => app.emit(
                        "connect-ignored",
                        Ignored {
                            attempt: id,
                            message: sentence(&note),
                        },
                    ),
                };
            })
            .await;
        // The listener is closed: the next attempt may bind the port.
        self.take(id);
        Ok(kp.finish_connect(pending, callback?).await?)
    }

    /// Waits for the URL the browser landed on (a redirect URI not on this computer),
    /// until it arrives, the window closes or the attempt is cancelled. A URL that does
    /// not belong to this attempt is refused and the attempt goes on.
    async fn wait_pasted<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        kp: &Keyport,
        id: u64,
        pending: PendingConnect,
        cancel: &Cancel,
        mut inbox: mpsc::Receiver<Pasted>,
    ) -> CmdResult<Connected> {
        let window = (pending.expires_at() - time::now()).max(0) as u64;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(window);
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        let outcome = loop {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break Err(Error::Cancelled.into()),
                _ = tokio::time::sleep_until(deadline) => {
                    break Err(Error::Timeout { secs: window }.into());
                }
                Some((url, reply)) = inbox.recv() => match pending.accept_pasted(&url) {
                    Ok(callback) => break Ok((callback, reply)),
                    Err(e @ (Error::InvalidInput(_) | Error::StateMismatch)) => {
                        let _ = reply.send(Err(e.into()));
                    }
                    Err(e) => {
                        let e = CommandError::from(e);
                        let _ = reply.send(Err(e.clone()));
                        break Err(e);
                    }
                },
                _ = ticker.tick() => {
                    let left = (pending.expires_at() - time::now()).max(0) as u64;
                    let _ = app.emit("connect-tick", Tick { attempt: id, left });
                }
            }
        };
        // The attempt is over whichever way it ended: the next one may begin.
        self.take(id);
        let (callback, reply) = outcome?;
        let outcome = kp
            .finish_connect(pending, callback)
            .await
            .map_err(CommandError::from);
        let _ = reply.send(outcome.clone());
        outcome
    }

    /// Cancels the running attempt and returns once its task has ended, so that a new
    /// attempt can bind the same port at once.
    pub async fn cancel(&self) {
        let running = self.lock().current.as_ref().map(|a| {
            a.cancel.cancel();
            (a.id, a.ended.clone())
        });
        if let Some((id, ended)) = running {
            ended.cancelled().await;
            self.take(id);
        }
    }

    /// Hands the URL the browser landed on to the waiting attempt; its outcome comes back
    /// (and, when it ends the attempt, as `connect-done` or `connect-failed` too).
    pub async fn paste(&self, url: String) -> CmdResult<Connected> {
        let inbox = {
            let slot = self.lock();
            let attempt = slot.current.as_ref().ok_or_else(|| {
                no_attempt(
                    "No connection attempt is waiting for a pasted URL. Start one with Connect.",
                )
            })?;
            attempt.paste.clone().ok_or_else(|| {
                no_attempt("This attempt waits for the browser on this computer; there is nothing to paste.")
            })?
        };
        let ended = || no_attempt("The connection attempt ended meanwhile; connect again.");
        let (tx, rx) = oneshot::channel();
        inbox.send((url, tx)).await.map_err(|_| ended())?;
        rx.await.map_err(|_| ended())?
    }

    /// Opens the running attempt's consent page again (the first tab was closed).
    pub fn reopen(&self, kp: &Keyport) -> CmdResult<()> {
        let url = self
            .lock()
            .current
            .as_ref()
            .map(|a| a.authorize_url.clone())
            .ok_or_else(|| {
                no_attempt("No connection attempt is running; start one with Connect.")
            })?;
        kp.open_browser(&url).map_err(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_notes_become_sentences() {
        assert_eq!(
            sentence("a redirect was refused because the state differs; still waiting"),
            "A redirect was refused because the state differs; still waiting."
        );
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence(" "), "");
    }

    #[test]
    fn a_failure_event_carries_code_message_and_actions() {
        let failed = Failed {
            attempt: 7,
            error: Error::AlreadyExists("acme".into()).into(),
        };
        let json = serde_json::to_value(failed).unwrap();
        assert_eq!(json["attempt"], 7);
        assert_eq!(json["code"], "already_exists");
        assert!(json["message"].as_str().unwrap().contains("'acme'"));
        assert_eq!(json["actions"][0]["kind"], "replace");
    }

    #[tokio::test]
    async fn cancel_and_paste_without_an_attempt() {
        let attempts = Attempts::default();
        attempts.cancel().await; // nothing running: returns at once
        let e = attempts
            .paste("http://desktop/?code=x".into())
            .await
            .unwrap_err();
        assert_eq!(e.code, "no_attempt");
    }
}
