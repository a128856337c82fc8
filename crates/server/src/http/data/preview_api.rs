//! The data API inside a live preview (`/api/preview/{token}/data/…`): the same
//! calls as `/api/data`, on the preview's candidate spec, reading production records
//! and writing only to the preview's overlay (docs/review.md).

use super::api::{
    LookupQuery, Matches, create_in, delete_in, get_in, list_in, lookup_in, patch_in, transition_in,
};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::routing::Routes;
use crate::state::AppState;
use access::Access;
use app::preview::{self, PreviewView};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};
use utoipa_axum::routes;

// Those who develop, test or review modules open previews; inside one, the token
// decides (its owner alone), and the engine checks the caller's business grants.
pub fn routes() -> Routes {
    Routes::default()
        .api(
            Access::AnyOf(app::preview::PREVIEWERS),
            routes!(open_preview),
        )
        .api(Access::Authenticated, routes!(list, create))
        .api(
            Access::Authenticated,
            routes!(get_one, patch_one, delete_one),
        )
        .api(Access::Authenticated, routes!(transition))
        .api(Access::Authenticated, routes!(lookup))
}

fn records(state: &AppState, user: &CurrentUser, token: &str) -> ApiResult<app::records::Records> {
    Ok(preview::records(&state.app, user, token)?.0)
}

/// Opens a live preview of the version: the CRM with it applied, on production data
/// the caller may read, writing to a sandbox of this preview only. The token works
/// for the caller alone and expires (`preview_ttl_mins`, default 30).
#[utoipa::path(post, path = "/api/modules/{id}/versions/{n}/preview", tag = "modules",
    params(("id" = String, Path), ("n" = i64, Path)),
    responses((status = 201, body = PreviewView), (status = 403, body = crate::http::openapi::ErrorBody),
              (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 409, body = crate::http::openapi::ErrorBody, description = "the version is invalid or no longer applies")))]
async fn open_preview(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, n)): ApiPath<(String, i64)>,
) -> ApiResult<(StatusCode, Json<PreviewView>)> {
    let v = preview::start(&state.app, &user, &id, n).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// Records of an object in the preview; as `GET /api/data/{object}`.
#[utoipa::path(get, path = "/api/preview/{token}/data/{object}", tag = "preview",
    params(("token" = String, Path), ("object" = String, Path)),
    responses((status = 200, body = super::api::RecordList), (status = 400, body = crate::http::openapi::ErrorBody),
              (status = 403, body = crate::http::openapi::ErrorBody), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((token, object)): ApiPath<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    list_in(records(&state, &user, &token)?, object, query).await
}

/// Creates a record in the preview's sandbox.
#[utoipa::path(post, path = "/api/preview/{token}/data/{object}", tag = "preview",
    params(("token" = String, Path), ("object" = String, Path)), request_body = Object,
    responses((status = 201, description = "the record"), (status = 403, body = crate::http::openapi::ErrorBody),
              (status = 404, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((token, object)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    create_in(records(&state, &user, &token)?, object, body).await
}

/// One record as the preview shows it.
#[utoipa::path(get, path = "/api/preview/{token}/data/{object}/{id}", tag = "preview",
    params(("token" = String, Path), ("object" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "the record"), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn get_one(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((token, object, id)): ApiPath<(String, String, String)>,
) -> ApiResult<Response> {
    get_in(records(&state, &user, &token)?, object, id).await
}

/// Changes a record in the preview's sandbox (production keeps its own).
#[utoipa::path(patch, path = "/api/preview/{token}/data/{object}/{id}", tag = "preview",
    params(("token" = String, Path), ("object" = String, Path), ("id" = String, Path)), request_body = Object,
    responses((status = 200, description = "the record"), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 409, body = crate::http::openapi::ErrorBody), (status = 412, body = crate::http::openapi::ErrorBody),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn patch_one(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ApiPath((token, object, id)): ApiPath<(String, String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    patch_in(records(&state, &user, &token)?, &headers, object, id, body).await
}

/// Deletes a record in the preview's sandbox.
#[utoipa::path(delete, path = "/api/preview/{token}/data/{object}/{id}", tag = "preview",
    params(("token" = String, Path), ("object" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 409, body = crate::http::openapi::ErrorBody), (status = 412, body = crate::http::openapi::ErrorBody)))]
async fn delete_one(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ApiPath((token, object, id)): ApiPath<(String, String, String)>,
) -> ApiResult<StatusCode> {
    delete_in(records(&state, &user, &token)?, &headers, object, id).await
}

/// Applies a transition in the preview's sandbox.
#[utoipa::path(post, path = "/api/preview/{token}/data/{object}/{id}/transitions/{name}", tag = "preview",
    params(("token" = String, Path), ("object" = String, Path), ("id" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "the record"), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 409, body = crate::http::openapi::ErrorBody), (status = 412, body = crate::http::openapi::ErrorBody)))]
async fn transition(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ApiPath((token, object, id, name)): ApiPath<(String, String, String, String)>,
) -> ApiResult<Response> {
    transition_in(records(&state, &user, &token)?, &headers, object, id, name).await
}

/// Records whose title contains `q`, for the preview's pickers; as
/// `GET /api/data/{object}/lookup`.
#[utoipa::path(get, path = "/api/preview/{token}/data/{object}/lookup", tag = "preview",
    params(("token" = String, Path), ("object" = String, Path), LookupQuery),
    responses((status = 200, body = Matches), (status = 403, body = crate::http::openapi::ErrorBody),
              (status = 404, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn lookup(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((token, object)): ApiPath<(String, String)>,
    crate::http::extract::ApiQuery(q): crate::http::extract::ApiQuery<LookupQuery>,
) -> ApiResult<Json<Matches>> {
    lookup_in(records(&state, &user, &token)?, object, q).await
}
