//! `keyport`: the command line on Keyport's engine. `main` maps errors to documented exit
//! codes and words the engine's "what to do" as commands; `run` does the work. Secrets
//! come from standard input, a hidden prompt or a named environment variable, never from
//! arguments (they show in the process list).

mod api;
mod args;
mod forms;
mod input;
mod proxy;

use args::Command;
use clap::{ArgMatches, FromArgMatches};
use input::Input;
use keyport_engine::{
    time, Action, ActionKind, Cancel, ConnectionView, Error, ExposeSecret, Keyport, Kind, Settings,
    Status, WaitEvent,
};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

fn settings() -> Result<Settings, ExitCode> {
    Settings::from_vars(|k| std::env::var_os(k)).ok_or_else(|| {
        eprintln!("keyport: No configuration folder was found for this user (no HOME); set KEYPORT_CONFIG_DIR to a folder Keyport may use.");
        ExitCode::from(2)
    })
}

/// `keyport token NAME` answered by a running agent from memory: no runtime, no keychain.
/// `None` when no agent answered (the caller reads the keychain).
#[cfg(unix)]
fn from_agent(settings: &Settings, name: &str, min_valid: i64) -> Option<ExitCode> {
    use keyport_engine::agent::{ask, AgentAnswer};
    match ask(&settings.config_dir, name, min_valid)? {
        AgentAnswer::Token(t) => {
            let mut out = std::io::stdout().lock();
            Some(match writeln!(out, "{}", t.expose_secret()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(2),
            })
        }
        AgentAnswer::Failed(code, message) => {
            eprintln!("keyport: {message}");
            Some(ExitCode::from(code))
        }
    }
}

