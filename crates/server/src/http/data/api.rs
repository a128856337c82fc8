use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::routing::Routes;
use crate::state::AppState;
use access::Access;
use app::records::Records;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use runtime::Record;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::routes;

// Business permissions are per object and per record operation: the engine checks
// them against the live spec's grants on every call.
pub fn routes() -> Routes {
    Routes::default()
        .api(Access::Authenticated, routes!(list, create))
        .api(
            Access::Authenticated,
            routes!(get_one, patch_one, delete_one),
        )
        .api(Access::Authenticated, routes!(transition))
        .api(Access::Authenticated, routes!(lookup))
}

#[derive(Serialize, ToSchema)]
pub struct Match {
    pub id: String,
    /// The record's title (its object's `titleField`).
    pub title: String,
}

#[derive(Serialize, ToSchema)]
pub struct Matches {
    pub items: Vec<Match>,
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// Part of the title, any case; empty: the first records by title.
    pub q: Option<String>,
    /// How many (1 to 50, default 10).
    pub limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordList {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    /// With `titles=true`: the title of every record the items' reference fields point
    /// to (that the caller may read), by id.
    #[serde(rename = "_titles", skip_serializing_if = "Option::is_none")]
    pub titles: Option<std::collections::BTreeMap<String, String>>,
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header")
}

/// The version an `If-Match` header demands, if any.
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = v.to_str().unwrap_or_default().trim();
    // `*` matches any current version (RFC 9110): no precondition on the version.
    if text == "*" {
        return Ok(None);
    }
    let inner = text.trim_start_matches("W/").trim_matches('"');
    inner.parse().map(Some).map_err(|_| {
        ApiError::bad_request(format!(
            "If-Match: '{text}' is not a record version like \"3\""
        ))
    })
}

fn record_response(records: &Records, r: &Record, status: StatusCode) -> Response {
    let mut resp = (status, Json(records.view(r))).into_response();
    resp.headers_mut().insert(header::ETAG, etag(r.version));
    resp
}

/// Records of an object: filter with `field=value` or `field.op=value` (`eq ne lt lte
/// gt gte contains in`), sort with `sort=-field,other`, page with `page` and `perPage`;
/// `titles=true` adds `_titles`, the titles of the records references point to.
#[utoipa::path(get, path = "/api/data/{object}", tag = "data", params(("object" = String, Path)),
    responses((status = 200, body = RecordList), (status = 400, body = crate::http::openapi::ErrorBody),
              (status = 403, body = crate::http::openapi::ErrorBody), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(object): ApiPath<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<RecordList>> {
    let records = Records::open(&state.app, &user);
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
            .map_err(|_| ApiError::bad_request("the query string is malformed"))?;
    let mut with_titles = false;
    pairs.retain(|(k, v)| {
        if k == "titles" {
            with_titles = v == "true";
            false
        } else {
            true
        }
    });
    let (q, page, per_page) = records.query(&object, &pairs)?;
    let p = records.list(&object, &q).await?;
    let titles = if with_titles {
        Some(records.reference_titles(&object, &p.items).await?)
    } else {
        None
    };
    Ok(Json(RecordList {
        items: p.items.iter().map(|r| records.view(r)).collect(),
        total: p.total,
        page,
        per_page,
        titles,
    }))
}

/// Records whose title contains `q` (any case), by title — what pickers offer. Needs
/// read permission on the object.
#[utoipa::path(get, path = "/api/data/{object}/lookup", tag = "data", params(("object" = String, Path), LookupQuery),
    responses((status = 200, body = Matches), (status = 403, body = crate::http::openapi::ErrorBody),
              (status = 404, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn lookup(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(object): ApiPath<String>,
    crate::http::extract::ApiQuery(q): crate::http::extract::ApiQuery<LookupQuery>,
) -> ApiResult<Json<Matches>> {
    let records = Records::open(&state.app, &user);
    let items = records
        .lookup(&object, q.q.as_deref().unwrap_or(""), q.limit.unwrap_or(10))
        .await?
        .into_iter()
        .map(|(id, title)| Match { id, title })
        .collect();
    Ok(Json(Matches { items }))
}

/// Creates a record; the response carries its `ETag`.
#[utoipa::path(post, path = "/api/data/{object}", tag = "data", params(("object" = String, Path)), request_body = Object,
    responses((status = 201, description = "the record"), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(object): ApiPath<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let records = Records::open(&state.app, &user);
    let r = records.create(&object, &body).await?;
    Ok(record_response(&records, &r, StatusCode::CREATED))
}

/// One record, with its version as `ETag`.
#[utoipa::path(get, path = "/api/data/{object}/{id}", tag = "data", params(("object" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "the record"), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn get_one(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((object, id)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let records = Records::open(&state.app, &user);
    let r = records.get(&object, &id).await?;
    Ok(record_response(&records, &r, StatusCode::OK))
}

/// Changes the given fields (`null` clears one). Send `If-Match: "<version>"` to fail
/// with 412 instead of overwriting someone else's change.
#[utoipa::path(patch, path = "/api/data/{object}/{id}", tag = "data", params(("object" = String, Path), ("id" = String, Path)), request_body = Object,
    responses((status = 200, description = "the record"), (status = 409, body = crate::http::openapi::ErrorBody, description = "immutable, or changed meanwhile"),
              (status = 412, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn patch_one(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ApiPath((object, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let records = Records::open(&state.app, &user);
    let r = records.update(&object, &id, &body, expected).await?;
    Ok(record_response(&records, &r, StatusCode::OK))
}

/// Deletes a record, applying `onDelete` of every reference to it.
#[utoipa::path(delete, path = "/api/data/{object}/{id}", tag = "data", params(("object" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 409, body = crate::http::openapi::ErrorBody), (status = 412, body = crate::http::openapi::ErrorBody)))]
async fn delete_one(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ApiPath((object, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let expected = if_match(&headers)?;
    Records::open(&state.app, &user)
        .delete(&object, &id, expected)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Applies a transition of the object's state flow.
#[utoipa::path(post, path = "/api/data/{object}/{id}/transitions/{name}", tag = "data",
    params(("object" = String, Path), ("id" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "the record"), (status = 409, body = crate::http::openapi::ErrorBody), (status = 412, body = crate::http::openapi::ErrorBody)))]
async fn transition(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ApiPath((object, id, name)): ApiPath<(String, String, String)>,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let records = Records::open(&state.app, &user);
    let r = records.transition(&object, &id, &name, expected).await?;
    Ok(record_response(&records, &r, StatusCode::OK))
}
