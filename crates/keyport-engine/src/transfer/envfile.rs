//! A connection as an API tool's environment file: `base_url` and the vendor's account ids
//! (its context [`crate::Detail`]s: company file, tenant, issuer…) as variables, and the
//! token only when asked. Each tool's own documented format:
//!
//! - Postman: an environment JSON (`id`, `name`, `values` of `{key, value, type, enabled}`,
//!   `_postman_variable_scope: "environment"`); the token is of type `secret`.
//! - Insomnia: an export of format 4 (`_type: export`, `__export_format: 4`) with one
//!   `environment` resource under the workspace's base environment (the shape Insomnia's
//!   own importers make of a Postman environment); with the token it is a private
//!   environment.
//! - Bruno: an environment `.bru` file, `vars { key: value }`; the token is declared in
//!   `vars:secret [ token ]`, whose values Bruno keeps out of the file — so with the
//!   token asked for, it is a plain variable in `vars`.
//!
//! Every value is one line without CR, LF or NUL (`safe_value`); Bruno values also keep
//! no surrounding spaces.

use crate::secret::ExposeSecret;
use crate::time::format_utc;
use crate::{vendors, Error, Keyport, Result, DEFAULT_MIN_VALID};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum EnvTool {
    Postman,
    Insomnia,
    Bruno,
}

impl EnvTool {
    pub fn label(self) -> &'static str {
        match self {
            EnvTool::Postman => "Postman",
            EnvTool::Insomnia => "Insomnia",
            EnvTool::Bruno => "Bruno",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EnvFile {
    pub tool: EnvTool,
    /// A file name to suggest: `NAME.postman_environment.json`, `NAME.insomnia.json`,
    /// `NAME.bru`.
    pub file_name: String,
    /// The file; it holds the token only when `with_token`. Empty once written by
    /// [`Keyport::write_env_file`].
    #[serde(skip)]
    #[cfg_attr(feature = "specta", specta(skip))]
    pub contents: String,
    pub with_token: bool,
    /// The variables' names, in order (never their values).
    pub variables: Vec<String>,
}

/// The variable the token is under.
pub const TOKEN_VARIABLE: &str = "token";

struct Var {
    key: String,
    value: String,
    secret: bool,
}

/// ISO 8601 with milliseconds, as the tools write their own dates.
fn iso(t: i64) -> String {
    let s = format_utc(t); // "YYYY-MM-DD HH:MM UTC"
    format!("{}T{}:00.000Z", &s[..10], &s[11..16])
}

fn postman(name: &str, vars: &[Var], t: i64) -> String {
    let values: Vec<_> = vars
        .iter()
        .map(|v| {
            json!({
                "key": v.key,
                "value": v.value,
                "type": if v.secret { "secret" } else { "default" },
                "enabled": true,
            })
        })
        .collect();
    let doc = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "name": name,
        "values": values,
        "_postman_variable_scope": "environment",
        "_postman_exported_at": iso(t),
        "_postman_exported_using": concat!("Keyport/", env!("CARGO_PKG_VERSION")),
    });
    serde_json::to_string_pretty(&doc).expect("JSON") + "\n"
}

fn insomnia(name: &str, vars: &[Var], t: i64, with_token: bool) -> String {
    let data: serde_json::Map<String, serde_json::Value> = vars
        .iter()
        .map(|v| (v.key.clone(), v.value.clone().into()))
        .collect();
    let order: Vec<&str> = vars.iter().map(|v| v.key.as_str()).collect();
    let doc = json!({
        "_type": "export",
        "__export_format": 4,
        "__export_date": iso(t),
        "__export_source": concat!("keyport:v", env!("CARGO_PKG_VERSION")),
        "resources": [{
            "_id": "__ENV_1__",
            "_type": "environment",
            "parentId": "__BASE_ENVIRONMENT_ID__",
            "name": name,
            "data": data,
            "dataPropertyOrder": { "&": order },
            "color": null,
            "isPrivate": with_token,
            "metaSortKey": 1,
            "created": t * 1000,
            "modified": t * 1000,
        }],
    });
    serde_json::to_string_pretty(&doc).expect("JSON") + "\n"
}

fn bruno(vars: &[Var], with_token: bool) -> String {
    let mut out = String::from("vars {\n");
    for v in vars.iter().filter(|v| with_token || !v.secret) {
        out.push_str(&format!("  {}: {}\n", v.key, v.value));
    }
    out.push_str("}\n");
    if !with_token {
        out.push_str(&format!("vars:secret [\n  {TOKEN_VARIABLE}\n]\n"));
    }
    out
}

impl Keyport {
    /// The environment file of `name` for `tool`; the token (refreshed first when near
    /// expiry) only with `with_token`.
    pub async fn export_env(&self, name: &str, tool: EnvTool, with_token: bool) -> Result<EnvFile> {
        let conn = self.store.get(name).await?;
        let vendor = vendors::find(&conn.vendor)?;
        let mut vars = Vec::new();
        if let Ok(base) = vendors::base(vendor, &conn) {
            vars.push(Var {
                key: "base_url".into(),
                value: base.to_owned(),
                secret: false,
            });
        }
        for d in vendor.context(&conn) {
            if !vars.iter().any(|v| v.key == d.key) {
                vars.push(Var {
                    key: d.key.into(),
                    value: d.value,
                    secret: false,
                });
            }
        }
        let token = if with_token {
            Some(self.token(name, DEFAULT_MIN_VALID).await?)
        } else {
            None
        };
        vars.push(Var {
            key: TOKEN_VARIABLE.into(),
            value: token
                .as_ref()
                .map(|t| t.expose_secret().to_owned())
                .unwrap_or_default(),
            secret: true,
        });
        for v in &mut vars {
            crate::safe_value(&format!("the {} of '{name}'", v.key), &v.value)?;
            if v.value.trim() != v.value {
                v.value = v.value.trim().to_owned();
            }
        }
        let t = crate::time::now();
        let (contents, file_name) = match tool {
            EnvTool::Postman => (
                postman(name, &vars, t),
                format!("{name}.postman_environment.json"),
            ),
            EnvTool::Insomnia => (
                insomnia(name, &vars, t, with_token),
                format!("{name}.insomnia.json"),
            ),
            EnvTool::Bruno => (bruno(&vars, with_token), format!("{name}.bru")),
        };
        if with_token {
            self.record(
                name,
                crate::activity::EventKind::TokenCopied,
                true,
                Some(format!("into a {} environment file", tool.label())),
            );
        }
        Ok(EnvFile {
            tool,
            file_name,
            contents,
            with_token,
            variables: vars.into_iter().map(|v| v.key).collect(),
        })
    }

    /// [`Keyport::export_env`] written to `path` (0600 when it holds the token); the
    /// answer's `contents` is empty, so no token reaches the caller.
    pub async fn write_env_file(
        &self,
        name: &str,
        tool: EnvTool,
        with_token: bool,
        path: &Path,
    ) -> Result<EnvFile> {
        if path.as_os_str().is_empty() {
            return Err(Error::input("Give the file to write the environment to."));
        }
        let mut f = self.export_env(name, tool, with_token).await?;
        super::write_file(path, f.contents.as_bytes(), with_token)?;
        f.contents = String::new();
        Ok(f)
    }
}
