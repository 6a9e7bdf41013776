//! Generates the Tauri context (with the `ui/` folder embedded) and an `allow-<command>`
//! permission for each of Keyport's commands, so the window may call only the commands its
//! capability file grants. The context is made here rather than by `generate_context!` so
//! that a new front-end build rebuilds the app (the build script watches `ui/dist`).
//!
//! The front end is TypeScript built by Vite into `ui/dist` (`scripts/ui.sh`, which
//! `scripts/test.sh`, `run.sh` and `package.sh` run first). A missing or stale `ui/dist`
//! stops the build here with what to run, instead of embedding an old window.

use std::path::Path;
use std::time::SystemTime;

const COMMANDS: &[&str] = &[
    "info",
    "list",
    "activity",
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
    "export_connections",
    "import_connections",
    "env_file_name",
    "write_env_file",
];

/// The newest modification time under `dir` (files only; `node_modules` skipped).
fn newest(dir: &Path) -> Option<SystemTime> {
    let mut best = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let path = e.path();
        let t = if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n == "node_modules" || n == "dist")
            {
                continue;
            }
            newest(&path)
        } else {
            e.metadata().ok().and_then(|m| m.modified().ok())
        };
        best = best.max(t);
    }
    best
}

/// Stops with what to run when `ui/dist` is missing or older than the front end's sources.
fn check_front_end() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui");
    let built = ui.join("dist/index.html");
    for src in ["src", "index.html", "package.json", "package-lock.json"] {
        println!("cargo:rerun-if-changed={}", ui.join(src).display());
    }
    println!("cargo:rerun-if-changed={}", built.display());
    let run = "run `bash scripts/ui.sh` (npm ci, then `npm run build` in ui/) first";
    let Some(dist) = std::fs::metadata(&built)
        .ok()
        .and_then(|m| m.modified().ok())
    else {
        panic!("the window's front end is not built: ui/dist/index.html is missing; {run}");
    };
    let sources = [ui.join("src"), ui.join("index.html")]
        .iter()
        .filter_map(|p| {
            if p.is_dir() {
                newest(p)
            } else {
                std::fs::metadata(p).ok()?.modified().ok()
            }
        })
        .max();
    if sources.is_some_and(|s| s > dist) {
        panic!("the window's front end in ui/dist is older than its sources in ui/; {run}");
    }
}

fn main() {
    check_front_end();
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .codegen(tauri_build::CodegenContext::new())
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("the Tauri build step failed");
}
