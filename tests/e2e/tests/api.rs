//! `keyport api`, `keyport proxy` and `keyport curl … -- ARGS` end to end: the real binary,
//! the real keychain, the mock vendor. The consent is given over HTTP (no browser needed:
//! the consent page's form is posted as the browser would).

use crate::util::{agent, control, err, fails_with, ok, out, Run};
use keyport_e2e::{free_port, TestEnv};
use keyport_mock::{MockServer, BUSINESS_ID, BUSINESS_NAME};
use serde_json::{json, Value};
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A MYOB connection `acme` to the mock, its consent posted without a browser.
fn myob_env(label: &str) -> (TestEnv, MockServer) {
    let env = TestEnv::new(label);
    let mock = MockServer::start().expect("mock");
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    control(
        &mock,
        "/_mock/clients",
        json!({"vendor": "myob", "client_id": "myob-key", "client_secret": "myob-secret", "redirect_uris": [redirect]}),
    );
    let child = env
        .keyport()
        .args([
            "connect",
            "myob",
            "--name",
            "acme",
            "--client-id",
            "myob-key",
        ])
        .args(["--redirect-uri", &redirect])
        .args(["--auth-base", &format!("{}/myob/secure", mock.base_url())])
        .args(["--api-base", &format!("{}/myob/api", mock.base_url())])
        .args(["--secret-env", "KP_SECRET", "--cf-password-env", "KP_CF"])
        .env("KP_SECRET", "myob-secret")
        .env("KP_CF", "")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keyport connect");
    let consent = env.wait_for_browser_url(Duration::from_secs(20));
    let url = url_parts(&consent);
    let mut form: Vec<(String, String)> = url.1;
    form.push(("decision".into(), "allow".into()));
    let no_redirects: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let decide = url.0.replace("/authorize", "/decide");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = no_redirects.post(&decide).send_form(pairs).expect("decide");
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let r = no_redirects
        .get(&location)
        .call()
        .expect("redirect to keyport");
    assert_eq!(r.status(), 200);
    ok(child.wait_with_output().expect("connect finishes"));
    (env, mock)
}

/// The URL without its query, and its query's pairs, decoded.
fn url_parts(url: &str) -> (String, Vec<(String, String)>) {
    let (base, query) = url.split_once('?').expect("a query");
    let pairs = query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    (base.to_owned(), pairs)
}

fn decode(s: &str) -> String {
    let b = s.replace('+', " ");
    let b = b.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8")
}

fn api(env: &TestEnv, args: &[&str]) -> Command {
    let mut c = env.keyport();
    c.arg("api").arg("acme").args(args);
    c
}

#[test]
fn api_gets_posts_pages_and_exits_by_status_and_curl_takes_extra_args() {
    let (env, mock) = myob_env("api");
    let o = ok(api(&env, &["/accountright/{business_id}/"]).run());
    let v: Value = serde_json::from_str(&o).expect("the body, as JSON");
    assert_eq!(v["Name"], BUSINESS_NAME);

    let o = api(&env, &["/accountright/{business_id}/Nope"]).run();
    fails_with(&o, 11, "HTTP 404");

    let path = "/accountright/{business_id}/Contact/Customer";
    let o = ok(api(&env, &[path, "-f", "CompanyName=Bluegum Cafe", "--include"]).run());
    assert!(o.starts_with("HTTP/1.1 201"), "{o}");
    assert!(o.to_ascii_lowercase().contains("\nlocation: "), "{o}");
    let seen = crate::util::stats(&mock)["requests"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|r| r["method"] == "POST")
        .cloned()
        .expect("the POST reached the mock");
    assert!(seen["header_names"]
        .as_array()
        .unwrap()
        .contains(&json!("content-type")));

    let o = ok(api(&env, &[&format!("{path}?$top=2"), "--paginate"]).run());
    let pages: Vec<Value> = o
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(pages.len(), 3, "6 customers, 2 a page: {o}");
    assert_eq!(pages[2]["Items"][1]["CompanyName"], "Bluegum Cafe");

    let o = api(&env, &[path, "-H", "Authorization: Bearer mine"]).run();
    fails_with(&o, 2, "Authorization");
    let o = api(&env, &["/x/{tenant}"]).run();
    fails_with(&o, 2, "{business_id}");

    let o = ok(env
        .keyport()
        .args([
            "curl",
            "acme",
            "/accountright/",
            "--",
            "-X",
            "POST",
            "-d",
            "{\"a\": 1}",
        ])
        .run());
    assert!(o.trim_end().ends_with(r#"-X POST -d '{"a": 1}'"#), "{o}");
    assert!(o.starts_with("keyport headers 'acme' | curl"), "{o}");
}

#[test]
fn the_proxy_serves_the_mock_with_the_credentials_and_refuses_a_wrong_key() {
    let (env, mock) = myob_env("proxy");
    let mut child = env
        .keyport()
        .args(["proxy", "acme"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keyport proxy");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the proxy's URL");
    let base = line.trim().to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with('/'),
        "{base}"
    );

    let mut r = agent()
        .get(&format!("{base}accountright/{BUSINESS_ID}/?x=1"))
        .header("Authorization", "Bearer not-keyports")
        .call()
        .expect("through the proxy");
    assert_eq!(r.status(), 200);
    assert!(r
        .body_mut()
        .read_to_string()
        .unwrap()
        .contains(BUSINESS_NAME));

    let key = base
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let wrong = base.replace(&key, &"A".repeat(key.len()));
    let before = crate::util::stats(&mock)["requests"]
        .as_array()
        .unwrap()
        .len();
    let r = agent()
        .get(&format!("{wrong}accountright/"))
        .call()
        .unwrap();
    assert_eq!(r.status(), 404);
    let after = crate::util::stats(&mock)["requests"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "nothing forwarded for a wrong key");

    let pid = child.id().to_string();
    ok(Command::new("kill").args(["-INT", &pid]).output().unwrap());
    let o = child.wait_with_output().expect("the proxy stops on Ctrl-C");
    assert!(o.status.success(), "{}", err(&o));
    let log = err(&o);
    assert!(
        log.contains(&format!("GET /accountright/{BUSINESS_ID}/ 200 ")),
        "{log}"
    );
    assert!(log.contains("(not the key) 404"), "{log}");
    assert!(!log.contains(&key) && !log.contains("x=1"), "{log}");
    assert!(out(&o).is_empty());
}
