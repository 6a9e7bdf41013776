//! `keyport`: the command line on Keyport's engine. `main` answers `keyport token NAME`
//! from a running agent before anything else is built, then reads the command line
//! ([`args`]), runs the command ([`cmd`]) and words an error and its "what to do" as
//! commands ([`hints`]) with a documented exit code. Secrets come from standard input, a
//! hidden prompt or a named environment variable, never from arguments.

mod args;
mod cmd;
mod forms;
mod helper;
mod hints;
mod input;
mod out;

use keyport_engine::{Keyport, Settings};
use std::process::ExitCode;
use std::sync::Arc;

fn settings() -> Result<Settings, ExitCode> {
    Settings::from_vars(|k| std::env::var_os(k)).ok_or_else(|| {
        eprintln!("keyport: No configuration folder was found for this user (no HOME); set KEYPORT_CONFIG_DIR to a folder Keyport may use.");
        ExitCode::from(2)
    })
}

fn main() -> ExitCode {
    // The hot path of scripts, `keyport token NAME`, asks the agent before the command
    // line is even built.
    let mut asked_agent = false;
    let mut argv = std::env::args_os().skip(1);
    if let (Some(cmd), Some(name), None) = (argv.next(), argv.next(), argv.next()) {
        let name = name.to_str().filter(|n| !n.starts_with('-'));
        if let (true, Some(name)) = (cmd == "token", name) {
            let s = match settings() {
                Ok(s) => s,
                Err(code) => return code,
            };
            if let Some(code) = cmd::tokens::from_agent(&s, name, keyport_engine::DEFAULT_MIN_VALID)
            {
                return code;
            }
            asked_agent = true;
        }
    }
    let matches = args::command().get_matches();
    // `--store` is the same as KEYPORT_STORE, for this process and the helpers it starts.
    if let Some(store) = matches.get_one::<String>("store") {
        // SAFETY: no other thread runs yet (the runtime starts below).
        unsafe { std::env::set_var("KEYPORT_STORE", store) };
    }
    let mut settings = match settings() {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Some(("agent", _)) = matches.subcommand() {
        settings.source = keyport_engine::activity::Source::Agent;
    }
    if let (false, Some(("token", m))) = (asked_agent, matches.subcommand()) {
        if m.get_flag("json") {
            // The agent gives the token alone; the JSON also says when it expires.
            return run(settings, &matches);
        }
        let name = m.get_one::<String>("name").expect("required");
        let min_valid = *m.get_one::<i64>("min_valid").expect("defaulted");
        if let Some(code) = cmd::tokens::from_agent(&settings, name, min_valid) {
            return code;
        }
    }
    run(settings, &matches)
}

fn run(settings: Settings, matches: &clap::ArgMatches) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let kp = match Keyport::open(settings) {
        Ok(kp) => Arc::new(kp),
        Err(e) => {
            eprintln!("keyport: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    match runtime.block_on(cmd::run(&kp, matches)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("keyport: {e}");
            for hint in hints::hints(&kp, &e.actions(), &runtime) {
                eprintln!("  → {hint}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
