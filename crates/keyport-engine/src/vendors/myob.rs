//! MYOB Business API (AccountRight online, MYOB Business). Sources: the MYOB
//! authentication document (seeds 001) and the facts found since (seeds README).
//!
//! - Authorize at `{auth base}/oauth2/account/authorize`; the code exchange and refresh are
//!   both a form POST to `{auth base}/oauth2/v1/authorize` (parameters in the body), with
//!   `scope` sent again at the exchange. Access tokens live 20 minutes (`expires_in` comes
//!   as a string, "1200"); codes live 2–5 minutes.
//! - `prompt=consent` makes MYOB add `businessId` (the company file GUID) and
//!   `businessName` to the redirect: for keys made after 12 March 2025 the only place the
//!   GUID is given. The token response names the my.MYOB user (`user.uid`, `username`).
//! - Keys before 12 March 2025 use the scope `CompanyFile`; newer keys space-separated
//!   `sme-*` scopes. Company-file admins approve per file, again every year.
//! - The redirect URI must match exactly (a trailing `/` is a common mistake); MYOB
//!   suggests `http://desktop` for desktop apps, where the person pastes the landing URL.
//! - Every API call carries the bearer token, `x-myobapi-key` (the API key),
//!   `x-myobapi-version: v2` and `x-myobapi-cftoken` (base64 of company-file user:password,
//!   `Administrator` with an empty password by default).
//! - The cheap read is the company file's root, `GET /accountright/{businessId}/`
//!   (new keys can no longer list files at `/accountright/`).
//! - Lists answer `{"Items": [...], "NextPageLink": "https://…" or null, "Count": N}`
//!   (OData `$top`, default 400, at most 1000, and `$skip`).
//! - No revocation endpoint: revoking is local, plus removing the app in my.MYOB.

use super::{
    common, join, need, Deadline, Detail, Endpoints, Field, Header, Input, OAuth, Pkce, Plan,
    Probe, Slot, TokenExtras, Values, Vendor,
};
use crate::error::ActionKind;
use crate::http::b64_pair;
use crate::model::Secrets;
use crate::model::{Account, ClientAuth, Connection};
use crate::secret::ExposeSecret;
use crate::Result;
use std::collections::BTreeMap;

const AUTH_BASE: &str = "https://secure.myob.com";
const API_BASE: &str = "https://api.myob.com";
const API_VERSION: &str = "v2";
const DEFAULT_CF_USER: &str = "Administrator";
/// Company-file admins approve the app again every year.
const RECONSENT_DAYS: i64 = 365;

pub struct Myob;

static FIELDS: &[Field] = &[
    common::client_id("API key", "The key of your app at my.myob.com (Developer → API keys)."),
    common::client_secret("API secret"),
    common::redirect_uri("Exactly as registered with the API key, including the port and any trailing slash. A 127.0.0.1 address lets Keyport catch the redirect itself; for any other (e.g. http://desktop) you paste the address you land on.").required(),
    common::scopes("CompanyFile", "CompanyFile for keys made before 12 March 2025; newer keys need the sme-* scopes they were granted, space-separated (e.g. sme-company-file sme-sales)."),
    Field::secret("cf_username", "cf-user", Slot::Username, "Company-file user", "The AccountRight company-file user for x-myobapi-cftoken.")
        .unmasked()
        .default(DEFAULT_CF_USER),
    Field::secret("cf_password", "cf-password-env", Slot::Password, "Company-file password", "Empty when the company-file user has none.")
        .placeholder("(none)"),
    Field::text("auth_base", "auth-base", "Sign-in base URL", "Only for a sandbox or a test server.")
        .input(Input::Url)
        .placeholder(AUTH_BASE)
        .advanced()
        .remember(),
    Field::text("api_base", "api-base", "API base URL", "Only for a sandbox or a test server.")
        .input(Input::Url)
        .placeholder(API_BASE)
        .advanced()
        .remember(),
];

