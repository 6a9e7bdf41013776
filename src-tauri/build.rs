//! Generates the Tauri context (with the `ui/` folder embedded) and an `allow-<command>`
//! permission for each of Keyport's commands, so the window may call only the commands its
//! capability file grants. The context is made here rather than by `generate_context!` so
//! that editing `ui/` rebuilds the app (the build script watches the folder).

const COMMANDS: &[&str] = &[
    "info",
    "list",
    "registrations",
    "connect_start",
    "connect_cancel",
    "connect_paste",
    "connect_reopen",
    "reconnect_needs",
    "reconnect_start",
    "copy_token",
    "copy_headers",
    "copy_curl",
    "copy_env",
    "refresh",
    "test",
    "revoke",
    "add_token",
    "edit",
    "autostart_get",
    "autostart_set",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .codegen(tauri_build::CodegenContext::new())
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("the Tauri build step failed");
}
