//! Keyport's commands: each a few lines into the engine, run off the main thread. They
//! return metadata (`ConnectionView`), reports and masked previews; no token, secret or
//! header value is ever sent to the window.

use crate::clipboard::Copied;
use crate::connect::{given, ConnectForm, Started};
use crate::error::{CmdResult, CommandError};
use crate::AppState;
use keyport_engine::{
    ConnectionView, Keyport, Kind, ManualField, ManualRequest, Registration, RevokeReport,
    SecretString, TestReport, VendorId,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tauri::{AppHandle, State};

/// Runs a blocking engine call on the blocking pool.
async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Arc<Keyport>) -> CmdResult<T> + Send + 'static,
) -> CmdResult<T> {
    let kp = state.keyport()?;
    tauri::async_runtime::spawn_blocking(move || f(&kp))
        .await
        .map_err(|e| {
            CommandError::internal(format!(
                "Keyport's worker stopped unexpectedly ({e}). Try again."
            ))
        })?
}

#[derive(Serialize)]
pub struct ManualVendor {
    slug: &'static str,
    label: &'static str,
    fields: Vec<FieldInfo>,
    default_base: Option<&'static str>,
    add_warning: Option<&'static str>,
}

#[derive(Serialize)]
pub struct FieldInfo {
    field: ManualField,
    prompt: &'static str,
}

#[derive(Serialize)]
pub struct Info {
    metadata_path: String,
    version: &'static str,
    manual_vendors: Vec<ManualVendor>,
    clipboard_clear_secs: u64,
}

/// Static facts for the window: where metadata lives, and the fields each vendor with
/// admin-issued tokens needs.
#[tauri::command]
pub fn info(state: State<'_, AppState>) -> CmdResult<Info> {
    let manual_vendors = VendorId::ALL
        .into_iter()
        .filter(|v| v.kind() == Kind::Manual)
        .map(|v| ManualVendor {
            slug: v.slug(),
            label: v.label(),
            fields: v
                .manual_fields()
                .iter()
                .map(|&field| FieldInfo {
                    field,
                    prompt: field.prompt(v),
                })
                .collect(),
            default_base: v.default_base(),
            add_warning: v.add_warning(),
        })
        .collect();
    Ok(Info {
        metadata_path: state.keyport()?.metadata_path().display().to_string(),
        version: env!("CARGO_PKG_VERSION"),
        manual_vendors,
        clipboard_clear_secs: crate::clipboard::clear_secs(),
    })
}

#[tauri::command]
pub async fn list(state: State<'_, AppState>) -> CmdResult<Vec<ConnectionView>> {
    blocking(&state, |kp| Ok(kp.list()?)).await
}

/// Remembered app registrations (no secrets; `secret_saved` says one is in the keychain).
#[tauri::command]
pub async fn registrations(state: State<'_, AppState>) -> CmdResult<Vec<Registration>> {
    blocking(&state, |kp| Ok(kp.registrations()?)).await
}

#[tauri::command]
pub async fn connect_start(
    app: AppHandle,
    state: State<'_, AppState>,
    form: ConnectForm,
) -> CmdResult<Started> {
    let attempts = state.attempts.clone();
    blocking(&state, move |kp| attempts.start(&app, kp, form)).await
}

#[tauri::command]
pub async fn connect_cancel(state: State<'_, AppState>) -> CmdResult<()> {
    let attempts = state.attempts.clone();
    blocking(&state, move |_| {
        attempts.cancel();
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn connect_paste(
    app: AppHandle,
    state: State<'_, AppState>,
    url: String,
) -> CmdResult<ConnectionView> {
    let attempts = state.attempts.clone();
    blocking(&state, move |kp| attempts.paste(&app, kp, &url)).await
}

#[tauri::command]
pub async fn connect_reopen(state: State<'_, AppState>) -> CmdResult<()> {
    let attempts = state.attempts.clone();
    blocking(&state, move |_| attempts.reopen()).await
}

/// Puts what `make` returns (the secret text and a masked preview) on the clipboard from
/// Rust; the window gets the preview only.
async fn copy_with(
    app: AppHandle,
    state: &AppState,
    kind: &'static str,
    make: impl FnOnce(&Keyport) -> CmdResult<(SecretString, String)> + Send + 'static,
) -> CmdResult<Copied> {
    let clip = state.clip.clone();
    blocking(state, move |kp| {
        let (text, preview) = make(kp)?;
        clip.copy(&app, kind, text, preview)
    })
    .await
}

#[tauri::command]
pub async fn copy_token(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> CmdResult<Copied> {
    copy_with(app, &state, "token", move |kp| {
        let token = kp.token(&name, keyport_engine::DEFAULT_MIN_VALID)?;
        let preview = token.masked();
        Ok((token, preview))
    })
    .await
}

#[tauri::command]
pub async fn copy_headers(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> CmdResult<Copied> {
    copy_with(app, &state, "headers", move |kp| {
        let headers = kp.headers(&name)?;
        let preview = headers
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let text: String = headers
            .iter()
            .map(|(k, v)| format!("{k}: {}\n", v.expose()))
            .collect();
        Ok((SecretString::new(text), preview))
    })
    .await
}

#[tauri::command]
pub async fn copy_curl(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> CmdResult<Copied> {
    copy_with(app, &state, "curl", move |kp| {
        Ok((kp.curl(&name, None)?, "curl command".into()))
    })
    .await
}

#[tauri::command]
pub async fn refresh(state: State<'_, AppState>, name: String) -> CmdResult<ConnectionView> {
    blocking(&state, move |kp| Ok(kp.refresh(&name)?)).await
}

#[tauri::command]
pub async fn test(state: State<'_, AppState>, name: String) -> CmdResult<TestReport> {
    blocking(&state, move |kp| Ok(kp.test(&name)?)).await
}

#[tauri::command]
pub async fn revoke(
    state: State<'_, AppState>,
    name: String,
    force: bool,
) -> CmdResult<RevokeReport> {
    blocking(&state, move |kp| Ok(kp.revoke(&name, force)?)).await
}

/// The "Add token" form. Secrets arrive here once and go straight to the keychain.
/// No `Debug`: it carries secrets.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ManualForm {
    vendor: String,
    name: String,
    replace: bool,
    base_url: String,
    expires: String,
    company_file: String,
    test_path: String,
    note: String,
    token: String,
    username: String,
    password: String,
    api_key: String,
}

#[tauri::command]
pub async fn add_manual(state: State<'_, AppState>, form: ManualForm) -> CmdResult<ConnectionView> {
    blocking(&state, move |kp| {
        let secret = |s: String| (!s.is_empty()).then(|| SecretString::new(s));
        let req = ManualRequest {
            name: form.name.trim().to_owned(),
            vendor: VendorId::parse(&form.vendor)?,
            base_url: given(&form.base_url),
            expires: given(&form.expires),
            test_path: given(&form.test_path),
            company_file: given(&form.company_file),
            note: given(&form.note),
            token: secret(form.token),
            username: secret(form.username),
            password: secret(form.password),
            api_key: secret(form.api_key),
            replace: form.replace,
        };
        Ok(kp.add_manual(req)?)
    })
    .await
}
