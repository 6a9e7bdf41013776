//! Tokens straight into scripts: `exec` (the values in a command's environment and a token
//! file kept fresh while it runs), `env`, `inject` and `read`.
//!
//! `exec` as aws-vault does it: the variables Keyport sets are cleared first; without a
//! token file to keep (`--no-keep-fresh`) the command replaces Keyport (`execve`);
//! otherwise it runs as a child whose exit code is Keyport's. On a terminal Ctrl-C already
//! reaches the child (it is in the terminal's foreground group), so Keyport only outlives
//! it; SIGTERM and SIGHUP, sent to Keyport alone, are passed on. The token files live in a
//! private folder that goes when the child ends, and one left by a killed Keyport is swept
//! by the next `exec`.

use crate::args::EnvFormat;
use crate::helper::{ensure_fresh, refresh_in_helper};
use crate::out::write;
use keyport_engine::{time, Error, ExposeSecret, Keyport, SecretString};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The environment variables that name a connection's token file: Keyport's own and the
/// WLCG bearer-token file convention's.
const TOKEN_FILE_VARS: [&str; 2] = ["KEYPORT_TOKEN_FILE", "BEARER_TOKEN_FILE"];

/// One connection's variables: (name, value, secret).
struct Vars {
    name: String,
    prefix: String,
    values: Vec<(String, SecretString)>,
}

/// `NAME=PREFIX` options, and the default prefix when there are several connections.
fn prefix_of(name: &str, given: &[String], several: bool) -> Result<String, Error> {
    for p in given {
        let (n, pre) = p.split_once('=').ok_or_else(|| {
            Error::InvalidInput(format!(
                "--prefix takes NAME=PREFIX, e.g. acme=SRC_; '{p}' is not."
            ))
        })?;
        if !pre.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::InvalidInput(format!(
                "The prefix '{pre}' is not usable in a variable name: use letters, digits and '_'."
            )));
        }
        if n == name {
            return Ok(pre.to_owned());
        }
    }
    Ok(if several {
        let upper: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        format!("{upper}_")
    } else {
        String::new()
    })
}

/// Each connection's values, its token refreshed first (in the helper) when near expiry.
async fn gather(
    kp: &Keyport,
    names: &[String],
    prefixes: &[String],
) -> Result<Result<Vec<Vars>, ExitCode>, Error> {
    let several = names.len() > 1;
    let mut all = Vec::new();
    for name in names {
        let prefix = prefix_of(name, prefixes, several)?;
        let values = match from_agent(kp, name) {
            Some(Ok(values)) => values,
            Some(Err((code, message))) => {
                eprintln!("keyport: {message}");
                return Ok(Err(ExitCode::from(code)));
            }
            None => {
                if let Err(code) = ensure_fresh(kp, name).await? {
                    return Ok(Err(code));
                }
                kp.script_values(name).await?
            }
        };
        let values = values
            .into_iter()
            .filter(|v| !v.env.is_empty())
            .map(|v| (format!("{prefix}{}", v.env), v.value))
            .collect();
        all.push(Vars {
            name: name.clone(),
            prefix,
            values,
        });
    }
    Ok(Ok(all))
}

/// The values from a running agent (fresh, as `keyport token` gets them); `None` when
/// none answers.
#[cfg(unix)]
pub(super) fn from_agent(
    kp: &Keyport,
    name: &str,
) -> Option<Result<Vec<keyport_engine::ScriptValue>, (u8, String)>> {
    keyport_engine::agent::ask_values(
        &kp.settings().config_dir,
        name,
        keyport_engine::DEFAULT_MIN_VALID,
    )
}

#[cfg(not(unix))]
pub(super) fn from_agent(
    _kp: &Keyport,
    _name: &str,
) -> Option<Result<Vec<keyport_engine::ScriptValue>, (u8, String)>> {
    None
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

pub async fn env(
    kp: &Keyport,
    names: &[String],
    prefixes: &[String],
    format: EnvFormat,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let all = match gather(kp, names, prefixes).await? {
        Ok(all) => all,
        Err(code) => return Ok(code),
    };
    let pairs = all.iter().flat_map(|v| v.values.iter());
    let text = match format {
        EnvFormat::Sh => pairs
            .map(|(k, v)| format!("export {k}={}\n", sh_quote(v.expose_secret())))
            .collect::<String>(),
        EnvFormat::Dotenv => pairs
            .map(|(k, v)| keyport_engine::dotenv_line(k, v.expose_secret()))
            .collect(),
        EnvFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> = pairs
                .map(|(k, v)| (k.clone(), v.expose_secret().into()))
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&map).expect("json"))
        }
    };
    write(out.write_all(text.as_bytes()))?;
    Ok(ExitCode::SUCCESS)
}

