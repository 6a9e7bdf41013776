//! The redirect: where the browser will be sent (a loopback listener, or a URL the person
//! pastes), and the judging of the parameters it carries — `state` in constant time, `iss`
//! exactly (RFC 9207), the vendor's error — shared by the listener and pasted URLs.

use crate::http::excerpt;
use crate::oauth::ct_eq;
use crate::secret::{secret, SecretString};
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// What the redirect must carry to be accepted.
pub(crate) struct Expect {
    pub state: String,
    /// The issuer, when known; `iss` must then match exactly if present.
    pub issuer: Option<String>,
    /// The provider promised `iss` (RFC 9207): a redirect without it is refused.
    pub iss_required: bool,
}

/// A callback that passed every check.
#[derive(Debug)]
pub struct Callback {
    pub(crate) code: SecretString,
    /// Every other parameter except `state`, `code` and `iss` (a vendor's extras).
    pub(crate) extra: BTreeMap<String, String>,
}

/// The verdict on one set of redirect parameters.
pub(crate) enum Verdict {
    Accept(Callback),
    /// Ends the attempt (the vendor said no, or the redirect is wrong in a way that
    /// waiting cannot fix).
    Fail(Error),
    /// Not this attempt's redirect (wrong or missing `state`): refuse it, keep waiting.
    Ignore(String),
}

pub(crate) fn judge(params: Vec<(String, String)>, expect: &Expect) -> Verdict {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in params {
        // A repeated parameter is ambiguous: refuse rather than pick one.
        if map.contains_key(&k) {
            return Verdict::Ignore(format!("the parameter '{}' appeared twice", excerpt(&k)));
        }
        map.insert(k, v);
    }
    match map.remove("state") {
        Some(s) if ct_eq(&s, &expect.state) => {}
        Some(_) => return Verdict::Ignore("its state does not match this attempt".into()),
        None => return Verdict::Ignore("it carries no state".into()),
    }
    match (map.remove("iss"), &expect.issuer) {
        (Some(got), Some(want)) if got != *want => {
            return Verdict::Fail(Error::IssuerMismatch {
                expected: want.clone(),
                got: excerpt(&got),
            })
        }
        (None, Some(want)) if expect.iss_required => {
            return Verdict::Fail(Error::IssuerMismatch {
                expected: want.clone(),
                got: "(none)".into(),
            })
        }
        _ => {}
    }
    if let Some(error) = map.remove("error") {
        return Verdict::Fail(Error::Denied {
            error: excerpt(&error),
            description: map.remove("error_description").map(|d| excerpt(&d)),
        });
    }
    match map.remove("code") {
        Some(code) if !code.is_empty() => Verdict::Accept(Callback {
            code: secret(code),
            extra: map.into_iter().map(|(k, v)| (k, excerpt(&v))).collect(),
        }),
        _ => Verdict::Fail(Error::Denied {
            error: "no_code".into(),
            description: Some("the redirect carried neither a code nor an error".into()),
        }),
    }
}

/// Where the browser goes back to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A listener on this computer: the addresses to bind (exactly the family the URI
    /// names; both for `localhost`), the port (0: any free one) and the path.
    Loopback {
        addrs: Vec<IpAddr>,
        port: u16,
        path: String,
    },
    /// Another host (e.g. `http://desktop`): the person pastes the URL they land on.
    Paste,
}

pub(crate) fn target(uri: &str) -> Result<Target> {
    let u = Url::parse(uri).map_err(|e| {
        Error::input(format!(
            "The redirect URI '{}' is not a valid URL ({e}). Give it exactly as registered with the vendor.",
            excerpt(uri)
        ))
    })?;
    let addrs: Vec<IpAddr> = match u.host() {
        Some(Host::Ipv4(ip)) if ip.is_loopback() => vec![IpAddr::V4(ip)],
        Some(Host::Ipv6(ip)) if ip.is_loopback() => vec![IpAddr::V6(ip)],
        Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
            vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]
        }
        _ => return Ok(Target::Paste),
    };
    if u.scheme() != "http" {
        return Ok(Target::Paste);
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(Error::input("A loopback redirect URI with a query or fragment is not supported; register one like http://127.0.0.1:8765/callback."));
    }
    Ok(Target::Loopback {
        addrs,
        port: u.port_or_known_default().unwrap_or(80),
        path: u.path().to_owned(),
    })
}

