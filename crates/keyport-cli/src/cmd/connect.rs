//! Getting a connection: `connect VENDOR` and `reconnect NAME` (the browser step, its
//! countdown or a pasted URL), and `add VENDOR` (an admin-issued token, tried first).

use crate::forms;
use crate::helper::deferring_signals;
use crate::input::Input;
use crate::out::{json, write};
use clap::ArgMatches;
use keyport_engine::{time, Cancel, Error, Form, Keyport, WaitEvent};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

pub async fn connect(
    kp: &Keyport,
    m: &ArgMatches,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let (vendor, vm) = m.subcommand().expect("a vendor is required");
    let mut input = Input::new();
    let form = forms::form(vendor, vm, &mut input)?;
    let as_json = m.get_flag("json");
    sign_in(kp, form, m.get_flag("no-browser"), &mut input, as_json, out).await
}

pub async fn reconnect(
    kp: &Keyport,
    name: &str,
    no_browser: bool,
    window: u64,
    as_json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let keyport_engine::Reconnect { mut form, missing } = kp.reconnect_form(name).await?;
    let mut input = Input::new();
    for f in missing {
        if let Some(v) = input.secret(f.label)? {
            form.values.insert(f.key.to_owned(), v);
        }
    }
    let admin = Keyport::vendors()
        .iter()
        .any(|v| v.id == form.vendor && v.kind == keyport_engine::Kind::Admin);
    if admin {
        // An admin-issued connection without its secrets here (an imported one): added
        // again with them, tried at the vendor first.
        let v = deferring_signals(kp.add_token(form)).await?;
        return added(&v, false, as_json, out);
    }
    form.window = Some(Duration::from_secs(window));
    sign_in(kp, form, no_browser, &mut input, as_json, out).await
}

/// The browser step and the code exchange, for `connect` and `reconnect`.
async fn sign_in(
    kp: &Keyport,
    form: Form,
    no_browser: bool,
    input: &mut Input,
    as_json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let mut pending = kp.begin_connect(form).await?;
    eprintln!("Sign in at {} and allow access:", pending.vendor_label());
    eprintln!("  {}", pending.authorize_url());
    if !no_browser {
        if let Err(e) = kp.open_browser(pending.authorize_url()) {
            eprintln!("{e}");
        }
    }
    let left = time::human_duration(pending.expires_at() - time::now());
    let callback = if pending.is_loopback() {
        let tty = std::io::stderr().is_terminal();
        let target = pending.redirect_uri().to_owned();
        if !tty {
            // Off a terminal, a line at the start and one at the end, not one a second.
            eprintln!("Waiting up to {left} for the browser on {target}.");
        }
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
            WaitEvent::Tick(_) => {}
            WaitEvent::Ignored(why) => eprintln!("\n{why}"),
        };
        let got = pending.wait(&cancel, on_event).await;
        if tty {
            eprintln!();
        }
        let got = got?;
        eprintln!("The browser came back; finishing the sign-in.");
        got
    } else {
        eprintln!(
            "The registered redirect URI ({}) is not on this computer. After you allow access, copy the address the browser lands on and paste it here (within {left}).",
            pending.redirect_uri(),
        );
        let line = input.line("Paste the URL you landed on")?;
        pending.accept_pasted(&line)?
    };
    let done = deferring_signals(kp.finish_connect(pending, callback)).await?;
    if as_json {
        json(out, &done)?;
    } else {
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
        }
    }
    if let Some(problem) = done.replaced.as_ref().and_then(|r| r.problem.as_ref()) {
        eprintln!("Warning: the old sign-in was not revoked: {problem}");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn add(kp: &Keyport, m: &ArgMatches, out: &mut impl Write) -> Result<ExitCode, Error> {
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
    added(&v, m.get_flag("no-test"), m.get_flag("json"), out)
}

/// What `add` (and `reconnect` of an admin-issued connection) says.
fn added(
    v: &keyport_engine::ConnectionView,
    no_test: bool,
    as_json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    if as_json {
        json(out, v)?;
    } else {
        let tried = match (&v.unverified, no_test) {
            (_, true) => " (not tried: --no-test)",
            (None, false) => " (the vendor accepted it)",
            (Some(_), false) => " (unverified)",
        };
        write(writeln!(
            out,
            "Added '{}' ({}): {}{tried}.",
            v.name, v.vendor_label, v.status_text
        ))?;
        for warning in &v.warnings {
            write(writeln!(out, "Warning: {}", warning.message))?;
        }
    }
    if let Some(why) = &v.unverified {
        eprintln!(
            "Warning: the token could not be tried, so it was stored unverified: {why}\n  → try it later: keyport test {}",
            v.name
        );
    }
    Ok(ExitCode::SUCCESS)
}
