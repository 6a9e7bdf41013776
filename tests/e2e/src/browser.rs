//! Headless Chromium driven through chromedriver, for the vendors' consent pages.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::env::TempDir;
use crate::webdriver::{DriverProcess, Error, Result, Session};
use crate::{free_port, wait_until};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A headless Chromium with a fresh profile. Dropping it closes the browser and
/// kills chromedriver.
pub struct Chromium {
    // Field order is drop order: session first, then the driver, then the profile.
    session: Session,
    _driver: DriverProcess,
    _profile: TempDir,
}

impl Chromium {
    /// Starts chromedriver on a free port and opens a headless session.
    /// Panics with a clear message when Chromium or chromedriver is missing.
    pub fn start() -> Chromium {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(bin).exists(),
                "{bin} not found; run scripts/deps.sh"
            );
        }
        let profile = TempDir::new("chromium");
        let port = free_port();
        let mut cmd = Command::new(CHROMEDRIVER);
        cmd.arg(format!("--port={port}"))
            .stderr(std::process::Stdio::null());
        let driver = DriverProcess::spawn(cmd, port, "chromedriver");
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--window-size=1280,800".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        });
        let session = Session::new(&driver.endpoint, caps)
            .unwrap_or_else(|e| panic!("could not open a Chromium session: {e}"));
        Chromium {
            session,
            _driver: driver,
            _profile: profile,
        }
    }

    /// The WebDriver session, for anything beyond approve/deny.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Opens a consent page and clicks `#allow`. Returns the text of the page the
    /// browser lands on (the loopback listener's result page), or
    /// `Err(Error::PageLoad(..))` carrying the browser's error text (e.g.
    /// `ERR_CONNECTION_REFUSED`) when the redirect target could not be reached.
    pub fn approve(&self, consent_url: &str) -> Result<String> {
        self.consent(consent_url, "#allow")
    }

    /// Like `approve`, clicking `#deny`.
    pub fn deny(&self, consent_url: &str) -> Result<String> {
        self.consent(consent_url, "#deny")
    }

    fn consent(&self, consent_url: &str, button: &str) -> Result<String> {
        self.session.navigate(consent_url)?;
        self.session.find(button)?.click()?;
        // Wait until the consent page is gone and whatever replaced it finished loading.
        let left = wait_until(Duration::from_secs(20), || {
            let probe = "return document.querySelector(arguments[0]) === null \
                         && document.readyState === 'complete';";
            matches!(
                self.session.execute(probe, vec![json!(button)]),
                Ok(Value::Bool(true))
            )
        });
        if !left {
            let url = self.session.current_url().unwrap_or_default();
            return Err(Error::Timeout(format!(
                "still on the consent page after clicking {button} (at {url})"
            )));
        }
        self.landed_page_text()
    }

    /// Text of the current page, or `Err(PageLoad)` when it is the browser's error page.
    pub fn landed_page_text(&self) -> Result<String> {
        let info = self.session.execute(
            "return [document.documentURI, document.body ? document.body.innerText : ''];",
            vec![],
        )?;
        let uri = info[0].as_str().unwrap_or_default();
        let text = info[1].as_str().unwrap_or_default().to_owned();
        if uri.starts_with("chrome-error:") {
            Err(Error::PageLoad(text))
        } else {
            Ok(text)
        }
    }
}
