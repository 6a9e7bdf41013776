//! The command line, as clap reads it. Secrets are never options: each has an
//! `--…-env VAR` naming an environment variable instead, or comes from the prompt/stdin.

use clap::{Args, Parser, Subcommand};

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
  9  the metadata file could not be read or written";

#[derive(Parser)]
#[command(name = "keyport", version, about = "Gets, keeps and hands out API tokens for ERP, accounting and logistics systems.", after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Sign in at a vendor with OAuth 2.0 in your browser and store the tokens.
    Connect(Connect),
    /// Store a token issued in a vendor's admin screen (Exo, Xentral, O4, MachShip, AccountRight desktop).
    Add(Add),
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
        #[arg(long, default_value_t = keyport_engine::DEFAULT_MIN_VALID)]
        min_valid: i64,
    },
    /// Print the vendor's full header set, one `Name: value` per line.
    Headers {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Print a ready-to-run curl command with the header set.
    Curl {
        name: String,
        /// A path under the connection's base URL, or a full URL (default: the vendor's cheap read).
        path: Option<String>,
    },
    /// Refresh the access token now.
    Refresh { name: String },
    /// Call the vendor's cheap read endpoint with the stored credentials.
    Test { name: String },
    /// Revoke at the vendor where it has a way, then delete the connection here.
    Revoke {
        name: String,
        /// Remove it locally even when the vendor cannot be reached or refuses.
        #[arg(long)]
        force: bool,
    },
    /// Replace an admin-issued token after re-issuing it at the vendor.
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
    /// Keep tokens in memory and serve `keyport token` over a user-only socket (the
    /// desktop app does this while it runs).
    #[cfg(unix)]
    Agent,
}

#[derive(Args)]
pub struct Connect {
    #[command(subcommand)]
    pub vendor: ConnectVendor,
    /// A unique name for this connection (letters, digits, '-', '_', '.').
    #[arg(long, global = true, default_value = "")]
    pub name: String,
    /// How long to wait for the browser, in seconds.
    #[arg(long, global = true, default_value_t = 300)]
    pub window: u64,
    /// Print the sign-in URL instead of opening a browser.
    #[arg(long, global = true)]
    pub no_browser: bool,
    /// Replace an existing connection of the same name (reconnect).
    #[arg(long, global = true)]
    pub replace: bool,
}

#[derive(Subcommand)]
pub enum ConnectVendor {
    /// MYOB Business API (AccountRight online). Reads the API secret, then the company-file password.
    Myob(MyobArgs),
    /// MYOB Advanced (Acumatica). Reads the client secret.
    MyobAdvanced(AdvancedArgs),
    /// Any OAuth 2.0 / OpenID Connect provider.
    Oidc(OidcArgs),
}

#[derive(Args)]
pub struct MyobArgs {
    /// The API key (client ID).
    #[arg(long)]
    pub client_id: String,
    /// The redirect URI exactly as registered with the key (a loopback one is served by
    /// Keyport; any other, such as http://desktop, means pasting the landing URL).
    #[arg(long)]
    pub redirect_uri: String,
    /// `CompanyFile` for keys made before 12 March 2025; space-separated `sme-*` scopes after.
    #[arg(long, default_value = "CompanyFile")]
    pub scopes: String,
    /// Company-file user for x-myobapi-cftoken.
    #[arg(long, default_value = "Administrator")]
    pub cf_user: Option<String>,
    #[arg(long, value_name = "VAR")]
    pub secret_env: Option<String>,
    #[arg(long, value_name = "VAR")]
    pub cf_password_env: Option<String>,
    /// Override https://secure.myob.com (a sandbox or the mock server).
    #[arg(long)]
    pub auth_base: Option<String>,
    /// Override https://api.myob.com.
    #[arg(long)]
    pub api_base: Option<String>,
}

#[derive(Args)]
pub struct AdvancedArgs {
    /// The instance URL, e.g. https://acme.myobadvanced.com.
    #[arg(long)]
    pub instance: String,
    /// `GUID@Company`, from the Connected Applications form (SM303010).
    #[arg(long)]
    pub client_id: String,
    #[arg(long)]
    pub redirect_uri: String,
    /// Default `api offline_access`; add `openid` or `api:concurrent_access` as needed.
    #[arg(long)]
    pub scopes: Option<String>,
    /// Length of the refresh-token chain in days (default 30; 0 when the instance has none).
    #[arg(long)]
    pub chain_days: Option<u32>,
    #[arg(long, value_name = "VAR")]
    pub secret_env: Option<String>,
}

#[derive(Args)]
pub struct OidcArgs {
    /// The issuer; endpoints come from its discovery document.
    #[arg(long)]
    pub issuer: Option<String>,
    #[arg(long)]
    pub authorize_url: Option<String>,
    #[arg(long)]
    pub token_url: Option<String>,
    #[arg(long)]
    pub revocation_url: Option<String>,
    #[arg(long)]
    pub client_id: String,
    /// post (secret in the body), basic (HTTP Basic) or none (public client with PKCE).
    #[arg(long, default_value = "post")]
    pub client_auth: String,
    /// Default: http://127.0.0.1:{free port}/callback.
    #[arg(long)]
    pub redirect_uri: Option<String>,
    #[arg(long, default_value = "openid offline_access")]
    pub scopes: String,
    /// An extra authorization parameter, key=value (repeatable), e.g. prompt=consent.
    #[arg(long)]
    pub param: Vec<String>,
    /// An API URL `keyport test` may read with the token.
    #[arg(long)]
    pub test_url: Option<String>,
    #[arg(long, value_name = "VAR")]
    pub secret_env: Option<String>,
}

#[derive(Args)]
pub struct Add {
    /// exo, xentral, o4, machship or myob-desktop.
    pub vendor: String,
    #[arg(long)]
    pub name: String,
    /// The API's base URL (Exo API server, Xentral or O4 instance, MachShip or AccountRight API).
    #[arg(long)]
    pub base_url: Option<String>,
    /// The token's last day, YYYY-MM-DD (O4 tokens have one; new Xentral tokens too).
    #[arg(long)]
    pub expires: Option<String>,
    /// O4: the path `keyport test` reads, e.g. /api/orderstatus.
    #[arg(long)]
    pub test_path: Option<String>,
    /// AccountRight desktop: the company file id.
    #[arg(long)]
    pub company_file: Option<String>,
    /// Who or what the token is for (shown in the list).
    #[arg(long)]
    pub note: Option<String>,
    #[arg(long)]
    pub replace: bool,
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
    #[arg(long, value_name = "VAR")]
    pub username_env: Option<String>,
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    #[arg(long, value_name = "VAR")]
    pub key_env: Option<String>,
}
