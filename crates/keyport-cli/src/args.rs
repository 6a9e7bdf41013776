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
With --store (or $KEYPORT_STORE) connections live in an OpenBao / Vault KV v2 mount
instead, logged in with $BAO_TOKEN (or $VAULT_TOKEN), or AppRole ($BAO_ROLE_ID and
$BAO_SECRET_ID); $BAO_NAMESPACE (or $VAULT_NAMESPACE) where the server has namespaces.
$BROWSER is used to open sign-in pages. While the desktop app (or `keyport agent`) runs,
`keyport token` is answered from its memory over $KEYPORT_CONFIG_DIR/agent.sock.

Exit codes:
  0  success
  1  `keyport test`: the vendor refused the credentials; `keyport revoke`: you answered no
  2  bad input or usage
  3  no such connection
  4  the keychain is unavailable, locked or its entry is damaged
  5  the connection must be connected again (refresh token refused or expired)
  6  the vendor refused a request or sent something unreadable
  7  the vendor could not be reached
  8  the sign-in did not complete (denied, timed out, wrong state or issuer, port busy)
  9  the metadata file could not be read or written
 10  `keyport token`: the token was printed and works, but its connection is failing (it
     needs a new sign-in or token, or its last refresh failed); stderr says what to do

 11  `keyport api`: the vendor answered HTTP 4xx
 12  `keyport api`: the vendor answered HTTP 5xx
     (`keyport api` exits 1 for any other answer that is not 2xx)
 13  the shared store refused the login, lacks the mount, is KV version 1 or is out of reach";