fn main() -> ExitCode {
    // The hot path of scripts, `keyport token NAME`, asks the agent before the command
    // line is even built.
    #[cfg(unix)]
    let mut asked_agent = false;
    #[cfg(unix)]
    {
        let mut argv = std::env::args_os().skip(1);
        if let (Some(cmd), Some(name), None) = (argv.next(), argv.next(), argv.next()) {
            let name = name.to_str().filter(|n| !n.starts_with('-'));
            if let (true, Some(name)) = (cmd == "token", name) {
                match settings() {
                    Ok(s) => {
                        if let Some(code) = from_agent(&s, name, keyport_engine::DEFAULT_MIN_VALID)
                        {
                            return code;
                        }
                        asked_agent = true;
                    }
                    Err(code) => return code,
                }
            }
        }
    }
    let matches = args::command().get_matches();
    let settings = match settings() {
        Ok(s) => s,
        Err(code) => return code,
    };
    #[cfg(unix)]
    if let (false, Some(("token", m))) = (asked_agent, matches.subcommand()) {
        let name = m.get_one::<String>("name").expect("required");
        let min_valid = *m.get_one::<i64>("min_valid").expect("defaulted");
        if let Some(code) = from_agent(&settings, name, min_valid) {
            return code;
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let kp = Arc::new(Keyport::new(settings));
    match runtime.block_on(run(&kp, &matches)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("keyport: {e}");
            for hint in hints(&kp, &e.actions(), &runtime) {
                eprintln!("  → {hint}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// The engine's "what to do", worded as commands.
fn hints(kp: &Keyport, actions: &[Action], rt: &tokio::runtime::Runtime) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| {
            let name = a.name.as_deref().unwrap_or("NAME");
            Some(match a.kind {
                ActionKind::Reconnect => {
                    let vendor = a
                        .name
                        .as_deref()
                        .and_then(|n| rt.block_on(kp.view(n)).ok())
                        .map(|v| v.vendor)
                        .unwrap_or_else(|| "VENDOR".into());
                    format!("sign in again: keyport connect {vendor} --name {name} --replace …")
                }
                ActionKind::Reissue => format!(
                    "issue a new token at the vendor, then: keyport set-token {name}"
                ),
                ActionKind::Replace => "to replace it, run the same command with --replace".into(),
                ActionKind::Revoke => format!("to remove it: keyport revoke {name}"),
                ActionKind::ForceRevoke => {
                    format!("to remove it here anyway: keyport revoke {name} --force")
                }
                ActionKind::UnlockKeychain => {
                    "unlock the keychain (Passwords and Keys, or log in again), then run the command again".into()
                }
                ActionKind::Retry => "run the command again in a minute".into(),
                ActionKind::List => "see the names: keyport list".into(),
                ActionKind::FreePort => {
                    "see which program holds the port: ss -ltnp".into()
                }
                ActionKind::MoveMetadataAside => format!(
                    "move it aside: mv {0} {0}.damaged",
                    kp.metadata_path().display()
                ),
                ActionKind::FixInput => return None,
            })
        })
        .collect()
}

fn write(r: std::io::Result<()>) -> Result<(), Error> {
    r.map_err(|e| Error::Unsupported(format!("Keyport could not write its output: {e}")))
}

async fn run(kp: &Arc<Keyport>, matches: &ArgMatches) -> Result<ExitCode, Error> {
    let mut out = std::io::stdout().lock();
    match matches.subcommand() {
        Some(("connect", m)) => return connect(kp, m, &mut out).await,
        Some(("add", m)) => {
            let (vendor, vm) = m.subcommand().expect("a vendor is required");
            if let Some(w) = Keyport::vendors()
                .iter()
                .find(|v| v.id == vendor)
                .and_then(|v| v.warning)
            {
                eprintln!("Note: {w}");
            }
            let form = forms::form(vendor, vm, &mut Input::new())?;
            let v = deferring_signals(kp.add_token(form)).await?;
            write(writeln!(
                out,
                "Added '{}' ({}): {}.",
                v.name, v.vendor_label, v.status_text
            ))?;
            for warning in &v.warnings {
                write(writeln!(out, "Warning: {}", warning.message))?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let cli =
        args::Cli::from_arg_matches(matches).map_err(|e| Error::InvalidInput(e.to_string()))?;
    match cli.command {
        Command::Token { name, min_valid } => {
            let t = match kp.fresh_token(&name, min_valid).await? {
                Some(t) => t,
                None => {
                    if let Err(code) = refresh_in_helper(&name, min_valid, false).await? {
                        return Ok(code);
                    }
                    kp.token(&name, min_valid).await?
                }
            };
            write(writeln!(out, "{}", t.expose_secret()))?;
        }
        Command::RefreshHelper {
            name,
            min_valid,
            force,
        } => {
            if force {
                deferring_signals(kp.refresh(&name)).await?;
            } else {
                deferring_signals(kp.token(&name, min_valid)).await?;
            }
        }
        Command::Headers { name, json } => {
            if let Err(code) = ensure_fresh(kp, &name).await? {
                return Ok(code);
            }
            let hs = kp.headers(&name).await?;
            if json {
                let map: serde_json::Map<String, serde_json::Value> = hs
                    .iter()
                    .map(|(k, v)| (k.clone(), v.expose_secret().into()))
                    .collect();
                write(writeln!(out, "{}", serde_json::Value::Object(map)))?;
            } else {
                for (k, v) in hs {
                    write(writeln!(out, "{k}: {}", v.expose_secret()))?;
                }
            }
        }
        Command::Curl {
            name,
            path,
            curl_args,
        } => {
            let cmd = api::with_curl_args(kp.curl(&name, path.as_deref()).await?, &curl_args);
            write(writeln!(out, "{cmd}"))?;
        }
        Command::Api(a) => return api::run(kp, &a, &mut out).await,
        Command::Proxy(a) => return proxy::run(kp, &a, &mut out).await,
        Command::List { json } => {
            let list = kp.list().await?;
            if json {
                let s = serde_json::to_string_pretty(&list).expect("views serialise");
                write(writeln!(out, "{s}"))?;
            } else {
                write(print_table(&mut out, &list))?;
            }
        }
        Command::Refresh { name } => {
            // Checked here so that an admin-issued token gets its sentence, not a helper.
            let v = kp.view(&name).await?;
            if v.kind == Kind::Admin {
                kp.refresh(&name).await?;
            }
            if let Err(code) =
                refresh_in_helper(&name, keyport_engine::DEFAULT_MIN_VALID, true).await?
            {
                return Ok(code);
            }
            let v = kp.view(&name).await?;
            write(writeln!(out, "{}: {}", v.name, v.status_text))?;
        }
        Command::Test { name } => {
            if let Err(code) = ensure_fresh(kp, &name).await? {
                return Ok(code);
            }
            let r = kp.test(&name).await?;
            write(writeln!(out, "{}", r.summary))?;
            if !r.ok {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Revoke { name, force } => {
            let r = deferring_signals(kp.revoke(&name, force)).await?;
            for s in &r.vendor_steps {
                write(writeln!(out, "{s}"))?;
            }
            if let Some(steps) = r.manual_steps {
                write(writeln!(out, "\nAt the vendor: {steps}"))?;
            }
        }
        Command::SetToken {
            name,
            expires,
            token_env,
        } => {
            kp.view(&name).await?;
            let token = match token_env {
                Some(var) => forms::env_value(&var, "token-env")?,
                None => Input::new()
                    .secret(&format!("New token for '{name}'"))?
                    .ok_or_else(|| Error::InvalidInput("No token was given.".into()))?,
            };
            let token = keyport_engine::secret(token);
            let v = deferring_signals(kp.set_token(&name, token, expires.as_deref())).await?;
            write(writeln!(out, "Updated '{}': {}.", v.name, v.status_text))?;
        }
        Command::Vendors => {
            for v in Keyport::vendors() {
                let how = match v.kind {
                    Kind::Oauth => format!("keyport connect {}", v.id),
                    Kind::Admin => format!("keyport add {}", v.id),
                };
                write(writeln!(out, "{:<14} {:<28} {how}", v.id, v.label))?;
            }
        }
        #[cfg(unix)]
        Command::Agent {
            confirm,
            lock,
            unlock,
        } => {
            let dir = &kp.settings().config_dir;
            if lock || unlock {
                if !keyport_engine::agent::set_locked(dir, lock) {
                    return Err(Error::Unsupported("No Keyport agent is running.".into()));
                }
                let what = if lock {
                    "locked: it holds no token now"
                } else {
                    "unlocked"
                };
                write(writeln!(out, "The agent is {what}."))?;
                return Ok(ExitCode::SUCCESS);
            }
            keyport_engine::non_dumpable();
            eprintln!(
                "Serving tokens on {} (Ctrl-C to stop).",
                keyport_engine::agent::socket_path(dir).display()
            );
            let options = keyport_engine::agent::Options {
                confirm: confirm.map(|c| c.split_whitespace().map(str::to_owned).collect()),
            };
            keyport_engine::agent::serve_with(kp.clone(), options).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Refreshes the token first, in a helper, when it is near expiry.
async fn ensure_fresh(kp: &Keyport, name: &str) -> Result<Result<(), ExitCode>, Error> {
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
async fn refresh_in_helper(
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
async fn deferring_signals<T>(op: impl std::future::Future<Output = T>) -> T {
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
    let out = op.await;
    #[cfg(unix)]
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

async fn connect(kp: &Keyport, m: &ArgMatches, out: &mut impl Write) -> Result<ExitCode, Error> {
    let (vendor, vm) = m.subcommand().expect("a vendor is required");
    let mut input = Input::new();
    let form = forms::form(vendor, vm, &mut input)?;
    let mut pending = kp.begin_connect(form).await?;
    eprintln!("Sign in at {} and allow access:", pending.vendor_label());
    eprintln!("  {}", pending.authorize_url());
    if !m.get_flag("no-browser") {
        if let Err(e) = kp.open_browser(pending.authorize_url()) {
            eprintln!("{e}");
        }
    }
    let callback = if pending.is_loopback() {
        let tty = std::io::stderr().is_terminal();
        let target = pending.redirect_uri().to_owned();
        let cancel = Cancel::new();
        let on_ctrl_c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_ctrl_c.cancel();
            }
        });
        let on_event = |e: WaitEvent| match e {
            WaitEvent::Tick(left) if tty => {
                eprint!(
                    "\rWaiting for the browser on {target} — {}:{:02} left (Ctrl-C to cancel) ",
                    left / 60,
                    left % 60
                );
                let _ = std::io::stderr().flush();
            }
            WaitEvent::Tick(left) if left % 60 == 0 || left < 10 => {
                eprintln!(
                    "Waiting for the browser: {}:{:02} left",
                    left / 60,
                    left % 60
                )
            }
            WaitEvent::Tick(_) => {}
            WaitEvent::Ignored(why) => eprintln!("\n{why}"),
        };
        pending.wait(&cancel, on_event).await?
    } else {
        eprintln!(
            "The registered redirect URI ({}) is not on this computer. After you allow access, copy the address the browser lands on and paste it here (within {}).",
            pending.redirect_uri(),
            time::human_span(pending.expires_at() - time::now())
        );
        let line = input.line("Paste the URL you landed on")?;
        pending.accept_pasted(&line)?
    };
    eprintln!();
    let done = deferring_signals(kp.finish_connect(pending, callback)).await?;
    let view = &done.connection;
    write(writeln!(
        out,
        "Connected '{}' ({}): {}.",
        view.name, view.vendor_label, view.status_text
    ))?;
    if let Some(account) = &view.account {
        write(writeln!(out, "Account: {account}"))?;
    }
    if let Some(old) = &done.replaced {
        for s in &old.steps {
            write(writeln!(out, "The old sign-in: {s}"))?;
        }
        if let Some(problem) = &old.problem {
            eprintln!("Warning: the old sign-in was not revoked: {problem}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(out: &mut impl Write, list: &[ConnectionView]) -> std::io::Result<()> {
    if list.is_empty() {
        writeln!(out, "No connections yet. Sign in at a vendor with `keyport connect VENDOR --name NAME …`, or add an admin-issued token with `keyport add VENDOR --name NAME`; `keyport vendors` lists them.")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<20} {:<16} {:<14} {:<10} ACCOUNT",
        "NAME", "VENDOR", "STATUS", "LEFT"
    )?;
    let now = time::now();
    for v in list {
        let status = serde_json::to_value(v.status)
            .ok()
            .and_then(|s| s.as_str().map(str::to_owned))
            .unwrap_or_default();
        let left = match v.expires_at {
            Some(e) => time::human_span(e - now),
            None => "-".into(),
        };
        writeln!(
            out,
            "{:<20} {:<16} {:<14} {:<10} {}",
            v.name,
            v.vendor,
            status.replace('_', " "),
            left,
            v.account.as_deref().unwrap_or("-")
        )?;
        for warning in &v.warnings {
            writeln!(out, "  ! {}", warning.message)?;
        }
        if matches!(v.status, Status::NeedsReconnect | Status::RefreshFailed) {
            writeln!(out, "  ! {}", v.status_text)?;
        }
    }
    Ok(())
}
