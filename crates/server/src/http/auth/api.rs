use super::login;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ClientOrigin};
use crate::http::routing::Routes;
use crate::state::AppState;
use access::Access;
use app::accounts::login as accounts;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::default()
        .api(Access::Public, routes!(api_login))
        .api(Access::Authenticated, routes!(api_logout))
        .api(Access::Authenticated, routes!(me))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    pub username: String,
    /// Send as `X-CSRF-Token` on state-changing calls made with the session cookie.
    pub csrf_token: String,
}

/// Logs in and sets the session cookie (HttpOnly, SameSite=Lax).
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
              (status = 401, body = crate::http::openapi::ErrorBody, description = "invalid username or password"),
              (status = 429, body = crate::http::openapi::ErrorBody, description = "too many failed attempts")))]
async fn api_login(
    State(state): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let user = accounts::authenticate(&state.app, &origin, &body.username, &body.password).await?;
    let session = accounts::start_session(&state.app, &origin, &user, "api").await?;
    let cookie = login::session_cookie(&state, &session.token);
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(LoginResponse {
            username: user.username,
            csrf_token: session.csrf,
        }),
    )
        .into_response())
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 204)))]
async fn api_logout(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Response> {
    accounts::end_session(&state.app, &user).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, login::session_cookie(&state, ""))],
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// Platform roles.
    pub roles: Vec<String>,
    /// Named permissions granted by those roles.
    pub permissions: Vec<String>,
}

/// The caller: who they are and what they may do.
#[utoipa::path(get, path = "/api/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = crate::http::openapi::ErrorBody)))]
async fn me(CurrentUser(user): CurrentUser) -> Json<Me> {
    Json(Me {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        permissions: user
            .permissions
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
    })
}
