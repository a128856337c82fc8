//! The calling user, resolved once per request from the session cookie or a bearer
//! token and stored in the request's extensions.

use super::secrets::token_hash;
use super::{SESSION_COOKIE, secrets::API_TOKEN_PREFIX};
use crate::error::ApiError;
use crate::state::AppState;
use access::{Permission, PlatformRole};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeSet;

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum AuthVia {
    /// A browser session; state-changing requests must present `csrf`.
    Session { token_hash: String, csrf: String },
    /// A personal API token (no CSRF: browsers never send it on their own).
    Bearer { token_id: String },
}

/// A logged-in, active user and what they may do.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<PlatformRole>,
    /// Roles of the application spec, deciding what CRM data they may touch.
    pub business_roles: Vec<String>,
    pub permissions: BTreeSet<Permission>,
    pub via: AuthVia,
}

impl CurrentUser {
    pub fn can(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }

    /// The actor of the records engine: platform admins may do everything with CRM
    /// data; everyone else has what their business roles grant.
    pub fn actor(&self) -> runtime::Actor {
        runtime::Actor {
            user: self.id.clone(),
            roles: self.business_roles.clone(),
            admin: self.roles.contains(&PlatformRole::Admin),
        }
    }

    /// The CSRF token to embed in forms, when logged in by session.
    pub fn csrf_token(&self) -> Option<&str> {
        match &self.via {
            AuthVia::Session { csrf, .. } => Some(csrf),
            AuthVia::Bearer { .. } => None,
        }
    }
}

/// Reads a cookie's value from the request headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn load(
    state: &AppState,
    user_id: &str,
    via: AuthVia,
) -> Result<Option<CurrentUser>, ApiError> {
    let Some(user) = store::users::get(&state.db, user_id).await? else {
        return Ok(None);
    };
    if !user.active {
        return Ok(None);
    }
    let permissions = store::roles::permissions_of(&state.db, user_id)
        .await?
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    Ok(Some(CurrentUser {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        roles: user.roles,
        business_roles: user.business_roles,
        permissions,
        via,
    }))
}

/// Identifies the caller. A bearer header wins over a cookie; an unknown or revoked
/// credential is simply anonymous, and the route guard answers 401 where it matters.
pub async fn identify(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<CurrentUser>, ApiError> {
    let key = if let Some(token) = bearer(headers) {
        if !token.starts_with(API_TOKEN_PREFIX) {
            return Ok(None);
        }
        format!("b:{}", token_hash(token))
    } else if let Some(raw) = cookie_value(headers, SESSION_COOKIE) {
        format!("s:{}", token_hash(&raw))
    } else {
        return Ok(None);
    };
    if let Some(user) = state.identities.get(&key) {
        return Ok(Some(user));
    }
    let hash = &key[2..];
    let user = if key.starts_with("b:") {
        match store::tokens::authenticate(&state.db, hash).await? {
            Some((token_id, user_id)) => {
                load(state, &user_id, AuthVia::Bearer { token_id }).await?
            }
            None => None,
        }
    } else {
        match store::sessions::find(&state.db, hash).await? {
            Some(session) => {
                load(
                    state,
                    &session.user_id,
                    AuthVia::Session {
                        token_hash: hash.to_owned(),
                        csrf: session.csrf_token,
                    },
                )
                .await?
            }
            None => None,
        }
    };
    if let Some(u) = &user {
        state.identities.put(key, u.clone());
    }
    Ok(user)
}

/// Middleware: resolves the caller and stores it in the request's extensions.
pub async fn resolve(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match identify(&state, req.headers()).await {
        Ok(Some(user)) => {
            tracing::Span::current().record("user", user.username.as_str());
            req.extensions_mut().insert(user);
        }
        Ok(None) => {}
        Err(e) => return e.into_response(),
    }
    next.run(req).await
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(ApiError::unauthorized)
    }
}

/// The caller if logged in; for pages that anyone may see.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(parts.extensions.get::<CurrentUser>().cloned()))
    }
}
