//! What every OAuth vendor here shares: the authorization request, the consent page,
//! codes, tokens and refresh chains, and the token endpoint's common checks.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::http::{b64url, error_page, esc, random_token, with_params, Req, Resp};
use crate::state::{oauth_error, Endpoint, OAuthVendor, State, TokenRequestRecord};

pub(crate) struct Code {
    pub vendor: OAuthVendor,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub issued_at: i64,
    pub used: bool,
    /// (method, challenge)
    pub pkce: Option<(String, String)>,
}

#[derive(Clone)]
pub(crate) struct Access {
    pub vendor: OAuthVendor,
    pub client_id: String,
    pub scope: String,
    pub expires_at: i64,
    pub revoked: bool,
}

pub(crate) struct Refresh {
    pub vendor: OAuthVendor,
    pub client_id: String,
    pub scope: String,
    pub chain: usize,
    pub dead: bool,
}

/// A sign-in and every refresh that followed it.
pub(crate) struct Chain {
    pub started_at: i64,
    pub dead: bool,
}

/// The parameters of an authorization request (also carried through the consent form).
pub(crate) struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_type: String,
    pub scope: String,
    pub state: Option<String>,
    pub prompt: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

impl AuthRequest {
    pub fn parse(m: &HashMap<String, String>) -> AuthRequest {
        let get = |k: &str| m.get(k).cloned().unwrap_or_default();
        AuthRequest {
            client_id: get("client_id"),
            redirect_uri: get("redirect_uri"),
            response_type: get("response_type"),
            scope: get("scope"),
            state: m.get("state").cloned(),
            prompt: m.get("prompt").cloned(),
            code_challenge: m.get("code_challenge").cloned(),
            code_challenge_method: m.get("code_challenge_method").cloned(),
        }
    }

    fn hidden_fields(&self) -> Vec<(&'static str, &str)> {
        let mut v = vec![
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", &self.redirect_uri),
            ("response_type", &self.response_type),
            ("scope", &self.scope),
        ];
        let optional = [
            ("state", &self.state),
            ("prompt", &self.prompt),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
        ];
        v.extend(
            optional
                .iter()
                .filter_map(|(k, o)| o.as_deref().map(|s| (*k, s))),
        );
        v
    }

    /// A redirect back to the client carrying an error.
    pub fn error_redirect(&self, error: &str, description: &str, iss: Option<&str>) -> Resp {
        let mut pairs = vec![("error", error), ("error_description", description)];
        if let Some(s) = &self.state {
            pairs.push(("state", s));
        }
        if let Some(i) = iss {
            pairs.push(("iss", i));
        }
        Resp::redirect(&with_params(&self.redirect_uri, &pairs))
    }
}

/// The consent page: readable, with `#allow` and `#deny` buttons posting to `action`.
pub(crate) fn consent_page(title: &str, action: &str, ar: &AuthRequest, extra_html: &str) -> Resp {
    let scopes: String = ar
        .scope
        .split_whitespace()
        .map(|s| format!("<li>{}</li>", esc(s)))
        .collect();
    let hidden: String = ar
        .hidden_fields()
        .iter()
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", esc(v)))
        .collect();
    Resp::html(
        200,
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head><body>\
             <h1>{t}</h1><p>You are signed in as <b>user@example.com</b>.</p>\
             <p>The application <b id=\"app\">{app}</b> asks for access with these scopes:</p>\
             <ul id=\"scopes\">{scopes}</ul>{extra_html}\
             <form method=\"post\" action=\"{action}\">{hidden}\
             <button id=\"allow\" name=\"decision\" value=\"allow\">Allow</button> \
             <button id=\"deny\" name=\"decision\" value=\"deny\">Deny</button></form></body></html>",
            t = esc(title),
            app = esc(&ar.client_id),
        ),
    )
}

/// Acts on the consent form: a code on allow, `access_denied` on deny.
/// `on_allow` pairs follow the code; `always` pairs end both redirects.
pub(crate) fn decide(
    st: &mut State,
    vendor: OAuthVendor,
    ar: &AuthRequest,
    form: &HashMap<String, String>,
    on_allow: &[(&str, &str)],
    always: &[(&str, &str)],
) -> Resp {
    let code;
    let mut pairs: Vec<(&str, &str)> = match form.get("decision").map(String::as_str) {
        Some("allow") => {
            st.stats.consents_allowed += 1;
            code = new_code(st, vendor, ar);
            vec![("code", &code)]
        }
        Some("deny") => {
            st.stats.consents_denied += 1;
            vec![
                ("error", "access_denied"),
                ("error_description", "The user denied access"),
            ]
        }
        _ => return error_page(400, "Bad request", "decision must be allow or deny"),
    };
    if let Some(s) = &ar.state {
        pairs.push(("state", s));
    }
    if pairs[0].0 == "code" {
        pairs.extend_from_slice(on_allow);
    }
    pairs.extend_from_slice(always);
    Resp::redirect(&with_params(&ar.redirect_uri, &pairs))
}

