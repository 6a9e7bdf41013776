//! MYOB Advanced (Acumatica, IdentityServer-style) and the generic OIDC provider:
//! one OAuth/OIDC server, told apart by a `Provider`.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{json, Value};
use url::{Host, Url};

use crate::http::{b64url, error_page, form_decode, Req, Resp};
use crate::oauth::{self, body_only, check_access, redeem_code, required, revoke, rotate};
use crate::oauth::{consent_page, start_chain, token_endpoint, AuthRequest, Issued};
use crate::state::{
    oauth_error, unsupported_grant, ClientReg, Endpoint, OAuthVendor, RevocationRecord, State,
};

const SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "api",
    "offline_access",
    "api:concurrent_access",
];

/// Where a provider lives and how it differs.
pub(crate) struct Provider {
    vendor: OAuthVendor,
    /// Path of the issuer under the base URL.
    root: &'static str,
    authorize: &'static str,
    decide: &'static str,
    token: &'static str,
    revocation: &'static str,
    userinfo: &'static str,
    end_session: Option<&'static str>,
    title: &'static str,
    /// Acumatica client ids look like `GUID@Company`.
    guid_client_ids: bool,
    /// RFC 8252 §7.3: any port on a loopback redirect URI.
    loopback_any_port: bool,
}

pub(crate) static ADVANCED: Provider = Provider {
    vendor: OAuthVendor::Advanced,
    root: "/advanced/identity",
    authorize: "/connect/authorize",
    decide: "/connect/decide",
    token: "/connect/token",
    revocation: "/connect/revocation",
    userinfo: "/connect/userinfo",
    end_session: Some("/connect/endsession"),
    title: "Mock MYOB Advanced — allow access",
    guid_client_ids: true,
    loopback_any_port: false,
};

pub(crate) static OIDC: Provider = Provider {
    vendor: OAuthVendor::Oidc,
    root: "/oidc",
    authorize: "/authorize",
    decide: "/decide",
    token: "/token",
    revocation: "/revoke",
    userinfo: "/userinfo",
    end_session: None,
    title: "Mock OpenID Provider — allow access",
    guid_client_ids: false,
    loopback_any_port: true,
};

impl Provider {
    fn url(&self, st: &State, path: &str) -> String {
        format!("{}{}{path}", st.base, self.root)
    }

    /// The `iss` authorization response parameter (RFC 9207), when this provider sends it.
    fn iss(&self, st: &State) -> Option<String> {
        (self.vendor == OAuthVendor::Oidc || st.config.advanced_iss).then(|| self.url(st, ""))
    }

    fn lists_revocation(&self, st: &State) -> bool {
        self.vendor == OAuthVendor::Oidc || st.config.advanced_list_revocation
    }
}

pub(crate) fn handle(st: &mut State, req: &Req, p: &'static Provider) -> Resp {
    let path = req.path.as_str();
    if p.vendor == OAuthVendor::Advanced {
        match path {
            "/advanced/entity" | "/advanced/entity/" if req.method == "GET" => {
                return st.api_call("advanced", req, entity_list)
            }
            "/advanced/entity/auth/logout" => return logout(st, req),
            _ => {}
        }
    }
    let Some(rel) = path.strip_prefix(p.root) else {
        return Resp::not_found();
    };
    match rel {
        "" | "/" | "/.well-known/openid-configuration" => discovery(st, p),
        r if r == p.authorize => authorize(st, req, p),
        r if r == p.decide => decide(st, req, p),
        r if r == p.token => token_endpoint(st, p.vendor, req, |st, form| token(st, p, req, form)),
        r if r == p.revocation => revocation(st, req, p),
        r if r == p.userinfo => st.api_call(p.vendor.key(), req, |st, req| userinfo(st, req, p)),
        r if Some(r) == p.end_session => error_page(200, "Signed out", "You are signed out."),
        _ => Resp::not_found(),
    }
}

