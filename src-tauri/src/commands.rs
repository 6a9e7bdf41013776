//! Keyport's commands: each a few lines into the async engine. They return metadata
//! (`ConnectionView`), reports and masked previews; no token, secret or header value is
//! ever sent to the window.

use crate::clipboard::Copied;
use crate::connect::Started;
use crate::error::{CmdResult, CommandError};
use crate::AppState;
use keyport_engine::activity::{Event, EventKind};
use keyport_engine::{
    masked, secret, Connected, ConnectionView, Edit, ExposeSecret, Field, Form, Keyport, Reconnect,
    Registration, RevokeReport, SecretString, TestReport, VendorInfo,
};
use serde::Serialize;
use std::collections::BTreeMap;
use tauri::{AppHandle, State};
use tauri_plugin_autostart::ManagerExt;

#[derive(Serialize, specta::Type)]
pub struct Info {
    metadata_path: String,
    version: &'static str,
    clipboard_clear_secs: u64,
    /// The system locale as a BCP 47 tag (`en-AU` from `LANG=en_AU.UTF-8`), for dates.
    locale: String,
    /// Every vendor with its fields: the window builds its forms from these.
    vendors: Vec<VendorInfo>,
}

#[tauri::command]
#[specta::specta]
pub async fn info(state: State<'_, AppState>) -> CmdResult<Info> {
    Ok(Info {
        metadata_path: state.keyport()?.metadata_path().display().to_string(),
        version: env!("CARGO_PKG_VERSION"),
        clipboard_clear_secs: crate::clipboard::clear_secs(),
        locale: crate::locale::system(),
        vendors: Keyport::vendors(),
    })
}

#[tauri::command]
#[specta::specta]
pub async fn list(state: State<'_, AppState>) -> CmdResult<Vec<ConnectionView>> {
    state.keyport()?.list().await.map_err(Into::into)
}

/// The connection's activity log (newest last, as the engine keeps it); never a secret.
#[tauri::command]
#[specta::specta]
pub async fn activity(state: State<'_, AppState>, name: String) -> CmdResult<Vec<Event>> {
    state.keyport()?.activity(&name).await.map_err(Into::into)
}

/// Remembered app registrations (no secrets; `secret_saved` says one is in the keychain).
#[tauri::command]
#[specta::specta]
pub async fn registrations(state: State<'_, AppState>) -> CmdResult<Vec<Registration>> {
    state.keyport()?.registrations().await.map_err(Into::into)
}

#[tauri::command]
#[specta::specta]
pub async fn connect_start(
    app: AppHandle,
    state: State<'_, AppState>,
    form: Form,
) -> CmdResult<Started> {
    state.attempts.start(app, state.keyport()?, form).await
}

/// The secret fields Reconnect still has to ask for (usually none: the saved registration
/// and the stored secrets sign in again). Fields only, never a value.
#[tauri::command]
#[specta::specta]
pub async fn reconnect_needs(
    state: State<'_, AppState>,
    name: String,
) -> CmdResult<Vec<&'static Field>> {
    Ok(state.keyport()?.reconnect_form(&name).await?.missing)
}

/// Reconnect: the engine's form for `name`, plus only the missing fields the window asked
/// for (they arrive here once), started like [`connect_start`].
#[tauri::command]
#[specta::specta]
pub async fn reconnect_start(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    values: BTreeMap<String, String>,
) -> CmdResult<Started> {
    let kp = state.keyport()?;
    let Reconnect { mut form, missing } = kp.reconnect_form(&name).await?;
    for f in missing {
        if let Some(v) = values.get(f.key).filter(|v| !v.is_empty()) {
            form.values.insert(f.key.to_owned(), v.clone());
        }
    }
    state.attempts.start(app, kp, form).await
}

#[tauri::command]
#[specta::specta]
pub async fn connect_cancel(state: State<'_, AppState>) -> CmdResult<()> {
    state.attempts.cancel().await;
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn connect_paste(state: State<'_, AppState>, url: String) -> CmdResult<Connected> {
    state.attempts.paste(url).await
}

#[tauri::command]
#[specta::specta]
pub async fn connect_reopen(state: State<'_, AppState>) -> CmdResult<()> {
    let kp = state.keyport()?;
    state.attempts.reopen(&kp)
}

/// The "Add token" form. Secrets arrive here once and go straight to the keychain.
#[tauri::command]
#[specta::specta]
pub async fn add_token(state: State<'_, AppState>, form: Form) -> CmdResult<ConnectionView> {
    state.keyport()?.add_token(form).await.map_err(Into::into)
}

/// The "Edit…" form: note, client, base URL, test path, an admin-issued token's expiry
/// (`None` leaves a value, an empty string clears it). No secret.
#[tauri::command]
#[specta::specta]
pub async fn edit(
    state: State<'_, AppState>,
    name: String,
    edit: Edit,
) -> CmdResult<ConnectionView> {
    state.keyport()?.edit(&name, edit).await.map_err(Into::into)
}

#[tauri::command]
#[specta::specta]
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
    state
        .keyport()?
        .record(&name, EventKind::TokenCopied, true, None);
    state.clip.copy(&app, "token", token, preview)
}

