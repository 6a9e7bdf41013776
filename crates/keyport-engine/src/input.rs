//! The one input layer: a form (from the window, or built from the command line) becomes
//! a validated request, with the vendor's defaults and rules applied and secrets put in
//! their keychain slots. App registrations are remembered here too, keyed by vendor,
//! client ID and authority, so that a saved client secret only ever goes back to the
//! server it was saved for.

use crate::http::{checked_url, excerpt};
use crate::model::{validate_name, Account, ClientAuth, Registration};
use crate::secret::{secret, ExposeSecret, SecretString};
use crate::syntax::{self, Rule};
use crate::time::parse_date_end;
use crate::vendors::{self, Field, Input, Kind, Plan, Slot, Values, Vendor};
use crate::{Error, Keyport, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// What a person filled in. Empty strings mean "not given". No `Debug`: it carries secrets.
#[derive(Default, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Form {
    /// The vendor's id.
    pub vendor: String,
    pub name: String,
    /// Replace a connection of the same name (reconnect, or a new admin token).
    pub replace: bool,
    /// Keep the client secret with the remembered app registration.
    pub remember_secret: bool,
    /// Free text shown in the list.
    pub note: String,
    /// The client (customer) the connection works for.
    pub client: String,
    /// Store an admin-issued token without trying it at the vendor first.
    pub skip_test: bool,
    /// A reconnect: secrets the form leaves empty (client secret, company-file
    /// credentials…) are taken from the connection being replaced.
    pub reuse_secrets: bool,
    /// The vendor's fields, by key.
    pub values: BTreeMap<String, String>,
    /// How long to wait for the browser ([`crate::DEFAULT_WINDOW`] when `None`).
    #[serde(skip)]
    #[cfg_attr(feature = "specta", specta(skip))]
    pub window: Option<Duration>,
}

pub(crate) struct ConnectRequest {
    pub name: String,
    pub note: Option<String>,
    pub client: Option<String>,
    pub replace: bool,
    pub remember_secret: bool,
    pub vendor: &'static dyn Vendor,
    pub plan: Plan,
    pub values: Values,
    pub window: Duration,
}

pub(crate) struct AdminRequest {
    pub name: String,
    pub replace: bool,
    pub vendor: &'static dyn Vendor,
    pub base_url: String,
    pub expires_at: Option<i64>,
    pub test_path: Option<String>,
    pub account: Account,
    pub note: Option<String>,
    pub client: Option<String>,
    pub skip_test: bool,
    pub secrets: crate::model::Secrets,
}

/// Free text as given, `None` when empty.
fn text(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Applies the fields' rules to what was typed.
pub(crate) fn read(vendor: &dyn Vendor, given: &BTreeMap<String, String>) -> Result<Values> {
    let fields = vendor.fields();
    if let Some(unknown) = given
        .keys()
        .find(|k| !fields.iter().any(|f| f.key == k.as_str()))
    {
        let keys: Vec<_> = fields.iter().map(|f| f.key).collect();
        return Err(Error::input(format!(
            "'{}' is not a field of {}; its fields are {}.",
            excerpt(unknown),
            vendor.label(),
            keys.join(", ")
        )));
    }
    let mut values = Values::default();
    for f in fields {
        let raw = given.get(f.key).map(String::as_str).unwrap_or_default();
        // A password is taken as typed; everything else loses stray spaces and newlines.
        let rule = rule(f);
        let raw = match rule {
            Rule::Line => raw,
            Rule::Token => syntax::trim(raw),
            Rule::Plain | Rule::PlainLines => raw.trim(),
        };
        let value = match (raw.is_empty(), f.default) {
            (false, _) => raw.to_owned(),
            (true, Some(d)) => d.to_owned(),
            (true, None) if f.required => {
                return Err(Error::input(format!(
                    "The {} is required.",
                    lower_first(f.label)
                )))
            }
            (true, None) => continue,
        };
        syntax::check_input(&lower_first(f.label), rule, &value)?;
        check(f, &value)?;
        match f.slot {
            Some(slot) => *values.secrets.slot(slot) = Some(secret(value)),
            None => values.set(f.key, value),
        }
    }
    Ok(values)
}

/// What a field's value may contain: a secret that is a token (API token, client secret,
/// API key) is `1*VSCHAR`; a password is one line; anything else is plain text.
pub(crate) fn rule(f: &Field) -> Rule {
    match f.slot {
        Some(Slot::Token | Slot::ClientSecret | Slot::ApiKey) => Rule::Token,
        Some(Slot::Password) => Rule::Line,
        _ if f.input == Input::Lines => Rule::PlainLines,
        Some(Slot::Username) | None => Rule::Plain,
    }
}

fn lower_first(s: &str) -> String {
    // Keep acronyms ("API key", "ERP user") as they are.
    let mut c = s.chars();
    match (c.next(), c.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && b.is_lowercase() => {
            a.to_lowercase().chain(s.chars().skip(1)).collect()
        }
        _ => s.to_owned(),
    }
}

pub(crate) fn check(f: &Field, v: &str) -> Result<()> {
    let label = lower_first(f.label);
    match f.input {
        Input::Url => {
            let ok = url::Url::parse(v).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                return Err(Error::input(format!(
                    "The {label} '{}' is not a URL; give it with its scheme, e.g. https://….",
                    excerpt(v)
                )));
            }
        }
        Input::Number => {
            v.parse::<u32>().map_err(|_| {
                Error::input(format!(
                    "The {label} is a whole number; '{}' is not.",
                    excerpt(v)
                ))
            })?;
        }
        Input::Date => {
            parse_date_end(v).ok_or_else(|| {
                Error::input(format!(
                    "'{}' is not a date; give the {label} as YYYY-MM-DD, e.g. 2026-12-31.",
                    excerpt(v)
                ))
            })?;
        }
        Input::Choice => {
            if !f.choices.iter().any(|(k, _)| *k == v) {
                let keys: Vec<_> = f.choices.iter().map(|(k, _)| *k).collect();
                return Err(Error::input(format!(
                    "The {label} '{}' is not one of {}.",
                    excerpt(v),
                    keys.join(", ")
                )));
            }
        }
        Input::Lines => {
            if let Some(bad) = v.lines().find(|l| !l.trim().is_empty() && !l.contains('=')) {
                return Err(Error::input(format!(
                    "'{}' must look like key=value.",
                    excerpt(bad)
                )));
            }
        }
        Input::Text => {}
    }
    Ok(())
}

