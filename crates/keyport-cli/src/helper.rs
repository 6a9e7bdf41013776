//! Work that must not be cut off halfway: a refresh runs in a `keyport refresh-helper` of
//! its own session (on Windows: its own process group, with no console of the caller's),
//! and the other writes hold SIGINT/SIGTERM/SIGHUP (Ctrl-C, Ctrl-Break, a closing console)
//! until they are done.

use keyport_engine::{Error, Keyport};
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};

/// Refreshes the token first, in a helper, when it is near expiry.
pub async fn ensure_fresh(kp: &Keyport, name: &str) -> Result<Result<(), ExitCode>, Error> {
    let min_valid = keyport_engine::DEFAULT_MIN_VALID;
    if kp.is_fresh(name, min_valid).await? {
        return Ok(Ok(()));
    }
    refresh_in_helper(name, min_valid, false).await
}

/// Runs the refresh in a `keyport refresh-helper` process of its own session: Ctrl-C, a
/// closing terminal, `timeout` or `kill -9` of this process cannot stop it between the
/// vendor's answer (which may rotate the refresh token) and the keychain write. The helper
/// says what went wrong on the shared standard error; its exit code is passed on.
pub async fn refresh_in_helper(
    name: &str,
    min_valid: i64,
    force: bool,
) -> Result<Result<(), ExitCode>, Error> {
    let exe = std::env::current_exe().map_err(|e| {
        Error::Unsupported(format!("Keyport could not find its own program ({e})."))
    })?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.args([
        "refresh-helper",
        name,
        "--min-valid",
        &min_valid.to_string(),
    ])
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::inherit())
    .kill_on_drop(false);
    if force {
        cmd.arg("--force");
    }
    #[cfg(unix)]
    // SAFETY: setsid is async-signal-safe and touches only the child being started.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    // Its own process group (Ctrl-C and Ctrl-Break of the caller's console do not reach
    // it) and a hidden console of its own (closing the caller's does not end it).
    #[cfg(windows)]
    {
        const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        const CREATE_NO_WINDOW: u32 = 0x0800_0000;
        cmd.creation_flags(CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW);
    }
    let status = cmd.status().await.map_err(|e| {
        Error::Unsupported(format!("Keyport could not start its refresh helper ({e})."))
    })?;
    Ok(match status.code() {
        Some(0) => Ok(()),
        Some(code) => Err(ExitCode::from(u8::try_from(code).unwrap_or(1))),
        None => Err(ExitCode::from(1)),
    })
}

/// Runs `op` with SIGINT, SIGTERM and SIGHUP held until it is done: a refresh whose
/// rotated token is on its way to the keychain is not cut off by Ctrl-C, `timeout` or a
/// closing terminal. The signal takes effect right after.
pub async fn deferring_signals<T>(op: impl std::future::Future<Output = T>) -> T {
    static CAUGHT: AtomicI32 = AtomicI32::new(0);
    #[cfg(unix)]
    let watchers: Vec<_> = {
        use tokio::signal::unix::{signal, SignalKind};
        [
            (SignalKind::interrupt(), 2),
            (SignalKind::terminate(), 15),
            (SignalKind::hangup(), 1),
        ]
        .into_iter()
        .filter_map(|(kind, n)| {
            let mut s = signal(kind).ok()?;
            Some(tokio::spawn(async move {
                if s.recv().await.is_some() {
                    CAUGHT.store(n, Ordering::SeqCst);
                }
            }))
        })
        .collect()
    };
    // Ctrl-C, Ctrl-Break and a closing console (a handler that is registered keeps the
    // process alive for the first two; the console's close waits for it some seconds).
    #[cfg(windows)]
    let watchers: Vec<_> = {
        use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close};
        let mut out = Vec::new();
        if let Ok(mut s) = ctrl_c() {
            out.push(tokio::spawn(async move {
                if s.recv().await.is_some() {
                    CAUGHT.store(2, Ordering::SeqCst);
                }
            }));
        }
        if let Ok(mut s) = ctrl_break() {
            out.push(tokio::spawn(async move {
                if s.recv().await.is_some() {
                    CAUGHT.store(21, Ordering::SeqCst);
                }
            }));
        }
        if let Ok(mut s) = ctrl_close() {
            out.push(tokio::spawn(async move {
                if s.recv().await.is_some() {
                    CAUGHT.store(1, Ordering::SeqCst);
                }
            }));
        }
        out
    };
    let out = op.await;
    for w in watchers {
        w.abort();
    }
    let n = CAUGHT.load(Ordering::SeqCst);
    if n != 0 {
        eprintln!("keyport: stopped by a signal once the work in hand was saved.");
        std::process::exit(128 + n);
    }
    out
}
