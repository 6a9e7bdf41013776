//! Vendors whose tokens come from an admin screen: MYOB Exo, Xentral, O4, MachShip and
//! the AccountRight desktop (local) API. `POST /_mock/issue` plays the admin screen.

use serde_json::json;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::http::{b64, random_token, Req, Resp};
use crate::state::{IssueReq, IssuedCredentials, ManualVendor, State};

pub(crate) struct Manual {
    pub cred: IssuedCredentials,
    /// Exo tokens replaced by `GET /token`.
    pub retired: Vec<String>,
}

pub(crate) fn issue(st: &mut State, req: IssueReq) -> Result<IssuedCredentials, String> {
    if let Some(e) = &req.expires {
        parse_date(e).ok_or_else(|| format!("expires must be a date YYYY-MM-DD, got '{e}'"))?;
    }
    let mut c = IssuedCredentials {
        vendor: req.vendor,
        token: None,
        username: None,
        password: None,
        key: None,
        company_file: None,
        expires: req.expires,
    };
    match req.vendor {
        ManualVendor::Exo => {
            c.username = Some("keyport-integration".into());
            c.password = Some(random_token("exo-pw-"));
            c.key = Some(random_token("exo-key-"));
            c.token = Some(random_token("exo-tok-"));
        }
        ManualVendor::Xentral => c.token = Some(random_token("xentral-pat-")),
        ManualVendor::O4 => {
            c.token = Some(random_token("o4-"));
            let a_year_on = st.now().div_euclid(86_400) + 365;
            c.expires.get_or_insert_with(|| date_string(a_year_on));
        }
        ManualVendor::Machship => c.token = Some(random_token("machship-")),
        ManualVendor::MyobDesktop => {
            c.username = Some("Administrator".into());
            c.password = Some(random_token("cf-pw-"));
            c.company_file = Some(random_guid());
        }
    }
    st.manual.push(Manual {
        cred: c.clone(),
        retired: Vec::new(),
    });
    Ok(c)
}

pub(crate) fn handle(st: &mut State, req: &Req) -> Option<Resp> {
    let path = req.path.as_str();
    let resp = if let Some(rest) = path.strip_prefix("/exo/") {
        match rest {
            "debtor" => st.api_call("exo", req, exo_debtor),
            "token" => exo_reissue(st, req),
            _ => Resp::not_found(),
        }
    } else if path == "/xentral/api/v3/products" {
        st.api_call("xentral", req, xentral)
    } else if path.starts_with("/o4/api/") {
        st.api_call("o4", req, o4)
    } else if path == "/machship/apiv2/authenticate/ping" {
        st.api_call("machship", req, machship)
    } else if let Some(rest) = path.strip_prefix("/accountright-desktop/accountright") {
        match rest.trim_matches('/') {
            file if !file.is_empty() && !file.contains('/') => {
                let file = file.to_owned();
                st.api_call("myob-desktop", req, |st, req| desktop(st, req, &file))
            }
            _ => Resp::not_found(),
        }
    } else {
        return None;
    };
    Some(resp)
}

fn find(
    st: &State,
    vendor: ManualVendor,
    pred: impl Fn(&IssuedCredentials) -> bool,
) -> Option<&Manual> {
    st.manual
        .iter()
        .find(|m| m.cred.vendor == vendor && pred(&m.cred))
}

fn expired(st: &State, c: &IssuedCredentials) -> bool {
    let last_day = c.expires.as_deref().and_then(parse_date);
    last_day.is_some_and(|d| st.now().div_euclid(86_400) > d)
}

fn unauthorized(msg: &str) -> Resp {
    Resp::json(401, &json!({"error": "unauthorized", "message": msg}))
}

fn same(a: Option<&str>, b: &Option<String>) -> bool {
    a.is_some() && a == b.as_deref()
}

/// Exo: Basic user:password and the developer key identify the credential (its index).
fn exo_login(st: &State, req: &Req) -> Result<usize, Resp> {
    let Some((user, pass)) = req.basic() else {
        return Err(unauthorized(
            "Missing Authorization: Basic base64(user:password)",
        ));
    };
    let idx = st
        .manual
        .iter()
        .position(|m| {
            let c = &m.cred;
            c.vendor == ManualVendor::Exo
                && same(Some(&user), &c.username)
                && same(Some(&pass), &c.password)
        })
        .ok_or_else(|| unauthorized("Unknown Exo user or wrong password"))?;
    if !same(req.header("x-myobapi-key"), &st.manual[idx].cred.key) {
        return Err(unauthorized(
            "x-myobapi-key is missing or is not the developer key",
        ));
    }
    Ok(idx)
}

fn exo_debtor(st: &mut State, req: &Req) -> Resp {
    let m = match exo_login(st, req) {
        Ok(i) => &st.manual[i],
        Err(r) => return r,
    };
    let token = req.header("x-myobapi-exotoken");
    if token.is_some_and(|t| m.retired.iter().any(|r| r == t)) {
        return unauthorized("x-myobapi-exotoken was re-issued (GET /token) and no longer works");
    }
    if !same(token, &m.cred.token) {
        return unauthorized("x-myobapi-exotoken is missing or wrong");
    }
    if expired(st, &m.cred) {
        return unauthorized("The Exo token has expired (module licence)");
    }
    Resp::json(
        200,
        &json!([{"id": 1, "accountname": "Clearwater Pty Ltd", "balance": 1520.5,
                 "email": "accounts@clearwater.example", "isactive": true}]),
    )
}

