//! The commands, one file per group: `tokens` (token, headers, curl, refresh, test),
//! `api`, `proxy`, `connect` (connect, reconnect, add), `manage` (list, show, edit, revoke, set-token,
//! vendors, completions), `exec`, `script` (env, inject, read), `transfer` (export, import,
//! export-env), `agent`.

mod agent;
pub mod api;
mod connect;
mod exec;
mod manage;
pub mod proxy;
mod script;
pub mod tokens;
mod transfer;

use crate::args::{self, Command};
use clap::{ArgMatches, FromArgMatches};
use keyport_engine::{Error, Keyport};
use std::process::ExitCode;
use std::sync::Arc;

pub async fn run(kp: &Arc<Keyport>, matches: &ArgMatches) -> Result<ExitCode, Error> {
    let mut out = std::io::stdout().lock();
    // The per-vendor commands are built from the vendors' fields, not derived.
    match matches.subcommand() {
        Some(("connect", m)) => return connect::connect(kp, m, &mut out).await,
        Some(("add", m)) => return connect::add(kp, m, &mut out).await,
        _ => {}
    }
    let cli =
        args::Cli::from_arg_matches(matches).map_err(|e| Error::InvalidInput(e.to_string()))?;
    match cli.command {
        Command::Token {
            name,
            min_valid,
            json,
        } => tokens::token(kp, &name, min_valid, json, &mut out).await,
        Command::RefreshHelper {
            name,
            min_valid,
            force,
        } => tokens::refresh_helper(kp, &name, min_valid, force).await,
        Command::Headers { name, json } => tokens::headers(kp, &name, json, &mut out).await,
        Command::Curl {
            name,
            path,
            curl_args,
        } => tokens::curl(kp, &name, path.as_deref(), &curl_args, &mut out).await,
        Command::Api(a) => api::run(kp, &a, &mut out).await,
        Command::Proxy(a) => proxy::run(kp, &a, &mut out).await,
        Command::Refresh { name, json } => tokens::refresh(kp, &name, json, &mut out).await,
        Command::Test { name, json } => tokens::test(kp, &name, json, &mut out).await,
        Command::Reconnect {
            name,
            no_browser,
            window,
            json,
        } => connect::reconnect(kp, &name, no_browser, window, json, &mut out).await,
        Command::List { client, json } => manage::list(kp, client.as_deref(), json, &mut out).await,
        Command::Show { name, json } => manage::show(kp, &name, json, &mut out).await,
        Command::Edit {
            name,
            note,
            client,
            base_url,
            test_path,
            expires,
            json,
        } => {
            let edit = keyport_engine::Edit {
                note,
                client,
                base_url,
                test_path,
                expires,
            };
            manage::edit(kp, &name, edit, json, &mut out).await
        }
        Command::Revoke {
            name,
            force,
            yes,
            json,
        } => manage::revoke(kp, &name, force, yes, json, &mut out).await,
        Command::SetToken {
            name,
            expires,
            token_env,
        } => {
            manage::set_token(
                kp,
                &name,
                expires.as_deref(),
                token_env.as_deref(),
                &mut out,
            )
            .await
        }
        Command::Exec {
            names,
            prefix,
            no_keep_fresh,
            command,
        } => exec::exec(kp, &names, &prefix, !no_keep_fresh, command).await,
        Command::Env {
            names,
            prefix,
            format,
        } => script::env(kp, &names, &prefix, format, &mut out).await,
        Command::Inject { input, output } => {
            script::inject(kp, input.as_deref(), output.as_deref(), &mut out).await
        }
        Command::Read { reference } => script::read(kp, &reference, &mut out).await,
        Command::Log { name, json } => manage::log(kp, &name, json, &mut out).await,
        Command::Share { name, to, json } => manage::share(kp, &name, &to, json, &mut out).await,
        Command::Unshare { name, json } => manage::unshare(kp, &name, json, &mut out).await,
        Command::Export { names, output } => {
            transfer::export(kp, &names, output.as_deref(), &mut out).await
        }
        Command::Import {
            file,
            skip,
            rename,
            json,
        } => transfer::import(kp, &file, skip, rename, json, &mut out).await,
        Command::ExportEnv {
            name,
            format,
            output,
            with_token,
        } => {
            transfer::export_env(
                kp,
                &name,
                format.into(),
                output.as_deref(),
                with_token,
                &mut out,
            )
            .await
        }
        Command::Vendors { json } => manage::vendors(json, &mut out),
        Command::Completions { shell } => manage::completions(shell, &mut out),
        #[cfg(unix)]
        Command::Agent {
            confirm,
            lock,
            unlock,
        } => agent::agent(kp, confirm, lock, unlock, &mut out).await,
    }
}