fn discovery(st: &State, p: &Provider) -> Resp {
    let mut auth_methods = vec!["client_secret_post", "client_secret_basic"];
    if p.vendor == OAuthVendor::Oidc {
        auth_methods.push("none");
    }
    let mut doc = json!({
        "issuer": p.url(st, ""),
        "authorization_endpoint": p.url(st, p.authorize),
        "token_endpoint": p.url(st, p.token),
        "userinfo_endpoint": p.url(st, p.userinfo),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["none"],
    });
    if p.lists_revocation(st) {
        doc["revocation_endpoint"] = json!(p.url(st, p.revocation));
        if let Some(end) = p.end_session {
            doc["end_session_endpoint"] = json!(p.url(st, end));
        }
    }
    if p.iss(st).is_some() {
        doc["authorization_response_iss_parameter_supported"] = json!(true);
    }
    Resp::json(200, &doc)
}

fn is_guid_at_company(id: &str) -> bool {
    let Some((guid, company)) = id.split_once('@') else {
        return false;
    };
    let groups: Vec<&str> = guid.split('-').collect();
    let lens = groups.iter().map(|g| g.len()).collect::<Vec<_>>();
    lens == [8, 4, 4, 4, 12]
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
        && !company.is_empty()
}

/// Exact match, or (where allowed) the same loopback URI on another port.
fn redirect_matches(p: &Provider, registered: &str, presented: &str) -> bool {
    if registered == presented {
        return true;
    }
    if !p.loopback_any_port {
        return false;
    }
    let (Ok(mut a), Ok(mut b)) = (Url::parse(registered), Url::parse(presented)) else {
        return false;
    };
    let loopback = |u: &Url| {
        u.scheme() == "http"
            && match u.host() {
                Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
                Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
                _ => false,
            }
    };
    if !loopback(&a) || !loopback(&b) {
        return false;
    }
    let _ = a.set_port(None);
    let _ = b.set_port(None);
    a == b
}

fn validate(
    st: &State,
    p: &Provider,
    params: &HashMap<String, String>,
) -> Result<AuthRequest, Resp> {
    let ar = AuthRequest::parse(params);
    if p.guid_client_ids && !is_guid_at_company(&ar.client_id) {
        let msg = format!(
            "client_id must look like GUID@Company, got '{}'",
            ar.client_id
        );
        return Err(error_page(400, "Invalid client", &msg));
    }
    let Some(client) = st.client(p.vendor, &ar.client_id) else {
        let msg = format!("Unknown client_id '{}'", ar.client_id);
        return Err(error_page(400, "Invalid client", &msg));
    };
    if !client
        .redirect_uris
        .iter()
        .any(|r| redirect_matches(p, r, &ar.redirect_uri))
    {
        let msg = format!(
            "The redirect URI does not match a registered one: {}",
            ar.redirect_uri
        );
        return Err(error_page(400, "Redirect URI mismatch", &msg));
    }
    let iss = p.iss(st);
    let fail = |error: &str, msg: &str| Err(ar.error_redirect(error, msg, iss.as_deref()));
    if ar.response_type != "code" {
        return fail("unsupported_response_type", "response_type must be code");
    }
    let scopes: Vec<&str> = ar.scope.split_whitespace().collect();
    if !scopes.iter().any(|s| *s == "api" || *s == "openid") {
        return fail("invalid_scope", "scope must include api or openid");
    }
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(s)) {
        return fail("invalid_scope", &format!("unknown scope {bad}"));
    }
    let method = ar.code_challenge_method.as_deref();
    match (&ar.code_challenge, method) {
        (None, Some(_)) => return fail("invalid_request", "code_challenge is missing"),
        (Some(_), Some(m)) if m != "plain" && m != "S256" => {
            return fail(
                "invalid_request",
                "code_challenge_method must be plain or S256",
            )
        }
        _ => {}
    }
    if client.client_secret.is_none() && (ar.code_challenge.is_none() || method != Some("S256")) {
        return fail(
            "invalid_request",
            "PKCE with S256 is required for public clients",
        );
    }
    Ok(ar)
}

