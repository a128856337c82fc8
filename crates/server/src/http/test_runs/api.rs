use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::routing::Routes;
use crate::state::AppState;
use access::{Access, Permission};
use app::AppError;
use app::test_runs::{self, Readiness, RunView};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let test = Access::Permission(Permission::ModulesTest);
    Routes::default()
        .api(test, routes!(list_runs, start_run))
        .api(test, routes!(get_run))
        .api(test, routes!(readiness))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartRun {
    /// The version to test (default: the current one).
    #[schema(minimum = 1)]
    pub version: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct RunList {
    pub items: Vec<RunView>,
}

#[derive(Serialize, ToSchema)]
pub struct RunWithReport {
    #[serde(flatten)]
    pub run: RunView,
    /// The full report: passed, failed, scenarios, coverage, gate.
    #[schema(value_type = Object)]
    pub report: Value,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportFormat {
    /// `json` (default), `junit` or `html`.
    pub format: Option<String>,
}

/// The module's test runs, newest first.
#[utoipa::path(get, path = "/api/modules/{id}/test-runs", tag = "testing", params(("id" = String, Path)),
    responses((status = 200, body = RunList), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn list_runs(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<RunList>> {
    let items = test_runs::list(&state.app, &by, &id)
        .await?
        .iter()
        .map(RunView::from)
        .collect();
    Ok(Json(RunList { items }))
}

/// Runs the CRM suite plus the version's own scenarios (the current version unless
/// `version` is given). With `Accept: text/event-stream`, each scenario's result streams
/// as a `scenario` event and the run ends with `done`.
#[utoipa::path(post, path = "/api/modules/{id}/test-runs", tag = "testing", params(("id" = String, Path)), request_body = StartRun,
    responses((status = 201, body = RunWithReport), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 409, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn start_run(
    State(state): State<AppState>,
    CurrentUser(by): CurrentUser,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    // The body is optional: none (or `{}`) tests the current version.
    let version = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<StartRun>(&body)
            .map_err(|e| {
                AppError::invalid("body", format!("expected {{\"version\"?: number}}: {e}"))
            })?
            .version
    };
    let stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if !stream {
        let (run, report) = test_runs::run(&state.app, &by, &id, version, &mut |_| {}).await?;
        return Ok((
            StatusCode::CREATED,
            Json(RunWithReport {
                run: (&run).into(),
                report,
            }),
        )
            .into_response());
    }
    // Fail fast (403, 404) before the stream starts, so those stay plain errors.
    app::modules::get(&state.app, &by, &id).await?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    tokio::spawn(async move {
        let progress = tx.clone();
        let mut on_result = |r: &scenario::ScenarioResult| {
            if let Ok(ev) = Event::default().event("scenario").json_data(
                json!({ "name": r.name, "object": r.object, "status": r.status, "error": r.error }),
            ) {
                let _ = progress.send(ev);
            }
        };
        let last = match test_runs::run(&state.app, &by, &id, version, &mut on_result).await {
            Ok((run, _)) => Event::default()
                .event("done")
                .json_data(RunView::from(&run))
                .map_err(|e| AppError::Internal(e.into())),
            Err(e) => Err(e),
        };
        let _ = tx.send(last.unwrap_or_else(|e| crate::http::sse::error_event(e.into())));
    });
    Ok(crate::http::sse::respond(rx, None))
}

/// One run with its report, as JSON, JUnit XML or a standalone HTML page.
#[utoipa::path(get, path = "/api/test-runs/{run}", tag = "testing", params(("run" = String, Path), ReportFormat),
    responses((status = 200, body = RunWithReport), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn get_run(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(run_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReportFormat>,
) -> Result<Response, ApiError> {
    let run = test_runs::get(&state.app, &by, &run_id).await?;
    let report: Value = serde_json::from_str(&run.report).unwrap_or(Value::Null);
    let file = format!(
        "modgate-test-{}-v{}",
        &run.id[run.id.len().saturating_sub(8)..],
        run.version
    );
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(RunWithReport {
            run: (&run).into(),
            report,
        })
        .into_response()),
        "junit" => Ok((
            [
                (
                    header::CONTENT_TYPE,
                    "application/xml; charset=utf-8".to_owned(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{file}.xml\""),
                ),
            ],
            super::pages::junit_of(&report),
        )
            .into_response()),
        "html" => {
            let module = app::modules::get(&state.app, &by, &run.module_id).await?;
            let html = super::pages::standalone_html(&module.name, &RunView::from(&run), &report);
            Ok((
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{file}.html\""),
                    ),
                ],
                html,
            )
                .into_response())
        }
        other => {
            Err(AppError::invalid("format", format!("'{other}' is not json, junit or html")).into())
        }
    }
}

/// Whether a version may be submitted for review now, and why (not): valid, confirmed
/// if L2, and its latest test run passed the coverage gate.
#[utoipa::path(get, path = "/api/modules/{id}/versions/{n}/readiness", tag = "testing", params(("id" = String, Path), ("n" = i64, Path)),
    responses((status = 200, body = Readiness), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn readiness(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath((id, n)): ApiPath<(String, i64)>,
) -> ApiResult<Json<Readiness>> {
    Ok(Json(test_runs::readiness(&state.app, &by, &id, n).await?))
}
