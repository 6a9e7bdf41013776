//! MYOB AccountRight desktop company files on the local API. Source: seeds 001.
//!
//! - No OAuth: every call carries `x-myobapi-cftoken` (base64 of company-file
//!   user:password) and `x-myobapi-version: v2`.
//! - The local API server, `http://localhost:8080` by default; the cheap read is the
//!   company file's root, `GET /accountright/{company file id}/`.

use super::{common, join, need, Detail, Field, Header, Probe, Slot, Values, Vendor};
use crate::http::b64_pair;
use crate::model::Secrets;
use crate::model::{Account, Connection};
use crate::secret::ExposeSecret;
use crate::Result;

pub struct MyobDesktop;

static FIELDS: &[Field] = &[
    common::base_url("The AccountRight API server on this computer or network.")
        .default("http://localhost:8080"),
    Field::text(
        "company_file",
        "company-file",
        "Company file ID",
        "The company file's id from GET /accountright/ (Test reads that file).",
    ),
    Field::secret(
        "username",
        "username-env",
        Slot::Username,
        "Company-file user name",
        "An AccountRight user of that file.",
    )
    .unmasked()
    .required(),
    Field::secret(
        "password",
        "password-env",
        Slot::Password,
        "Company-file password",
        "Empty when the user has none.",
    )
    .placeholder("(empty for none)"),
];

impl Vendor for MyobDesktop {
    fn id(&self) -> &'static str {
        "myob-desktop"
    }
    fn label(&self) -> &'static str {
        "MYOB AccountRight (desktop)"
    }
    fn summary(&self) -> &'static str {
        "A company-file user and password for the AccountRight API on this computer."
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    fn default_base(&self) -> Option<&'static str> {
        Some("http://localhost:8080")
    }

    fn headers(&self, conn: &Connection, s: &Secrets) -> Result<Vec<Header>> {
        let user = need(&s.username, conn, "user name")?.expose_secret();
        let pass = s.password.as_ref().map(|p| p.expose_secret()).unwrap_or("");
        Ok(vec![
            Header::new("x-myobapi-cftoken", b64_pair(user, pass)).env("MYOB_CFTOKEN"),
            Header::new("x-myobapi-version", "v2"),
        ])
    }

    fn probe(&self, conn: &Connection) -> Result<Probe> {
        let path = match &conn.account.business_id {
            Some(cf) => format!("accountright/{cf}/"),
            None => "accountright/".to_owned(),
        };
        Ok(Probe::get(join(super::base(self, conn)?, &path)))
    }

    fn context(&self, c: &Connection) -> Vec<Detail> {
        Detail::of(
            "business_id",
            "Company file ID",
            "MYOB_BUSINESS_ID",
            c.account.business_id.as_deref(),
        )
        .into_iter()
        .collect()
    }

    fn admin_form(&self, conn: &Connection) -> std::collections::BTreeMap<String, String> {
        let mut v = super::standard_admin_form(FIELDS, conn);
        if let Some(cf) = &conn.account.business_id {
            v.insert("company_file".into(), cf.clone());
        }
        v
    }

    fn admin_account(&self, values: &Values) -> Account {
        Account {
            business_id: values.get("company_file").map(str::to_owned),
            ..Account::default()
        }
    }

    fn revoke_note(&self) -> &'static str {
        "These are company-file credentials: change the user's password (or remove the user) in AccountRight under Setup → User Access to stop them working."
    }
    fn revoke_steps(&self) -> Option<&'static str> {
        Some(self.revoke_note())
    }
    fn reissue_steps(&self) -> Option<&'static str> {
        Some("Change the company-file user's password in AccountRight (Setup → User Access), then add the connection again with the new password.")
    }
}
