//! A vendor's flags → the engine's form. Plain fields are taken as given; a secret field
//! is read from the environment variable its flag names, else from a hidden prompt on a
//! terminal, else from one line of standard input, in the vendor's field order.

use crate::input::Input;
use clap::ArgMatches;
use keyport_engine::{vendors::Input as Kind, Error, Field, Form, Keyport};
use std::time::Duration;

/// A secret field whose flag names the environment variable that holds it (`--…-env VAR`).
pub fn from_env(f: &Field) -> bool {
    f.slot.is_some() && f.cli.ends_with("-env")
}

/// The value of the environment variable `var`, which `--flag` named.
pub fn env_value(var: &str, flag: &str) -> Result<String, Error> {
    std::env::var(var).map_err(|_| {
        Error::InvalidInput(format!(
            "The environment variable {var} (--{flag}) is not set."
        ))
    })
}

pub fn form(vendor_id: &str, m: &ArgMatches, input: &mut Input) -> Result<Form, Error> {
    let info = Keyport::vendors()
        .into_iter()
        .find(|v| v.id == vendor_id)
        .expect("clap only offers known vendors");
    let mut form = Form {
        vendor: vendor_id.to_owned(),
        name: m.get_one::<String>("name").cloned().unwrap_or_default(),
        replace: m.get_flag("replace"),
        remember_secret: true,
        note: text(m, "note"),
        client: text(m, "client"),
        skip_test: m
            .try_get_one::<bool>("no-test")
            .ok()
            .flatten()
            .copied()
            .unwrap_or(false),
        window: m
            .try_get_one::<u64>("window")
            .ok()
            .flatten()
            .map(|s| Duration::from_secs(*s)),
        ..Form::default()
    };
    if form.name.trim().is_empty() {
        return Err(Error::InvalidInput(
            "--name is required: a unique name for this connection (letters, digits, '-', '_', '.').".into(),
        ));
    }
    // Plain values first: whether a secret is needed can depend on them.
    for f in info.fields.iter().filter(|f| !from_env(f)) {
        let value = if f.input == Kind::Lines {
            m.get_many::<String>(f.key)
                .map(|v| v.cloned().collect::<Vec<_>>().join("\n"))
        } else {
            m.get_one::<String>(f.key).cloned()
        };
        if let Some(v) = value {
            form.values.insert(f.key.to_owned(), v);
        }
    }
    let public_client = form.values.get("client_auth").is_some_and(|a| a == "none");
    for f in info.fields.iter().filter(|f| from_env(f)) {
        let value = match m.get_one::<String>(f.key) {
            Some(var) => Some(env_value(var, f.cli)?),
            None if f.key == "client_secret" && public_client => None,
            None => input.secret(f.label)?,
        };
        if let Some(v) = value {
            form.values.insert(f.key.to_owned(), v);
        }
    }
    Ok(form)
}

/// A text option given to the vendor's command or its parent, empty when not given.
fn text(m: &ArgMatches, id: &str) -> String {
    m.try_get_one::<String>(id)
        .ok()
        .flatten()
        .cloned()
        .unwrap_or_default()
}
