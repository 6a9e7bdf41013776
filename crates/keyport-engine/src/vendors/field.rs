//! What a person fills in for a vendor: each field's key, label, help, default, kind of
//! input, whether it is a secret (and its keychain slot) and its CLI flag; the fields many
//! vendors share, worded once (`common`).

use super::Slot;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Input {
    Text,
    Url,
    Number,
    /// `YYYY-MM-DD`.
    Date,
    Choice,
    /// One `key=value` per line (or a repeated CLI flag).
    Lines,
}

/// One thing a person fills in. The CLI makes a flag of it, the window an input.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub default: Option<&'static str>,
    pub placeholder: Option<&'static str>,
    pub input: Input,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub choices: &'static [(&'static str, &'static str)],
    pub required: bool,
    pub advanced: bool,
    /// Kept in the keychain, never an argument; `None` for plain values.
    #[serde(rename = "secret", serialize_with = "is_some")]
    #[cfg_attr(feature = "specta", specta(type = bool))]
    pub slot: Option<Slot>,
    /// Typed into a password box.
    pub masked: bool,
    /// The CLI flag (without `--`); for a secret, the flag naming an environment variable.
    pub cli: &'static str,
    /// Remembered with the app registration to prefill the next connection.
    pub remember: bool,
}

fn is_some<S: serde::Serializer>(v: &Option<Slot>, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_bool(v.is_some())
}

impl Field {
    pub const fn text(
        key: &'static str,
        cli: &'static str,
        label: &'static str,
        help: &'static str,
    ) -> Field {
        Field {
            key,
            label,
            help,
            default: None,
            placeholder: None,
            input: Input::Text,
            choices: &[],
            required: false,
            advanced: false,
            slot: None,
            masked: false,
            cli,
            remember: false,
        }
    }

    /// A secret read from a hidden prompt, standard input, or `--<cli> VAR`.
    pub const fn secret(
        key: &'static str,
        cli: &'static str,
        slot: Slot,
        label: &'static str,
        help: &'static str,
    ) -> Field {
        let mut f = Field::text(key, cli, label, help);
        f.slot = Some(slot);
        f.masked = true;
        f
    }

    pub const fn required(mut self) -> Field {
        self.required = true;
        self
    }
    pub const fn default(mut self, v: &'static str) -> Field {
        self.default = Some(v);
        self
    }
    pub const fn placeholder(mut self, v: &'static str) -> Field {
        self.placeholder = Some(v);
        self
    }
    pub const fn input(mut self, i: Input) -> Field {
        self.input = i;
        self
    }
    pub const fn choices(mut self, c: &'static [(&'static str, &'static str)]) -> Field {
        self.input = Input::Choice;
        self.choices = c;
        self
    }
    pub const fn advanced(mut self) -> Field {
        self.advanced = true;
        self
    }
    pub const fn remember(mut self) -> Field {
        self.remember = true;
        self
    }
    pub const fn unmasked(mut self) -> Field {
        self.masked = false;
        self
    }
}

/// Fields many vendors share, worded once.
pub mod common {
    use super::{Field, Input, Slot};

    pub const fn client_id(label: &'static str, help: &'static str) -> Field {
        Field::text("client_id", "client-id", label, help)
            .required()
            .remember()
    }
    pub const fn client_secret(label: &'static str) -> Field {
        Field::secret(
            "client_secret",
            "secret-env",
            Slot::ClientSecret,
            label,
            "Shown with the app registration at the vendor. Leave it empty to use the one Keyport saved with that registration.",
        )
    }
    pub const fn redirect_uri(help: &'static str) -> Field {
        Field::text("redirect_uri", "redirect-uri", "Redirect URI", help)
            .input(Input::Url)
            .placeholder("http://127.0.0.1:8765/callback")
            .remember()
    }
    pub const fn scopes(default: &'static str, help: &'static str) -> Field {
        Field::text("scopes", "scopes", "Scopes", help)
            .default(default)
            .remember()
    }
    pub const fn base_url(help: &'static str) -> Field {
        Field::text("base_url", "base-url", "Base URL", help).input(Input::Url)
    }
    pub const fn token(label: &'static str) -> Field {
        Field::secret(
            "token",
            "token-env",
            Slot::Token,
            label,
            "Copied from the vendor's admin screen.",
        )
        .required()
    }
    pub const fn expires(help: &'static str) -> Field {
        Field::text("expires", "expires", "Expires on", help).input(Input::Date)
    }
}