fn authorize(st: &mut State, req: &Req, p: &Provider) -> Resp {
    st.stats.authorize_requests += 1;
    match validate(st, p, &req.query_map()) {
        Ok(ar) => {
            let company = ar.client_id.split_once('@').map(|(_, c)| c).unwrap_or("");
            let extra = if company.is_empty() {
                String::new()
            } else {
                format!(
                    "<p id=\"company\">Company: <b>{}</b></p>",
                    crate::http::esc(company)
                )
            };
            consent_page(p.title, &format!("{}{}", p.root, p.decide), &ar, &extra)
        }
        Err(r) => r,
    }
}

fn decide(st: &mut State, req: &Req, p: &Provider) -> Resp {
    if req.method != "POST" {
        return error_page(
            405,
            "Method not allowed",
            "The consent form is sent with POST",
        );
    }
    let form = req.form();
    let ar = match validate(st, p, &form) {
        Ok(ar) => ar,
        Err(r) => return r,
    };
    let iss = p.iss(st);
    let always: Vec<(&str, &str)> = iss.iter().map(|i| ("iss", i.as_str())).collect();
    oauth::decide(st, p.vendor, &ar, &form, &[], &always)
}

/// Client authentication: secret in the body or HTTP Basic (form-encoded per RFC 6749 §2.3.1).
/// Public clients (no secret registered) only name themselves.
fn authenticate(
    st: &State,
    p: &Provider,
    req: &Req,
    form: &HashMap<String, String>,
) -> Result<ClientReg, Resp> {
    let basic = req.basic();
    let fail = |msg: &str| {
        let r = oauth_error(401, "invalid_client", msg);
        match basic {
            Some(_) => r.with_header("WWW-Authenticate", "Basic realm=\"mock\""),
            None => r,
        }
    };
    // Basic values are form-encoded by careful clients and raw by others: accept both.
    let (ids, secrets): (Vec<String>, Vec<String>) = match &basic {
        Some((u, pw)) => (
            vec![form_decode(u), u.clone()],
            vec![form_decode(pw), pw.clone()],
        ),
        None => (
            form.get("client_id").into_iter().cloned().collect(),
            form.get("client_secret").into_iter().cloned().collect(),
        ),
    };
    if basic.is_some() && form.get("client_id").is_some_and(|f| !ids.contains(f)) {
        let msg = "client_id in the body differs from the one in HTTP Basic";
        return Err(oauth_error(400, "invalid_request", msg));
    }
    let Some(client) = ids.iter().find_map(|id| st.client(p.vendor, id)) else {
        return Err(fail("Unknown client"));
    };
    match &client.client_secret {
        Some(expected) if !secrets.contains(expected) => {
            Err(fail("The client secret is wrong or missing"))
        }
        _ => Ok(client),
    }
}

fn has_scope(scope: &str, s: &str) -> bool {
    scope.split_whitespace().any(|x| x == s)
}

