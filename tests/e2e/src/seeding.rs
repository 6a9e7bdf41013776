//! Many connections, quickly: admin-issued tokens (issued by the mock vendor's admin screen,
//! `POST /_mock/issue`, then `keyport add VENDOR … --no-test`, a few at once) and OAuth
//! sign-ins (`keyport connect …`, the consent page's form posted over HTTP as a browser
//! would), every secret in the real Secret Service through the real `keyport` CLI. The
//! window tests seed 40 connections this way, `examples/seed_window.rs` the benchmarks' 1,000.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{json, Value};

use crate::{free_port, wait_until};

/// How a seeded connection is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `keyport add xentral`.
    Xentral,
    /// `keyport add o4`.
    O4,
    /// `keyport add machship`.
    Machship,
    /// `keyport connect myob`: an OAuth sign-in with a company file.
    Myob,
    /// `keyport connect oidc` as a public client (PKCE).
    Oidc,
}

impl Kind {
    /// The vendor id Keyport reports (`keyport list --json`'s `vendor`).
    pub fn vendor(self) -> &'static str {
        match self {
            Kind::Xentral => "xentral",
            Kind::O4 => "o4",
            Kind::Machship => "machship",
            Kind::Myob => "myob",
            Kind::Oidc => "oidc",
        }
    }

    pub fn oauth(self) -> bool {
        matches!(self, Kind::Myob | Kind::Oidc)
    }

    /// The admin-issued kinds, in the order a plan rotates through them.
    pub const ADMIN: [Kind; 3] = [Kind::Xentral, Kind::O4, Kind::Machship];
}

/// One connection to make.
#[derive(Clone, Debug)]
pub struct Spec {
    pub name: String,
    pub client: String,
    pub kind: Kind,
    pub note: Option<String>,
    /// `--expires YYYY-MM-DD` (admin-issued only).
    pub expires: Option<String>,
}

/// `total` connections spread over `clients` as evenly as the count allows (the first
/// clients get one more), for [`plan`].
pub fn even(total: usize, clients: &[String]) -> Vec<(String, usize)> {
    assert!(!clients.is_empty(), "at least one client");
    let (per, extra) = (total / clients.len(), total % clients.len());
    let counts = clients.iter().enumerate();
    counts
        .map(|(i, c)| (c.clone(), per + usize::from(i < extra)))
        .collect()
}

/// So many connections per client; every `oauth_every`-th one (counting from the first)
/// a MYOB or an OIDC sign-in in turn (`0`: none), the rest admin-issued, rotating through
/// [`Kind::ADMIN`]. Names are `<client slug>-<vendor>-<n>`.
pub fn plan(clients: &[(String, usize)], oauth_every: usize) -> Vec<Spec> {
    let mut specs: Vec<Spec> = Vec::new();
    let mut oauth_turn = 0;
    for (client, count) in clients {
        let slug = slug(client);
        for i in 0..*count {
            let kind = if oauth_every > 0 && specs.len().is_multiple_of(oauth_every) {
                oauth_turn += 1;
                if oauth_turn % 2 == 1 {
                    Kind::Myob
                } else {
                    Kind::Oidc
                }
            } else {
                Kind::ADMIN[specs.len() % Kind::ADMIN.len()]
            };
            specs.push(Spec {
                name: format!("{slug}-{}-{}", kind.vendor(), i + 1),
                client: client.clone(),
                kind,
                note: None,
                expires: None,
            });
        }
    }
    specs
}

/// A client's name as a connection name's first part: lower case, `-` between words.
pub fn slug(client: &str) -> String {
    let words: Vec<String> = client
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    words.join("-")
}

/// Makes connections with one `keyport` setup: `keyport()` gives a `keyport` command in the
/// environment to seed (HOME, config folder, keychain namespace); `base` is the mock
/// vendor's base URL; `dir` a folder for the recording browser.
pub struct Seeder<'a> {
    keyport: &'a (dyn Fn() -> Command + Sync),
    base: String,
    browser: PathBuf,
    log: PathBuf,
    seen: AtomicUsize,
}

