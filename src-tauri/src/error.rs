//! The one error the window ever sees: `{code, message}`. `code` is the engine's stable
//! snake_case name (`ui/app.js` mirrors the list), `message` a full sentence that says what
//! to do. No Debug output and no JSON reaches a person.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct CommandError {
    pub code: String,
    pub message: String,
}

impl CommandError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        CommandError {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// A failure of the shell itself (a worker thread died, the clipboard is missing).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("internal", message)
    }
}

impl From<keyport_engine::Error> for CommandError {
    fn from(e: keyport_engine::Error) -> Self {
        CommandError {
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub type CmdResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_keep_their_code_and_sentence() {
        let e: CommandError = keyport_engine::Error::NotFound("acme".into()).into();
        assert_eq!(e.code, "not_found");
        assert!(e.message.starts_with("No connection named 'acme'"));
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["code"], "not_found");
        assert_eq!(json.as_object().unwrap().len(), 2);
    }
}
