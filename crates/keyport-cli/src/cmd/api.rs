//! `keyport api NAME PATH` (a request to the connection's API, as `gh api` makes one) and
//! the extra arguments of `keyport curl NAME PATH -- ARGS`.

use keyport_engine::{ApiReply, ApiRequest, Error, Keyport};
use std::io::{Read, Write};
use std::process::ExitCode;

/// Exit codes of `keyport api` for the vendor's answer.
const EXIT_4XX: u8 = 11;
const EXIT_5XX: u8 = 12;

#[derive(clap::Args)]
pub struct ApiArgs {
    /// The connection's name.
    pub name: String,
    /// A path under the connection's base URL, with its query, e.g.
    /// '/accountright/{business_id}/Contact/Customer?$top=100'. {KEY} takes the value of
    /// the account detail KEY that `keyport show NAME --json` lists (business_id, tenant,
    /// issuer, email…). A full URL must be on the base URL's host.
    pub path: String,
    /// GET, POST, PUT, PATCH, DELETE or HEAD [default: GET, or POST when a body is given].
    #[arg(short = 'X', long, value_name = "METHOD", ignore_case = true,
          value_parser = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])]
    pub method: Option<String>,
    /// A request header, 'Name: value' (repeatable). An Authorization header, or one of
    /// the vendor's own headers, is refused (exit 2): Keyport sends the connection's.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// The request body as given; '@FILE' reads a file, '@-' standard input. Sent as
    /// application/json unless -H sets a Content-Type.
    #[arg(short = 'd', long, value_name = "DATA", conflicts_with_all = ["data_file", "fields"])]
    pub data: Option<String>,
    /// Read the request body from FILE ('-': standard input).
    #[arg(long, value_name = "FILE", conflicts_with = "fields")]
    pub data_file: Option<String>,
    /// A string field of a JSON object body (repeatable): -f CompanyName=Acme.
    #[arg(short = 'f', long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,
    /// Print the status line and the response headers before the body (as curl -i).
    #[arg(short = 'i', long)]
    pub include: bool,
    /// Follow the vendor's next-page links (GET; only vendors that document paging, e.g.
    /// MYOB's NextPageLink) and print each page's body on a line of its own: `jq '.Items[]'`
    /// reads every item.
    #[arg(long)]
    pub paginate: bool,
}

fn input(msg: impl Into<String>) -> Error {
    Error::InvalidInput(msg.into())
}

fn read_file(path: &str) -> Result<Vec<u8>, Error> {
    let mut buf = Vec::new();
    let done = if path == "-" {
        std::io::stdin().read_to_end(&mut buf).map(|_| ())
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut buf).map(|_| ()))
    };
    done.map_err(|e| input(format!("Keyport could not read the body from {path}: {e}.")))?;
    Ok(buf)
}

/// The request body from -d, --data-file or -f.
fn body(a: &ApiArgs) -> Result<Option<Vec<u8>>, Error> {
    if let Some(d) = &a.data {
        return Ok(Some(match d.strip_prefix('@') {
            Some(path) => read_file(path)?,
            None => d.clone().into_bytes(),
        }));
    }
    if let Some(f) = &a.data_file {
        return read_file(f).map(Some);
    }
    if a.fields.is_empty() {
        return Ok(None);
    }
    let mut obj = serde_json::Map::new();
    for f in &a.fields {
        let (k, v) = f
            .split_once('=')
            .ok_or_else(|| input(format!("-f takes KEY=VALUE, not '{f}'.")))?;
        obj.insert(k.to_owned(), v.into());
    }
    Ok(Some(
        serde_json::Value::Object(obj).to_string().into_bytes(),
    ))
}

fn request(a: &ApiArgs) -> Result<ApiRequest, Error> {
    let headers = a
        .headers
        .iter()
        .map(|h| {
            let (k, v) = h
                .split_once(':')
                .ok_or_else(|| input(format!("-H takes 'Name: value', not '{h}'.")))?;
            Ok((k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect::<Result<_, Error>>()?;
    let body = body(a)?;
    let method = match &a.method {
        Some(m) => m.to_ascii_uppercase(),
        None if body.is_some() => "POST".into(),
        None => "GET".into(),
    };
    Ok(ApiRequest {
        method,
        path: a.path.clone(),
        headers,
        body,
        paginate: a.paginate,
        header_set: None,
    })
}

fn print(out: &mut impl Write, r: &ApiReply, include: bool, paginate: bool) -> std::io::Result<()> {
    if include {
        write!(out, "HTTP/1.1 {} {}\r\n", r.status, r.reason)?;
        for (k, v) in &r.headers {
            write!(out, "{k}: {v}\r\n")?;
        }
        write!(out, "\r\n")?;
    }
    out.write_all(&r.body)?;
    if paginate && !r.body.ends_with(b"\n") {
        writeln!(out)?;
    }
    out.flush()
}

/// Runs `keyport api`; the exit code says how the vendor answered.
pub async fn run(kp: &Keyport, a: &ApiArgs, out: &mut impl Write) -> Result<ExitCode, Error> {
    let mut req = request(a)?;
    // With an agent running, the header set comes from its memory (fresh, as `keyport
    // token` gets it); otherwise the token is refreshed first in the helper.
    match super::script::from_agent(kp, &a.name) {
        Some(Ok(values)) => {
            let set = values
                .into_iter()
                .filter_map(|v| Some((v.field.strip_prefix("header/")?.to_owned(), v.value)))
                .collect();
            req.header_set = Some(set);
        }
        Some(Err((code, message))) => {
            eprintln!("keyport: {message}");
            return Ok(ExitCode::from(code));
        }
        None => {
            if let Err(code) = crate::helper::ensure_fresh(kp, &a.name).await? {
                return Ok(code);
            }
        }
    }
    let pages = kp.api(&a.name, &req).await?;
    for p in &pages {
        crate::out::write(print(out, p, a.include, a.paginate))?;
    }
    let last = pages.last().expect("one answer at least");
    if last.is_success() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "keyport: HTTP {} {} from {} {}: {}",
        last.status,
        last.reason,
        req.method,
        last.url,
        last.excerpt()
    );
    Ok(ExitCode::from(match last.status {
        400..=499 => EXIT_4XX,
        500..=599 => EXIT_5XX,
        _ => 1,
    }))
}

/// `keyport curl NAME PATH -- ARGS`: the printed command with ARGS appended, quoted for
/// the shell. ARGS come from the person; Keyport adds no secret to them.
pub fn with_curl_args(cmd: String, args: &[String]) -> String {
    args.iter().fold(cmd, |mut s, a| {
        s.push(' ');
        s.push_str(&shell_quote(a));
        s
    })
}

fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_args_are_quoted_for_the_shell() {
        let args = ["-X", "POST", "--data", "{\"a\": 'b'}"].map(String::from);
        assert_eq!(
            with_curl_args("curl".into(), &args),
            r#"curl -X POST --data '{"a": '\''b'\''}'"#
        );
    }
}
