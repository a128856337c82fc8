use super::query::AuditQuery;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiQuery;
use crate::http::routing::Routes;
use crate::http::users::api::rfc3339;
use crate::state::AppState;
use access::{Access, Permission};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use store::audit::{Entry, Verification};
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let read = Access::Permission(Permission::AuditRead);
    Routes::default()
        .api(read, routes!(list))
        .api(read, routes!(export))
        .api(read, routes!(verify))
}

/// One audit entry.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryView {
    pub seq: i64,
    /// RFC 3339.
    pub at: String,
    pub actor: Option<String>,
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub outcome: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<Entry> for AuditEntryView {
    fn from(e: Entry) -> Self {
        AuditEntryView {
            seq: e.seq,
            at: rfc3339(e.at),
            actor: e.actor,
            action: e.action,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            outcome: e.outcome,
            details: serde_json::from_str(&e.details)
                .unwrap_or(serde_json::Value::String(e.details)),
            request_id: e.request_id,
            client_addr: e.client_addr,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub items: Vec<AuditEntryView>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Audit entries, newest first, filtered and paginated.
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = crate::http::openapi::ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let filter = q.filter()?;
    let (page, per_page) = q.paging()?;
    let (rows, total) =
        store::audit::list(&state.db, &filter, (page - 1) * per_page, per_page).await?;
    Ok(Json(AuditPage {
        items: rows.into_iter().map(Into::into).collect(),
        total,
        page,
        per_page,
    }))
}

/// Most rows one export returns; narrow the filter for more.
const EXPORT_LIMIT: i64 = 100_000;

/// All matching entries as JSON Lines or CSV (oldest last, as listed), up to 100 000.
#[utoipa::path(get, path = "/api/audit/export", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "application/x-ndjson or text/csv"), (status = 400, body = crate::http::openapi::ErrorBody)))]
async fn export(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Response> {
    let filter = q.filter()?;
    let format = q.format.as_deref().unwrap_or("jsonl");
    if format != "jsonl" && format != "csv" {
        return Err(ApiError::bad_request(format!(
            "format: '{format}' is not 'jsonl' or 'csv'"
        )));
    }
    let mut rows = Vec::new();
    let batch = 1000;
    while (rows.len() as i64) < EXPORT_LIMIT {
        let (page, _) = store::audit::list(&state.db, &filter, rows.len() as i64, batch).await?;
        let done = (page.len() as i64) < batch;
        rows.extend(page);
        if done {
            break;
        }
    }
    let views: Vec<AuditEntryView> = rows.into_iter().map(Into::into).collect();
    let (content_type, ext, body) = if format == "jsonl" {
        let mut out = String::new();
        for v in &views {
            out.push_str(&serde_json::to_string(v).map_err(anyhow::Error::from)?);
            out.push('\n');
        }
        ("application/x-ndjson", "jsonl", out)
    } else {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "seq",
            "at",
            "actor",
            "action",
            "resource_type",
            "resource_id",
            "outcome",
            "details",
            "request_id",
            "client_addr",
            "prev_hash",
            "hash",
        ])
        .map_err(anyhow::Error::from)?;
        for v in &views {
            w.write_record([
                v.seq.to_string(),
                v.at.clone(),
                v.actor.clone().unwrap_or_default(),
                v.action.clone(),
                v.resource_type.clone().unwrap_or_default(),
                v.resource_id.clone().unwrap_or_default(),
                v.outcome.clone(),
                v.details.to_string(),
                v.request_id.clone().unwrap_or_default(),
                v.client_addr.clone().unwrap_or_default(),
                v.prev_hash.clone(),
                v.hash.clone(),
            ])
            .map_err(anyhow::Error::from)?;
        }
        let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))?;
        (
            "text/csv; charset=utf-8",
            "csv",
            String::from_utf8(bytes).map_err(anyhow::Error::from)?,
        )
    };
    let disposition = format!("attachment; filename=\"modgate-audit.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChainStatus {
    pub ok: bool,
    pub rows_checked: i64,
    /// The first row that does not hold.
    pub broken_at: Option<i64>,
    pub reason: Option<String>,
}

impl From<Verification> for ChainStatus {
    fn from(v: Verification) -> Self {
        let (broken_at, reason) = v
            .first_broken
            .map(|(s, r)| (Some(s), Some(r)))
            .unwrap_or((None, None));
        ChainStatus {
            ok: broken_at.is_none(),
            rows_checked: v.rows_checked,
            broken_at,
            reason,
        }
    }
}

/// Walks the hash chain and reports whether it holds.
#[utoipa::path(get, path = "/api/audit/verify", tag = "audit", responses((status = 200, body = ChainStatus)))]
async fn verify(State(state): State<AppState>) -> ApiResult<Json<ChainStatus>> {
    Ok(Json(store::audit::verify(&state.db).await?.into()))
}
