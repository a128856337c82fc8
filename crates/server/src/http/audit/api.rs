use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::http::extract::ApiQuery;
use crate::http::routing::Routes;
use crate::state::AppState;
use access::{Access, Permission};
use app::audit::{self, ChainStatus, EntryView, Format, Paging, Query, Walk};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let read = Access::Permission(Permission::AuditRead);
    Routes::default()
        .api(read, routes!(list))
        .api(read, routes!(export))
        .api(read, routes!(verify))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub items: Vec<EntryView>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Audit entries, newest first, filtered and paginated.
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(Query, Paging),
    responses((status = 200, body = AuditPage), (status = 400, body = crate::http::openapi::ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiQuery(q): ApiQuery<Query>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<AuditPage>> {
    let p = audit::list(&state.app, &by, &q, &paging).await?;
    Ok(Json(AuditPage {
        items: p.entries.into_iter().map(Into::into).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

/// All matching entries as JSON Lines or CSV (newest first, as listed), up to 100 000.
#[utoipa::path(get, path = "/api/audit/export", tag = "audit", params(Query, Format),
    responses((status = 200, description = "application/x-ndjson or text/csv",
               content((String = "application/x-ndjson"), (String = "text/csv"))),
              (status = 400, body = crate::http::openapi::ErrorBody)))]
async fn export(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiQuery(q): ApiQuery<Query>,
    ApiQuery(format): ApiQuery<Format>,
) -> ApiResult<Response> {
    let (format, body) = audit::export(&state.app, &by, &q, &format).await?;
    let disposition = format!(
        "attachment; filename=\"modgate-audit.{}\"",
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.media_type().to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// `full` (default): every row from the first; `checkpoint`: from the newest
    /// checkpoint on.
    #[param(pattern = "^(full|checkpoint)?$")]
    pub walk: Option<String>,
}

/// Walks the hash chain and reports whether it holds; when it does, its last row
/// becomes the checkpoint later verifications start from.
#[utoipa::path(get, path = "/api/audit/verify", tag = "audit", params(VerifyQuery),
    responses((status = 200, body = ChainStatus), (status = 400, body = crate::http::openapi::ErrorBody)))]
async fn verify(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiQuery(q): ApiQuery<VerifyQuery>,
) -> ApiResult<Json<ChainStatus>> {
    let walk = match q.walk.as_deref().unwrap_or("full") {
        "full" | "" => Walk::Full,
        "checkpoint" => Walk::FromCheckpoint,
        other => {
            return Err(crate::error::ApiError::bad_request(format!(
                "walk: '{other}' is not 'full' or 'checkpoint'"
            )));
        }
    };
    Ok(Json(audit::verify(&state.app, &by, walk).await?))
}
