//! Who is calling: a session secret or an API token resolved to an active user and
//! their permissions, cached briefly (see [`super::cache`]).

use crate::caller::Origin;
use crate::error::AppResult;
use crate::{App, Caller, Via, credentials};

/// A credential as presented, before it is checked.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// The secret of a session cookie.
    Session(&'a str),
    /// A personal API token (`mgt_…`).
    Token(&'a str),
}

/// The caller a credential belongs to, with `origin`; `None` for an unknown, revoked
/// or expired credential or an inactive user (the caller is then anonymous).
pub async fn identify(
    app: &App,
    credential: Credential<'_>,
    origin: Origin,
) -> AppResult<Option<Caller>> {
    let key = match credential {
        Credential::Token(t) if !t.starts_with(credentials::API_TOKEN_PREFIX) => return Ok(None),
        Credential::Token(t) => format!("b:{}", credentials::token_hash(t)),
        Credential::Session(s) => format!("s:{}", credentials::token_hash(s)),
    };
    if let Some(mut caller) = app.identities.get(&key) {
        caller.origin = origin;
        return Ok(Some(caller));
    }
    let hash = &key[2..];
    let found = if key.starts_with("b:") {
        store::tokens::authenticate(&app.db, hash)
            .await?
            .map(|(token_id, user_id)| (user_id, Via::Token { token_id }))
    } else {
        store::sessions::find(&app.db, hash).await?.map(|s| {
            (
                s.user_id,
                Via::Session {
                    token_hash: hash.to_owned(),
                    csrf: s.csrf_token,
                },
            )
        })
    };
    let Some((user_id, via)) = found else {
        return Ok(None);
    };
    let Some(user) = store::users::get(&app.db, &user_id).await? else {
        return Ok(None);
    };
    if !user.active {
        return Ok(None);
    }
    let caller = Caller::for_user(user, via, origin);
    app.identities.put(key, caller.clone());
    Ok(Some(caller))
}

/// An active user by name, acting from the command line (`--as USER`).
pub async fn cli_user(app: &App, username: &str) -> AppResult<Option<Caller>> {
    let Some((user, _)) = store::users::credentials(&app.db, username).await? else {
        return Ok(None);
    };
    Ok(user
        .active
        .then(|| Caller::for_user(user, Via::Cli, Origin::cli())))
}
