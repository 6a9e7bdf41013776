//! The control API under `/_mock/`: set-up, clock, error injection, admin issue, stats.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use crate::http::{Req, Resp};
use crate::manual;
use crate::state::{ClientReg, ConfigPatch, FailNext, IssueReq, State};

#[derive(Deserialize)]
struct Clock {
    advance_secs: i64,
}

pub(crate) fn handle(st: &mut State, req: &Req, rest: &str) -> Resp {
    let result = match (req.method.as_str(), rest) {
        ("POST", "clients") => parse(req).map(|c: ClientReg| {
            let id = c.client_id.clone();
            st.register(c);
            Resp::json(201, &json!({"registered": id}))
        }),
        ("POST", "config") => parse(req).map(|p: ConfigPatch| {
            st.configure(p);
            Resp::json(200, &json!(st.config))
        }),
        ("POST", "clock") => parse(req).map(|c: Clock| {
            st.clock_offset += c.advance_secs;
            Resp::json(
                200,
                &json!({"now": st.now(), "offset_secs": st.clock_offset}),
            )
        }),
        ("POST", "fail_next") => parse(req).and_then(|f: FailNext| set_failure(st, f)),
        ("POST", "issue") => parse(req).and_then(|r: IssueReq| {
            manual::issue(st, r)
                .map(|c| Resp::json(200, &json!(c)))
                .map_err(|e| bad_request(&e))
        }),
        ("GET", "stats") => Ok(Resp::json(200, &json!(st.stats))),
        _ => Ok(Resp::not_found()),
    };
    result.unwrap_or_else(|r| r)
}

pub(crate) fn set_failure(st: &mut State, f: FailNext) -> Result<Resp, Resp> {
    if !(100..=599).contains(&f.status) {
        return Err(bad_request("status must be 100..=599"));
    }
    st.failures.insert(f.endpoint, f);
    Ok(Resp::json(200, &json!({"armed": true})))
}

fn parse<T: DeserializeOwned>(req: &Req) -> Result<T, Resp> {
    serde_json::from_slice(&req.body).map_err(|e| bad_request(&e.to_string()))
}

fn bad_request(msg: &str) -> Resp {
    Resp::json(400, &json!({"error": "bad_request", "message": msg}))
}
