//! The Patch DSL over HTTP: validate and dry-run a patch against the live spec, and
//! its JSON Schema. (Until modules can be published, the live spec is the base CRM.)

use super::routing::Routes;
use crate::error::ApiError;
use access::{Access, Permission};
use axum::Json;
use axum::body::Bytes;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
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

/// The spec patches are checked against.
fn live_spec() -> spec::Spec {
    spec::base_spec()
}

fn non_empty(body: &Bytes) -> Result<(), ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "send the patch document as the JSON request body",
        ));
    }
    Ok(())
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
    request_body(content = Object, description = "a patch document (modgate.patch/v1)"),
    responses((status = 200, description = "the validation report", body = Object), (status = 400, body = crate::http::openapi::ErrorBody)))]
async fn validate(body: Bytes) -> Result<Json<patch::Report>, ApiError> {
    non_empty(&body)?;
    Ok(Json(patch::check(&live_spec(), &body).report))
}

#[derive(Serialize, ToSchema)]
pub struct DryRunView {
    /// The validation report.
    #[schema(value_type = Object)]
    pub report: patch::Report,
    /// What changes, operation by operation (empty when invalid).
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<patch::Change>,
    /// Unified diff of the pretty-printed spec (empty when invalid).
    pub diff: String,
}

/// Validates a patch and shows what it would change; nothing is stored.
#[utoipa::path(post, path = "/api/patch/dry-run", tag = "patch",
    request_body(content = Object, description = "a patch document (modgate.patch/v1)"),
    responses((status = 200, body = DryRunView), (status = 400, body = crate::http::openapi::ErrorBody)))]
async fn dry_run(body: Bytes) -> Result<(StatusCode, Json<DryRunView>), ApiError> {
    non_empty(&body)?;
    let d = patch::dry_run(&live_spec(), &body);
    Ok((
        StatusCode::OK,
        Json(DryRunView {
            report: d.report,
            changes: d.changes,
            diff: d.diff,
        }),
    ))
}
