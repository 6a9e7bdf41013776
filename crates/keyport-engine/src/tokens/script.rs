//! What a script gets of a connection: the token, the base URL, the account ids and the
//! header values its vendor names, each under an environment variable (`exec`, `env`) and
//! a field (`keyport://NAME/FIELD` references for `read` and `inject`). Every value is
//! checked on the way out: none with CR, LF or NUL reaches an environment or a file.

use crate::secret::{secret, ExposeSecret, SecretString};
use crate::vendors;
use crate::{Error, Keyport, Result};

/// One value handed to a script.
pub struct ScriptValue {
    /// The environment variable (`KEYPORT_TOKEN`, `MYOB_BUSINESS_ID`…).
    pub env: String,
    /// The field of a `keyport://NAME/FIELD` reference (`token`, `business_id`,
    /// `header/x-myobapi-key`…).
    pub field: String,
    pub value: SecretString,
    /// A token, password or other secret (the rest is what `show` shows anyway).
    pub secret: bool,
}

/// The scheme of references in templates and `read`.
pub const REFERENCE_SCHEME: &str = "keyport://";

/// `keyport://NAME/FIELD` → (NAME, FIELD).
pub fn parse_reference(r: &str) -> Result<(&str, &str)> {
    let bad = || {
        Error::input(format!(
            "'{}' is not a Keyport reference; write {REFERENCE_SCHEME}NAME/FIELD, e.g. {REFERENCE_SCHEME}acme/token.",
            crate::http::excerpt(r)
        ))
    };
    let rest = r.trim().strip_prefix(REFERENCE_SCHEME).ok_or_else(bad)?;
    let (name, field) = rest.split_once('/').ok_or_else(bad)?;
    if name.is_empty() || field.is_empty() {
        return Err(bad());
    }
    crate::model::validate_name(name)?;
    Ok((name, field))
}

impl Keyport {
    /// Every value a script gets of `name`, with the token as it is now (the caller
    /// refreshes first when it must not be near expiry).
    pub async fn script_values(&self, name: &str) -> Result<Vec<ScriptValue>> {
        let conn = self.store.get(name).await?;
        let vendor = vendors::find(&conn.vendor)?;
        let secrets = super::secrets_of(&*self.vault.session().await?, &conn).await?;
        let token = secrets
            .access_token
            .clone()
            .ok_or_else(|| Error::KeychainData {
                name: name.into(),
                detail: "the token is missing".into(),
            })?;
        let plain = |env: &str, field: &str, value: &str| ScriptValue {
            env: env.to_owned(),
            field: field.to_owned(),
            value: secret(value),
            secret: false,
        };
        let mut out = vec![
            plain("KEYPORT_CONNECTION", "name", &conn.name),
            plain("KEYPORT_VENDOR", "vendor", vendor.id()),
        ];
        if let Ok(base) = vendors::base(vendor, &conn) {
            out.push(plain("KEYPORT_BASE_URL", "base_url", base));
        }
        out.push(ScriptValue {
            env: "KEYPORT_TOKEN".into(),
            field: "token".into(),
            value: token,
            secret: true,
        });
        for d in vendor.context(&conn) {
            out.push(plain(d.env, d.key, &d.value));
        }
        for h in vendor.headers(&conn, &secrets)? {
            let field = format!("header/{}", h.name.to_ascii_lowercase());
            out.push(ScriptValue {
                env: h.env.unwrap_or_default().to_owned(),
                field,
                value: h.value,
                secret: true,
            });
        }
        for v in &out {
            crate::safe_value(&format!("{} of '{name}'", v.field), v.value.expose_secret())?;
        }
        Ok(out)
    }

    /// The value a `keyport://NAME/FIELD` reference names. FIELD is a field
    /// (`token`, `business_id`, `header/x-myobapi-key`) or an environment variable's name.
    pub async fn read_reference(&self, reference: &str) -> Result<SecretString> {
        let (name, field) = parse_reference(reference)?;
        let values = self.script_values(name).await?;
        pick(&values, name, field)
    }

    /// Fills every `{{ keyport://NAME/FIELD }}` in `template`, reading each connection
    /// once; an unknown reference is an error and nothing is filled.
    pub async fn inject(&self, template: &str) -> Result<SecretString> {
        let mut out = String::with_capacity(template.len());
        let mut cache: Vec<(String, Vec<ScriptValue>)> = Vec::new();
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start..].find("}}") else {
                break;
            };
            let inner = rest[start + 2..start + len].trim();
            if !inner.starts_with(REFERENCE_SCHEME) {
                out.push_str(&rest[..start + len + 2]);
                rest = &rest[start + len + 2..];
                continue;
            }
            let (name, field) = parse_reference(inner)?;
            if !cache.iter().any(|(n, _)| n == name) {
                cache.push((name.to_owned(), self.script_values(name).await?));
            }
            let values = &cache.iter().find(|(n, _)| n == name).expect("cached").1;
            out.push_str(&rest[..start]);
            out.push_str(pick(values, name, field)?.expose_secret());
            rest = &rest[start + len + 2..];
        }
        out.push_str(rest);
        Ok(secret(out))
    }
}

/// One `.env` line: `NAME='value'`, or double-quoted with `\\`, `"` and `$` escaped when
/// the value holds a `'`.
pub fn dotenv_line(name: &str, value: &str) -> String {
    if value.contains('\'') {
        let escaped = value
            .replace('\\', r"\\")
            .replace('"', "\\\"")
            .replace('$', "\\$");
        format!("{name}=\"{escaped}\"\n")
    } else {
        format!("{name}='{value}'\n")
    }
}

impl Keyport {
    /// The connection's values as a `.env` file, its token refreshed first when near expiry
    /// (the window's Copy as .env).
    pub async fn dotenv(&self, name: &str) -> Result<SecretString> {
        self.token(name, crate::DEFAULT_MIN_VALID).await?;
        let text: String = self
            .script_values(name)
            .await?
            .iter()
            .filter(|v| !v.env.is_empty())
            .map(|v| dotenv_line(&v.env, v.value.expose_secret()))
            .collect();
        Ok(secret(text))
    }
}

fn pick(values: &[ScriptValue], name: &str, field: &str) -> Result<SecretString> {
    values
        .iter()
        .find(|v| {
            v.field.eq_ignore_ascii_case(field)
                || (!v.env.is_empty() && v.env.eq_ignore_ascii_case(field))
        })
        .map(|v| v.value.clone())
        .ok_or_else(|| {
            let fields: Vec<&str> = values.iter().map(|v| v.field.as_str()).collect();
            Error::input(format!(
                "'{name}' has no field '{}'; its fields are {}.",
                crate::http::excerpt(field),
                fields.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_strictly() {
        assert_eq!(
            parse_reference("keyport://acme/token").unwrap(),
            ("acme", "token")
        );
        assert_eq!(
            parse_reference("keyport://acme/header/x-myobapi-key").unwrap(),
            ("acme", "header/x-myobapi-key")
        );
        for bad in [
            "acme/token",
            "keyport://acme",
            "keyport:///token",
            "keyport://acme/",
            "keyport://../x/token",
        ] {
            assert!(parse_reference(bad).is_err(), "{bad}");
        }
    }
}
