use super::*;

#[test]
fn placeholders_fill_and_name_the_known_ones() {
    let known = vec![("business_id".to_owned(), "a b/c".to_owned())];
    assert_eq!(
        expand("/x/{business_id}/C?$filter={x y}", &known).unwrap(),
        "/x/a%20b%2Fc/C?$filter={x y}"
    );
    let e = expand("/x/{nope}/", &known).unwrap_err().to_string();
    assert!(e.contains("{nope}") && e.contains("{business_id}"), "{e}");
}

#[test]
fn paths_stay_under_the_base() {
    let base = "https://api.example.com/v2";
    for ok in ["/a/b?q=1", "a", "", "/./a", "/a/../b"] {
        assert!(under_base(base, ok).is_ok(), "{ok}");
    }
    for bad in [
        "/../x",
        "/.%2e/x",
        "/%2e%2e/x",
        "\\..\\..\\x",
        "//evil.example/x/../../..",
    ] {
        assert!(under_base(base, bad).is_err(), "{bad}");
    }
    for (p, host) in [
        ("//evil.example/x", "api.example.com"),
        ("/@evil.example", "api.example.com"),
    ] {
        assert_eq!(under_base(base, p).unwrap().host_str(), Some(host), "{p}");
    }
    assert!(on_origin(base, "https://api.example.com/other", "URL").is_ok());
    for bad in [
        "https://evil.example/v2",
        "http://api.example.com/v2",
        "https://u@api.example.com/v2",
    ] {
        assert!(on_origin(base, bad, "URL").is_err(), "{bad}");
    }
}

#[test]
fn hand_given_headers_are_checked() {
    assert!(check_header("Accept", "application/json").is_ok());
    for (k, v) in [
        ("X-A", "a\r\nB: c"),
        ("X A", "b"),
        ("authorization", "Bearer x"),
        ("Host", "h"),
        ("X-N", "a\0"),
    ] {
        assert!(check_header(k, v).is_err(), "{k}");
    }
}
