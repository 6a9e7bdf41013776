//! `keyport exec NAME… -- CMD`: the connections' values in CMD's environment and a token
//! file kept fresh while it runs.
//!
//! `exec` as aws-vault does it: the variables Keyport sets are cleared first; without a
//! token file to keep (`--no-keep-fresh`) the command replaces Keyport (`execve`; on
//! Windows, which cannot, it runs as a child all the same);
//! otherwise it runs as a child whose exit code is Keyport's. On a terminal Ctrl-C already
//! reaches the child (it is in the terminal's foreground group), so Keyport only outlives
//! it; SIGTERM and SIGHUP, sent to Keyport alone, are passed on. The token files live in a
//! private folder that goes when the child ends, and one left by a killed Keyport is swept
//! by the next `exec`. On Windows, Ctrl-C and Ctrl-Break reach the child from the
//! console; Keyport handles them, outlives the child, cleans up and passes its code on.

use super::script::{gather, write_private, Vars};
use crate::helper::refresh_in_helper;
use keyport_engine::{time, Error, ExposeSecret, Keyport, SecretString};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The environment variables that name a connection's token file: Keyport's own and the
/// WLCG bearer-token file convention's.
const TOKEN_FILE_VARS: [&str; 2] = ["KEYPORT_TOKEN_FILE", "BEARER_TOKEN_FILE"];

/// The private folder of one `exec`'s token files, removed when dropped.
struct TokenDir(PathBuf);

impl TokenDir {
    fn make(config_dir: &Path) -> Result<TokenDir, Error> {
        let run = config_dir.join("run");
        std::fs::create_dir_all(config_dir)
            .and_then(|()| private_dir(&run))
            .map_err(|e| Error::InvalidInput(format!("Could not make {}: {e}", run.display())))?;
        sweep(&run);
        let dir = run.join(format!("exec-{}-{:x}", std::process::id(), time::now()));
        private_dir(&dir)
            .map_err(|e| Error::InvalidInput(format!("Could not make {}: {e}", dir.display())))?;
        Ok(TokenDir(dir))
    }

    fn file(&self, vars: &Vars) -> PathBuf {
        self.0
            .join(format!("{}token", vars.prefix.to_ascii_lowercase()))
    }
}

impl Drop for TokenDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn private_dir(dir: &Path) -> std::io::Result<()> {
    // On Windows the folder inherits the user-only DACL of Keyport's folder.
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    match b.create(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        other => other,
    }
}

/// Removes the folders of `exec`s whose Keyport is gone (killed before it could).
fn sweep(run: &Path) {
    let Ok(entries) = std::fs::read_dir(run) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix("exec-")
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| !alive(p)) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(unix)]
fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only asks whether the process exists.
    unsafe {
        libc::kill(pid, 0) == 0
            || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
}

#[cfg(windows)]
fn alive(pid: i32) -> bool {
    use windows_sys::Win32::Foundation::{CloseHandle, STILL_ACTIVE};
    use windows_sys::Win32::System::Threading::{
        GetExitCodeProcess, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
    };
    // SAFETY: the handle is checked, only queried, and closed.
    unsafe {
        let h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid as u32);
        if h.is_null() {
            // Gone, or another user's (then it is not one of ours to sweep either way).
            return std::io::Error::last_os_error().raw_os_error() == Some(5);
        }
        let mut code = 0u32;
        let running = GetExitCodeProcess(h, &mut code) == 0 || code == STILL_ACTIVE as u32;
        CloseHandle(h);
        running
    }
}

#[cfg(not(any(unix, windows)))]
fn alive(_pid: i32) -> bool {
    true
}

/// Writes a token file whole (a new file renamed over the old): a reader never sees half.
fn write_token(path: &Path, token: &SecretString) -> Result<(), Error> {
    write_private(path, token.expose_secret().as_bytes(), false)
}

