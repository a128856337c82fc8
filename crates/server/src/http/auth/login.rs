//! The login decision, shared by the API and the form: throttling, credential check,
//! session creation, and the audit trail of each attempt.

use crate::auth::{password, secrets};
use crate::error::ApiError;
use crate::http::extract::RequestMeta;
use crate::state::AppState;
use axum::http::StatusCode;
use serde_json::json;
use store::audit::{self, Outcome};
use store::users::User;

/// One message for every failure, so the answer never tells whether a user exists.
const INVALID: &str = "invalid username or password";

fn locked_error(until_ms: i64) -> ApiError {
    let secs = ((until_ms - store::now_ms()) / 1000).max(1);
    let minutes = (secs + 59) / 60;
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        format!("too many failed logins for this username; try again in {minutes} minute(s)"),
    )
    .with_details(json!({ "retryAfterSeconds": secs }))
}

/// Checks the credentials; returns the user when they hold.
pub async fn authenticate(
    state: &AppState,
    meta: &RequestMeta,
    username: &str,
    pass: &str,
) -> Result<User, ApiError> {
    // Throttle by the typed name, normalised the way usernames are stored.
    let key = username.trim().to_lowercase();
    if key.is_empty() || pass.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            INVALID,
        ));
    }
    if let Some(until) = store::login_attempts::locked_until(&state.db, &key).await? {
        let mut e = meta.audit(None, "auth.login", Outcome::Failure);
        e.details = json!({ "username": key, "reason": "locked" });
        audit::record(&state.db, e).await?;
        return Err(locked_error(until));
    }
    let found = store::users::credentials(&state.db, &key).await?;
    let ok = password::verify(pass, found.as_ref().map(|(_, h)| h.as_str())).await;
    match found {
        Some((user, _)) if ok && user.active => {
            store::login_attempts::clear(&state.db, &key).await?;
            Ok(user)
        }
        found => {
            let reason = match &found {
                None => "unknown user",
                Some((u, _)) if !u.active => "inactive user",
                Some(_) => "wrong password",
            };
            let lock = store::login_attempts::record_failure(&state.db, &key, state.login_policy())
                .await?;
            let mut e = meta.audit(None, "auth.login", Outcome::Failure);
            e.details = json!({ "username": key, "reason": reason, "locked": lock.is_some() });
            audit::record(&state.db, e).await?;
            match lock {
                Some(until) => Err(locked_error(until)),
                None => Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_credentials",
                    INVALID,
                )),
            }
        }
    }
}

/// A new session for `user`; returns the cookie value and the CSRF token.
/// The session and its audit row commit together.
pub async fn start_session(
    state: &AppState,
    meta: &RequestMeta,
    user: &User,
    via: &str,
) -> Result<(String, String), ApiError> {
    let token = secrets::random_token();
    let csrf = secrets::random_token();
    let ttl = state.config.session_ttl_hours as i64 * 3_600_000;
    let mut tx = state.db.begin().await?;
    store::sessions::create(&mut tx, &secrets::token_hash(&token), &user.id, &csrf, ttl).await?;
    let mut e = meta.audit(Some(&user.username), "auth.login", Outcome::Success);
    e.resource_type = Some("user".into());
    e.resource_id = Some(user.id.clone());
    e.details = json!({ "via": via });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok((token, csrf))
}

/// The `Set-Cookie` value for a session token (or its removal when `token` is empty).
pub fn session_cookie(state: &AppState, token: &str) -> String {
    let mut c = cookie::Cookie::build((crate::auth::SESSION_COOKIE, token.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(state.config.secure_cookies);
    if token.is_empty() {
        c = c.max_age(cookie::time::Duration::ZERO);
    } else {
        c = c.max_age(cookie::time::Duration::hours(
            state.config.session_ttl_hours as i64,
        ));
    }
    c.build().to_string()
}

/// Ends the caller's session (if logged in by session) and audits it.
pub async fn end_session(
    state: &AppState,
    meta: &RequestMeta,
    user: &crate::auth::CurrentUser,
) -> Result<(), ApiError> {
    let mut tx = state.db.begin().await?;
    if let crate::auth::AuthVia::Session { token_hash, .. } = &user.via {
        store::sessions::delete(&mut tx, token_hash).await?;
    }
    let mut e = meta.audit(Some(&user.username), "auth.logout", Outcome::Success);
    e.resource_type = Some("user".into());
    e.resource_id = Some(user.id.clone());
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    state.identities.clear();
    Ok(())
}