/// Takes the URL the browser landed on, for the attempt whose registered redirect URI
/// is `registered`.
pub(crate) fn pasted(landed: &str, registered: &str, expect: &Expect) -> Result<Callback> {
    let url = Url::parse(landed.trim()).map_err(|_| {
        Error::input("That is not a URL. Copy the whole address from the browser's address bar after the vendor's page redirected.")
    })?;
    let same_target = Url::parse(registered).ok().is_some_and(|r| {
        r.scheme() == url.scheme()
            && r.host_str() == url.host_str()
            && r.port_or_known_default() == url.port_or_known_default()
            && r.path() == url.path()
    });
    if !same_target {
        return Err(Error::input(format!(
            "That URL does not start with the registered redirect URI {registered}; paste the address the vendor sent the browser to."
        )));
    }
    match judge(url.query_pairs().into_owned().collect(), expect) {
        Verdict::Accept(cb) => Ok(cb),
        Verdict::Fail(e) => Err(e),
        Verdict::Ignore(_) => Err(Error::StateMismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ExposeSecret;

    fn expect() -> Expect {
        Expect {
            state: "s1".into(),
            issuer: Some("https://idp".into()),
            iss_required: false,
        }
    }

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn judges_state_iss_and_errors() {
        assert!(matches!(
            judge(p(&[("code", "c")]), &expect()),
            Verdict::Ignore(_)
        ));
        assert!(matches!(
            judge(p(&[("code", "c"), ("state", "x")]), &expect()),
            Verdict::Ignore(_)
        ));
        assert!(matches!(
            judge(
                p(&[("code", "c"), ("state", "s1"), ("state", "s1")]),
                &expect()
            ),
            Verdict::Ignore(_)
        ));
        assert!(matches!(
            judge(
                p(&[("code", "c"), ("state", "s1"), ("iss", "https://evil")]),
                &expect()
            ),
            Verdict::Fail(Error::IssuerMismatch { .. })
        ));
        // RFC 9207: compared exactly, a trailing slash is another issuer.
        assert!(matches!(
            judge(
                p(&[("code", "c"), ("state", "s1"), ("iss", "https://idp/")]),
                &expect()
            ),
            Verdict::Fail(Error::IssuerMismatch { .. })
        ));
        let strict = Expect {
            iss_required: true,
            ..expect()
        };
        assert!(matches!(
            judge(p(&[("code", "c"), ("state", "s1")]), &strict),
            Verdict::Fail(Error::IssuerMismatch { .. })
        ));
        assert!(matches!(
            judge(p(&[("error", "access_denied"), ("state", "s1")]), &expect()),
            Verdict::Fail(Error::Denied { .. })
        ));
        match judge(
            p(&[
                ("code", "c"),
                ("state", "s1"),
                ("iss", "https://idp"),
                ("businessId", "b"),
            ]),
            &expect(),
        ) {
            Verdict::Accept(cb) => {
                assert_eq!(cb.code.expose_secret(), "c");
                assert_eq!(cb.extra.get("businessId").map(String::as_str), Some("b"));
            }
            _ => panic!("a good callback is accepted"),
        }
    }

    #[test]
    fn targets_bind_exactly_the_family_the_uri_names() {
        let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let lb = |addrs, port, path: &str| Target::Loopback {
            addrs,
            port,
            path: path.into(),
        };
        assert_eq!(
            target("http://127.0.0.1:8765/callback").unwrap(),
            lb(vec![v4], 8765, "/callback")
        );
        assert_eq!(
            target("http://[::1]:8765/cb").unwrap(),
            lb(vec![v6], 8765, "/cb")
        );
        assert_eq!(
            target("http://localhost:9/cb").unwrap(),
            lb(vec![v4, v6], 9, "/cb")
        );
        assert_eq!(
            target("http://127.0.0.1/cb").unwrap(),
            lb(vec![v4], 80, "/cb")
        );
        assert_eq!(target("http://desktop").unwrap(), Target::Paste);
        assert!(target("http://127.0.0.1:1/cb?x=1").is_err());
        assert!(target("not a url").is_err());
    }

    #[test]
    fn pasted_urls_must_match_the_registered_target() {
        let cb = pasted(
            "http://desktop/?code=c&state=s1",
            "http://desktop",
            &expect(),
        )
        .expect("accepted");
        assert_eq!(cb.code.expose_secret(), "c");
        assert!(matches!(
            pasted(
                "http://desktop/?code=c&state=zz",
                "http://desktop",
                &expect()
            ),
            Err(Error::StateMismatch)
        ));
        assert!(pasted(
            "http://elsewhere/?code=c&state=s1",
            "http://desktop",
            &expect()
        )
        .is_err());
    }
}