fn token_json(st: &State, p: &Provider, client_id: &str, t: &Issued) -> Value {
    let mut v = json!({
        "access_token": t.access,
        "token_type": "Bearer",
        "expires_in": t.ttl,
        "scope": t.scope,
    });
    if st.config.jwt_access_tokens {
        v.as_object_mut().expect("an object").remove("expires_in");
    }
    if let Some(rt) = &t.refresh {
        v["refresh_token"] = json!(rt);
    }
    if has_scope(&t.scope, "openid") {
        // Unsigned and opaque to clients; shaped like a JWT for readability.
        let now = st.now();
        let header = b64url(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = json!({"iss": p.url(st, ""), "sub": "mock-user-1", "aud": client_id,
                            "iat": now, "exp": now + t.ttl, "email": "user@example.com"});
        v["id_token"] = json!(format!(
            "{header}.{}.",
            b64url(claims.to_string().as_bytes())
        ));
    }
    v
}

fn token(st: &mut State, p: &Provider, req: &Req, form: &HashMap<String, String>) -> Resp {
    let client = match authenticate(st, p, req, form) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let id = client.client_id.as_str();
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let [code, redirect_uri] = match required(form, ["code", "redirect_uri"]) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let verifier = form.get("code_verifier").map(String::as_str);
            let scope = match redeem_code(st, p.vendor, id, code, redirect_uri, verifier) {
                Ok(s) => s,
                Err(d) => return oauth_error(400, "invalid_grant", &d),
            };
            let t = start_chain(
                st,
                p.vendor,
                id,
                &scope,
                has_scope(&scope, "offline_access"),
            );
            st.stats.code_exchanges += 1;
            Resp::json(200, &token_json(st, p, id, &t))
        }
        Some("refresh_token") => {
            let [rt] = match required(form, ["refresh_token"]) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let days = st.config.chain_days;
            match rotate(st, p.vendor, id, rt, Some(days)) {
                Ok(t) => {
                    st.stats.refreshes += 1;
                    Resp::json(200, &token_json(st, p, id, &t))
                }
                Err(d) => oauth_error(400, "invalid_grant", &d),
            }
        }
        other => unsupported_grant(other),
    }
}

/// RFC 7009: 200 for any well-formed, authenticated request, known token or not.
fn revocation(st: &mut State, req: &Req, p: &Provider) -> Resp {
    if let Some(r) = st.take_failure(Endpoint::Revocation) {
        return r;
    }
    if let Some(r) = body_only(req) {
        return r;
    }
    let form = req.form();
    let client = match authenticate(st, p, req, &form) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let [token] = match required(&form, ["token"]) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let known = revoke(st, p.vendor, &client.client_id, token);
    st.stats.revocations.push(RevocationRecord {
        vendor: p.vendor,
        token_type_hint: form.get("token_type_hint").cloned(),
        known,
    });
    Resp::empty(200)
}

fn unauthorized(msg: &str) -> Resp {
    Resp::json(401, &json!({"message": msg}))
        .with_header("WWW-Authenticate", "Bearer error=\"invalid_token\"")
}

fn userinfo(st: &mut State, req: &Req, p: &Provider) -> Resp {
    match check_access(st, p.vendor, req.bearer()) {
        Ok(_) => Resp::json(
            200,
            &json!({"sub": "mock-user-1", "name": "Mock User", "email": "user@example.com"}),
        ),
        Err(m) => unauthorized(m),
    }
}

/// `GET /entity`: the contract-based endpoints of the instance.
fn entity_list(st: &mut State, req: &Req) -> Resp {
    match check_access(st, OAuthVendor::Advanced, req.bearer()) {
        Err(m) => return unauthorized(m),
        Ok(a) if !has_scope(&a.scope, "api") => {
            return unauthorized("The access token was not granted the api scope")
        }
        Ok(_) => {}
    }
    let endpoints: Vec<Value> = [("Default", "24.200.001"), ("Manufacturing", "24.200.001")]
        .iter()
        .map(|(n, v)| json!({"name": n, "version": v, "href": format!("/entity/{n}/{v}/")}))
        .collect();
    Resp::json(
        200,
        &json!({"version": {"acumaticaBuildVersion": "24.210.0021"}, "endpoints": endpoints}),
    )
}

/// `POST /entity/auth/logout`: ends the API session (the token itself stays valid).
fn logout(st: &mut State, req: &Req) -> Resp {
    if let Some(r) = st.take_failure(Endpoint::Logout) {
        return r;
    }
    if req.method != "POST" {
        return Resp::json(405, &json!({"message": "Use POST"}));
    }
    if let Err(m) = check_access(st, OAuthVendor::Advanced, req.bearer()) {
        return unauthorized(m);
    }
    st.stats.logouts += 1;
    match st.config.logout_status {
        s if s >= 400 => Resp::json(s, &json!({"message": "Logout failed (configured)"})),
        s => Resp::empty(s),
    }
}
