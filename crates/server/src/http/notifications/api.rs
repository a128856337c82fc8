use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::openapi::ErrorBody;
use crate::http::routing::Routes;
use crate::state::AppState;
use access::Access;
use app::notifications::{self, NotificationView, Preference};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

/// How often the live count looks at the database for changes made on other replicas.
const POLL: Duration = Duration::from_secs(2);

pub fn routes() -> Routes {
    let me = Access::Authenticated;
    Routes::default()
        .api(me, routes!(list))
        .api_long_running(me, routes!(stream))
        .api(me, routes!(mark_read))
        .api(me, routes!(mark_all_read))
        .api(me, routes!(get_preferences, put_preferences))
}

#[derive(Serialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<NotificationView>,
    /// Unread notifications in all.
    pub unread: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `true`: only unread ones.
    pub unread: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct Marked {
    /// How many were unread.
    pub marked: u64,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preferences {
    /// Each event with its channels; events left out are on.
    pub preferences: Vec<Preference>,
}

/// The caller's notifications, newest first (the latest 100).
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", params(ListQuery),
    responses((status = 200, body = NotificationList)))]
async fn list(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<NotificationList>> {
    let items = notifications::list(&state.app, &by, q.unread.unwrap_or(false)).await?;
    let (unread, _) = notifications::unread(&state.app, &by).await?;
    Ok(Json(NotificationList { items, unread }))
}

#[derive(Serialize, ToSchema)]
pub struct Unread {
    pub count: i64,
    /// The newest notification's id.
    pub latest: Option<String>,
}

/// The unread count. With `Accept: text/event-stream` it is live: an `unread` event
/// (`{"count", "latest"}`) now and whenever it changes, from this replica at once and
/// from others within a few seconds; otherwise the count now, as JSON.
#[utoipa::path(get, path = "/api/notifications/stream", tag = "notifications",
    responses((status = 200, description = "the count now (JSON), or `unread` events (SSE)",
        content((Unread = "application/json"), (String = "text/event-stream")))))]
async fn stream(
    State(state): State<AppState>,
    CurrentUser(by): CurrentUser,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let first = notifications::unread(&state.app, &by).await?;
    let live = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if !live {
        return Ok(Json(Unread {
            count: first.0,
            latest: first.1,
        })
        .into_response());
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let mut changes = state.app.signals.inbox();
    tokio::spawn(async move {
        let mut last = None;
        let mut current = Some(first);
        loop {
            if let Some(now) = current.take()
                && last.as_ref() != Some(&now)
            {
                let ev = Event::default()
                    .event("unread")
                    .json_data(serde_json::json!({ "count": now.0, "latest": now.1 }));
                let Ok(ev) = ev else { return };
                if tx.send(ev).is_err() {
                    return;
                }
                last = Some(now);
            }
            tokio::select! {
                _ = tx.closed() => return,
                r = changes.recv() => match r {
                    Ok(user) if user != by.id => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    _ => {}
                },
                _ = tokio::time::sleep(POLL) => {}
            }
            match notifications::unread(&state.app, &by).await {
                Ok(n) => current = Some(n),
                Err(e) => tracing::warn!(error = %e, "cannot read the unread count"),
            }
        }
    });
    Ok(crate::http::sse::respond(rx, None))
}

/// Marks one notification read.
#[utoipa::path(post, path = "/api/notifications/{id}/read", tag = "notifications", params(("id" = String, Path)),
    responses((status = 204, description = "read"), (status = 404, body = ErrorBody)))]
async fn mark_read(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    notifications::mark_read(&state.app, &by, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Marks every notification read.
#[utoipa::path(post, path = "/api/notifications/read-all", tag = "notifications",
    responses((status = 200, body = Marked)))]
async fn mark_all_read(State(state): State<AppState>, by: CurrentUser) -> ApiResult<Json<Marked>> {
    Ok(Json(Marked {
        marked: notifications::mark_all_read(&state.app, &by).await?,
    }))
}

/// Which events reach the caller on which channel (`inApp`, `email`).
#[utoipa::path(get, path = "/api/notifications/preferences", tag = "notifications",
    responses((status = 200, body = Preferences)))]
async fn get_preferences(
    State(state): State<AppState>,
    by: CurrentUser,
) -> ApiResult<Json<Preferences>> {
    Ok(Json(Preferences {
        preferences: notifications::preferences(&state.app, &by).await?,
    }))
}

/// Replaces the caller's choices; events left out go back to on.
#[utoipa::path(put, path = "/api/notifications/preferences", tag = "notifications", request_body = Preferences,
    responses((status = 200, body = Preferences), (status = 422, body = ErrorBody)))]
async fn put_preferences(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiJson(b): ApiJson<Preferences>,
) -> ApiResult<Json<Preferences>> {
    Ok(Json(Preferences {
        preferences: notifications::set_preferences(&state.app, &by, &b.preferences).await?,
    }))
}
