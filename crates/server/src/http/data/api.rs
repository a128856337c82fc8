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
        .api(Access::Authenticated, routes!(import))
}

/// The largest CSV an import reads (the body streams; only a batch is held).
const IMPORT_LIMIT: usize = 256 * 1024 * 1024;

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
    pub items: Vec<Box<serde_json::value::RawValue>>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    /// With `titles=true`: the title of every record the items' reference fields point
    /// to (that the caller may read), by id.
    #[serde(rename = "_titles", skip_serializing_if = "Option::is_none")]
    pub titles: Option<std::collections::BTreeMap<String, String>>,
}

/// A [`RecordList`] without titles, as JSON, from items that are JSON already: one
/// buffer of the right size, no item parsed or copied twice.
fn list_body(items: &[String], total: u64, page: u64, per_page: u64) -> String {
    let tail = format!("],\"total\":{total},\"page\":{page},\"perPage\":{per_page}}}");
    let mut out =
        String::with_capacity(10 + items.iter().map(|i| i.len() + 1).sum::<usize>() + tail.len());
    out.push_str("{\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push_str(&tail);
    out
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
/// `format=csv` streams every record the filters select as CSV instead (no paging;
/// each reference is followed by a `<field>.title` column).
#[utoipa::path(get, path = "/api/data/{object}", tag = "data", params(("object" = String, Path),
        ("format" = Option<String>, Query, description = "json (default) or csv")),
    responses((status = 200, description = "a page of records, or all of them as CSV",
                content((RecordList = "application/json"), (String = "text/csv"))),
              (status = 400, body = crate::http::openapi::ErrorBody),
              (status = 403, body = crate::http::openapi::ErrorBody), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(object): ApiPath<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    list_in(Records::open(&state.app, &user), object, query).await
}

pub(super) async fn list_in(
    records: Records,
    object: String,
    query: Option<String>,
) -> ApiResult<Response> {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
            .map_err(|_| ApiError::bad_request("the query string is malformed"))?;
    let mut with_titles = false;
    let mut format = "json".to_owned();
    pairs.retain(|(k, v)| match k.as_str() {
        "titles" => {
            with_titles = v == "true";
            false
        }
        "format" => {
            format = v.clone();
            false
        }
        _ => true,
    });
    let (q, page, per_page) = records.query(&object, &pairs)?;
    match format.as_str() {
        "json" => {}
        "csv" => return csv_export(records, object, q),
        other => {
            return Err(ApiError::bad_request(format!(
                "format: '{other}' is not json or csv"
            )));
        }
    }
    if !with_titles {
        // Without titles nothing needs the values: the stored text is shown as is,
        // written straight into the body.
        let (items, total) = records.list_json(&object, &q).await?;
        return Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            list_body(&items, total, page, per_page),
        )
            .into_response());
    }
    let (items, total, titles) = {
        let p = records.list(&object, &q).await?;
        let titles = records.reference_titles(&object, &p.items).await?;
        let items = p
            .items
            .iter()
            .map(|r| serde_json::value::to_raw_value(&records.view(r)))
            .collect::<Result<_, _>>()
            .map_err(|_| ApiError::internal())?;
        (items, p.total, Some(titles))
    };
    Ok(Json(RecordList {
        items,
        total,
        page,
        per_page,
        titles,
    })
    .into_response())
}

/// Streams the export: a task writes page after page into a small channel, so a
/// large export holds a page at a time and stops when the client goes away.
fn csv_export(records: Records, object: String, q: runtime::ListQuery) -> ApiResult<Response> {
    // Refused before the 200 and its headers go out; the export checks again.
    records.require(&object, runtime::Action::Read)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let name = object.clone();
    tokio::spawn(async move {
        if let Err(e) = records.export_csv(&name, q, tx).await {
            // Headers are gone already: the body ends early and the log says why.
            tracing::error!(object = %name, error = %e, "CSV export stopped");
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(axum::body::Bytes::from(chunk)), rx))
    });
    let mut resp = axum::body::Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{object}.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ImportQuery {
    /// Validate every row and report, writing nothing.
    pub dry_run: Option<bool>,
}

