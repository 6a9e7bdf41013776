//! The typed IPC: every command the window may call and the types its events carry,
//! collected once for Tauri's invoke handler and for `ui/src/ipc/bindings.ts`, which the
//! front end imports. A renamed command, field, error code or action kind changes the
//! bindings; the test below fails while the committed file is stale (and rewrites it), and
//! the front end's `tsc --noEmit` then fails wherever it used the old name.

use crate::{commands, connect, porting};
use tauri_specta::{collect_commands, Builder, ErrorHandlingMode};

/// The window's commands (the same list `build.rs` grants) and the event payloads.
pub fn builder() -> Builder<tauri::Wry> {
    Builder::<tauri::Wry>::new()
        .commands(collect_commands![
            commands::info,
            commands::list,
            commands::activity,
            commands::registrations,
            commands::connect_start,
            commands::connect_cancel,
            commands::connect_paste,
            commands::connect_reopen,
            commands::reconnect_needs,
            commands::reconnect_start,
            commands::copy_token,
            commands::copy_headers,
            commands::copy_curl,
            commands::copy_env,
            commands::refresh,
            commands::test,
            commands::revoke,
            commands::add_token,
            commands::edit,
            commands::autostart_get,
            commands::autostart_set,
            porting::export_connections,
            porting::import_connections,
            porting::env_file_name,
            porting::write_env_file,
        ])
        .typ::<connect::Tick>()
        .typ::<connect::Ignored>()
        .typ::<connect::Done>()
        .typ::<connect::Failed>()
        // A failed command rejects with the `CommandError` (`{code, message, actions}`).
        .error_handling(ErrorHandlingMode::Throw)
        // Unix seconds and counters are far below 2^53.
        .dangerously_cast_bigints_to_number()
}

/// Where the front end reads the bindings from.
#[cfg(test)]
pub const BINDINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/ipc/bindings.ts");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_bindings_match_the_rust_types() {
        let fresh =
            std::env::temp_dir().join(format!("keyport-bindings-{}.ts", std::process::id()));
        builder()
            .export(
                specta_typescript::Typescript::default()
                    .header("// Generated from the Rust types by src-tauri/src/ipc.rs: do not edit.\n// `cargo test -p keyport-app bindings` rewrites it.\n"),
                &fresh,
            )
            .expect("the bindings export");
        let fresh_text = std::fs::read_to_string(&fresh).unwrap();
        let _ = std::fs::remove_file(&fresh);
        let committed = std::fs::read_to_string(BINDINGS).unwrap_or_default();
        if committed != fresh_text {
            std::fs::write(BINDINGS, &fresh_text).unwrap();
            panic!("ui/src/ipc/bindings.ts was stale and has been rewritten from the Rust types: rebuild the front end (npm --prefix ui run build) and commit it");
        }
    }
}
