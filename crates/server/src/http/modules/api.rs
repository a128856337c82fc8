use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::routing::Routes;
use crate::state::AppState;
use access::{Access, Permission};
use app::AppError;
use app::gateway::{self, Ask, Generated, Progress};
use app::modules::{self, ModuleView, SaveInput, Source, VersionDiff, VersionView};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let dev = Access::Permission(Permission::ModulesDevelop);
    Routes::default()
        .api(dev, routes!(list_modules, create_module))
        .api(dev, routes!(get_module, patch_module))
        .api_long_running(dev, routes!(generate))
        .api(dev, routes!(list_versions, create_version))
        .api(dev, routes!(get_version))
        .api(dev, routes!(confirm_version))
        .api(dev, routes!(diff))
        .api(dev, routes!(restore))
}

#[derive(Serialize, ToSchema)]
pub struct ModuleList {
    pub items: Vec<ModuleView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateModule {
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// The model that writes it; absent: the default model.
    pub model_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchModule {
    #[schema(min_length = 1, max_length = 80)]
    pub name: Option<String>,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// `null`: use the default model.
    #[serde(default, deserialize_with = "crate::http::extract::double_option")]
    #[schema(value_type = Option<String>)]
    pub model_id: Option<Option<String>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateBody {
    /// What the module should do, in English or Chinese.
    #[schema(min_length = 1, max_length = 8000)]
    pub prompt: String,
    /// A model for this request only.
    pub model_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateVersion {
    /// The patch document (an object, or its JSON text).
    #[schema(schema_with = app::modules::patch_or_text)]
    pub patch: Value,
    #[schema(min_length = 1, max_length = 500)]
    pub message: String,
    /// The version the edit started from; 0 for a module's first version.
    #[schema(minimum = 0)]
    pub base_version: i64,
    /// Confirms an L2 patch (one that can reject, hide or expose existing data).
    #[serde(default, rename = "confirmL2")]
    pub confirm_l2: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreBody {
    #[schema(minimum = 1)]
    pub version: i64,
    #[serde(default, rename = "confirmL2")]
    pub confirm_l2: bool,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// A version number (0: the empty patch).
    #[param(minimum = 0)]
    pub from: i64,
    #[param(minimum = 0)]
    pub to: i64,
}

#[derive(Serialize, ToSchema)]
pub struct VersionList {
    pub items: Vec<VersionView>,
}

/// All modules, most recently changed first.
#[utoipa::path(get, path = "/api/modules", tag = "modules", responses((status = 200, body = ModuleList)))]
async fn list_modules(
    State(state): State<AppState>,
    by: CurrentUser,
) -> ApiResult<Json<ModuleList>> {
    Ok(Json(ModuleList {
        items: modules::list(&state.app, &by).await?,
    }))
}

/// Creates a module (a draft with no version yet).
#[utoipa::path(post, path = "/api/modules", tag = "modules", request_body = CreateModule,
    responses((status = 201, body = ModuleView), (status = 409, body = crate::http::openapi::ErrorBody),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn create_module(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiJson(b): ApiJson<CreateModule>,
) -> ApiResult<(StatusCode, Json<ModuleView>)> {
    let m = modules::create(
        &state.app,
        &by,
        &b.name,
        b.description.as_deref(),
        b.model_id.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(modules::view(&state.app, m).await?),
    ))
}

/// One module.
#[utoipa::path(get, path = "/api/modules/{id}", tag = "modules", params(("id" = String, Path)),
    responses((status = 200, body = ModuleView), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn get_module(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ModuleView>> {
    let m = modules::get(&state.app, &by, &id).await?;
    Ok(Json(modules::view(&state.app, m).await?))
}

/// Renames a module, changes its description or its model.
#[utoipa::path(patch, path = "/api/modules/{id}", tag = "modules", params(("id" = String, Path)), request_body = PatchModule,
    responses((status = 200, body = ModuleView), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 409, body = crate::http::openapi::ErrorBody, description = "the name is taken"), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn patch_module(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PatchModule>,
) -> ApiResult<Json<ModuleView>> {
    let m = modules::update(
        &state.app,
        &by,
        &id,
        b.name.as_deref(),
        b.description.as_deref(),
        b.model_id.as_ref().map(|o| o.as_deref()),
    )
    .await?;
    Ok(Json(modules::view(&state.app, m).await?))
}

use crate::http::sse::wants_stream;

/// Asks the module's model (or `modelId`) for a new version through the Patch
/// Gateway. With `Accept: text/event-stream`, progress streams as SSE events
/// (`attempt`, `chunk`, `reasoning`, `retrying`, `fallback`, `validation`, `repair`,
/// `choosing`, then `done` with the result or `error`); otherwise the result is
/// returned as JSON (201). A spent budget is refused with 409 `budget_exhausted`.
#[utoipa::path(post, path = "/api/modules/{id}/generate", tag = "modules", params(("id" = String, Path)), request_body = GenerateBody,
    responses((status = 201, body = Generated),
              (status = 409, body = crate::http::openapi::ErrorBody, description = "no default model, the model is disabled, or its budget is spent (`budget_exhausted`)"),
              (status = 422, body = crate::http::openapi::ErrorBody), (status = 502, body = crate::http::openapi::ErrorBody)))]
async fn generate(
    State(state): State<AppState>,
    CurrentUser(by): CurrentUser,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<GenerateBody>,
) -> Result<Response, ApiError> {
    let cancel = llm::CancellationToken::new();
    let ask = Ask {
        module_id: &id,
        prompt: &b.prompt,
        model_id: b.model_id.as_deref(),
    };
    if !wants_stream(&headers) {
        let g = gateway::generate(&state.app, &by, ask, &mut |_| {}, &cancel).await?;
        return Ok((StatusCode::CREATED, Json(g)).into_response());
    }
    // Fail fast (403, 404, 422) before the stream starts, so those stay plain errors.
    gateway::precheck(&state.app, &by, ask).await?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let stop = cancel.clone();
    tokio::spawn(async move {
        let progress_tx = tx.clone();
        let mut progress = |p: Progress| {
            let name = match &p {
                Progress::Attempt { .. } => "attempt",
                Progress::Chunk { .. } => "chunk",
                Progress::Reasoning { .. } => "reasoning",
                Progress::Retrying { .. } => "retrying",
                Progress::Validation { .. } => "validation",
                Progress::Repair { .. } => "repair",
                Progress::Choosing { .. } => "choosing",
                Progress::Fallback { .. } => "fallback",
            };
            if let Ok(ev) = Event::default().event(name).json_data(&p)
                && progress_tx.send(ev).is_err()
            {
                // The page went away: stop spending tokens on it.
                stop.cancel();
            }
        };
        let ask = Ask {
            module_id: &id,
            prompt: &b.prompt,
            model_id: b.model_id.as_deref(),
        };
        let result = gateway::generate(&state.app, &by, ask, &mut progress, &stop).await;
        let last = match result {
            Ok(g) => Event::default()
                .event("done")
                .json_data(&g)
                .map_err(|e| AppError::Internal(e.into())),
            Err(e) => Err(e),
        };
        let _ = tx.send(last.unwrap_or_else(|e| crate::http::sse::error_event(e.into())));
    });
    Ok(crate::http::sse::respond(rx, Some(cancel)))
}

/// The module's versions, newest first.
#[utoipa::path(get, path = "/api/modules/{id}/versions", tag = "modules", params(("id" = String, Path)),
    responses((status = 200, body = VersionList), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn list_versions(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<VersionList>> {
    let items = modules::versions(&state.app, &by, &id)
        .await?
        .into_iter()
        .map(VersionView::from)
        .collect();
    Ok(Json(VersionList { items }))
}

/// Saves a person's edit as a new version. `baseVersion` must be the module's current
/// version (409 otherwise); L2 patches need `confirmL2`; invalid ones are kept as
/// drafts marked invalid.
#[utoipa::path(post, path = "/api/modules/{id}/versions", tag = "modules", params(("id" = String, Path)), request_body = CreateVersion,
    responses((status = 201, body = VersionView), (status = 409, body = crate::http::openapi::ErrorBody),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn create_version(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<CreateVersion>,
) -> ApiResult<(StatusCode, Json<VersionView>)> {
    let patch = match b.patch {
        Value::String(s) => s,
        v @ Value::Object(_) => serde_json::to_string_pretty(&v).map_err(anyhow_internal)?,
        _ => {
            return Err(AppError::invalid(
                "patch",
                "must be a patch document (an object) or its JSON text",
            )
            .into());
        }
    };
    let v = modules::save_version(
        &state.app,
        &by,
        &id,
        SaveInput {
            patch,
            message: b.message,
            base_version: b.base_version,
            confirm_l2: b.confirm_l2,
            source: Source::Manual,
            prompt: None,
            model: None,
            repairs: Vec::new(),
            generation: None,
            imported: None,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// One version, with its patch and report.
#[utoipa::path(get, path = "/api/modules/{id}/versions/{n}", tag = "modules", params(("id" = String, Path), ("n" = i64, Path)),
    responses((status = 200, body = VersionView), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn get_version(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath((id, n)): ApiPath<(String, i64)>,
) -> ApiResult<Json<VersionView>> {
    Ok(Json(
        modules::version(&state.app, &by, &id, n).await?.into(),
    ))
}

/// A person confirms an L2 version a model wrote.
#[utoipa::path(post, path = "/api/modules/{id}/versions/{n}/confirm", tag = "modules", params(("id" = String, Path), ("n" = i64, Path)),
    responses((status = 200, body = VersionView), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 409, body = crate::http::openapi::ErrorBody)))]
async fn confirm_version(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath((id, n)): ApiPath<(String, i64)>,
) -> ApiResult<Json<VersionView>> {
    Ok(Json(modules::confirm(&state.app, &by, &id, n).await?))
}

/// The difference between two versions: operations added and removed, the patch
/// text diff and the spec diff.
#[utoipa::path(get, path = "/api/modules/{id}/diff", tag = "modules", params(("id" = String, Path), DiffQuery),
    responses((status = 200, body = VersionDiff), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn diff(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> ApiResult<Json<VersionDiff>> {
    Ok(Json(
        modules::diff(&state.app, &by, &id, q.from, q.to).await?,
    ))
}

/// Saves an old version's patch as a new version.
#[utoipa::path(post, path = "/api/modules/{id}/restore", tag = "modules", params(("id" = String, Path)), request_body = RestoreBody,
    responses((status = 201, body = VersionView), (status = 409, body = crate::http::openapi::ErrorBody),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn restore(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RestoreBody>,
) -> ApiResult<(StatusCode, Json<VersionView>)> {
    Ok((
        StatusCode::CREATED,
        Json(modules::restore(&state.app, &by, &id, b.version, b.confirm_l2).await?),
    ))
}

fn anyhow_internal(e: serde_json::Error) -> ApiError {
    AppError::Internal(e.into()).into()
}