impl<'a> Seeder<'a> {
    pub fn new(keyport: &'a (dyn Fn() -> Command + Sync), base: &str, dir: &Path) -> Seeder<'a> {
        let (browser, log) = (dir.join("seed-browser.sh"), dir.join("seed-urls.txt"));
        let quoted = log.to_str().expect("a UTF-8 path");
        assert!(!quoted.contains('\''), "the seed folder's path has a quote");
        std::fs::write(
            &browser,
            format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{quoted}'\n"),
        )
        .unwrap_or_else(|e| panic!("write {}: {e}", browser.display()));
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755))
            .expect("chmod the seed browser");
        Seeder {
            keyport,
            base: base.trim_end_matches('/').to_owned(),
            browser,
            log,
            seen: AtomicUsize::new(0),
        }
    }

    /// Makes every connection of `specs`: the OAuth ones one after the other (they share
    /// a redirect port), then the admin-issued ones `workers` at a time. Panics, naming the
    /// connection and Keyport's words, when one cannot be made.
    pub fn seed(&self, specs: &[Spec], workers: usize) {
        let oauth: Vec<&Spec> = specs.iter().filter(|s| s.kind.oauth()).collect();
        if !oauth.is_empty() {
            let redirect = format!("http://127.0.0.1:{}/callback", free_port());
            self.register("myob", "seed-myob-key", Some("seed-myob-secret"), &redirect);
            self.register("oidc", "seed-oidc-app", None, "http://127.0.0.1/callback");
            for spec in oauth {
                self.connect(spec, &redirect);
            }
        }
        let admin: Vec<&Spec> = specs.iter().filter(|s| !s.kind.oauth()).collect();
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..workers.max(1) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(spec) = admin.get(i) else { break };
                    self.add(spec);
                });
            }
        });
    }

    fn control(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/_mock/{path}", self.base);
        let mut r = agent(true)
            .post(&url)
            .header("content-type", "application/json")
            .send(body.to_string())
            .unwrap_or_else(|e| panic!("mock control {path}: {e}"));
        let text = r.body_mut().read_to_string().unwrap_or_default();
        assert!(r.status().is_success(), "mock control {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    fn register(&self, vendor: &str, id: &str, secret: Option<&str>, redirect: &str) {
        let body = json!({"vendor": vendor, "client_id": id, "client_secret": secret,
                          "redirect_uris": [redirect], "cf_username": "Administrator", "cf_password": ""});
        self.control("clients", body);
    }

    fn command(&self, spec: &Spec, verb: &str) -> Command {
        let mut cmd = (self.keyport)();
        cmd.env("BROWSER", &self.browser)
            .args([verb, spec.kind.vendor(), "--name", &spec.name])
            .args(["--client", &spec.client]);
        if let Some(note) = &spec.note {
            cmd.args(["--note", note]);
        }
        cmd
    }

    fn add(&self, spec: &Spec) {
        let mut body = json!({"vendor": spec.kind.vendor()});
        if let Some(e) = &spec.expires {
            body["expires"] = json!(e);
        }
        let issued = self.control("issue", body);
        let token = issued["token"]
            .as_str()
            .unwrap_or_else(|| panic!("the mock issued no token: {issued}"))
            .to_owned();
        let mut cmd = self.command(spec, "add");
        let b = &self.base;
        match spec.kind {
            Kind::Xentral => cmd.args(["--base-url", &format!("{b}/xentral")]),
            Kind::O4 => cmd
                .args(["--base-url", &format!("{b}/o4")])
                .args(["--test-path", "/api/orderstatus"]),
            Kind::Machship => cmd.args(["--base-url", &format!("{b}/machship/apiv2")]),
            Kind::Myob | Kind::Oidc => unreachable!("not admin-issued"),
        };
        if let Some(e) = issued["expires"].as_str().or(spec.expires.as_deref()) {
            cmd.args(["--expires", e]);
        }
        cmd.arg("--no-test");
        run(cmd, &format!("{token}\n"), &spec.name);
    }

    fn connect(&self, spec: &Spec, redirect: &str) {
        let mut cmd = self.command(spec, "connect");
        let b = &self.base;
        match spec.kind {
            Kind::Myob => cmd
                .args(["--client-id", "seed-myob-key", "--redirect-uri", redirect])
                .args(["--auth-base", &format!("{b}/myob/secure")])
                .args(["--api-base", &format!("{b}/myob/api")])
                .args([
                    "--secret-env",
                    "KP_SEED_SECRET",
                    "--cf-password-env",
                    "KP_SEED_CF",
                ])
                .env("KP_SEED_SECRET", "seed-myob-secret")
                .env("KP_SEED_CF", ""),
            Kind::Oidc => cmd
                .args([
                    "--issuer",
                    &format!("{b}/oidc"),
                    "--client-id",
                    "seed-oidc-app",
                ])
                .args([
                    "--client-auth",
                    "none",
                    "--scopes",
                    "openid email offline_access",
                ]),
            _ => unreachable!("not an OAuth sign-in"),
        };
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run keyport connect");
        let url = self.next_url(&spec.name);
        consent(&url);
        let out = child.wait_with_output().expect("keyport connect ends");
        assert!(
            out.status.success(),
            "keyport connect {} for {}: {}",
            spec.kind.vendor(),
            spec.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The next consent URL the recording browser was handed.
    fn next_url(&self, name: &str) -> String {
        let n = self.seen.fetch_add(1, Ordering::SeqCst);
        let mut url = None;
        wait_until(Duration::from_secs(20), || {
            url = std::fs::read_to_string(&self.log)
                .unwrap_or_default()
                .lines()
                .nth(n)
                .map(str::to_owned);
            url.is_some()
        });
        url.unwrap_or_else(|| panic!("keyport connect for {name} opened no consent page"))
    }
}

fn agent(follow: bool) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(if follow { 10 } else { 0 })
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Runs `cmd` with `stdin` on standard input; panics with its words when it fails.
fn run(mut cmd: Command, stdin: &str, name: &str) {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run keyport add");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write the token");
    let out = child.wait_with_output().expect("keyport add ends");
    assert!(
        out.status.success(),
        "keyport add {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Plays the browser on a mock consent page: loads it, posts its form with "allow" and
/// follows the redirect to Keyport's loopback listener.
pub fn consent(url: &str) {
    let a = agent(false);
    let html = a
        .get(url)
        .call()
        .and_then(|mut r| r.body_mut().read_to_string())
        .unwrap_or_else(|e| panic!("consent page {url}: {e}"));
    let action = tag_attr(&html, "<form", "action").expect("the consent page has a form");
    let mut fields: Vec<(String, String)> = html
        .split("<input")
        .skip(1)
        .filter_map(|tag| Some((tag_attr(tag, "", "name")?, tag_attr(tag, "", "value")?)))
        .collect();
    fields.push(("decision".into(), "allow".into()));
    let origin = url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    let target = if action.starts_with("http") {
        action
    } else {
        format!("{origin}{action}")
    };
    let r = a
        .post(&target)
        .send_form(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .unwrap_or_else(|e| panic!("consent decision: {e}"));
    let location = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_else(|| panic!("the consent answered {} with no redirect", r.status()))
        .to_owned();
    let r = a
        .get(&location)
        .call()
        .unwrap_or_else(|e| panic!("the redirect to Keyport ({location}): {e}"));
    assert!(
        r.status().is_success(),
        "Keyport's listener answered {}",
        r.status()
    );
}

/// The value of attribute `name` in the first tag after `after`, HTML entities undone.
fn tag_attr(html: &str, after: &str, name: &str) -> Option<String> {
    let rest = &html[html.find(after)? + after.len()..];
    let tag = &rest[..rest.find('>')?];
    let key = format!(" {name}=\"");
    let v = &tag[tag.find(&key)? + key.len()..];
    let v = &v[..v.find('"')?];
    Some(
        v.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#39;", "'")
            .replace("&amp;", "&"),
    )
}
