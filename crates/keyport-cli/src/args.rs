//! The command line, read in two stages as ripgrep does: clap reads the words (the fixed
//! commands by derive; `connect` and `add` built from the vendors' fields, so a vendor's
//! flags and their help come from its own file), then [`crate::forms`] turns a vendor's
//! flags into the engine's [`keyport_engine::Form`]. Secrets are never options: a secret
//! field's flag names an environment variable, or the value comes from a hidden prompt or
//! standard input.

use clap::{Arg, ArgAction, Command as ClapCommand, CommandFactory, Parser, Subcommand};
use keyport_engine::{vendors::Input, Keyport, Kind, VendorInfo};

const AFTER_HELP: &str = "\
Secrets are read from a named environment variable (--secret-env VAR and the like), from a
hidden prompt on a terminal, or one per line from standard input. They are never arguments.

Files: metadata in $KEYPORT_CONFIG_DIR (default ~/.config/keyport/connections.json);
secrets in the OS keychain under service $KEYPORT_KEYCHAIN_SERVICE (default \"keyport\").
$BROWSER is used to open sign-in pages. While the desktop app (or `keyport agent`) runs,
`keyport token` is answered from its memory over $KEYPORT_CONFIG_DIR/agent.sock.

Exit codes:
  0  success
  1  `keyport test`: the vendor refused the credentials
  2  bad input or usage
  3  no such connection
  4  the keychain is unavailable, locked or its entry is damaged
  5  the connection must be connected again (refresh token refused or expired)
  6  the vendor refused a request or sent something unreadable
  7  the vendor could not be reached
  8  the sign-in did not complete (denied, timed out, wrong state or issuer, port busy)
  9  the metadata file could not be read or written
 11  `keyport api`: the vendor answered HTTP 4xx
 12  `keyport api`: the vendor answered HTTP 5xx
     (`keyport api` exits 1 for any other answer that is not 2xx)";

#[derive(Parser)]
#[command(name = "keyport", version, about = "Gets, keeps and hands out API tokens for ERP, accounting and logistics systems.", after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// List connections with status and time left.
    List {
        /// Machine-readable output (no secrets).
        #[arg(long)]
        json: bool,
    },
    /// Print a valid access token, refreshing it first when it is about to expire.
    Token {
        name: String,
        /// Refresh when fewer than this many seconds are left.
        #[arg(long, default_value_t = keyport_engine::DEFAULT_MIN_VALID,
              value_parser = clap::value_parser!(i64).range(0..=keyport_engine::MAX_MIN_VALID))]
        min_valid: i64,
    },
    /// Print the vendor's full header set, one `Name: value` per line.
    Headers {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Print a curl command that reads the header set from `keyport headers` (no secret in it).
    Curl {
        name: String,
        /// A path under the connection's base URL, or a full URL (default: the vendor's cheap read).
        path: Option<String>,
        /// Arguments for curl after `--` (e.g. -- -X POST -d @body.json), appended quoted.
        #[arg(last = true, value_name = "CURL-ARGS")]
        curl_args: Vec<String>,
    },
    /// Send a request to the connection's API with its credentials and print the answer.
    Api(crate::api::ApiArgs),
    /// Serve the connection's API on 127.0.0.1 with its credentials added, for tools that
    /// cannot run a command (Postman, Insomnia, Power Query).
    Proxy(crate::proxy::ProxyArgs),
    /// Refresh the access token now.
    Refresh { name: String },
    /// Call the vendor's cheap read endpoint with the stored credentials.
    Test { name: String },
    /// Revoke at the vendor where it has a way, then delete the connection here.
    Revoke {
        name: String,
        /// Remove it here even when the vendor cannot be reached or refuses.
        #[arg(long)]
        force: bool,
    },
    /// Replace an admin-issued token after issuing a new one at the vendor.
    SetToken {
        name: String,
        /// The new token's last day, YYYY-MM-DD.
        #[arg(long)]
        expires: Option<String>,
        /// Read the token from this environment variable.
        #[arg(long, value_name = "VAR")]
        token_env: Option<String>,
    },
    /// List the vendors Keyport knows.
    Vendors,
    /// Refreshes in a process of its own, so that a rotated refresh token reaches the
    /// keychain even when the command that asked is killed (used by the other commands).
    #[command(hide = true)]
    RefreshHelper {
        name: String,
        #[arg(long)]
        min_valid: i64,
        #[arg(long)]
        force: bool,
    },
    /// Keep tokens in memory and serve `keyport token` over a user-only socket (the
    /// desktop app does this while it runs).
    #[cfg(unix)]
    Agent {
        /// Ask before each token leaves the agent: a program that allows by exiting 0, given
        /// the question as its last argument, e.g. "zenity --question --text".
        #[arg(long, value_name = "PROGRAM")]
        confirm: Option<String>,
        /// Tell the running agent to forget every token and answer no more until unlocked
        /// (`keyport token` then reads the keychain itself).
        #[arg(long, conflicts_with_all = ["unlock", "confirm"])]
        lock: bool,
        /// Tell a locked agent to serve again.
        #[arg(long, conflicts_with = "confirm")]
        unlock: bool,
    },
}

