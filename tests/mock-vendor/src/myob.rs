//! MYOB Business API (AccountRight online): secure.myob.com under `/myob/secure`,
//! api.myob.com under `/myob/api`.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::http::{b64, error_page, Req, Resp};
use crate::oauth::{self, check_access, redeem_code, required, rotate, start_chain};
use crate::oauth::{consent_page, token_endpoint, AuthRequest, Issued};
use crate::state::{oauth_error, unsupported_grant, OAuthVendor, State};

pub const BUSINESS_ID: &str = "6b1a3c1e-0f4e-4a8e-9d55-2f3c8b0a7e11";
pub const BUSINESS_NAME: &str = "Clearwater Pty Ltd";
const USER_UID: &str = "28f0c6a2-5d7e-4c1b-9a3e-0d4b6e8f1a5c";
const V: OAuthVendor = OAuthVendor::Myob;
const SME_SCOPES: [&str; 13] = [
    "sme-general-ledger",
    "sme-sales",
    "sme-timebilling",
    "sme-inventory",
    "sme-contacts-customer",
    "sme-contacts-supplier",
    "sme-contacts-personal",
    "sme-contacts-employee",
    "sme-banking",
    "sme-purchases",
    "sme-payroll",
    "sme-company-settings",
    "sme-company-file",
];

pub(crate) fn handle(st: &mut State, req: &Req, rest: &str) -> Resp {
    match rest {
        "secure/oauth2/account/authorize" => authorize(st, req),
        "secure/oauth2/account/decide" => decide(st, req),
        "secure/oauth2/v1/authorize" => token_endpoint(st, V, req, token),
        _ => {
            let Some(rest) = rest.strip_prefix("api/accountright/") else {
                return Resp::not_found();
            };
            let (id, sub) = rest.split_once('/').unwrap_or((rest, ""));
            let id = id.to_owned();
            match (req.method.as_str(), sub.trim_end_matches('/')) {
                ("GET", "") => st.api_call("myob", req, |st, req| company_file(st, req, &id)),
                ("GET", "Contact/Customer") => {
                    st.api_call("myob", req, |st, req| customers(st, req, &id))
                }
                ("POST", "Contact/Customer") => {
                    st.api_call("myob", req, |st, req| add_customer(st, req, &id))
                }
                _ => Resp::not_found(),
            }
        }
    }
}

fn scope_ok(scope: &str) -> bool {
    scope == "CompanyFile"
        || (!scope.trim().is_empty() && scope.split_whitespace().all(|s| SME_SCOPES.contains(&s)))
}

/// The checks MYOB makes before showing the sign-in page (and again on the decision).
fn validate(st: &State, params: &HashMap<String, String>) -> Result<AuthRequest, Resp> {
    let ar = AuthRequest::parse(params);
    let Some(client) = st.client(V, &ar.client_id) else {
        let msg = format!("Unknown client_id (API key) '{}'", ar.client_id);
        return Err(error_page(400, "Invalid client", &msg));
    };
    if !client.redirect_uris.contains(&ar.redirect_uri) {
        let msg = format!(
            "The redirect URI does not match the one registered for this API key \
             (it must match exactly): {}",
            ar.redirect_uri
        );
        return Err(error_page(400, "Redirect URI mismatch", &msg));
    }
    if ar.response_type != "code" {
        let msg = "response_type must be code";
        return Err(ar.error_redirect("unsupported_response_type", msg, None));
    }
    if !scope_ok(&ar.scope) {
        let msg = "scope must be CompanyFile or a space-separated list of sme-* scopes";
        return Err(ar.error_redirect("invalid_scope", msg, None));
    }
    Ok(ar)
}

fn authorize(st: &mut State, req: &Req) -> Resp {
    st.stats.authorize_requests += 1;
    match validate(st, &req.query_map()) {
        Ok(ar) => {
            let file = format!(
                "<p id=\"company-file\">Company file: <b id=\"business-name\">{BUSINESS_NAME}</b> \
                 (businessId <code id=\"business-id\">{BUSINESS_ID}</code>)</p>"
            );
            let title = "Mock MYOB — sign in and allow access";
            consent_page(title, "/myob/secure/oauth2/account/decide", &ar, &file)
        }
        Err(r) => r,
    }
}

