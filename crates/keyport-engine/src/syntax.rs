//! What a value may contain, written once. A token (access, refresh or admin-issued token,
//! client secret, API key) is RFC 6749's `1*VSCHAR` (%x20-7E); a pasted one is first
//! trimmed of surrounding spaces, tabs, CRs and LFs. A plain value (an ID, a URL, a name, a
//! note, a user) has no control characters; a `key=value` list may also break lines. A
//! password is taken as typed, but without CR, LF or NUL. And last, [`safe_value`]: no
//! header value, environment value or agent line carries CR, LF or NUL. Messages name the
//! field, the kind of character and its position, never the value.

use crate::{Error, Result};

/// What a value must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    /// `1*VSCHAR`: visible ASCII and the space (emptiness is the caller's rule).
    Token,
    /// No control characters.
    Plain,
    /// No control characters but line breaks: one `key=value` per line.
    PlainLines,
    /// One line: anything but CR, LF and NUL (a password; the last guard's rule).
    Line,
}

/// The first character a value may not hold: what it is and where (1-based, in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Flaw {
    pub c: char,
    pub at: usize,
}

impl std::fmt::Display for Flaw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = self.at;
        match self.c {
            '\n' => write!(f, "a line break at character {at}"),
            '\r' => write!(f, "a carriage return at character {at}"),
            '\0' => write!(f, "a NUL character at character {at}"),
            '\t' => write!(f, "a tab at character {at}"),
            c if c.is_control() => write!(
                f,
                "a control character (U+{:04X}) at character {at}",
                c as u32
            ),
            _ => write!(f, "a non-ASCII character at character {at}"),
        }
    }
}

fn allowed(rule: Rule, c: char) -> bool {
    match rule {
        Rule::Token => (' '..='~').contains(&c),
        Rule::Plain => !c.is_control(),
        Rule::PlainLines => !c.is_control() || c == '\n' || c == '\r',
        Rule::Line => !matches!(c, '\r' | '\n' | '\0'),
    }
}

/// The first character of `v` that `rule` refuses, if any.
pub(crate) fn flaw(rule: Rule, v: &str) -> Option<Flaw> {
    v.chars()
        .enumerate()
        .find(|(_, c)| !allowed(rule, *c))
        .map(|(i, c)| Flaw { c, at: i + 1 })
}

/// A pasted or typed token without the whitespace around it (a copied line's CR and LF).
pub(crate) fn trim(raw: &str) -> &str {
    raw.trim_matches([' ', '\t', '\r', '\n'])
}

/// Checks a value a person gave for `what` (e.g. "the client secret") against `rule`.
pub(crate) fn check_input(what: &str, rule: Rule, v: &str) -> Result<()> {
    let Some(f) = flaw(rule, v) else {
        return Ok(());
    };
    let advice = match rule {
        Rule::Token => "a token is one line of visible ASCII characters (RFC 6749). Copy it again from where it was issued, the token alone",
        Rule::Line => "it cannot hold a line break or NUL (it goes into a header). Type it again",
        Rule::Plain | Rule::PlainLines => "Type it again without it",
    };
    Err(Error::input(format!("The {what} has {f}; {advice}.")))
}

/// A pasted token for `what`, trimmed, then checked; never empty.
pub(crate) fn pasted_token(what: &str, raw: &str) -> Result<String> {
    let t = trim(raw);
    if t.is_empty() {
        return Err(Error::input(format!(
            "The {what} is empty; paste the token itself."
        )));
    }
    check_input(what, Rule::Token, t)?;
    Ok(t.to_owned())
}

/// The last guard before a value becomes a header, an environment value or a line of the
/// agent's protocol: it must not hold CR, LF or NUL, which would end it early and could add
/// a header or a line of its own. `what` names it ("the token of 'acme'").
pub fn safe_value(what: &str, v: &str) -> Result<()> {
    match flaw(Rule::Line, v) {
        None => Ok(()),
        Some(f) => Err(Error::Unsupported(format!(
            "Keyport will not hand out {what}: it has {f}, which would split it and could add a header of its own. The stored value is damaged: give the connection a new token (add it again, or connect again)."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_rule_refuses_what_it_says_and_names_the_place_not_the_value() {
        assert_eq!(flaw(Rule::Token, "abc-._~+/=XYZ 09"), None);
        assert_eq!(
            flaw(Rule::Token, "AAgood\r\nX"),
            Some(Flaw { c: '\r', at: 7 })
        );
        assert_eq!(flaw(Rule::Token, "é"), Some(Flaw { c: 'é', at: 1 }));
        assert_eq!(flaw(Rule::Plain, "Ünïcode name"), None);
        assert!(flaw(Rule::Plain, "a\u{7f}").is_some());
        assert!(flaw(Rule::Plain, "a\nb").is_some());
        assert_eq!(flaw(Rule::PlainLines, "a=b\r\nc=d"), None);
        assert!(flaw(Rule::PlainLines, "a=\x07").is_some());
        assert_eq!(flaw(Rule::Line, "p\tä ss\x07"), None);
        assert!(flaw(Rule::Line, "pass\0").is_some());
        assert_eq!(trim(" \t tok\r\n"), "tok");

        let e = pasted_token("new token", "secret-tok\x07en").unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        let m = e.to_string();
        assert!(m.contains("U+0007) at character 11"), "{m}");
        assert!(!m.contains("secret-tok"), "the value is never echoed: {m}");
        let m = pasted_token("token", "abc\ndef").unwrap_err().to_string();
        assert!(
            m.contains("a line break at character 4") && !m.contains("abc"),
            "{m}"
        );
        assert_eq!(pasted_token("token", "abc\r\n").unwrap(), "abc");
        assert!(pasted_token("token", " \r\n").is_err());

        let m = safe_value("the token of 'acme'", "AAgood\r\nX-Injected: evil")
            .unwrap_err()
            .to_string();
        assert!(m.contains("a carriage return at character 7"), "{m}");
        assert!(!m.contains("AAgood") && !m.contains("evil"), "{m}");
        assert!(
            safe_value("x", "Bearer tok\x07en").is_ok(),
            "only CR, LF, NUL"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn a_token_the_rule_accepts_holds_no_control_byte(s in "\\PC{0,4}[\\x00-\\x7f]{0,24}\\PC{0,4}") {
            if flaw(Rule::Token, &s).is_none() {
                prop_assert!(s.bytes().all(|b| (0x20..0x7f).contains(&b)));
                prop_assert!(safe_value("x", &s).is_ok());
            }
            if let Ok(t) = pasted_token("token", &s) {
                prop_assert!(!t.is_empty() && !t.starts_with(' ') && !t.ends_with(' '));
                prop_assert!(t.bytes().all(|b| (0x20..0x7f).contains(&b)));
            }
        }
    }
}