/// The whole command line: the fixed commands, plus `connect VENDOR` for each OAuth
/// vendor and `add VENDOR` for each vendor whose tokens come from an admin screen.
pub fn command() -> ClapCommand {
    let vendors = Keyport::vendors();
    let per_vendor = |kind: Kind| {
        vendors
            .iter()
            .filter(move |v| v.kind == kind)
            .map(vendor_command)
            .collect::<Vec<_>>()
    };
    let connect = ClapCommand::new("connect")
        .about("Sign in at a vendor with OAuth 2.0 in your browser and store the tokens.")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(name_arg().global(true))
        .arg(
            Arg::new("window")
                .long("window")
                .global(true)
                .value_name("SECONDS")
                .value_parser(clap::value_parser!(u64).range(1..=3600))
                .default_value("300")
                .help("How long to wait for the browser, in seconds."),
        )
        .arg(
            flag(
                "no-browser",
                "Print the sign-in URL instead of opening a browser.",
            )
            .global(true),
        )
        .arg(
            flag(
                "replace",
                "Replace an existing connection of the same name (reconnect); once the new sign-in is stored, the old one is revoked at the vendor where it can be.",
            )
            .global(true),
        )
        .subcommands(per_vendor(Kind::Oauth));
    let add = ClapCommand::new("add")
        .about("Store a token issued in a vendor's admin screen.")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(name_arg().global(true))
        .arg(
            Arg::new("note")
                .long("note")
                .global(true)
                .help("Who or what the token is for (shown in the list)."),
        )
        .arg(
            flag(
                "replace",
                "Replace an existing connection of the same name.",
            )
            .global(true),
        )
        .subcommands(per_vendor(Kind::Admin));
    Cli::command().subcommand(connect).subcommand(add)
}

fn name_arg() -> Arg {
    Arg::new("name")
        .long("name")
        .default_value("")
        .hide_default_value(true)
        .help("A unique name for this connection (letters, digits, '-', '_', '.').")
}

fn flag(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name)
        .long(name)
        .action(ArgAction::SetTrue)
        .help(help)
}

fn vendor_command(v: &VendorInfo) -> ClapCommand {
    let mut about = v.summary.to_owned();
    if let Some(w) = v.warning {
        about = format!("{about}\n\n{w}");
    }
    let mut cmd = ClapCommand::new(v.id).about(v.label).long_about(about);
    for f in v.fields {
        let env_flag = crate::forms::from_env(f);
        let mut help = f.help.to_owned();
        if env_flag {
            help = format!("{}: the environment variable that holds it (else a hidden prompt or a line of standard input). {help}", f.label);
        } else {
            help = format!("{}. {help}", f.label);
        }
        if let Some(d) = f.default {
            help.push_str(&format!(" [default: {d}]"));
        }
        let mut arg = Arg::new(f.key).long(f.cli).help(help);
        arg = match (env_flag, f.input) {
            (true, _) => arg.value_name("VAR"),
            (false, Input::Lines) => arg.action(ArgAction::Append).value_name("KEY=VALUE"),
            (false, Input::Choice) => {
                arg.value_parser(f.choices.iter().map(|(k, _)| *k).collect::<Vec<_>>())
            }
            (false, Input::Url) => arg.value_name("URL"),
            (false, Input::Date) => arg.value_name("YYYY-MM-DD"),
            (false, Input::Number) => arg.value_name("N"),
            (false, Input::Text) => arg,
        };
        cmd = cmd.arg(arg);
    }
    cmd
}