fn decide(st: &mut State, req: &Req) -> Resp {
    if req.method != "POST" {
        return error_page(
            405,
            "Method not allowed",
            "The consent form is sent with POST",
        );
    }
    let form = req.form();
    let ar = match validate(st, &form) {
        Ok(ar) => ar,
        Err(r) => return r,
    };
    let business: &[(&str, &str)] = if ar.prompt.as_deref() == Some("consent") {
        &[("businessId", BUSINESS_ID), ("businessName", BUSINESS_NAME)]
    } else {
        &[]
    };
    oauth::decide(st, V, &ar, &form, business, &[])
}

/// MYOB's token response: `expires_in` is a string.
fn token_json(t: &Issued) -> Value {
    json!({
        "access_token": t.access,
        "token_type": "bearer",
        "expires_in": t.ttl.to_string(),
        "refresh_token": t.refresh,
        "scope": t.scope,
    })
}

fn token(st: &mut State, form: &HashMap<String, String>) -> Resp {
    let client = match (form.get("client_id"), form.get("client_secret")) {
        (Some(id), Some(secret)) => st
            .client(V, id)
            .filter(|c| c.client_secret.as_deref() == Some(secret.as_str())),
        _ => None,
    };
    let Some(client) = client else {
        let msg = "client_id and client_secret must be sent in the body and match the API key";
        return oauth_error(401, "invalid_client", msg);
    };
    let id = client.client_id.as_str();
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let [code, redirect_uri, _scope] =
                match required(form, ["code", "redirect_uri", "scope"]) {
                    Ok(v) => v,
                    Err(r) => return r,
                };
            let scope = match redeem_code(st, V, id, code, redirect_uri, None) {
                Ok(s) => s,
                Err(d) => return oauth_error(400, "invalid_grant", &d),
            };
            let t = start_chain(st, V, id, &scope, true);
            st.stats.code_exchanges += 1;
            let mut body = token_json(&t);
            body["user"] = json!({"uid": USER_UID, "username": "user@example.com"});
            Resp::json(200, &body)
        }
        Some("refresh_token") => {
            let [rt] = match required(form, ["refresh_token"]) {
                Ok(v) => v,
                Err(r) => return r,
            };
            match rotate(st, V, id, rt, None) {
                Ok(t) => {
                    st.stats.refreshes += 1;
                    Resp::json(200, &token_json(&t))
                }
                Err(d) => oauth_error(400, "invalid_grant", &d),
            }
        }
        other => unsupported_grant(other),
    }
}

fn api_error(status: u16, name: &str, message: &str) -> Resp {
    let body = json!({"Errors": [{"Name": name, "Message": message, "AdditionalDetails": ""}]});
    Resp::json(status, &body)
}

/// The checks MYOB makes on every API call: the bearer token, the API version and key,
/// the company-file credentials, and access to this company file.
fn check_call(st: &State, req: &Req, business_id: &str) -> Result<(), Resp> {
    let token = match check_access(st, V, req.bearer()) {
        Ok(a) => a,
        Err(m) => return Err(api_error(401, "OAuthTokenIsInvalid", m)),
    };
    match req.header("x-myobapi-version") {
        Some("v2") => {}
        Some(_) => {
            return Err(api_error(
                400,
                "InvalidApiVersion",
                "x-myobapi-version must be v2",
            ));
        }
        None => {
            let msg = "The x-myobapi-version header is missing (send v2)";
            return Err(api_error(400, "MissingApiVersion", msg));
        }
    }
    if req.header("x-myobapi-key") != Some(token.client_id.as_str()) {
        let msg = "x-myobapi-key is missing or is not the API key the access token was issued to";
        return Err(api_error(401, "InvalidApiKey", msg));
    }
    let Some(client) = st.client(V, &token.client_id) else {
        return Err(api_error(
            401,
            "InvalidApiKey",
            "The API key is no longer registered",
        ));
    };
    let expected = b64(&format!("{}:{}", client.cf_username, client.cf_password));
    match req.header("x-myobapi-cftoken") {
        None => {
            let msg = "The x-myobapi-cftoken header is missing (base64 of user:password)";
            return Err(api_error(401, "CompanyFileCredentialsMissing", msg));
        }
        Some(v) if v != expected => {
            let msg = "x-myobapi-cftoken: the company file user name or password is wrong";
            return Err(api_error(401, "InvalidCompanyFileCredentials", msg));
        }
        Some(_) => {}
    }
    if !business_id.eq_ignore_ascii_case(BUSINESS_ID) {
        let msg = format!("The access token was not granted access to company file {business_id}");
        return Err(api_error(401, "AccessDenied", &msg));
    }
    Ok(())
}

