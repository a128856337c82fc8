//! The calling user, resolved once per request from the session cookie or a bearer
//! token and stored in the request's extensions.

use super::SESSION_COOKIE;
use crate::error::ApiError;
use crate::state::AppState;
use app::accounts::identity::{self, Credential};
use app::{Caller, Origin};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{HeaderMap, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// The logged-in caller of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Caller);

impl std::ops::Deref for CurrentUser {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.0
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

/// Where a request came from: its request id and the client's address.
pub fn origin_of(headers: &HeaderMap, extensions: &axum::http::Extensions) -> Origin {
    Origin {
        request_id: headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        client_addr: extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
    }
}

/// Middleware: resolves the caller and stores it in the request's extensions. A
/// bearer header wins over a cookie; an unknown or revoked credential is simply
/// anonymous, and the route guard answers 401 where it matters.
pub async fn resolve(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // The cookie is read only when there is no bearer token.
    let secret = match bearer(req.headers()) {
        Some(t) => Some((t.to_owned(), true)),
        None => cookie_value(req.headers(), SESSION_COOKIE).map(|s| (s, false)),
    };
    if let Some((secret, is_token)) = &secret {
        let credential = if *is_token {
            Credential::Token(secret)
        } else {
            Credential::Session(secret)
        };
        let origin = origin_of(req.headers(), req.extensions());
        match identity::identify(&state.app, credential, origin).await {
            Ok(Some(caller)) => {
                tracing::Span::current().record("user", caller.username.as_str());
                req.extensions_mut().insert(CurrentUser(caller));
            }
            Ok(None) => {}
            Err(e) => return ApiError::from(e).into_response(),
        }
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