fn new_code(st: &mut State, vendor: OAuthVendor, ar: &AuthRequest) -> String {
    let code = random_token("code-");
    let pkce = ar.code_challenge.clone().map(|c| {
        let method = ar.code_challenge_method.clone();
        (method.unwrap_or_else(|| "plain".into()), c)
    });
    let c = Code {
        vendor,
        client_id: ar.client_id.clone(),
        redirect_uri: ar.redirect_uri.clone(),
        scope: ar.scope.clone(),
        issued_at: st.now(),
        used: false,
        pkce,
    };
    st.codes.insert(code.clone(), c);
    code
}

/// Checks a code presented at the token endpoint and uses it up.
/// Returns the granted scope, or an `invalid_grant` description.
pub(crate) fn redeem_code(
    st: &mut State,
    vendor: OAuthVendor,
    client_id: &str,
    code: &str,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> Result<String, String> {
    let now = st.now();
    let ttl = st.config.code_ttl_secs;
    let c = match st.codes.get_mut(code) {
        Some(c) if c.vendor == vendor => c,
        _ => return Err("The authorization code is unknown".into()),
    };
    if c.client_id != client_id {
        return Err("The authorization code was issued to another client".into());
    }
    if c.used {
        return Err("The authorization code has already been used".into());
    }
    if now > c.issued_at + ttl {
        return Err("The authorization code has expired".into());
    }
    if c.redirect_uri != redirect_uri {
        return Err(format!(
            "redirect_uri mismatch: the authorization request used {}",
            c.redirect_uri
        ));
    }
    match (&c.pkce, verifier) {
        (None, None) => {}
        (None, Some(_)) => return Err("code_verifier sent but no code_challenge was".into()),
        (Some(_), None) => return Err("code_verifier is required (PKCE)".into()),
        (Some((method, challenge)), Some(v)) => {
            let computed = match method.as_str() {
                "S256" => b64url(&Sha256::digest(v.as_bytes())),
                _ => v.to_owned(),
            };
            if !(43..=128).contains(&v.len()) || &computed != challenge {
                return Err("code_verifier does not match the code_challenge".into());
            }
        }
    }
    c.used = true;
    Ok(c.scope.clone())
}

pub(crate) struct Issued {
    pub access: String,
    pub refresh: Option<String>,
    pub ttl: i64,
    pub scope: String,
}

/// A fresh sign-in: a new chain, an access token and (maybe) a refresh token.
pub(crate) fn start_chain(
    st: &mut State,
    vendor: OAuthVendor,
    client_id: &str,
    scope: &str,
    with_refresh: bool,
) -> Issued {
    st.chains.push(Chain {
        started_at: st.now(),
        dead: false,
    });
    let chain = st.chains.len() - 1;
    mint(st, vendor, client_id, scope, with_refresh.then_some(chain))
}

fn mint(
    st: &mut State,
    vendor: OAuthVendor,
    client_id: &str,
    scope: &str,
    chain: Option<usize>,
) -> Issued {
    let prefix = match vendor {
        OAuthVendor::Myob => "myob",
        OAuthVendor::Advanced => "adv",
        OAuthVendor::Oidc => "oidc",
    };
    let ttl = st.access_ttl(vendor);
    let access = (st.config.access_token_override.clone()).unwrap_or_else(|| {
        let opaque = random_token(&format!("{prefix}-at-"));
        if !st.config.jwt_access_tokens {
            return opaque;
        }
        let header = crate::http::b64url(br#"{"alg":"none","typ":"at+jwt"}"#);
        let claims =
            serde_json::json!({"jti": opaque, "exp": st.now() + ttl, "sub": "mock-user-1"});
        format!(
            "{header}.{}.",
            crate::http::b64url(claims.to_string().as_bytes())
        )
    });
    st.access.insert(
        access.clone(),
        Access {
            vendor,
            client_id: client_id.into(),
            scope: scope.into(),
            expires_at: st.now() + ttl,
            revoked: false,
        },
    );
    let refresh = chain.map(|chain| {
        let rt = (st.config.refresh_token_override.clone())
            .unwrap_or_else(|| random_token(&format!("{prefix}-rt-")));
        let r = Refresh {
            vendor,
            client_id: client_id.into(),
            scope: scope.into(),
            chain,
            dead: false,
        };
        st.refresh.insert(rt.clone(), r);
        rt
    });
    Issued {
        access,
        refresh,
        ttl,
        scope: scope.into(),
    }
}

/// A refresh_token grant: the presented token dies, a new one on the same chain is returned.
/// `chain_days` of 0 or `None` means the chain never ends.
pub(crate) fn rotate(
    st: &mut State,
    vendor: OAuthVendor,
    client_id: &str,
    token: &str,
    chain_days: Option<i64>,
) -> Result<Issued, String> {
    let now = st.now();
    let (scope, chain) = match st.refresh.get(token) {
        Some(r) if r.vendor == vendor => {
            if r.client_id != client_id {
                return Err("The refresh token was issued to another client".into());
            }
            if r.dead {
                return Err("The refresh token has already been used or was revoked".into());
            }
            (r.scope.clone(), r.chain)
        }
        _ => return Err("The refresh token is unknown".into()),
    };
    let c = &st.chains[chain];
    if c.dead {
        return Err("The refresh token was revoked".into());
    }
    if let Some(days) = chain_days.filter(|d| *d > 0) {
        if now >= c.started_at + days * 86_400 {
            return Err("The refresh token has expired".into());
        }
    }
    if let Some(r) = st.refresh.get_mut(token) {
        r.dead = true;
    }
    Ok(mint(st, vendor, client_id, &scope, Some(chain)))
}

/// A usable access token of this vendor, or why not.
pub(crate) fn check_access(
    st: &State,
    vendor: OAuthVendor,
    token: Option<&str>,
) -> Result<Access, &'static str> {
    let Some(token) = token else {
        return Err("Missing Authorization: Bearer header");
    };
    match st.access.get(token) {
        Some(a) if a.vendor == vendor => {
            if a.revoked {
                Err("The access token was revoked")
            } else if st.now() >= a.expires_at {
                Err("The access token has expired")
            } else {
                Ok(a.clone())
            }
        }
        _ => Err("The access token is unknown"),
    }
}

/// RFC 7009: marks the token dead when it belongs to this client; says whether it was known.
pub(crate) fn revoke(st: &mut State, vendor: OAuthVendor, client_id: &str, token: &str) -> bool {
    if let Some(a) = st.access.get_mut(token) {
        if a.vendor == vendor && a.client_id == client_id {
            a.revoked = true;
            return true;
        }
    }
    if let Some(r) = st.refresh.get_mut(token) {
        if r.vendor == vendor && r.client_id == client_id {
            r.dead = true;
            st.chains[r.chain].dead = true;
            return true;
        }
    }
    false
}

/// The checks every token endpoint makes before looking at the grant: recording,
/// injected failures, no query string, POST, a form body. Counts 4xx/5xx answers.
pub(crate) fn token_endpoint(
    st: &mut State,
    vendor: OAuthVendor,
    req: &Req,
    grant: impl FnOnce(&mut State, &HashMap<String, String>) -> Resp,
) -> Resp {
    record_token_request(st, vendor, req);
    st.answer_delay_ms = st.config.token_answer_delay_ms;
    let resp = if let Some(r) = st.take_failure(Endpoint::Token) {
        r
    } else if let Some(r) = body_only(req) {
        r
    } else {
        grant(st, &req.form())
    };
    if resp.status >= 400 {
        st.stats.token_errors += 1;
    }
    resp
}

/// Rejects what is not a POST with a form body and nothing in the query string.
pub(crate) fn body_only(req: &Req) -> Option<Resp> {
    if req.has_query {
        let msg = "Parameters must be sent in the request body, not the query string";
        Some(oauth_error(400, "invalid_request", msg))
    } else if req.method != "POST" {
        Some(oauth_error(405, "invalid_request", "Use POST"))
    } else if !req.is_form() {
        let msg = "Content-Type must be application/x-www-form-urlencoded";
        Some(oauth_error(400, "invalid_request", msg))
    } else {
        None
    }
}

const SECRET_PARAMS: [&str; 8] = [
    "client_secret",
    "code",
    "code_verifier",
    "refresh_token",
    "access_token",
    "token",
    "password",
    "id_token_hint",
];

fn record_token_request(st: &mut State, vendor: OAuthVendor, req: &Req) {
    let query = req
        .query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if SECRET_PARAMS.contains(&k) => format!("{k}=REDACTED"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&");
    let form = req.form();
    let mut form_keys: Vec<String> = form.keys().cloned().collect();
    form_keys.sort();
    let list = &mut st.stats.token_requests;
    list.push(TokenRequestRecord {
        vendor,
        method: req.method.clone(),
        query,
        content_type: req.header("content-type").map(Into::into),
        form_keys,
        grant_type: form.get("grant_type").cloned(),
        basic_auth: req.basic().is_some(),
    });
    if list.len() > 50 {
        list.remove(0);
    }
}

/// Every required form field, or an `invalid_request` naming the first missing one.
pub(crate) fn required<'a, const N: usize>(
    form: &'a HashMap<String, String>,
    names: [&str; N],
) -> Result<[&'a str; N], Resp> {
    let mut out = [""; N];
    for (slot, name) in out.iter_mut().zip(names) {
        match form.get(name).filter(|v| !v.is_empty()) {
            Some(v) => *slot = v,
            None => {
                let msg = format!("The {name} parameter is missing");
                return Err(oauth_error(400, "invalid_request", &msg));
            }
        }
    }
    Ok(out)
}
