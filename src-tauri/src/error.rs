//! The one error the window ever sees: `{code, message, actions}`. `code` is the engine's
//! stable snake_case name, `message` a full sentence that says what to do, and `actions`
//! the engine's structured "what to do" (`{kind, name?}`), which the window offers as
//! buttons. No Debug output and no JSON reaches a person.

use keyport_engine::Action;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CommandError {
    pub code: String,
    pub message: String,
    pub actions: Vec<Action>,
}

impl CommandError {
    /// An error of the shell itself (no attempt running, the clipboard is missing…).
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        CommandError {
            code: code.to_owned(),
            message: message.into(),
            actions: Vec::new(),
        }
    }
}

impl From<keyport_engine::Error> for CommandError {
    fn from(e: keyport_engine::Error) -> Self {
        CommandError {
            code: e.code().to_owned(),
            message: e.to_string(),
            actions: e.actions(),
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
    use serde_json::json;

    #[test]
    fn engine_errors_keep_their_code_sentence_and_actions() {
        let e: CommandError = keyport_engine::Error::AlreadyExists("acme".into()).into();
        assert_eq!(e.code, "already_exists");
        assert!(e.message.starts_with("A connection named 'acme'"));
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["code"], "already_exists");
        assert_eq!(json.as_object().unwrap().len(), 3);
        assert_eq!(
            json["actions"],
            json!([
                {"kind": "replace", "name": "acme"},
                {"kind": "revoke", "name": "acme"}
            ])
        );
    }

    #[test]
    fn shell_errors_have_no_actions() {
        let json = serde_json::to_value(CommandError::new("busy", "Wait.")).unwrap();
        assert_eq!(
            json,
            json!({"code": "busy", "message": "Wait.", "actions": []})
        );
    }
}
