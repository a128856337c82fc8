//! Logging in and out: throttling, the credential check, sessions, and the audit
//! trail of every attempt.

use crate::caller::Origin;
use crate::error::{AppError, AppResult};
use crate::{App, Caller, Via, credentials};
use serde_json::json;
use store::audit::{self, Outcome};
use store::login_attempts::Policy;
use store::users::User;

/// One message for every failure, so the answer never tells whether a user exists.
const INVALID: &str = "invalid username or password";

fn invalid() -> AppError {
    AppError::Unauthenticated {
        message: INVALID.into(),
    }
}

fn locked(until_ms: i64) -> AppError {
    let secs = ((until_ms - store::now_ms()) / 1000).max(1);
    let minutes = (secs + 59) / 60;
    AppError::Throttled {
        message: format!(
            "too many failed logins for this username; try again in {minutes} minute(s)"
        ),
        retry_after_secs: secs,
    }
}

/// The login throttle from the configuration.
pub fn policy(app: &App) -> Policy {
    Policy {
        max_failures: app.config.login_max_failures,
        window_ms: 15 * 60 * 1000,
        lock_ms: app.config.login_lock_secs as i64 * 1000,
    }
}

/// Checks the credentials; returns the user when they hold.
pub async fn authenticate(
    app: &App,
    origin: &Origin,
    username: &str,
    password: &str,
) -> AppResult<User> {
    // Throttle by the typed name, normalised the way usernames are stored.
    let key = username.trim().to_lowercase();
    if key.is_empty() || password.is_empty() {
        return Err(invalid());
    }
    if let Some(until) = store::login_attempts::locked_until(&app.db, &key).await? {
        let mut e = origin.audit(None, "auth.login", Outcome::Failure);
        e.details = json!({ "username": key, "reason": "locked" });
        audit::record(&app.db, e).await?;
        return Err(locked(until));
    }
    let found = store::users::credentials(&app.db, &key).await?;
    let ok = credentials::verify(password, found.as_ref().map(|(_, h)| h.as_str())).await;
    match found {
        Some((user, _)) if ok && user.active => {
            store::login_attempts::clear(&app.db, &key).await?;
            Ok(user)
        }
        found => {
            let reason = match &found {
                None => "unknown user",
                Some((u, _)) if !u.active => "inactive user",
                Some(_) => "wrong password",
            };
            let lock = store::login_attempts::record_failure(&app.db, &key, policy(app)).await?;
            let mut e = origin.audit(None, "auth.login", Outcome::Failure);
            e.details = json!({ "username": key, "reason": reason, "locked": lock.is_some() });
            audit::record(&app.db, e).await?;
            match lock {
                Some(until) => Err(locked(until)),
                None => Err(invalid()),
            }
        }
    }
}

/// A new session: the secret for the cookie and the CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
}

/// Starts a session for `user`; the session and its audit row commit together.
/// `via` says how the person logged in (`api`, `form`).
pub async fn start_session(
    app: &App,
    origin: &Origin,
    user: &User,
    via: &str,
) -> AppResult<NewSession> {
    let token = credentials::random_token();
    let csrf = credentials::random_token();
    let ttl = app.config.session_ttl_hours as i64 * 3_600_000;
    let mut tx = app.db.begin().await?;
    store::sessions::create(
        &mut tx,
        &credentials::token_hash(&token),
        &user.id,
        &csrf,
        ttl,
    )
    .await?;
    let mut e = origin.audit(Some(&user.username), "auth.login", Outcome::Success);
    e.resource_type = Some("user".into());
    e.resource_id = Some(user.id.clone());
    e.details = json!({ "via": via });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(NewSession { token, csrf })
}

/// Ends the caller's session (when logged in by one) and audits it.
pub async fn end_session(app: &App, by: &Caller) -> AppResult<()> {
    let mut tx = app.db.begin().await?;
    if let Via::Session { token_hash, .. } = &by.via {
        store::sessions::delete(&mut tx, token_hash).await?;
    }
    let mut e = by.audit("auth.logout", Outcome::Success);
    e.resource_type = Some("user".into());
    e.resource_id = Some(by.id.clone());
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    app.identities.clear();
    Ok(())
}