impl Vendor for Myob {
    fn id(&self) -> &'static str {
        "myob"
    }
    fn label(&self) -> &'static str {
        "MYOB Business API"
    }
    fn summary(&self) -> &'static str {
        "OAuth 2.0 at secure.myob.com: a 20-minute access token and a refresh token; a company-file admin approves, yearly."
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    fn oauth(&self) -> Option<&dyn OAuth> {
        Some(self)
    }
    fn default_base(&self) -> Option<&'static str> {
        Some(API_BASE)
    }

    fn headers(&self, conn: &Connection, s: &Secrets) -> Result<Vec<Header>> {
        let key = conn
            .oauth
            .as_ref()
            .map(|o| o.client_id.as_str())
            .unwrap_or_default();
        let user = s
            .username
            .as_ref()
            .map(|u| u.expose_secret())
            .unwrap_or(DEFAULT_CF_USER);
        let pass = s.password.as_ref().map(|p| p.expose_secret()).unwrap_or("");
        Ok(vec![
            Header::bearer(need(&s.access_token, conn, "access token")?),
            Header::new("x-myobapi-key", key),
            Header::new("x-myobapi-version", API_VERSION).env("MYOB_API_VERSION"),
            Header::new("x-myobapi-cftoken", b64_pair(user, pass)).env("MYOB_CFTOKEN"),
        ])
    }

    fn context(&self, c: &Connection) -> Vec<Detail> {
        let a = &c.account;
        let o = c.oauth.as_ref();
        [
            Detail::of(
                "business_id",
                "Company file ID",
                "MYOB_BUSINESS_ID",
                a.business_id.as_deref(),
            ),
            Detail::of(
                "business_name",
                "Company file",
                "MYOB_BUSINESS_NAME",
                a.business_name.as_deref(),
            ),
            Detail::of(
                "username",
                "my.MYOB user",
                "MYOB_USERNAME",
                a.username.as_deref(),
            ),
            Detail::of("uid", "my.MYOB user ID", "MYOB_UID", a.uid.as_deref()),
            Detail::of(
                "api_key",
                "API key",
                "MYOB_API_KEY",
                o.map(|o| o.client_id.as_str()),
            ),
            Detail::of(
                "scopes",
                "Granted scopes",
                "MYOB_SCOPES",
                o.map(|o| o.scopes.as_str()),
            ),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn probe(&self, conn: &Connection) -> Result<Probe> {
        let base = conn.base_url.as_deref().unwrap_or(API_BASE);
        let path = match &conn.account.business_id {
            Some(id) => format!("accountright/{id}/"),
            None => "accountright/".into(),
        };
        Ok(Probe::get(join(base, &path)))
    }

    fn deadlines(&self, conn: &Connection) -> Vec<Deadline> {
        let mut out = super::standard_deadlines(conn);
        if let Some(t) = conn.consented_at {
            out.push(Deadline {
                at: t + RECONSENT_DAYS * 86_400,
                what: "MYOB's yearly consent ends",
                todo: "a company-file admin must approve the app again",
                action: ActionKind::Reconnect,
            });
        }
        out
    }

    fn revoke_note(&self) -> &'static str {
        "MYOB has no revocation endpoint: Keyport deletes the tokens from this computer. To end the app's access at MYOB too, remove it from the apps with access to your business in my.MYOB (a company-file administrator can do this per file)."
    }

    fn next_page(&self) -> Option<super::NextPage> {
        Some(|body| {
            body.get("NextPageLink")
                .and_then(|l| l.as_str())
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
        })
    }

    fn revoke_steps(&self) -> Option<&'static str> {
        Some("remove the app from the apps with access to your business in my.MYOB (a company-file administrator can do this per file).")
    }
}

impl OAuth for Myob {
    fn plan(&self, v: &Values) -> Result<Plan> {
        let auth = v
            .get("auth_base")
            .unwrap_or(AUTH_BASE)
            .trim_end_matches('/');
        Ok(Plan {
            endpoints: Endpoints::Fixed {
                authorize: join(auth, "oauth2/account/authorize"),
                token: join(auth, "oauth2/v1/authorize"),
                revocation: None,
            },
            client_id: v.get("client_id").unwrap_or_default().to_owned(),
            client_auth: ClientAuth::Post,
            redirect_uri: v.get("redirect_uri").map(str::to_owned),
            scopes: v.get("scopes").unwrap_or("CompanyFile").to_owned(),
            authorize_extra: vec![("prompt".into(), "consent".into())],
            scope_in_exchange: true,
            pkce: Pkce::Never,
            chain_days: None,
            logout_url: None,
            base_url: Some(
                v.get("api_base")
                    .unwrap_or(API_BASE)
                    .trim_end_matches('/')
                    .to_owned(),
            ),
            test_path: None,
            authority: Some(auth.to_owned()),
        })
    }

    fn capture(&self, redirect: &BTreeMap<String, String>, token: &TokenExtras) -> Account {
        let (uid, username) = token.user.clone().unwrap_or_default();
        Account {
            business_id: redirect.get("businessId").cloned(),
            business_name: redirect.get("businessName").cloned(),
            username,
            uid,
            ..Account::default()
        }
    }
}
