//! Keyport's commands: each a few lines into the async engine. They return metadata
//! (`ConnectionView`), reports and masked previews; no token, secret or header value is
//! ever sent to the window.

use crate::clipboard::Copied;
use crate::connect::Started;
use crate::error::{CmdResult, CommandError};
use crate::AppState;
use keyport_engine::{
    masked, secret, Connected, ConnectionView, ExposeSecret, Form, Keyport, Registration,
    RevokeReport, SecretString, TestReport, VendorInfo,
};
use serde::Serialize;
use tauri::{AppHandle, State};
use tauri_plugin_autostart::ManagerExt;

#[derive(Serialize)]
pub struct Info {
    metadata_path: String,
    version: &'static str,
    clipboard_clear_secs: u64,
    /// Every vendor with its fields: the window builds its forms from these.
    vendors: Vec<VendorInfo>,
}

#[tauri::command]
pub async fn info(state: State<'_, AppState>) -> CmdResult<Info> {
    Ok(Info {
        metadata_path: state.keyport()?.metadata_path().display().to_string(),
        version: env!("CARGO_PKG_VERSION"),
        clipboard_clear_secs: crate::clipboard::clear_secs(),
        vendors: Keyport::vendors(),
    })
}

#[tauri::command]
pub async fn list(state: State<'_, AppState>) -> CmdResult<Vec<ConnectionView>> {
    state.keyport()?.list().await.map_err(Into::into)
}

/// Remembered app registrations (no secrets; `secret_saved` says one is in the keychain).
#[tauri::command]
pub async fn registrations(state: State<'_, AppState>) -> CmdResult<Vec<Registration>> {
    state.keyport()?.registrations().await.map_err(Into::into)
}

#[tauri::command]
pub async fn connect_start(
    app: AppHandle,
    state: State<'_, AppState>,
    form: Form,
) -> CmdResult<Started> {
    state.attempts.start(app, state.keyport()?, form).await
}

#[tauri::command]
pub async fn connect_cancel(state: State<'_, AppState>) -> CmdResult<()> {
    state.attempts.cancel().await;
    Ok(())
}

#[tauri::command]
pub async fn connect_paste(state: State<'_, AppState>, url: String) -> CmdResult<Connected> {
    state.attempts.paste(url).await
}

#[tauri::command]
pub async fn connect_reopen(state: State<'_, AppState>) -> CmdResult<()> {
    let kp = state.keyport()?;
    state.attempts.reopen(&kp)
}

/// The "Add token" form. Secrets arrive here once and go straight to the keychain.
#[tauri::command]
pub async fn add_token(state: State<'_, AppState>, form: Form) -> CmdResult<ConnectionView> {
    state.keyport()?.add_token(form).await.map_err(Into::into)
}

#[tauri::command]
pub async fn copy_token(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> CmdResult<Copied> {
    let token = state
        .keyport()?
        .token(&name, keyport_engine::DEFAULT_MIN_VALID)
        .await?;
    let preview = masked(&token);
    state.clip.copy(&app, "token", token, preview)
}

#[tauri::command]
pub async fn copy_headers(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> CmdResult<Copied> {
    let headers = state.keyport()?.headers(&name).await?;
    let preview = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = String::new();
    for (k, v) in &headers {
        text.push_str(k);
        text.push_str(": ");
        text.push_str(v.expose_secret());
        text.push('\n');
    }
    let text: SecretString = secret(text);
    state.clip.copy(&app, "headers", text, preview)
}

#[tauri::command]
pub async fn copy_curl(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> CmdResult<Copied> {
    let cmd = state.keyport()?.curl(&name, None).await?;
    state.clip.copy(
        &app,
        "curl",
        keyport_engine::secret(cmd),
        "curl command".into(),
    )
}

#[tauri::command]
pub async fn refresh(state: State<'_, AppState>, name: String) -> CmdResult<ConnectionView> {
    state.keyport()?.refresh(&name).await.map_err(Into::into)
}

#[tauri::command]
pub async fn test(state: State<'_, AppState>, name: String) -> CmdResult<TestReport> {
    state.keyport()?.test(&name).await.map_err(Into::into)
}

#[tauri::command]
pub async fn revoke(
    state: State<'_, AppState>,
    name: String,
    force: bool,
) -> CmdResult<RevokeReport> {
    state
        .keyport()?
        .revoke(&name, force)
        .await
        .map_err(Into::into)
}

fn autostart_error(e: impl std::fmt::Display) -> CommandError {
    CommandError::new(
        "autostart",
        format!("Keyport could not change \"Start at login\" ({e}). Check that your home folder's .config/autostart folder is yours and writable, and try again."),
    )
}

/// "Start at login": whether the desktop's autostart entry for Keyport exists.
#[tauri::command]
pub async fn autostart_get(app: AppHandle) -> CmdResult<bool> {
    app.autolaunch().is_enabled().map_err(autostart_error)
}

/// Turns "Start at login" on (an XDG autostart entry that starts Keyport in the tray) or
/// off; answers the setting as it now is.
#[tauri::command]
pub async fn autostart_set(app: AppHandle, on: bool) -> CmdResult<bool> {
    let manager = app.autolaunch();
    if on {
        manager.enable().map_err(autostart_error)?;
    } else {
        manager.disable().map_err(autostart_error)?;
    }
    manager.is_enabled().map_err(autostart_error)
}
