//! Tokens straight into scripts: `env`, `inject` and `read`, and what `exec` shares with
//! them (each connection's values under their variables, gathered from the agent or the
//! keychain; private files written whole).

use crate::args::EnvFormat;
use crate::helper::ensure_fresh;
use crate::out::write;
use keyport_engine::{Error, ExposeSecret, Keyport, SecretString};
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

/// One connection's variables: (name, value, secret).
pub(super) struct Vars {
    pub(super) name: String,
    pub(super) prefix: String,
    pub(super) values: Vec<(String, SecretString)>,
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
pub(super) async fn gather(
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
pub(super) fn write_private(path: &Path, bytes: &[u8], durable: bool) -> Result<(), Error> {
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