/// `GET /accountright/{businessId}/`: the cheap read that proves a connection.
fn company_file(st: &mut State, req: &Req, business_id: &str) -> Resp {
    if let Err(r) = check_call(st, req, business_id) {
        return r;
    }
    let uri = format!("{}/myob/api/accountright/{BUSINESS_ID}", st.base);
    Resp::json(
        200,
        &json!({
            "Id": BUSINESS_ID,
            "Name": BUSINESS_NAME,
            "Country": "AU",
            "ProductVersion": "2025.2",
            "ProductLevel": {"Code": 30, "Name": "Plus"},
            "Uri": uri,
            "Resources": [format!("{uri}/GeneralLedger/Account"), format!("{uri}/Contact/Customer")],
        }),
    )
}

/// A few customers to list.
pub(crate) fn seed_customers() -> Vec<Value> {
    [
        "Island Way Cafe",
        "Harbour Lights Hotel",
        "Ridgeback Builders",
        "Tidewater Traders",
        "Wattle Creek Farm",
    ]
    .iter()
    .enumerate()
    .map(|(i, name)| customer(&format!("CUS{:04}", i + 1), name))
    .collect()
}

fn customer(display_id: &str, company: &str) -> Value {
    json!({"UID": uuid_like(display_id), "DisplayID": display_id, "CompanyName": company, "IsIndividual": false})
}

fn uuid_like(seed: &str) -> String {
    let hex: String = seed.bytes().map(|b| format!("{b:02x}")).collect();
    let h = format!("{hex:0>32}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `GET …/Contact/Customer`: OData paging as MYOB documents it (`$top`, default 400 and at
/// most 1000; `$skip`), answered as `Items`, `NextPageLink` (null on the last page), `Count`.
fn customers(st: &mut State, req: &Req, business_id: &str) -> Resp {
    if let Err(r) = check_call(st, req, business_id) {
        return r;
    }
    let q = req.query_map();
    let num = |k: &str, d: usize| q.get(k).and_then(|v| v.parse::<usize>().ok()).unwrap_or(d);
    let (top, skip) = (num("$top", 400).clamp(1, 1000), num("$skip", 0));
    let all = &st.myob_customers;
    let items: Vec<Value> = all.iter().skip(skip).take(top).cloned().collect();
    let next = (skip + top < all.len()).then(|| {
        format!(
            "{}/myob/api/accountright/{BUSINESS_ID}/Contact/Customer?$top={top}&$skip={}",
            st.base,
            skip + top
        )
    });
    Resp::json(
        200,
        &json!({"Items": items, "NextPageLink": next, "Count": all.len()}),
    )
}

/// `POST …/Contact/Customer`: 201 Created with the new customer's `Location`, no body.
fn add_customer(st: &mut State, req: &Req, business_id: &str) -> Resp {
    if let Err(r) = check_call(st, req, business_id) {
        return r;
    }
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return api_error(400, "InvalidRequestBody", "The body must be a JSON object"),
    };
    let Some(company) = body["CompanyName"].as_str().filter(|c| !c.is_empty()) else {
        return api_error(
            400,
            "FieldRequired",
            "CompanyName is required for a company customer",
        );
    };
    let id = format!("CUS{:04}", st.myob_customers.len() + 1);
    let c = customer(&id, company);
    let uid = c["UID"].as_str().unwrap_or_default().to_owned();
    st.myob_customers.push(c);
    let location = format!(
        "{}/myob/api/accountright/{BUSINESS_ID}/Contact/Customer/{uid}",
        st.base
    );
    Resp::empty(201).with_header("Location", &location)
}
