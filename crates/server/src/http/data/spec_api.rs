use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiPath;
use crate::http::routing::Routes;
use crate::state::AppState;
use access::Access;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::default()
        .api(Access::Authenticated, routes!(live_spec))
        .api(Access::Authenticated, routes!(record_schema))
}

#[derive(Serialize, ToSchema)]
pub struct LiveSpecView {
    /// Number of the live spec version (`spec_versions`).
    pub version: i64,
    /// SHA-256 of the spec's JSON.
    pub hash: String,
    #[schema(value_type = Object)]
    pub spec: Value,
}

/// The live spec: the base CRM plus the published modules.
#[utoipa::path(get, path = "/api/spec", tag = "data", responses((status = 200, body = LiveSpecView)))]
async fn live_spec(State(state): State<AppState>) -> ApiResult<Json<LiveSpecView>> {
    let live = state.app.live.get();
    Ok(Json(LiveSpecView {
        version: live.number,
        hash: live.hash.clone(),
        spec: serde_json::to_value(&*live.spec)
            .map_err(|e| ApiError::from(app::AppError::Internal(e.into())))?,
    }))
}

/// The JSON Schema (draft 2020-12) of an object's records.
#[utoipa::path(get, path = "/api/spec/objects/{object}/schema", tag = "data", params(("object" = String, Path)),
    responses((status = 200, description = "JSON Schema"), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn record_schema(
    State(state): State<AppState>,
    ApiPath(object): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let live = state.app.live.get();
    spec::record_schema(&live.spec, &object)
        .map(Json)
        .ok_or_else(|| {
            let hint =
                spec::names::did_you_mean(&object, live.spec.objects.keys().map(String::as_str));
            ApiError::not_found(format!("object '{object}'{hint}"))
        })
}