/// `GET /token`: re-issues the Exo token; the old one stops working. Keyport must never call it.
fn exo_reissue(st: &mut State, req: &Req) -> Resp {
    st.stats.exo_token_reissues += 1;
    let idx = match exo_login(st, req) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let m = &mut st.manual[idx];
    let new = random_token("exo-tok-");
    if let Some(old) = m.cred.token.replace(new.clone()) {
        m.retired.push(old);
    }
    Resp::json(200, &json!(new))
}

fn bearer_cred<'a>(st: &'a State, req: &Req, v: ManualVendor) -> Result<&'a Manual, Resp> {
    let Some(t) = req.bearer() else {
        return Err(unauthorized("Missing Authorization: Bearer header"));
    };
    let m = find(st, v, |c| same(Some(t), &c.token))
        .ok_or_else(|| unauthorized("Unauthenticated: unknown token"))?;
    if expired(st, &m.cred) {
        return Err(unauthorized("The token has expired"));
    }
    Ok(m)
}

fn xentral(st: &mut State, req: &Req) -> Resp {
    if let Err(r) = bearer_cred(st, req, ManualVendor::Xentral) {
        return r;
    }
    let accept = req.header("accept").unwrap_or("");
    if !accept
        .split(',')
        .any(|m| m.split(';').next().unwrap_or("").trim() == "application/json")
    {
        let msg = format!("Accept must be application/json for /api/v3, got '{accept}'");
        return Resp::json(406, &json!({"message": msg}));
    }
    Resp::json(
        200,
        &json!({"data": [{"id": "1", "number": "P-1001", "name": "Mock product"}],
                "extra": {"totalCount": 1, "page": {"number": 1, "size": 1}}}),
    )
}

fn o4(st: &mut State, req: &Req) -> Resp {
    match bearer_cred(st, req, ManualVendor::O4) {
        Ok(_) => Resp::json(200, &json!({"status": "ok", "path": req.path})),
        Err(r) => r,
    }
}

fn machship(st: &mut State, req: &Req) -> Resp {
    let fail = |status: u16, msg: &str| {
        Resp::json(
            status,
            &json!({"object": null, "errors": [{"errorMessage": msg}]}),
        )
    };
    if req.method != "POST" {
        return fail(405, "Use POST");
    }
    let Some(t) = req.header("token") else {
        return fail(401, "The token header is missing");
    };
    match find(st, ManualVendor::Machship, |c| same(Some(t), &c.token)) {
        Some(m) if expired(st, &m.cred) => fail(401, "The token has expired"),
        Some(_) => Resp::json(200, &json!({"object": true, "errors": null})),
        None => fail(401, "The token is not valid"),
    }
}

fn desktop_error(name: &str, msg: &str) -> Resp {
    Resp::json(401, &json!({"Errors": [{"Name": name, "Message": msg}]}))
}

fn desktop(st: &mut State, req: &Req, file: &str) -> Resp {
    let Some(m) = find(st, ManualVendor::MyobDesktop, |c| {
        same(Some(file), &c.company_file)
    }) else {
        return desktop_error("CompanyFileNotFound", "No company file with this id");
    };
    if req.header("x-myobapi-version") != Some("v2") {
        return desktop_error("InvalidApiVersion", "x-myobapi-version must be v2");
    }
    let c = &m.cred;
    let user = c.username.as_deref().unwrap_or_default();
    let expected = b64(&format!(
        "{user}:{}",
        c.password.as_deref().unwrap_or_default()
    ));
    match req.header("x-myobapi-cftoken") {
        Some(v) if v == expected => Resp::json(
            200,
            &json!({"Id": file, "Name": "Clearwater Desktop", "ProductVersion": "2025.2",
                    "Uri": format!("{}/accountright-desktop/accountright/{file}", st.base)}),
        ),
        Some(_) => desktop_error(
            "InvalidCredentials",
            "x-myobapi-cftoken: wrong user or password",
        ),
        None => desktop_error(
            "CompanyFileCredentialsMissing",
            "x-myobapi-cftoken is missing",
        ),
    }
}

fn random_guid() -> String {
    let hex = random_token("")
        .bytes()
        .map(|b| format!("{:x}", b % 16))
        .collect::<String>();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `YYYY-MM-DD`, as the admin screens show an expiry date.
const DATE: &[BorrowedFormatItem<'_>] = format_description!("[year]-[month]-[day]");

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (a real day of the proleptic Gregorian
/// calendar, exactly ten characters).
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let date = Date::parse(s, DATE).ok().filter(|_| s.len() == 10)?;
    Some((date - OffsetDateTime::UNIX_EPOCH.date()).whole_days())
}

/// The `YYYY-MM-DD` date `days` days after 1970-01-01.
pub(crate) fn date_string(days: i64) -> String {
    let date = OffsetDateTime::UNIX_EPOCH.date() + time::Duration::days(days);
    date.format(DATE).expect("a date formats as YYYY-MM-DD")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(11_017));
        assert_eq!(date_string(parse_date("2028-02-29").unwrap()), "2028-02-29");
        assert_eq!(parse_date("2027-02-29"), None);
        assert_eq!(parse_date("2026-1-01"), None);
    }
}
