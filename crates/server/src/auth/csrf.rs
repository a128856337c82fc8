//! CSRF protection.
//!
//! - HTML form posts carry `_csrf`, equal to the session's token (or, before login, to
//!   the double-submit cookie set by the login page).
//! - JSON API calls authenticated by the session cookie carry `X-CSRF-Token`. A
//!   cross-site page can neither read the token nor set a custom header without CORS.
//! - Bearer-token calls need nothing: a browser never attaches bearer tokens by itself.
//!
//! The check is made centrally by the route guard (`http::routing`), so no handler can
//! forget it.

use app::credentials::constant_time_eq;

/// Whether a presented token matches the expected one.
pub fn matches(expected: &str, presented: Option<&str>) -> bool {
    match presented {
        Some(p) if !expected.is_empty() => constant_time_eq(expected, p),
        _ => false,
    }
}

/// Extracts `_csrf` from an urlencoded form body.
pub fn form_token(body: &[u8]) -> Option<String> {
    form_urlencoded_pairs(body)
        .into_iter()
        .find(|(k, _)| k == super::CSRF_FIELD)
        .map(|(_, v)| v)
}

fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_token_found_among_fields() {
        assert_eq!(
            form_token(b"a=1&_csrf=abc%2Bd&b=2").as_deref(),
            Some("abc+d")
        );
        assert_eq!(form_token(b"a=1"), None);
        assert!(matches("abc", Some("abc")));
        assert!(!matches("abc", Some("abd")));
        assert!(!matches("", Some("")));
        assert!(!matches("abc", None));
    }
}
