//! The session cookie: what HTTP adds to the application layer's sessions.

use crate::state::AppState;

/// The `Set-Cookie` value for a session token (or its removal when `token` is empty).
pub fn session_cookie(state: &AppState, token: &str) -> String {
    let config = &state.app.config;
    let mut c = cookie::Cookie::build((crate::auth::SESSION_COOKIE, token.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(config.secure_cookies);
    if token.is_empty() {
        c = c.max_age(cookie::time::Duration::ZERO);
    } else {
        c = c.max_age(cookie::time::Duration::hours(
            config.session_ttl_hours as i64,
        ));
    }
    c.build().to_string()
}