pub async fn read(kp: &Keyport, reference: &str, out: &mut impl Write) -> Result<ExitCode, Error> {
    let (name, _) = keyport_engine::parse_reference(reference)?;
    if let Err(code) = ensure_fresh(kp, name).await? {
        return Ok(code);
    }
    let v = kp.read_reference(reference).await?;
    write(writeln!(out, "{}", v.expose_secret()))?;
    Ok(ExitCode::SUCCESS)
}

pub async fn inject(
    kp: &Keyport,
    input: Option<&Path>,
    output: Option<&Path>,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let mut template = String::new();
    let read = match input {
        Some(p) => std::fs::File::open(p).and_then(|mut f| f.read_to_string(&mut template)),
        None => std::io::stdin().read_to_string(&mut template),
    };
    read.map_err(|e| Error::InvalidInput(format!("Could not read the template: {e}")))?;
    // The connections it names are refreshed first, in the helper, when near expiry.
    let mut rest = template.as_str();
    while let Some(i) = rest.find(keyport_engine::REFERENCE_SCHEME) {
        let r = &rest[i..];
        let end = r
            .find(|c: char| c.is_whitespace() || c == '}')
            .unwrap_or(r.len());
        if let Ok((name, _)) = keyport_engine::parse_reference(&r[..end]) {
            if let Err(code) = ensure_fresh(kp, name).await? {
                return Ok(code);
            }
        }
        rest = &r[end..];
    }
    let filled = kp.inject(&template).await?;
    match output {
        None => write(out.write_all(filled.expose_secret().as_bytes()))?,
        Some(path) => write_private(path, filled.expose_secret().as_bytes(), true)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to `path` readable by its owner only: a new file beside it, renamed over
/// (flushed to disk first when `durable`; a token file that lives as long as a command
/// need not be).
fn write_private(path: &Path, bytes: &[u8], durable: bool) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.keyport-{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let io =
        |e: std::io::Error| Error::InvalidInput(format!("Could not write {}: {e}", path.display()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let written = opts.open(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        if durable {
            f.sync_all()?;
        }
        Ok(())
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(())
}

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

#[cfg(not(unix))]
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
        return Ok(replace_with(cmd, program));
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
        _ = forward_signals(pid) => unreachable!("forwarding signals never ends"),
    };
    for t in tasks {
        t.abort();
    }
    drop(dir);
    let status = status
        .map_err(|e| Error::InvalidInput(format!("The command could not be waited for: {e}")))?;
    Ok(exit_code_of(status))
}

/// The child's exit code; a child ended by signal N gives 128 + N, as a shell does.
fn exit_code_of(status: std::process::ExitStatus) -> ExitCode {
    #[cfg(unix)]
    if let Some(sig) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return ExitCode::from(128u8.saturating_add(sig as u8));
    }
    ExitCode::from(status.code().map_or(1, |c| c as u8))
}

/// Passes SIGTERM and SIGHUP on to the child; SIGINT and SIGQUIT too when there is no
/// terminal (on one, the terminal has sent them to the child already). Never returns.
#[cfg(unix)]
async fn forward_signals(child: Option<u32>) {
    use std::io::IsTerminal;
    use tokio::signal::unix::{signal, SignalKind};
    let tty = std::io::stdin().is_terminal();
    let kinds = [
        (SignalKind::terminate(), libc::SIGTERM, true),
        (SignalKind::hangup(), libc::SIGHUP, true),
        (SignalKind::interrupt(), libc::SIGINT, !tty),
        (SignalKind::quit(), libc::SIGQUIT, !tty),
    ];
    let mut streams: Vec<_> = kinds
        .into_iter()
        .filter_map(|(k, n, pass)| Some((signal(k).ok()?, n, pass)))
        .collect();
    std::future::poll_fn(|cx| {
        for (s, n, pass) in streams.iter_mut() {
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

#[cfg(not(unix))]
async fn forward_signals(_child: Option<u32>) {
    // Ctrl-C reaches every process of the console; Keyport only waits for the child.
    let _ = tokio::signal::ctrl_c().await;
    std::future::pending::<()>().await
}

/// Runs the command in Keyport's place (nothing of Keyport's must outlive it).
#[cfg(unix)]
fn replace_with(mut cmd: std::process::Command, program: &std::ffi::OsStr) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let e = cmd.exec();
    eprintln!("keyport: could not run {}: {e}", program.to_string_lossy());
    ExitCode::from(127)
}

#[cfg(not(unix))]
fn replace_with(mut cmd: std::process::Command, program: &std::ffi::OsStr) -> ExitCode {
    match cmd.status() {
        Ok(s) => exit_code_of(s),
        Err(e) => {
            eprintln!("keyport: could not run {}: {e}", program.to_string_lossy());
            ExitCode::from(127)
        }
    }
}
