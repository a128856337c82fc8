use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::routing::Routes;
use crate::state::AppState;
use access::{Access, Permission};
use app::accounts::users::{self, CreateInput, UpdateInput, User};
use app::time::rfc3339;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let manage = Access::Permission(Permission::UsersManage);
    Routes::default()
        .api(manage, routes!(list_users, create_user))
        .api(manage, routes!(get_user, patch_user))
        .api(manage, routes!(reset_password))
}

/// A user as the API shows it (never the password hash).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub roles: Vec<String>,
    pub business_roles: Vec<String>,
    pub active: bool,
    /// RFC 3339.
    pub created_at: String,
    pub updated_at: String,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            email: u.email,
            roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            business_roles: u.business_roles,
            active: u.active,
            created_at: rfc3339(u.created_at),
            updated_at: rfc3339(u.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserView>,
}

/// A platform role, as the API names it.
#[derive(ToSchema)]
#[allow(dead_code, non_camel_case_types)]
pub enum RoleName {
    admin,
    developer,
    reviewer,
    publisher,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// Platform roles: `admin`, `developer`, `reviewer`, `publisher`.
    #[serde(default)]
    #[schema(value_type = Vec<RoleName>)]
    pub roles: Vec<String>,
    /// Business roles of the application spec, e.g. `sales`.
    #[serde(default)]
    pub business_roles: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchUser {
    pub display_name: Option<String>,
    /// `null` clears the email.
    #[serde(default, deserialize_with = "crate::http::extract::double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[schema(value_type = Option<Vec<RoleName>>)]
    pub roles: Option<Vec<String>>,
    pub business_roles: Option<Vec<String>>,
    /// `false` deactivates the user and ends their sessions.
    pub active: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
}

/// All users.
#[utoipa::path(get, path = "/api/users", tag = "users", responses((status = 200, body = UserList)))]
async fn list_users(State(state): State<AppState>, by: CurrentUser) -> ApiResult<Json<UserList>> {
    let items = users::list(&state.app, &by)
        .await?
        .into_iter()
        .map(UserView::from)
        .collect();
    Ok(Json(UserList { items }))
}

/// Creates a user.
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 409, body = crate::http::openapi::ErrorBody),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiJson(b): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let input = CreateInput {
        username: b.username,
        password: b.password,
        display_name: b.display_name,
        email: b.email,
        roles: b.roles,
        business_roles: b.business_roles,
    };
    let user = users::create(&state.app, &by, input).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// One user.
#[utoipa::path(get, path = "/api/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn get_user(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(users::get(&state.app, &by, &id).await?.into()))
}

/// Changes a user's profile, roles or active flag.
#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", params(("id" = String, Path)), request_body = PatchUser,
    responses((status = 200, body = UserView), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 409, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn patch_user(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PatchUser>,
) -> ApiResult<Json<UserView>> {
    let input = UpdateInput {
        display_name: b.display_name,
        email: b.email,
        roles: b.roles,
        business_roles: b.business_roles,
        active: b.active,
    };
    Ok(Json(
        users::update(&state.app, &by, &id, input).await?.into(),
    ))
}

/// Sets a new password for a user and ends their sessions.
#[utoipa::path(post, path = "/api/users/{id}/password", tag = "users", params(("id" = String, Path)), request_body = NewPassword,
    responses((status = 204), (status = 404, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn reset_password(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<NewPassword>,
) -> ApiResult<StatusCode> {
    users::reset_password(&state.app, &by, &id, &b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}
