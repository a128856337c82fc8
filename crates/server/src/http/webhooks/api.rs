use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::openapi::ErrorBody;
use crate::http::routing::Routes;
use crate::state::AppState;
use access::{Access, Permission};
use app::webhooks::{self, DeliveryView, WebhookInput, WebhookView, WebhookWithSecret};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let admin = Access::Permission(Permission::WebhooksManage);
    Routes::default()
        .api(admin, routes!(list, create))
        .api(admin, routes!(update, delete))
        .api(admin, routes!(rotate_secret))
        .api(admin, routes!(deliveries))
        .api(admin, routes!(redeliver))
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookView>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where deliveries are POSTed (http or https).
    #[schema(min_length = 1, max_length = 2000)]
    pub url: String,
    /// Events to send; absent or empty: every event.
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchWebhook {
    #[schema(min_length = 1, max_length = 2000)]
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// The webhooks.
#[utoipa::path(get, path = "/api/webhooks", tag = "webhooks",
    responses((status = 200, body = WebhookList)))]
async fn list(State(state): State<AppState>, by: CurrentUser) -> ApiResult<Json<WebhookList>> {
    Ok(Json(WebhookList {
        items: webhooks::list(&state.app, &by).await?,
    }))
}

/// Adds a webhook. The response carries its signing secret (`whsec_…`), shown this
/// once: deliveries are signed per Standard Webhooks 1.0.
#[utoipa::path(post, path = "/api/webhooks", tag = "webhooks", request_body = CreateWebhook,
    responses((status = 201, body = WebhookWithSecret), (status = 422, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiJson(b): ApiJson<CreateWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookWithSecret>)> {
    let w = webhooks::create(
        &state.app,
        &by,
        WebhookInput {
            url: Some(b.url),
            events: b.events,
            enabled: b.enabled,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(w)))
}

/// Changes the URL, the events or whether it is enabled.
#[utoipa::path(patch, path = "/api/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)), request_body = PatchWebhook,
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PatchWebhook>,
) -> ApiResult<Json<WebhookView>> {
    let w = webhooks::update(
        &state.app,
        &by,
        &id,
        WebhookInput {
            url: b.url,
            events: b.events,
            enabled: b.enabled,
        },
    )
    .await?;
    Ok(Json(w))
}

/// Deletes the webhook and its pending deliveries.
#[utoipa::path(delete, path = "/api/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 404, body = ErrorBody)))]
async fn delete(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    webhooks::delete(&state.app, &by, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret, shown once; for 24 hours deliveries carry the signatures of
/// both the new and the previous secret.
#[utoipa::path(post, path = "/api/webhooks/{id}/rotate-secret", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = WebhookWithSecret), (status = 404, body = ErrorBody)))]
async fn rotate_secret(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<WebhookWithSecret>> {
    Ok(Json(webhooks::rotate_secret(&state.app, &by, &id).await?))
}

/// The latest deliveries, newest first, with every attempt's status code.
#[utoipa::path(get, path = "/api/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = DeliveryList), (status = 404, body = ErrorBody)))]
async fn deliveries(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<DeliveryList>> {
    Ok(Json(DeliveryList {
        items: webhooks::deliveries(&state.app, &by, &id).await?,
    }))
}

/// Sends a delivered or failed delivery once more, now.
#[utoipa::path(post, path = "/api/webhooks/{id}/deliveries/{d}/redeliver", tag = "webhooks", params(("id" = String, Path), ("d" = String, Path)),
    responses((status = 202, description = "queued"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn redeliver(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath((id, d)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    webhooks::redeliver(&state.app, &by, &id, &d).await?;
    Ok(StatusCode::ACCEPTED)
}
