use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::routing::Routes;
use crate::state::AppState;
use access::{Access, Permission};
use app::bundles::{self, Imported, InstanceView, TrustedKeyView};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let admin = Access::Permission(Permission::UsersManage);
    let develop = Access::Permission(Permission::ModulesDevelop);
    Routes::default()
        .api(admin, routes!(get_instance))
        .api(admin, routes!(list_trusted, add_trusted))
        .api(admin, routes!(remove_trusted))
        // Those who may read modules (develop or test them) may export one.
        .api(
            Access::AnyOf(&[Permission::ModulesDevelop, Permission::ModulesTest]),
            routes!(export_module),
        )
        .api(develop, routes!(import_module))
}

/// This instance's id and public key: what another instance trusts to import the
/// bundles this one signs.
#[utoipa::path(get, path = "/api/instance", tag = "bundles", responses((status = 200, body = InstanceView)))]
async fn get_instance(
    State(state): State<AppState>,
    by: CurrentUser,
) -> ApiResult<Json<InstanceView>> {
    Ok(Json(bundles::instance(&state.app, &by).await?))
}

#[derive(Serialize, ToSchema)]
pub struct TrustedKeyList {
    pub items: Vec<TrustedKeyView>,
}

/// The public keys whose bundles this instance imports.
#[utoipa::path(get, path = "/api/trusted-keys", tag = "bundles", responses((status = 200, body = TrustedKeyList)))]
async fn list_trusted(
    State(state): State<AppState>,
    by: CurrentUser,
) -> ApiResult<Json<TrustedKeyList>> {
    Ok(Json(TrustedKeyList {
        items: bundles::trusted(&state.app, &by).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustKey {
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
    /// Ed25519, base64 (another instance's `GET /api/instance`).
    pub public_key: String,
}

/// Trusts another instance's public key.
#[utoipa::path(post, path = "/api/trusted-keys", tag = "bundles", request_body = TrustKey,
    responses((status = 201, body = TrustedKeyView), (status = 409, body = crate::http::openapi::ErrorBody),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn add_trusted(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiJson(b): ApiJson<TrustKey>,
) -> ApiResult<(StatusCode, Json<TrustedKeyView>)> {
    let k = bundles::trust(&state.app, &by, &b.name, &b.public_key).await?;
    Ok((StatusCode::CREATED, Json(k)))
}

/// Stops trusting a key; modules imported before stay.
#[utoipa::path(delete, path = "/api/trusted-keys/{id}", tag = "bundles", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn remove_trusted(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    bundles::distrust(&state.app, &by, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// Default: the module's current version.
    #[param(minimum = 1)]
    pub version: Option<i64>,
}

/// A version of the module as a bundle signed by this instance (`modgate.bundle/v1`):
/// name, description, patch, scenarios, release if published, provenance.
#[utoipa::path(get, path = "/api/modules/{id}/export", tag = "bundles", params(("id" = String, Path), ExportQuery),
    responses((status = 200, body = Object, description = "the signed bundle"), (status = 403, body = crate::http::openapi::ErrorBody),
              (status = 404, body = crate::http::openapi::ErrorBody), (status = 409, body = crate::http::openapi::ErrorBody)))]
async fn export_module(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        bundles::export(&state.app, &by, &id, q.version).await?,
    ))
}

/// Imports a bundle: the signature must hold and its key be trusted (422
/// `untrusted_key` or `tampered` otherwise, nothing stored); the patch is validated
/// against this instance's live spec and saved as a draft version of a new module, or
/// of the module imported before from the same origin. Testing, review and
/// publishing here are still ahead.
#[utoipa::path(post, path = "/api/modules/import", tag = "bundles", request_body = Object,
    responses((status = 201, body = Imported), (status = 409, body = crate::http::openapi::ErrorBody),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn import_module(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiJson(b): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<Imported>)> {
    let i = bundles::import(&state.app, &by, &b).await?;
    Ok((StatusCode::CREATED, Json(i)))
}
