//! The Patch DSL over HTTP: validate and dry-run a patch against the live spec, and
//! its JSON Schema. (Until modules can be published, the live spec is the base CRM.)

use super::routing::Routes;
use crate::error::ApiError;
use crate::state::AppState;
use access::{Access, Permission};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
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
/// The patch and the spec to check it against: the body is a patch document (checked
/// against the live spec), or `{"patch", "spec"}` to check against another spec.
fn patch_and_spec(state: &AppState, body: &Bytes) -> Result<(Vec<u8>, Arc<spec::Spec>), ApiError> {
    non_empty(body)?;
    if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body)
        && m.contains_key("patch")
        && !m.contains_key("dsl")
    {
        let patch = match &m["patch"] {
            Value::String(s) => s.clone().into_bytes(),
            v => serde_json::to_vec(v).expect("JSON serialises"),
        };
        let spec =
            match m.get("spec") {
                Some(v) => Arc::new(spec::from_value(v).map_err(|e| {
                    ApiError::invalid("spec", format!("not an application spec: {e}"))
                })?),
                None => state.live.get().spec.clone(),
            };
        return Ok((patch, spec));
    }
    Ok((body.to_vec(), state.live.get().spec.clone()))
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
    request_body(content = Object, description = "a patch document (modgate.patch/v1), checked against the live spec; or {\"patch\", \"spec\"} to check it against another spec"),
    responses((status = 200, description = "the validation report", body = Object), (status = 400, body = crate::http::openapi::ErrorBody)))]
async fn validate(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<patch::Report>, ApiError> {
    let (patch, spec) = patch_and_spec(&state, &body)?;
    Ok(Json(patch::check(&spec, &patch).report))
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
async fn dry_run(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<DryRunView>), ApiError> {
    let (patch, spec) = patch_and_spec(&state, &body)?;
    let d = patch::dry_run(&spec, &patch);
    Ok((
        StatusCode::OK,
        Json(DryRunView {
            report: d.report,
            changes: d.changes,
            diff: d.diff,
        }),
    ))
}
