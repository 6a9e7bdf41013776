//! Secrets and pasted URLs from the person or the script: a hidden prompt on a terminal,
//! else one line of standard input each.

use keyport_engine::Error;
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
    pub fn secret(&mut self, prompt: &str) -> Result<Option<String>, Error> {
        let line = if self.tty {
            rpassword::prompt_password(format!("{prompt}: ")).map_err(|e| {
                Error::InvalidInput(format!("Could not read from the terminal: {e}"))
            })?
        } else {
            self.read_line()?
        };
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        Ok((!line.is_empty()).then_some(line))
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
