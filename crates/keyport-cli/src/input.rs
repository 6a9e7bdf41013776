//! Secrets and pasted URLs from the person or the script: a named environment variable
//! first, then a hidden prompt on a terminal, else one line of standard input each.

use keyport_engine::{Error, SecretString};
use std::io::{BufRead, IsTerminal};

pub struct Input {
    tty: bool,
}

impl Input {
    pub fn new() -> Self {
        Self {
            tty: std::io::stdin().is_terminal(),
        }
    }

    /// `Ok(None)` when nothing was given (an empty line, or end of input).
    pub fn secret(
        &mut self,
        prompt: &str,
        env: Option<&str>,
    ) -> Result<Option<SecretString>, Error> {
        if let Some(var) = env {
            return match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Some(v.into())),
                _ => Err(Error::InvalidInput(format!(
                    "The environment variable {var} is not set or empty."
                ))),
            };
        }
        let line = if self.tty {
            rpassword::prompt_password(format!("{prompt}: ")).map_err(|e| {
                Error::InvalidInput(format!("Could not read from the terminal: {e}"))
            })?
        } else {
            self.read_line()?
        };
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        Ok((!line.is_empty()).then(|| line.into()))
    }

    pub fn required_secret(
        &mut self,
        prompt: &str,
        env: Option<&str>,
    ) -> Result<SecretString, Error> {
        self.secret(prompt, env)?.ok_or_else(|| {
            Error::InvalidInput(format!(
                "The {} is required: type it at the prompt, pipe it on standard input, or name an environment variable that holds it.",
                prompt.to_lowercase()
            ))
        })
    }

    /// Like `secret`, but an empty answer is a valid empty value.
    pub fn secret_optional(
        &mut self,
        prompt: &str,
        env: Option<&str>,
    ) -> Result<Option<SecretString>, Error> {
        match env {
            Some(var) => Ok(Some(std::env::var(var).unwrap_or_default().into())),
            None => self.secret(prompt, None),
        }
    }

    pub fn line(&mut self, prompt: &str) -> Result<String, Error> {
        if self.tty {
            eprint!("{prompt}: ");
        }
        let l = self.read_line()?;
        if l.trim().is_empty() {
            return Err(Error::InvalidInput(
                "Nothing was pasted; connect again and paste the whole URL.".into(),
            ));
        }
        Ok(l.trim().to_owned())
    }

    fn read_line(&mut self) -> Result<String, Error> {
        let mut s = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut s)
            .map_err(|e| Error::InvalidInput(format!("Could not read standard input: {e}")))?;
        Ok(s)
    }
}