/// Imports CSV rows (a header row of field names or labels, then one record per row)
/// as new records: all of them, or none when any row fails — the report lists each
/// failure by row, column and rule. `dryRun=true` checks without writing. A reference
/// may be given by id, or by its record's title in a `<field>.title` column (or in
/// the field's own column's place when the title is unique).
#[utoipa::path(post, path = "/api/data/{object}/import", tag = "data", params(("object" = String, Path), ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = app::records::ImportReport, description = "a dry run: every row is valid"),
              (status = 201, body = app::records::ImportReport, description = "every row was written"),
              (status = 400, body = crate::http::openapi::ErrorBody), (status = 403, body = crate::http::openapi::ErrorBody),
              (status = 404, body = crate::http::openapi::ErrorBody), (status = 413, body = crate::http::openapi::ErrorBody),
              (status = 422, body = app::records::ImportReport, description = "some rows failed: nothing was written")))]
async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(object): ApiPath<String>,
    crate::http::extract::ApiQuery(q): crate::http::extract::ApiQuery<ImportQuery>,
    body: axum::body::Body,
) -> ApiResult<Response> {
    use futures_util::StreamExt;
    let records = Records::open(&state.app, &user);
    let dry_run = q.dry_run.unwrap_or(false);
    // The limit is the server's: past it the stream fails the read, and the flag —
    // not the error's text — says why.
    let too_large = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let over = too_large.clone();
    let mut seen = 0usize;
    let stream = body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        seen += chunk.len();
        if seen > IMPORT_LIMIT {
            over.store(true, std::sync::atomic::Ordering::Relaxed);
            return Err(std::io::Error::other("the body exceeds the import limit"));
        }
        Ok(chunk)
    });
    let reader = tokio_util::io::StreamReader::new(stream);
    let result = records.import_csv(&object, reader, dry_run).await;
    if too_large.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "an import reads at most {} MiB; nothing was written",
                IMPORT_LIMIT / 1024 / 1024
            ),
        ));
    }
    let report = result?;
    let status = if report.failed_rows > 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else if dry_run {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(report)).into_response())
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
    lookup_in(Records::open(&state.app, &user), object, q).await
}

pub(super) async fn lookup_in(
    records: Records,
    object: String,
    q: LookupQuery,
) -> ApiResult<Json<Matches>> {
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
    create_in(Records::open(&state.app, &user), object, body).await
}

pub(super) async fn create_in(
    records: Records,
    object: String,
    body: Map<String, Value>,
) -> ApiResult<Response> {
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
    get_in(Records::open(&state.app, &user), object, id).await
}

pub(super) async fn get_in(records: Records, object: String, id: String) -> ApiResult<Response> {
    let (body, version) = records.get_json(&object, &id).await?;
    let mut resp = (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    resp.headers_mut().insert(header::ETAG, etag(version));
    Ok(resp)
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
    patch_in(Records::open(&state.app, &user), &headers, object, id, body).await
}

pub(super) async fn patch_in(
    records: Records,
    headers: &HeaderMap,
    object: String,
    id: String,
    body: Map<String, Value>,
) -> ApiResult<Response> {
    let expected = if_match(headers)?;
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
    delete_in(Records::open(&state.app, &user), &headers, object, id).await
}

pub(super) async fn delete_in(
    records: Records,
    headers: &HeaderMap,
    object: String,
    id: String,
) -> ApiResult<StatusCode> {
    let expected = if_match(headers)?;
    records.delete(&object, &id, expected).await?;
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
    transition_in(Records::open(&state.app, &user), &headers, object, id, name).await
}

pub(super) async fn transition_in(
    records: Records,
    headers: &HeaderMap,
    object: String,
    id: String,
    name: String,
) -> ApiResult<Response> {
    let expected = if_match(headers)?;
    let r = records.transition(&object, &id, &name, expected).await?;
    Ok(record_response(&records, &r, StatusCode::OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_list_body_is_the_serialised_record_list() {
        for items in [
            vec![],
            vec![r#"{"id":"a","name":"x \"y\""}"#.to_owned()],
            vec![
                r#"{"id":"a"}"#.to_owned(),
                r#"{"id":"b","n":[1,{"k":null}]}"#.to_owned(),
            ],
        ] {
            let raw = items
                .iter()
                .map(|i| serde_json::value::RawValue::from_string(i.clone()).unwrap())
                .collect();
            let list = RecordList {
                items: raw,
                total: 41,
                page: 3,
                per_page: 20,
                titles: None,
            };
            assert_eq!(
                list_body(&items, 41, 3, 20),
                serde_json::to_string(&list).unwrap()
            );
        }
    }
}
