//! HTTP routes, one folder per resource, each exposing `routes()`: the JSON API and
//! the HTML pages side by side. This file lists them all and adds the layers that
//! every request passes through.

pub mod account;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod bundles;
pub mod data;
pub mod docs;
pub mod extract;
pub mod health;
pub mod home;
pub mod lang;
pub mod menus;
pub mod metrics;
pub mod models;
pub mod modules;
pub mod notifications;
pub mod openapi;
pub mod patch;
pub mod publishing;
pub mod reviews;
pub mod routing;
pub mod sse;
pub mod test_runs;
pub mod usage;
pub mod users;
pub mod webhooks;

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use routing::Routes;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Every route of the application with its declared access.
pub fn routes() -> Routes {
    Routes::default()
        .merge(health::routes())
        .merge(openapi::routes())
        .merge(auth::routes())
        .merge(account::routes())
        .merge(users::routes())
        .merge(menus::routes())
        .merge(models::routes())
        .merge(usage::routes())
        .merge(bundles::routes())
        .merge(modules::routes())
        .merge(test_runs::routes())
        .merge(reviews::routes())
        .merge(publishing::routes())
        .merge(notifications::routes())
        .merge(webhooks::routes())
        .merge(audit::routes())
        .merge(home::routes())
        .merge(assets::routes())
        .merge(docs::routes())
        .merge(patch::routes())
        .merge(data::routes())
        .merge(lang::routes())
        .merge(metrics::routes())
}

/// The application's router with all layers, ready to serve.
pub fn app(state: AppState) -> Router {
    let limits = routing::RequestLimits {
        timeout: Duration::from_secs(state.app.config.request_timeout_secs),
        body_bytes: state.app.config.body_limit_bytes,
    };
    let limit = limits.body_bytes;
    let request_id = HeaderName::from_static("x-request-id");
    routes()
        .into_router()
        .layer(middleware::from_fn(metrics::track))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), crate::auth::current::resolve))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(api_error_shape))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|req: &Request| {
                        let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                        tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id, user = tracing::field::Empty)
                    }),
                )
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(CatchPanicLayer::custom(|_| ApiError::internal().into_response()))
                .layer(middleware::from_fn(move |req: Request, next: Next| {
                    request_limits(limits, req, next)
                })),
        )
        .with_state(state)
}

/// Hands the request limits to the route guards (`routing::guard`), which apply the
/// timeout to every route not registered as long-running.
async fn request_limits(limits: routing::RequestLimits, mut req: Request, next: Next) -> Response {
    req.extensions_mut().insert(limits);
    next.run(req).await
}

async fn not_found(req: Request) -> Response {
    let err = ApiError::not_found(format!("{} {}", req.method(), req.uri().path()));
    if wants_json(&req) {
        err.into_response()
    } else {
        crate::views::error_page(&req, err)
    }
}

fn wants_json(req: &Request) -> bool {
    let p = req.uri().path();
    p.starts_with("/api/") || p == "/healthz" || p == "/readyz" || p == "/metrics"
}

/// Gives bare error responses produced below the handlers (405, 408, 413 …) the
/// API's JSON error shape on API paths.
async fn api_error_shape(req: Request, next: Next) -> Response {
    let api = wants_json(&req);
    let resp = next.run(req).await;
    let status = resp.status();
    if !api || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this method is not allowed on this path",
        ),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long and was stopped"),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the request body is over the size limit"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "unsupported content type")
        }
        s if s.is_server_error() => ("internal", "internal error"),
        _ => ("bad_request", "bad request"),
    };
    let mut out = ApiError::new(status, code, message).into_response();
    for name in ["x-request-id", "allow"] {
        if let Some(v) = resp.headers().get(name) {
            out.headers_mut()
                .insert(HeaderName::from_static(name), v.clone());
        }
    }
    out
}