/// Rewrites `name`'s token file before each expiry, until the child ends.
async fn keep_fresh(kp: Arc<Keyport>, name: String, path: PathBuf) {
    loop {
        let Some(expires) = kp.view(&name).await.ok().and_then(|v| v.expires_at) else {
            return; // No expiry known: nothing to keep fresh.
        };
        let left = expires - time::now();
        // A third of what is left before it ends, at most a minute, at least a second.
        let margin = (left / 3).clamp(1, 60);
        tokio::time::sleep(Duration::from_secs((left - margin).max(0) as u64)).await;
        let renewed = match refresh_in_helper(&name, margin + 1, false).await {
            Ok(Ok(())) => kp.fresh_token(&name, 0).await.ok().flatten(),
            _ => None,
        };
        match renewed {
            Some(h) => {
                if let Err(e) = write_token(&path, &h.token) {
                    eprintln!("keyport: {e}");
                }
            }
            None => {
                eprintln!("keyport: the token of '{name}' could not be renewed; trying again in 5 seconds.");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

pub async fn exec(
    kp: &Arc<Keyport>,
    names: &[String],
    prefixes: &[String],
    keep_fresh_files: bool,
    command: Vec<OsString>,
) -> Result<ExitCode, Error> {
    let all = match gather(kp, names, prefixes).await? {
        Ok(all) => all,
        Err(code) => return Ok(code),
    };
    let (program, args) = command.split_first().ok_or_else(|| {
        Error::InvalidInput(
            "Give the command to run after `--`, e.g. keyport exec acme -- ./sync.sh".into(),
        )
    })?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(args);
    // The variables Keyport owns are cleared before they are set.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if TOKEN_FILE_VARS.iter().any(|v| k.ends_with(v))
            || all.iter().any(|v| v.values.iter().any(|(n, _)| *n == k))
        {
            cmd.env_remove(k.as_ref());
        }
    }
    for v in &all {
        for (k, value) in &v.values {
            cmd.env(k, value.expose_secret());
        }
    }
    if !keep_fresh_files {
        return Ok(replace_with(cmd, program).await);
    }
    let dir = TokenDir::make(&kp.settings().config_dir)?;
    let mut keepers = Vec::new();
    for v in &all {
        let path = dir.file(v);
        let token = v
            .values
            .iter()
            .find(|(k, _)| *k == format!("{}KEYPORT_TOKEN", v.prefix));
        if let Some((_, t)) = token {
            write_token(&path, t)?;
        }
        for var in TOKEN_FILE_VARS {
            cmd.env(format!("{}{var}", v.prefix), &path);
        }
        keepers.push((v.name.clone(), path));
    }
    // Caught before the child starts: a signal that comes while it starts is passed on
    // once it runs, never lost (nor, for SIGHUP, allowed to end Keyport and orphan it).
    let signals = Signals::catch();
    let mut child = tokio::process::Command::from(cmd).spawn().map_err(|e| {
        Error::InvalidInput(format!("Could not run {}: {e}", program.to_string_lossy()))
    })?;
    let tasks: Vec<_> = keepers
        .into_iter()
        .map(|(name, path)| tokio::spawn(keep_fresh(kp.clone(), name, path)))
        .collect();
    let pid = child.id();
    let status = tokio::select! {
        s = child.wait() => s,
        _ = signals.forward(pid) => unreachable!("forwarding signals never ends"),
    };
    for t in tasks {
        t.abort();
    }
    drop(dir);
    let status = status
        .map_err(|e| Error::InvalidInput(format!("The command could not be waited for: {e}")))?;
    Ok(exit_code_of(status))
}

/// The child's exit code; a child ended by signal N gives 128 + N, as a shell does. On
/// Windows an exit code past 255 (an NTSTATUS such as 0xC000013A, ended by Ctrl-C) is
/// passed on whole: Keyport exits with it at once (the caller has cleaned up by then).
fn exit_code_of(status: std::process::ExitStatus) -> ExitCode {
    #[cfg(unix)]
    if let Some(sig) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return ExitCode::from(128u8.saturating_add(sig as u8));
    }
    #[cfg(windows)]
    if let Some(code) = status.code().filter(|c| u8::try_from(*c).is_err()) {
        std::process::exit(code);
    }
    ExitCode::from(status.code().map_or(1, |c| c as u8))
}

/// The signals `exec` passes on to its child: SIGTERM and SIGHUP; SIGINT and SIGQUIT too
/// when there is no terminal (on one, the terminal has sent them to the child already).
#[cfg(unix)]
struct Signals(Vec<(tokio::signal::unix::Signal, i32, bool)>);

#[cfg(unix)]
impl Signals {
    fn catch() -> Self {
        use std::io::IsTerminal;
        use tokio::signal::unix::{signal, SignalKind};
        let tty = std::io::stdin().is_terminal();
        let kinds = [
            (SignalKind::terminate(), libc::SIGTERM, true),
            (SignalKind::hangup(), libc::SIGHUP, true),
            (SignalKind::interrupt(), libc::SIGINT, !tty),
            (SignalKind::quit(), libc::SIGQUIT, !tty),
        ];
        Signals(
            kinds
                .into_iter()
                .filter_map(|(k, n, pass)| Some((signal(k).ok()?, n, pass)))
                .collect(),
        )
    }

    /// Passes each on to the child as it comes. Never returns.
    async fn forward(mut self, child: Option<u32>) {
        std::future::poll_fn(|cx| {
            for (s, n, pass) in self.0.iter_mut() {
                while let std::task::Poll::Ready(Some(())) = s.poll_recv(cx) {
                    if let (true, Some(pid)) = (*pass, child) {
                        // SAFETY: kill sends a signal to the child this process started.
                        unsafe { libc::kill(pid as i32, *n) };
                    }
                }
            }
            std::task::Poll::<()>::Pending
        })
        .await
    }
}

/// Windows: Ctrl-C and Ctrl-Break reach every process of the console's group, the child
/// included; Keyport handles them (so it is not ended) and only waits for the child to
/// end, then cleans up.
#[cfg(windows)]
struct Signals(
    Option<(
        tokio::signal::windows::CtrlC,
        tokio::signal::windows::CtrlBreak,
    )>,
);

#[cfg(windows)]
impl Signals {
    fn catch() -> Self {
        use tokio::signal::windows::{ctrl_break, ctrl_c};
        Signals(ctrl_c().ok().zip(ctrl_break().ok()))
    }

    /// Never returns.
    async fn forward(self, _child: Option<u32>) {
        if let Some((mut c, mut b)) = self.0 {
            loop {
                tokio::select! {
                    _ = c.recv() => {}
                    _ = b.recv() => {}
                }
            }
        }
        std::future::pending::<()>().await
    }
}

#[cfg(not(any(unix, windows)))]
struct Signals;

#[cfg(not(any(unix, windows)))]
impl Signals {
    fn catch() -> Self {
        Signals
    }

    async fn forward(self, _child: Option<u32>) {
        std::future::pending::<()>().await
    }
}

/// Runs the command in Keyport's place (nothing of Keyport's must outlive it).
#[cfg(unix)]
async fn replace_with(mut cmd: std::process::Command, program: &std::ffi::OsStr) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let e = cmd.exec();
    eprintln!("keyport: could not run {}: {e}", program.to_string_lossy());
    ExitCode::from(127)
}

/// Where a process cannot be replaced (Windows): the command runs as a child, Keyport
/// waits for it as it does with token files to keep, and passes its exit code on.
#[cfg(not(unix))]
async fn replace_with(cmd: std::process::Command, program: &std::ffi::OsStr) -> ExitCode {
    let signals = Signals::catch();
    let mut child = match tokio::process::Command::from(cmd).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("keyport: could not run {}: {e}", program.to_string_lossy());
            return ExitCode::from(127);
        }
    };
    let pid = child.id();
    let status = tokio::select! {
        s = child.wait() => s,
        _ = signals.forward(pid) => unreachable!("forwarding signals never ends"),
    };
    match status {
        Ok(s) => exit_code_of(s),
        Err(e) => {
            eprintln!("keyport: the command could not be waited for: {e}");
            ExitCode::from(1)
        }
    }
}
