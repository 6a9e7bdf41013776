//! Moving connections between computers, from the window: export (metadata and app
//! registrations, never a secret), import (each connection then asks for a new sign-in or
//! its token), and one connection as a Postman, Insomnia or Bruno environment file. The
//! engine writes every file (0600, never through a link); a token, when asked for, goes
//! from the keychain into the file without crossing to the webview.

use crate::error::{CmdResult, CommandError};
use crate::AppState;
use keyport_engine::{EnvFile, EnvTool, ImportReport, OnConflict};
use std::path::PathBuf;
use tauri::State;

/// A path as the person typed it: `~/…` is the home folder; anything else must be absolute
/// (the window has no working folder a person could know).
fn path(typed: &str) -> CmdResult<PathBuf> {
    let typed = typed.trim();
    let p = match typed.strip_prefix("~/") {
        Some(rest) => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(rest),
            None => return Err(bad_path(typed)),
        },
        None => PathBuf::from(typed),
    };
    if typed.is_empty() || !p.is_absolute() || typed.chars().any(char::is_control) {
        return Err(bad_path(typed));
    }
    Ok(p)
}

fn bad_path(typed: &str) -> CommandError {
    CommandError::new(
        "invalid_input",
        format!("'{}' is not a file path Keyport can use. Give a full path such as ~/keyport-export.json or /home/you/keyport-export.json.", typed.escape_debug()),
    )
}

/// Writes the export of `names` (all when empty) to `path`; answers how many connections.
#[tauri::command]
#[specta::specta]
pub async fn export_connections(
    state: State<'_, AppState>,
    path: String,
    names: Vec<String>,
) -> CmdResult<u32> {
    let p = self::path(&path)?;
    let n = state.keyport()?.write_export(&names, &p).await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

#[tauri::command]
#[specta::specta]
pub async fn import_connections(
    state: State<'_, AppState>,
    path: String,
    on_conflict: OnConflict,
) -> CmdResult<ImportReport> {
    let p = self::path(&path)?;
    state
        .keyport()?
        .import_file(&p, on_conflict)
        .await
        .map_err(Into::into)
}

/// The file name to suggest for `name`'s environment file for `tool`.
#[tauri::command]
#[specta::specta]
pub async fn env_file_name(
    state: State<'_, AppState>,
    name: String,
    tool: EnvTool,
) -> CmdResult<String> {
    Ok(state
        .keyport()?
        .export_env(&name, tool, false)
        .await?
        .file_name)
}

/// Writes `name`'s environment file for `tool` to `path` (the token in it only with
/// `with_token`); answers the file without its contents.
#[tauri::command]
#[specta::specta]
pub async fn write_env_file(
    state: State<'_, AppState>,
    name: String,
    tool: EnvTool,
    with_token: bool,
    path: String,
) -> CmdResult<EnvFile> {
    let p = self::path(&path)?;
    state
        .keyport()?
        .write_env_file(&name, tool, with_token, &p)
        .await
        .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_path_is_the_home_folder_or_absolute() {
        let home = std::env::var("HOME").unwrap();
        assert_eq!(
            path("~/x.json").unwrap(),
            PathBuf::from(&home).join("x.json")
        );
        assert_eq!(path(" /tmp/x.json ").unwrap(), PathBuf::from("/tmp/x.json"));
        for bad in ["", "x.json", "../x.json", "/tmp/a\nb"] {
            let e = path(bad).unwrap_err();
            assert_eq!(e.code, "invalid_input", "{bad:?}");
            assert!(e.message.contains("full path"), "{}", e.message);
        }
    }
}
