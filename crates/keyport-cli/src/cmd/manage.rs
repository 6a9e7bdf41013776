//! Looking after connections: `list`, `show`, `edit`, `revoke` (asks first on a
//! terminal), `set-token`, `vendors`, `completions`.

use crate::forms;
use crate::helper::deferring_signals;
use crate::input::Input;
use crate::out::{self, json, write};
use keyport_engine::{Edit, Error, Keyport, Kind};
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

pub async fn list(
    kp: &Keyport,
    client: Option<&str>,
    as_json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let mut list = kp.list().await?;
    if let Some(c) = client {
        list.retain(|v| {
            v.client
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(c))
        });
    }
    // One write, not one per line (standard output flushes at each line end).
    let mut buf = Vec::with_capacity(96 * (list.len() + 1));
    if as_json {
        json(&mut buf, &list)?;
    } else {
        write(out::table(&mut buf, &list))?;
    }
    write(out.write_all(&buf))?;
    Ok(ExitCode::SUCCESS)
}

pub async fn show(
    kp: &Keyport,
    name: &str,
    as_json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let v = kp.view(name).await?;
    if as_json {
        json(out, &v)?;
    } else {
        write(out::details(out, &v))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn share(
    kp: &Keyport,
    name: &str,
    to: &str,
    as_json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let v = crate::helper::deferring_signals(kp.share(name, to)).await?;
    if as_json {
        json(out, &v)?;
    } else {
        write(writeln!(
            out,
            "Shared '{name}': it now lives in {to}; this computer keeps a reference and no token."
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn unshare(
    kp: &Keyport,
    name: &str,
    as_json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let v = crate::helper::deferring_signals(kp.unshare(name)).await?;
    if as_json {
        json(out, &v)?;
    } else {
        write(writeln!(
            out,
            "'{name}' is back in this computer's keychain and gone from the shared store."
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn edit(
    kp: &Keyport,
    name: &str,
    edit: Edit,
    as_json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let v = kp.edit(name, edit).await?;
    if as_json {
        json(out, &v)?;
    } else {
        write(writeln!(out, "Updated '{}'.", v.name))?;
        write(out::details(out, &v))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// On a terminal (and without `--yes`), says what revoking does and asks.
fn confirmed(v: &keyport_engine::ConnectionView) -> Result<bool, Error> {
    eprintln!(
        "Revoke '{}' ({})? {}",
        v.name, v.vendor_label, v.revoke_note
    );
    eprint!("Type y to revoke, anything else to keep it: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::InvalidInput(format!("Could not read the answer: {e}")))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

pub async fn revoke(
    kp: &Keyport,
    name: &str,
    force: bool,
    yes: bool,
    as_json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let v = kp.view(name).await?;
    let ask = !yes && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if ask && !confirmed(&v)? {
        eprintln!("Nothing was revoked.");
        return Ok(ExitCode::from(1));
    }
    let r = deferring_signals(kp.revoke(name, force)).await?;
    if as_json {
        return json(out, &r).map(|()| ExitCode::SUCCESS);
    }
    for s in &r.vendor_steps {
        write(writeln!(out, "{s}"))?;
    }
    if let Some(steps) = r.manual_steps {
        write(writeln!(out, "\nAt the vendor: {steps}"))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn set_token(
    kp: &Keyport,
    name: &str,
    expires: Option<&str>,
    token_env: Option<&str>,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    kp.view(name).await?;
    let token = match token_env {
        Some(var) => forms::env_value(var, "token-env")?,
        None => Input::new()
            .secret(&format!("New token for '{name}'"))?
            .ok_or_else(|| Error::InvalidInput("No token was given.".into()))?,
    };
    let token = keyport_engine::secret(token);
    let v = deferring_signals(kp.set_token(name, token, expires)).await?;
    write(writeln!(out, "Updated '{}': {}.", v.name, v.status_text))?;
    Ok(ExitCode::SUCCESS)
}

pub async fn log(
    kp: &Keyport,
    name: &str,
    as_json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let events = kp.activity(name).await?;
    if as_json {
        return json(out, &events).map(|()| ExitCode::SUCCESS);
    }
    if events.is_empty() {
        write(writeln!(out, "Nothing has happened to '{name}' yet."))?;
    }
    for e in &events {
        let (what, from) = (out::word(e.what), out::word(e.from));
        let outcome = if e.ok { "ok" } else { "FAILED" };
        let detail = e
            .detail
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        write(writeln!(
            out,
            "{}  {what:<14} {outcome:<6} {from:<6}{detail}",
            keyport_engine::time::format_utc(e.at)
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn vendors(as_json: bool, out: &mut impl Write) -> Result<ExitCode, Error> {
    let all = Keyport::vendors();
    if as_json {
        return json(out, &all).map(|()| ExitCode::SUCCESS);
    }
    let id_w = all.iter().map(|v| v.id.len()).max().unwrap_or(0);
    let label_w = all.iter().map(|v| v.label.len()).max().unwrap_or(0);
    for v in all {
        let how = match v.kind {
            Kind::Oauth => format!("keyport connect {}", v.id),
            Kind::Admin => format!("keyport add {}", v.id),
        };
        write(writeln!(
            out,
            "{:<id_w$}  {:<label_w$}  {how}",
            v.id, v.label
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn completions(shell: clap_complete::Shell, out: &mut impl Write) -> Result<ExitCode, Error> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut crate::args::command(), "keyport", &mut script);
    write(out.write_all(&script))?;
    Ok(ExitCode::SUCCESS)
}
