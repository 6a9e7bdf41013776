//! Handing tokens out: `token` (from the agent when one runs), `headers`, `curl`, and
//! `refresh` / `test`, which refresh in the helper first when the token is near expiry.

use crate::helper::{deferring_signals, ensure_fresh, refresh_in_helper};
use crate::out::{json, write};
use keyport_engine::{Error, ExposeSecret, Keyport, Kind, Settings};
use std::io::Write;
use std::process::ExitCode;

/// The exit code of a token that was printed and works, from a failing connection.
pub const EXIT_FAILING: u8 = 10;

/// Prints the token; a failing connection's warning goes to stderr and sets the exit code.
fn hand_out(out: &mut impl Write, token: &str, warning: Option<&str>) -> ExitCode {
    if writeln!(out, "{token}").is_err() {
        return ExitCode::from(2);
    }
    match warning {
        Some(w) => {
            eprintln!("keyport: warning: this token still works, but {w}");
            ExitCode::from(EXIT_FAILING)
        }
        None => ExitCode::SUCCESS,
    }
}

/// `keyport token NAME` answered by a running agent from memory: no runtime, no keychain.
/// `None` when no agent answered (the caller reads the keychain).
pub fn from_agent(settings: &Settings, name: &str, min_valid: i64) -> Option<ExitCode> {
    use keyport_engine::agent::{ask, AgentAnswer};
    match ask(&settings.config_dir, name, min_valid)? {
        AgentAnswer::Token(t, warning) => Some(hand_out(
            &mut std::io::stdout().lock(),
            t.expose_secret(),
            warning.as_deref(),
        )),
        AgentAnswer::Failed(code, message) => {
            eprintln!("keyport: {message}");
            Some(ExitCode::from(code))
        }
    }
}

pub async fn token(
    kp: &Keyport,
    name: &str,
    min_valid: i64,
    as_json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let handed = match kp.fresh_token(name, min_valid).await? {
        Some(h) => h,
        None => {
            if let Err(code) = refresh_in_helper(name, min_valid, false).await? {
                return Ok(code);
            }
            // The helper's token, even when the vendor gives tokens shorter than
            // `min_valid`: asking again would refresh a second time.
            match kp.fresh_token(name, 0).await? {
                Some(h) => h,
                None => keyport_engine::Handout {
                    token: kp.token(name, min_valid).await?,
                    warning: None,
                },
            }
        }
    };
    if as_json {
        let v = kp.view(name).await?;
        json(
            out,
            &serde_json::json!({
                "token": handed.token.expose_secret(),
                "expires_at": v.expires_at,
                "warning": handed.warning,
            }),
        )?;
        return Ok(match handed.warning {
            Some(_) => ExitCode::from(EXIT_FAILING),
            None => ExitCode::SUCCESS,
        });
    }
    Ok(hand_out(
        out,
        handed.token.expose_secret(),
        handed.warning.as_deref(),
    ))
}

pub async fn refresh_helper(
    kp: &Keyport,
    name: &str,
    min_valid: i64,
    force: bool,
) -> Result<ExitCode, Error> {
    if force {
        deferring_signals(kp.refresh(name)).await?;
    } else {
        deferring_signals(kp.token(name, min_valid)).await?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn headers(
    kp: &Keyport,
    name: &str,
    as_json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    if let Err(code) = ensure_fresh(kp, name).await? {
        return Ok(code);
    }
    let hs = kp.headers(name).await?;
    if as_json {
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
    Ok(ExitCode::SUCCESS)
}

pub async fn curl(
    kp: &Keyport,
    name: &str,
    path: Option<&str>,
    curl_args: &[String],
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let cmd = super::api::with_curl_args(kp.curl(name, path).await?, curl_args);
    write(writeln!(out, "{cmd}"))?;
    Ok(ExitCode::SUCCESS)
}

pub async fn refresh(
    kp: &Keyport,
    name: &str,
    as_json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    // Checked here so that an admin-issued token gets its sentence, not a helper.
    if kp.view(name).await?.kind == Kind::Admin {
        kp.refresh(name).await?;
    }
    if let Err(code) = refresh_in_helper(name, keyport_engine::DEFAULT_MIN_VALID, true).await? {
        return Ok(code);
    }
    let v = kp.view(name).await?;
    if as_json {
        json(out, &v)?;
    } else {
        write(writeln!(out, "{}: {}", v.name, v.status_text))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn test(
    kp: &Keyport,
    name: &str,
    as_json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    if let Err(code) = ensure_fresh(kp, name).await? {
        return Ok(code);
    }
    let r = deferring_signals(kp.test(name)).await?;
    if as_json {
        json(out, &r)?;
    } else {
        write(writeln!(out, "{}", r.summary))?;
    }
    Ok(if r.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
