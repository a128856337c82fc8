//! `GET /metrics`: what operators scrape, in the Prometheus text format — request
//! counts and latencies per route (recorded by [`track`]), the database pool, records
//! read and written and model calls (recorded by `app::telemetry`), and the delivery
//! queue. Readable by admins, or with the token set as `MODGATE_METRICS_TOKEN`.

use super::routing::Routes;
use crate::auth::MaybeUser;
use crate::error::ApiError;
use crate::state::AppState;
use access::{Access, PlatformRole};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use utoipa_axum::routes;

/// Latency buckets (seconds) of every `*_duration_seconds` histogram: from a cached
/// read to a long model call.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// The process's recorder, installed on first use. `None` if another recorder was
/// installed first (then nothing is exported).
pub fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), BUCKETS)
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// Folds recorded histogram samples into their buckets now and then, so memory stays
/// flat between scrapes; ends with `stop`.
pub fn spawn_upkeep(stop: llm::CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Some(handle) = recorder() else { return };
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = every.tick() => handle.run_upkeep(),
                _ = stop.cancelled() => return,
            }
        }
    })
}

/// Middleware (inside routing, so the route's pattern is known): counts each request
/// by method, route pattern and status, and records its latency.
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::histogram!("modgate_http_request_duration_seconds",
        "method" => method.clone(), "route" => route.clone())
    .record(started.elapsed().as_secs_f64());
    metrics::counter!("modgate_http_requests_total",
        "method" => method, "route" => route, "status" => status)
    .increment(1);
    resp
}

pub fn routes() -> Routes {
    // Public in the route table: the handler admits admins and the scraper's token.
    Routes::default().api(Access::Public, routes!(metrics))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Operational metrics in the Prometheus text format (version 0.0.4). Send the
/// metrics token as a bearer token, or be logged in as an admin.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "the metrics", content_type = "text/plain", body = String),
              (status = 401, body = crate::http::openapi::ErrorBody),
              (status = 403, body = crate::http::openapi::ErrorBody)))]
async fn metrics(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token_ok = match (&state.app.config.metrics_token, bearer(&headers)) {
        (Some(want), Some(got)) => app::credentials::constant_time_eq(want.expose(), got),
        _ => false,
    };
    if !token_ok {
        match &user {
            None => return Err(ApiError::unauthorized()),
            Some(u) if !u.roles.contains(&PlatformRole::Admin) => {
                return Err(ApiError::forbidden(
                    "metrics are for administrators and the metrics token",
                ));
            }
            Some(_) => {}
        }
    }
    app::telemetry::sample(&state.app).await;
    let body = recorder().map(|h| h.render()).unwrap_or_default();
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response())
}
