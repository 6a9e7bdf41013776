//! Moving connections between computers: `export` (metadata and registrations, never a
//! secret), `import` (each connection then waits for `keyport reconnect`), and
//! `export-env` (a Postman, Insomnia or Bruno environment; the token only when asked).

use crate::helper::ensure_fresh;
use crate::out::{json, write};
use keyport_engine::{EnvTool, Error, Keyport, Kind, OnConflict};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub async fn export(
    kp: &Keyport,
    names: &[String],
    output: Option<&Path>,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    match output {
        None => {
            let e = kp.export(names).await?;
            write(out.write_all(e.to_json().as_bytes()))?;
        }
        Some(path) => {
            let n = kp.write_export(names, path).await?;
            eprintln!(
                "Exported {n} connection{} to {} (no secrets). On the other computer: keyport import {}",
                if n == 1 { "" } else { "s" },
                path.display(),
                path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn import(
    kp: &Keyport,
    file: &Path,
    skip: bool,
    rename: bool,
    as_json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    let on_conflict = match (skip, rename) {
        (true, _) => OnConflict::Skip,
        (_, true) => OnConflict::Rename,
        _ => OnConflict::Fail,
    };
    let r = kp.import_file(file, on_conflict).await?;
    if as_json {
        json(out, &r)?;
        return Ok(ExitCode::SUCCESS);
    }
    write(writeln!(
        out,
        "Imported {} connection{} from {} (no secrets came with them):",
        r.imported.len(),
        if r.imported.len() == 1 { "" } else { "s" },
        file.display()
    ))?;
    let width = r.imported.iter().map(|i| i.name.len()).max().unwrap_or(0);
    for i in &r.imported {
        let c = &i.connection;
        let todo = match (&c.store, c.kind) {
            (Some(at), _) => format!("lives in {at}; ready"),
            (None, Kind::Oauth) => format!("sign in again: keyport reconnect {}", i.name),
            (None, Kind::Admin) => format!("give it its token: keyport reconnect {}", i.name),
        };
        let renamed = if i.name != i.from {
            format!(" (was '{}')", i.from)
        } else {
            String::new()
        };
        write(writeln!(out, "  {:<width$}  {todo}{renamed}", i.name))?;
    }
    if !r.skipped.is_empty() {
        write(writeln!(
            out,
            "Skipped, already here: {}",
            r.skipped.join(", ")
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn export_env(
    kp: &Keyport,
    name: &str,
    tool: EnvTool,
    output: Option<&Path>,
    with_token: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    if with_token {
        // A refresh near expiry goes through the helper, as for `keyport token`.
        if let Err(code) = ensure_fresh(kp, name).await? {
            return Ok(code);
        }
    }
    let f = match output {
        None => {
            let f = kp.export_env(name, tool, with_token).await?;
            write(out.write_all(f.contents.as_bytes()))?;
            f
        }
        Some(path) => {
            let f = kp.write_env_file(name, tool, with_token, path).await?;
            eprintln!(
                "Wrote the {} environment '{name}' to {} (variables: {}).",
                tool.label(),
                path.display(),
                f.variables.join(", ")
            );
            f
        }
    };
    if f.with_token {
        let place = output.map_or("this output".to_owned(), |p| {
            format!("{} (mode 0600)", p.display())
        });
        eprintln!(
            "Warning: {place} holds the access token of '{name}': anyone who reads it can call the API as you until the token expires. Keep it private, and delete it when done."
        );
    }
    Ok(ExitCode::SUCCESS)
}