impl Keyport {
    pub(crate) async fn connect_request(&self, form: Form) -> Result<ConnectRequest> {
        let vendor = vendors::find(&form.vendor)?;
        let Some(oauth) = vendor.oauth() else {
            return Err(Error::input(format!(
                "{} tokens are issued in the vendor's admin screen: add the token instead of connecting.",
                vendor.label()
            )));
        };
        let name = form.name.trim().to_owned();
        validate_name(&name)?;
        let mut values = read(vendor, &form.values)?;
        let plan = oauth.plan(&values)?;
        if form.reuse_secrets && form.replace {
            if let Some(old) = self.vault.session().await?.load(&name).await? {
                let s = &mut values.secrets;
                for (slot, kept) in [
                    (&mut s.client_secret, old.client_secret),
                    (&mut s.username, old.username),
                    (&mut s.password, old.password),
                    (&mut s.api_key, old.api_key),
                ] {
                    if slot.is_none() {
                        *slot = kept;
                    }
                }
            }
        }
        if values.secrets.client_secret.is_none() {
            values.secrets.client_secret = self
                .saved_secret(vendor.id(), &plan.client_id, plan.authority.as_deref())
                .await?;
        }
        if plan.client_auth != ClientAuth::None && values.secrets.client_secret.is_none() {
            return Err(Error::input(
                "The client secret is required (it is shown with the app registration at the vendor); a public client has client authentication 'none'.",
            ));
        }
        Ok(ConnectRequest {
            name,
            note: text(&form.note),
            client: text(&form.client),
            replace: form.replace,
            remember_secret: form.remember_secret,
            vendor,
            plan,
            values,
            window: form.window.unwrap_or(crate::DEFAULT_WINDOW),
        })
    }

    pub(crate) fn admin_request(&self, form: Form) -> Result<AdminRequest> {
        let vendor = vendors::find(&form.vendor)?;
        if vendor.kind() != Kind::Admin {
            return Err(Error::input(format!(
                "{} connects with OAuth in the browser: connect it instead of adding a token.",
                vendor.label()
            )));
        }
        let name = form.name.trim().to_owned();
        validate_name(&name)?;
        let values = read(vendor, &form.values)?;
        vendor.check_admin(&values)?;
        let note = form.note.trim();
        syntax::check_input("note", Rule::Plain, note)?;
        let base_url = values
            .get("base_url")
            .or(vendor.default_base())
            .ok_or_else(|| Error::input(format!("{} needs the instance URL.", vendor.label())))?;
        let base_url = checked_url(base_url, "base URL")?
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        Ok(AdminRequest {
            name,
            replace: form.replace,
            vendor,
            base_url,
            expires_at: values.get("expires").and_then(parse_date_end),
            test_path: values.get("test_path").map(str::to_owned),
            account: vendor.admin_account(&values),
            note: text(&form.note),
            client: text(&form.client),
            skip_test: form.skip_test,
            secrets: values.secrets,
        })
    }

    /// App registrations remembered from earlier connections (no secrets).
    pub async fn registrations(&self) -> Result<Vec<Registration>> {
        self.store.registrations().await
    }

    /// Remembers an app registration; the client secret, if given, goes to the keychain.
    /// Without one, a secret saved earlier for the same registration is deleted.
    pub(crate) async fn remember_registration(
        &self,
        reg: Registration,
        secret: Option<&SecretString>,
    ) -> Result<()> {
        let key = reg.secret_key();
        if let Some(s) = secret {
            let vendor = vendors::find(&reg.vendor).map_or("", |v| v.label());
            let label = format!("Keyport: {vendor} app {}", reg.client_id);
            self.vault.session().await?.set(&key, &label, s).await?;
        }
        let reg = Registration {
            secret_saved: secret.is_some(),
            ..reg
        };
        let had_secret = self.store.remember(reg).await?;
        // The keychain is only touched when there is something to keep or to forget.
        if secret.is_none() && had_secret {
            self.vault.session().await?.delete(&key).await?;
        }
        Ok(())
    }

    /// The client secret saved with the registration for exactly this vendor, client ID
    /// and authority, if any.
    async fn saved_secret(
        &self,
        vendor: &str,
        client_id: &str,
        authority: Option<&str>,
    ) -> Result<Option<SecretString>> {
        let wanted = Registration {
            vendor: vendor.to_owned(),
            client_id: client_id.to_owned(),
            authority: authority.map(str::to_owned),
            values: BTreeMap::new(),
            secret_saved: true,
        };
        let saved = self
            .store
            .registrations()
            .await?
            .iter()
            .any(|r| r.same_app(&wanted) && r.secret_saved);
        if !saved {
            return Ok(None);
        }
        let s = self
            .vault
            .session()
            .await?
            .get(&wanted.secret_key())
            .await?;
        Ok(s.filter(|s| !s.expose_secret().is_empty()))
    }
}