#[derive(Parser)]
#[command(name = "keyport", version, about = "Gets, keeps and hands out API tokens for ERP, accounting and logistics systems.", after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Keep connections in a shared store instead of this computer's keychain (no
    /// keychain, no metadata file): bao://127.0.0.1:8200/MOUNT/PREFIX, or
    /// baos://HOST:PORT/MOUNT/PREFIX over TLS. Default: $KEYPORT_STORE.
    #[arg(long, global = true, value_name = "ADDRESS")]
    pub store: Option<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// List connections with status and time left.
    List {
        /// Only the connections of this client (customer).
        #[arg(long, value_name = "CLIENT")]
        client: Option<String>,
        /// Machine-readable output: every non-secret field of each connection.
        #[arg(long)]
        json: bool,
    },
    /// Show one connection: its account (company file, tenant, user, issuer, scopes),
    /// status, deadlines and app registration. Never a secret.
    Show {
        /// The connection's name (`keyport list` shows them).
        name: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Print a valid access token, refreshing it first when it is about to expire.
    Token {
        /// The connection's name.
        name: String,
        /// Refresh when fewer than this many seconds are left.
        #[arg(long, default_value_t = keyport_engine::DEFAULT_MIN_VALID,
              value_parser = clap::value_parser!(i64).range(0..=keyport_engine::MAX_MIN_VALID))]
        min_valid: i64,
        /// Machine-readable output: {"token", "expires_at", "warning"}.
        #[arg(long)]
        json: bool,
    },
    /// Print the vendor's full header set, one `Name: value` per line.
    Headers {
        /// The connection's name.
        name: String,
        /// One JSON object of header names and values.
        #[arg(long)]
        json: bool,
    },
    /// Print a curl command that reads the header set from `keyport headers` (no secret in it).
    Curl {
        /// The connection's name.
        name: String,
        /// A path under the connection's base URL, or a full URL (default: the vendor's cheap read).
        path: Option<String>,
        /// Arguments for curl after `--` (e.g. -- -X POST -d @body.json), appended quoted.
        #[arg(last = true, value_name = "CURL-ARGS")]
        curl_args: Vec<String>,
    },
    /// Send a request to the connection's API with its credentials and print the answer.
    Api(crate::cmd::api::ApiArgs),
    /// Serve the connection's API on 127.0.0.1 with its credentials added, for tools that
    /// cannot run a command (Postman, Insomnia, Power Query).
    Proxy(crate::cmd::proxy::ProxyArgs),
    /// Refresh the access token now.
    Refresh {
        /// The connection's name.
        name: String,
        /// Machine-readable output: the connection after the refresh.
        #[arg(long)]
        json: bool,
    },
    /// Call the vendor's cheap read endpoint with the stored credentials.
    Test {
        /// The connection's name.
        name: String,
        /// Machine-readable output: ok, status, url, summary.
        #[arg(long)]
        json: bool,
    },
    /// Sign in again under the same name with the saved app registration and secrets:
    /// only the browser step (and a prompt for a secret that was never saved).
    Reconnect {
        /// The connection's name.
        name: String,
        /// Print the sign-in URL instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
        /// How long to wait for the browser, in seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 300,
              value_parser = clap::value_parser!(u64).range(1..=3600))]
        window: u64,
        /// Machine-readable output: the connection once it is signed in.
        #[arg(long)]
        json: bool,
    },
    /// Change a connection's note, client, base URL, test path or expiry; no secret is
    /// asked for or changed. An empty value clears it.
    #[command(group = clap::ArgGroup::new("change").required(true).multiple(true)
        .args(["note", "client", "base_url", "test_path", "expires"]))]
    Edit {
        /// The connection's name.
        name: String,
        /// Who or what the connection is for.
        #[arg(long)]
        note: Option<String>,
        /// The client (customer) it works for.
        #[arg(long)]
        client: Option<String>,
        /// The API's base URL (https://…).
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// The path or URL `keyport test` reads.
        #[arg(long, value_name = "PATH")]
        test_path: Option<String>,
        /// An admin-issued token's last day, YYYY-MM-DD.
        #[arg(long, value_name = "YYYY-MM-DD")]
        expires: Option<String>,
        /// Machine-readable output: the connection after the change.
        #[arg(long)]
        json: bool,
    },
    /// Revoke at the vendor where it has a way, then delete the connection here. Asks
    /// first on a terminal.
    Revoke {
        /// The connection's name.
        name: String,
        /// Remove it here even when the vendor cannot be reached or refuses.
        #[arg(long)]
        force: bool,
        /// Do not ask (for scripts; off a terminal Keyport never asks).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Machine-readable output: what was done at the vendor and what is left to do.
        #[arg(long)]
        json: bool,
    },
    /// Replace an admin-issued token after issuing a new one at the vendor.
    SetToken {
        /// The connection's name.
        name: String,
        /// The new token's last day, YYYY-MM-DD.
        #[arg(long, value_name = "YYYY-MM-DD")]
        expires: Option<String>,
        /// Read the token from this environment variable.
        #[arg(long, value_name = "VAR")]
        token_env: Option<String>,
    },
    /// Run a command with connections' values in its environment: KEYPORT_TOKEN,
    /// KEYPORT_BASE_URL, the account ids and header values the vendor names (e.g.
    /// MYOB_BUSINESS_ID, MYOB_API_KEY), and KEYPORT_TOKEN_FILE, a file Keyport rewrites
    /// before each expiry while the command runs (read it, not KEYPORT_TOKEN, in a job that
    /// outlives a token). The command's exit code is Keyport's.
    Exec {
        /// The connections; with more than one, each one's variables start with its name in
        /// capitals (ACME_KEYPORT_TOKEN…), or the prefix given with --prefix.
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
        /// A connection's variable prefix, NAME=PREFIX (e.g. acme=SRC_); repeatable.
        #[arg(long, value_name = "NAME=PREFIX")]
        prefix: Vec<String>,
        /// Keep no token file: run the command in Keyport's place, with the token as it is
        /// at start.
        #[arg(long)]
        no_keep_fresh: bool,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<std::ffi::OsString>,
    },
    /// Print connections' values as shell `export` lines, a .env file or JSON (the names
    /// `keyport exec` uses). The token is in it: keep the output private.
    Env {
        /// The connections; with more than one, each one's variables get its prefix.
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
        /// A connection's variable prefix, NAME=PREFIX; repeatable.
        #[arg(long, value_name = "NAME=PREFIX")]
        prefix: Vec<String>,
        /// sh: `export NAME='value'` lines for eval; dotenv: NAME='value' lines; json: one object.
        #[arg(long, value_enum, default_value_t = EnvFormat::Sh)]
        format: EnvFormat,
    },
    /// Fill `{{ keyport://NAME/FIELD }}` references in a template (as `op inject` does):
    /// FIELD is token, base_url, an account id (business_id, tenant, issuer…),
    /// header/HEADER-NAME or a variable name of `keyport env`.
    Inject {
        /// The template (default: standard input).
        #[arg(short = 'i', long = "in-file", value_name = "FILE")]
        input: Option<std::path::PathBuf>,
        /// Where the filled file goes, written 0600 (default: standard output).
        #[arg(short = 'o', long = "out-file", value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// Print the one value a `keyport://NAME/FIELD` reference names.
    Read {
        /// keyport://NAME/FIELD, e.g. keyport://acme/business_id.
        reference: String,
    },
    /// Show what happened to a connection: connected, refreshed, tested, copied, edited,
    /// revoked — when, whether it worked, and from where (window, command line, agent).
    Log {
        /// The connection's name.
        name: String,
        /// Machine-readable output: the events, oldest first.
        #[arg(long)]
        json: bool,
    },
    /// Write connections' metadata and app registrations to a file for another computer:
    /// names, vendors, clients, notes, base URLs, accounts, client IDs, redirect URIs and
    /// endpoints — never a token, client secret, password or key.
    Export {
        /// The connections (default: all).
        #[arg(value_name = "NAME")]
        names: Vec<String>,
        /// The file to write (0600; default: standard output).
        #[arg(short = 'o', long = "out-file", value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// Add the connections of an export file. No secret comes with them: each waits for
    /// `keyport reconnect NAME` (a new sign-in, or its admin-issued token). A name already
    /// here stops the import with nothing written, unless --skip or --rename.
    Import {
        /// The file `keyport export` wrote.
        file: std::path::PathBuf,
        /// Leave connections whose name is taken here as they are, and import the rest.
        #[arg(long, conflicts_with = "rename")]
        skip: bool,
        /// Import a connection whose name is taken here as NAME-2 (or the next free NAME-N).
        #[arg(long)]
        rename: bool,
        /// Machine-readable output: what was imported, under which names, and skipped.
        #[arg(long)]
        json: bool,
    },
    /// Write a connection as an API tool's environment: base_url and the account ids
    /// (company file, tenant, issuer…) as variables; the token only with --with-token.
    ExportEnv {
        /// The connection's name.
        name: String,
        /// The tool's format: a Postman environment (JSON), an Insomnia export (format 4,
        /// JSON) or a Bruno environment (.bru).
        #[arg(long, value_enum)]
        format: EnvToolArg,
        /// The file to write (default: standard output); 0600 when it holds the token.
        #[arg(short = 'o', long = "out-file", value_name = "FILE")]
        output: Option<std::path::PathBuf>,
        /// Put the token in it as well (a warning says so). Without it the token variable
        /// is there, empty (Bruno: declared secret), for you to fill in the tool.
        #[arg(long)]
        with_token: bool,
    },
    /// List the vendors Keyport knows.
    Vendors {
        /// Machine-readable output: each vendor with its fields.
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script: `keyport completions bash > ~/.local/share/bash-completion/completions/keyport`.
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
    /// Move a connection from this computer into a shared store (OpenBao / Vault KV v2):
    /// its refresh token then lives only there, and every computer with access refreshes
    /// it exactly once per expiry. Login from BAO_TOKEN (or BAO_ROLE_ID and BAO_SECRET_ID).
    Share {
        /// The connection's name.
        name: String,
        /// The shared store: bao://127.0.0.1:8200/MOUNT/PREFIX, or baos://HOST:PORT/MOUNT/PREFIX.
        #[arg(long, value_name = "ADDRESS")]
        to: String,
        /// Machine-readable output: the connection once it is shared.
        #[arg(long)]
        json: bool,
    },
    /// Bring a shared connection back into this computer's keychain (and remove it from
    /// the shared store).
    Unshare {
        /// The connection's name.
        name: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
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
    /// Keep tokens in memory, refresh them before they expire, and serve `keyport token`
    /// over a user-only socket (the desktop app does this while it runs).
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

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum EnvToolArg {
    Postman,
    Insomnia,
    Bruno,
}

impl From<EnvToolArg> for keyport_engine::EnvTool {
    fn from(t: EnvToolArg) -> Self {
        match t {
            EnvToolArg::Postman => keyport_engine::EnvTool::Postman,
            EnvToolArg::Insomnia => keyport_engine::EnvTool::Insomnia,
            EnvToolArg::Bruno => keyport_engine::EnvTool::Bruno,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum EnvFormat {
    Sh,
    Dotenv,
    Json,
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
        .arg(note_arg().global(true))
        .arg(client_arg().global(true))
        .arg(json_arg("the connection once it is signed in").global(true))
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
        .arg(note_arg().global(true))
        .arg(client_arg().global(true))
        .arg(json_arg("the connection once it is stored").global(true))
        .arg(
            flag(
                "replace",
                "Replace an existing connection of the same name.",
            )
            .global(true),
        )
        .arg(
            flag(
                "no-test",
                "Store the token without trying it at the vendor first (by default it is tried with the vendor's cheap read: refused when the vendor says unauthorised, stored as unverified when the vendor cannot be reached).",
            )
            .global(true),
        )
        .subcommands(per_vendor(Kind::Admin));
    Cli::command().subcommand(connect).subcommand(add)
}

fn name_arg() -> Arg {
    Arg::new("name")
        .long("name")
        .value_name("NAME")
        .default_value("")
        .hide_default_value(true)
        .help("A unique name for this connection (letters, digits, '-', '_', '.'). Required.")
}

fn note_arg() -> Arg {
    Arg::new("note")
        .long("note")
        .value_name("TEXT")
        .help("Who or what the connection is for (shown in the list).")
}

fn client_arg() -> Arg {
    Arg::new("client")
        .long("client")
        .value_name("CLIENT")
        .help("The client (customer) the connection works for, to group and filter by (`keyport list --client`).")
}

fn json_arg(what: &str) -> Arg {
    flag("json", "Machine-readable output.").long_help(format!("Machine-readable output: {what}."))
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
