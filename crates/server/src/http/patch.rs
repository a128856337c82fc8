//! The Patch DSL over HTTP: validate and dry-run a patch against the live spec, and
//! its JSON Schema.

use super::routing::Routes;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;
use access::{Access, Permission};
use app::patches::{self, DryRunView};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::default()
        .api(Access::Authenticated, routes!(schema))
        .api(
            Access::Permission(Permission::ModulesDevelop),
            routes!(validate),
        )
        .api(
            Access::Permission(Permission::ModulesDevelop),
            routes!(dry_run),
        )
}

/// The Patch DSL's JSON Schema.
#[utoipa::path(get, path = "/api/patch/schema", tag = "patch", responses((status = 200, description = "JSON Schema (draft 2020-12)")))]
async fn schema() -> Json<Value> {
    Json(patch::patch_json_schema())
}

/// Validates a patch document against the live spec. Always 200 when a body was
/// sent: the report says whether the patch is valid (`valid`, `level`, `errors`,
/// `warnings`, `operations`), exactly as `modgate patch validate --json` prints it.
#[utoipa::path(post, path = "/api/patch/validate", tag = "patch",
    request_body(content = Value, description = "any JSON: a patch document (modgate.patch/v1), checked against the live spec; or {\"patch\", \"spec\"} to check it against another spec"),
    responses((status = 200, description = "the validation report", body = Object), (status = 400, body = crate::http::openapi::ErrorBody)))]
async fn validate(
    State(state): State<AppState>,
    by: CurrentUser,
    body: Bytes,
) -> Result<Json<patch::Report>, ApiError> {
    Ok(Json(patches::validate(&state.app, &by, &body)?))
}

/// Validates a patch and shows what it would change; nothing is stored.
#[utoipa::path(post, path = "/api/patch/dry-run", tag = "patch",
    request_body(content = Value, description = "any JSON: a patch document (modgate.patch/v1), or {\"patch\", \"spec\"}; whatever is not a valid patch is reported as such"),
    responses((status = 200, body = DryRunView), (status = 400, body = crate::http::openapi::ErrorBody)))]
async fn dry_run(
    State(state): State<AppState>,
    by: CurrentUser,
    body: Bytes,
) -> Result<(StatusCode, Json<DryRunView>), ApiError> {
    Ok((
        StatusCode::OK,
        Json(patches::dry_run(&state.app, &by, &body)?),
    ))
}
