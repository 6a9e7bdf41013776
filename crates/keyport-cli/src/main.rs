//! `keyport`: the command line on Keyport's engine. `main` maps errors to documented exit
//! codes; `run` does the work; secrets come from standard input, a hidden prompt or a
//! named environment variable, never from arguments (they show in the process list).

mod args;
mod input;

use args::{Cli, Command, ConnectVendor};
use clap::Parser;
use input::Input;
use keyport_engine::{
    browser, time, AdvancedSetup, Callback, Cancel, ClientAuth, ConnectRequest, ConnectionView,
    Error, Keyport, ManualField, ManualRequest, MyobSetup, OidcSetup, PendingConnect, Setup,
    VendorId, WaitEvent,
};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("keyport: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Error> {
    let kp = Keyport::open()?;
    let mut out = std::io::stdout().lock();
    let w = |r: std::io::Result<()>| {
        r.map_err(|e| Error::Unsupported(format!("could not write the output: {e}")))
    };
    match cli.command {
        Command::Token { name, min_valid } => {
            // A running agent (the desktop app, or `keyport agent`) answers from memory.
            #[cfg(unix)]
            match keyport_engine::agent::ask(kp.config_dir(), &name, min_valid) {
                Some(keyport_engine::agent::AgentAnswer::Token(t)) => {
                    w(writeln!(out, "{}", t.expose()))?;
                    return Ok(ExitCode::SUCCESS);
                }
                Some(keyport_engine::agent::AgentAnswer::Failed(code, message)) => {
                    eprintln!("keyport: {message}");
                    return Ok(ExitCode::from(code));
                }
                None => {}
            }
            let t = kp.token(&name, min_valid)?;
            w(writeln!(out, "{}", t.expose()))?;
        }
        Command::Headers { name, json } => {
            let hs = kp.headers(&name)?;
            if json {
                let map: serde_json::Map<String, serde_json::Value> = hs
                    .iter()
                    .map(|(k, v)| (k.clone(), v.expose().into()))
                    .collect();
                w(writeln!(out, "{}", serde_json::Value::Object(map)))?;
            } else {
                for (k, v) in hs {
                    w(writeln!(out, "{k}: {}", v.expose()))?;
                }
            }
        }
        Command::Curl { name, path } => {
            w(writeln!(
                out,
                "{}",
                kp.curl(&name, path.as_deref())?.expose()
            ))?;
        }
        Command::List { json } => {
            let list = kp.list()?;
            if json {
                let s = serde_json::to_string_pretty(&list).expect("views serialise");
                w(writeln!(out, "{s}"))?;
            } else {
                w(print_table(&mut out, &list))?;
            }
        }
        Command::Refresh { name } => {
            let v = kp.refresh(&name)?;
            w(writeln!(out, "{}: {}", v.name, v.status_text))?;
        }
        Command::Test { name } => {
            let r = kp.test(&name)?;
            w(writeln!(out, "{}", r.summary))?;
            if !r.ok {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Revoke { name, force } => {
            let r = kp.revoke(&name, force)?;
            for s in &r.vendor_steps {
                w(writeln!(out, "{s}"))?;
            }
            if let Some(steps) = r.manual_steps {
                w(writeln!(out, "\nAt the vendor: {steps}"))?;
            }
        }
        Command::Add(a) => {
            let vendor = VendorId::parse(&a.vendor)?;
            if vendor.kind() != keyport_engine::Kind::Manual {
                return Err(Error::InvalidInput(format!(
                    "{} connects with OAuth: use `keyport connect {}`.",
                    vendor.label(),
                    vendor.slug()
                )));
            }
            if let Some(warning) = vendor.add_warning() {
                eprintln!("Note: {warning}");
            }
            let mut input = Input::new();
            let mut req = ManualRequest {
                name: a.name,
                vendor,
                base_url: a.base_url,
                expires: a.expires,
                test_path: a.test_path,
                company_file: a.company_file,
                note: a.note,
                token: None,
                username: None,
                password: None,
                api_key: None,
                replace: a.replace,
            };
            for field in vendor.manual_fields() {
                let (env, slot) = match field {
                    ManualField::Token => (a.token_env.as_deref(), &mut req.token),
                    ManualField::Username => (a.username_env.as_deref(), &mut req.username),
                    ManualField::Password => (a.password_env.as_deref(), &mut req.password),
                    ManualField::ApiKey => (a.key_env.as_deref(), &mut req.api_key),
                };
                *slot = input.secret(field.prompt(vendor), env)?;
            }
            let v = kp.add_manual(req)?;
            w(writeln!(
                out,
                "Added '{}' ({}): {}.",
                v.name, v.vendor_label, v.status_text
            ))?;
            for warning in &v.warnings {
                w(writeln!(out, "Warning: {}", warning.message))?;
            }
        }
        Command::SetToken {
            name,
            expires,
            token_env,
        } => {
            let view = kp.view(&name)?;
            let mut input = Input::new();
            let token = input
                .secret(&format!("New token for '{name}'"), token_env.as_deref())?
                .ok_or_else(|| Error::InvalidInput("No token was given.".into()))?;
            let v = kp.set_token(&view.name, token, expires)?;
            w(writeln!(out, "Updated '{}': {}.", v.name, v.status_text))?;
        }
        Command::Vendors => {
            for v in VendorId::ALL {
                let kind = match v.kind() {
                    keyport_engine::Kind::OAuth => "connect (OAuth)",
                    keyport_engine::Kind::Manual => "add (admin-issued token)",
                };
                w(writeln!(out, "{:<14} {:<28} {kind}", v.slug(), v.label()))?;
            }
        }
        Command::Connect(c) => return connect(&kp, c, &mut out),
        #[cfg(unix)]
        Command::Agent => {
            eprintln!(
                "Serving tokens on {} (Ctrl-C to stop).",
                keyport_engine::agent::socket_path(kp.config_dir()).display()
            );
            keyport_engine::agent::serve(&kp)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn connect(kp: &Keyport, c: args::Connect, out: &mut impl Write) -> Result<ExitCode, Error> {
    let mut input = Input::new();
    let window = Duration::from_secs(c.window);
    let setup = match c.vendor {
        ConnectVendor::Myob(m) => {
            let secret = input.required_secret("MYOB API secret", m.secret_env.as_deref())?;
            let cf_password = input.secret_optional(
                "Company-file password (empty for none)",
                m.cf_password_env.as_deref(),
            )?;
            Setup::Myob(MyobSetup {
                client_id: m.client_id,
                client_secret: secret,
                redirect_uri: m.redirect_uri,
                scopes: m.scopes,
                auth_base: m.auth_base,
                api_base: m.api_base,
                cf_username: m.cf_user,
                cf_password,
            })
        }
        ConnectVendor::MyobAdvanced(a) => {
            let secret =
                input.required_secret("MYOB Advanced client secret", a.secret_env.as_deref())?;
            Setup::Advanced(AdvancedSetup {
                instance_url: a.instance,
                client_id: a.client_id,
                client_secret: secret,
                redirect_uri: a.redirect_uri,
                scopes: a.scopes,
                chain_days: a.chain_days,
            })
        }
        ConnectVendor::Oidc(o) => {
            let auth = match o.client_auth.as_str() {
                "post" => ClientAuth::Post,
                "basic" => ClientAuth::Basic,
                "none" => ClientAuth::None,
                other => {
                    return Err(Error::InvalidInput(format!(
                        "--client-auth '{other}' is not one of post, basic, none."
                    )))
                }
            };
            let secret = if auth == ClientAuth::None {
                None
            } else {
                Some(input.required_secret("Client secret", o.secret_env.as_deref())?)
            };
            let extra = o
                .param
                .iter()
                .map(|p| {
                    p.split_once('=')
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .ok_or_else(|| {
                            Error::InvalidInput(format!("--param '{p}' must look like key=value."))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Setup::Oidc(OidcSetup {
                issuer: o.issuer,
                authorize_url: o.authorize_url,
                token_url: o.token_url,
                revocation_url: o.revocation_url,
                client_id: o.client_id,
                client_secret: secret,
                client_auth: auth,
                redirect_uri: o.redirect_uri,
                scopes: o.scopes,
                extra_params: extra,
                test_url: o.test_url,
            })
        }
    };
    let mut pending = kp.begin_connect(ConnectRequest {
        name: c.name,
        remember_secret: true,
        replace: c.replace,
        window,
        setup,
    })?;
    eprintln!("Sign in at {} and allow access:", pending.vendor().label());
    eprintln!("  {}", pending.authorize_url());
    if !c.no_browser {
        if let Err(e) = browser::open(pending.authorize_url()) {
            eprintln!("{e}");
        }
    }
    let callback = wait_for_callback(&mut pending, &mut input)?;
    eprintln!();
    let view = kp.finish_connect(pending, callback)?;
    writeln!(
        out,
        "Connected '{}' ({}): {}.",
        view.name, view.vendor_label, view.status_text
    )
    .ok();
    if let Some(account) = &view.account {
        writeln!(out, "Account: {account}").ok();
    }
    Ok(ExitCode::SUCCESS)
}

fn wait_for_callback(pending: &mut PendingConnect, input: &mut Input) -> Result<Callback, Error> {
    if !pending.is_loopback() {
        eprintln!(
            "The registered redirect URI ({}) is not on this computer. After you allow access, copy the address the browser lands on and paste it here (within {}).",
            pending.redirect_uri(),
            time::human_span(pending.expires_at() - time::now())
        );
        let line = input.line("Paste the URL you landed on")?;
        return pending.accept_pasted(&line);
    }
    let tty = std::io::stderr().is_terminal();
    let target = pending.redirect_uri().to_owned();
    let cancel = Cancel::default();
    let mut on_event = |e: WaitEvent| match e {
        WaitEvent::Tick(left) if tty => {
            eprint!(
                "\rWaiting for the browser on {} — {}:{:02} left (Ctrl-C to cancel) ",
                target,
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
    pending.wait(&cancel, &mut on_event)
}

fn print_table(out: &mut impl Write, list: &[ConnectionView]) -> std::io::Result<()> {
    if list.is_empty() {
        writeln!(out, "No connections yet. Connect one with `keyport connect myob --name NAME …`, or add an admin-issued token with `keyport add VENDOR --name NAME`.")?;
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
            v.vendor.slug(),
            status.replace('_', " "),
            left,
            v.account.as_deref().unwrap_or("-")
        )?;
        for warning in &v.warnings {
            writeln!(out, "  ! {}", warning.message)?;
        }
        if v.status == keyport_engine::Status::NeedsReconnect
            || v.status == keyport_engine::Status::RefreshFailed
        {
            writeln!(out, "  ! {}", v.status_text)?;
        }
    }
    Ok(())
}