#[tauri::command]
#[specta::specta]
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
    state
        .keyport()?
        .record(&name, EventKind::TokenCopied, true, Some("headers".into()));
    state.clip.copy(&app, "headers", text, preview)
}

#[tauri::command]
#[specta::specta]
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

/// The connection's values as a `.env` file (the names `keyport env` uses), for tools that
/// read one.
#[tauri::command]
#[specta::specta]
pub async fn copy_env(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> CmdResult<Copied> {
    let text = state.keyport()?.dotenv(&name).await?;
    state
        .keyport()?
        .record(&name, EventKind::TokenCopied, true, Some(".env".into()));
    state.clip.copy(&app, "env", text, ".env file".into())
}

#[tauri::command]
#[specta::specta]
pub async fn refresh(state: State<'_, AppState>, name: String) -> CmdResult<ConnectionView> {
    state.keyport()?.refresh(&name).await.map_err(Into::into)
}

#[tauri::command]
#[specta::specta]
pub async fn test(state: State<'_, AppState>, name: String) -> CmdResult<TestReport> {
    state.keyport()?.test(&name).await.map_err(Into::into)
}

#[tauri::command]
#[specta::specta]
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
#[specta::specta]
pub async fn autostart_get(app: AppHandle) -> CmdResult<bool> {
    app.autolaunch().is_enabled().map_err(autostart_error)
}

/// Turns "Start at login" on (an XDG autostart entry that starts Keyport in the tray) or
/// off; answers the setting as it now is.
#[tauri::command]
#[specta::specta]
pub async fn autostart_set(app: AppHandle, on: bool) -> CmdResult<bool> {
    let manager = app.autolaunch();
    if on {
        manager.enable().map_err(autostart_error)?;
    } else {
        manager.disable().map_err(autostart_error)?;
    }
    manager.is_enabled().map_err(autostart_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The commands `build.rs` makes permissions for.
    fn commands() -> Vec<&'static str> {
        let build = include_str!("../build.rs");
        let list = &build[build.find("COMMANDS").unwrap()..];
        let list = &list[..list.find("];").unwrap()];
        list.split('"').skip(1).step_by(2).collect()
    }

    #[test]
    fn every_command_is_registered_and_granted_to_the_window() {
        let handler = include_str!("ipc.rs");
        let granted: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/main.json")).unwrap();
        let granted = granted["permissions"].as_array().unwrap();
        let commands = commands();
        for c in [
            "edit",
            "reconnect_needs",
            "reconnect_start",
            "activity",
            "write_env_file",
        ] {
            assert!(commands.contains(&c), "{c} has a permission");
        }
        for c in &commands {
            assert!(
                handler.contains(&format!("commands::{c},"))
                    || handler.contains(&format!("porting::{c},")),
                "{c} is in the handler"
            );
            let allow = format!("allow-{}", c.replace('_', "-"));
            assert!(granted.iter().any(|p| p == &allow), "{allow} is granted");
        }
    }

    #[test]
    fn the_edit_form_leaves_what_it_does_not_name() {
        // What the window sends: only the changed values; an empty one clears.
        let e: Edit = serde_json::from_value(serde_json::json!({
            "note": "Window note",
            "client": "",
        }))
        .unwrap();
        assert_eq!(e.note.as_deref(), Some("Window note"));
        assert_eq!(e.client.as_deref(), Some(""));
        assert!(e.base_url.is_none() && e.test_path.is_none() && e.expires.is_none());
    }

    #[tokio::test]
    async fn edit_changes_the_view_and_reconnect_keeps_to_oauth() {
        let dir = std::env::temp_dir().join(format!(
            "keyport-app-edit-{}-{}",
            std::process::id(),
            keyport_engine::time::now()
        ));
        let d = dir.clone();
        let settings = keyport_engine::Settings::from_vars(move |k| {
            (k == "KEYPORT_CONFIG_DIR").then(|| d.clone().into_os_string())
        })
        .unwrap();
        let (kp, _vault) = Keyport::in_memory(settings);
        kp.add_sample_token("sample", "sample-value-0123456789", None)
            .await
            .unwrap();
        let edit = Edit {
            note: Some("a note".into()),
            client: Some("Clearwater Ltd".into()),
            ..Edit::default()
        };
        let v = kp.edit("sample", edit).await.unwrap();
        assert_eq!(v.note.as_deref(), Some("a note"));
        assert_eq!(v.client.as_deref(), Some("Clearwater Ltd"));
        // An admin-issued token is replaced, not reconnected: the window keeps its
        // Replace-token form for it, and the error says what to do instead.
        let e = match kp.reconnect_form("sample").await {
            Ok(_) => panic!("an admin-issued token has no reconnect form"),
            Err(e) => CommandError::from(e),
        };
        assert!(e.message.contains("replace the token"), "{}", e.message);
        let _ = std::fs::remove_dir_all(dir);
    }
}
