use super::service::{self, ModuleView, SaveInput, Source, VersionDiff, VersionView};
use crate::ai::gateway::{self, Ask, Generated, Progress};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, RequestMeta};
use crate::http::routing::Routes;
use crate::state::AppState;
use access::{Access, Permission};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
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
    pub name: String,
    pub description: Option<String>,
    /// The model that writes it; absent: the default model.
    pub model_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchModule {
    pub name: Option<String>,
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
    pub prompt: String,
    /// A model for this request only.
    pub model_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateVersion {
    /// The patch document (an object, or its JSON text).
    #[schema(value_type = Object)]
    pub patch: Value,
    pub message: String,
    /// The version the edit started from; 0 for a module's first version.
    pub base_version: i64,
    /// Confirms an L2 patch (one that can reject, hide or expose existing data).
    #[serde(default, rename = "confirmL2")]
    pub confirm_l2: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreBody {
    pub version: i64,
    #[serde(default, rename = "confirmL2")]
    pub confirm_l2: bool,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// A version number (0: the empty patch).
    pub from: i64,
    pub to: i64,
}

#[derive(Serialize, ToSchema)]
pub struct VersionList {
    pub items: Vec<VersionView>,
}

/// All modules, most recently changed first.
#[utoipa::path(get, path = "/api/modules", tag = "modules", responses((status = 200, body = ModuleList)))]
async fn list_modules(State(state): State<AppState>) -> ApiResult<Json<ModuleList>> {
    let mut items = Vec::new();
    for m in store::modules::list(&state.db).await? {
        items.push(service::view(&state, m).await?);
    }
    Ok(Json(ModuleList { items }))
}

/// Creates a module (a draft with no version yet).
#[utoipa::path(post, path = "/api/modules", tag = "modules", request_body = CreateModule,
    responses((status = 201, body = ModuleView), (status = 409, body = crate::http::openapi::ErrorBody),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn create_module(
    State(state): State<AppState>,
    actor: CurrentUser,
    meta: RequestMeta,
    ApiJson(b): ApiJson<CreateModule>,
) -> ApiResult<(StatusCode, Json<ModuleView>)> {
    let m = service::create(
        &state,
        &actor,
        &meta,
        &b.name,
        b.description.as_deref(),
        b.model_id.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(service::view(&state, m).await?)))
}

/// One module.
#[utoipa::path(get, path = "/api/modules/{id}", tag = "modules", params(("id" = String, Path)),
    responses((status = 200, body = ModuleView), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn get_module(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ModuleView>> {
    let m = service::get(&state, &id).await?;
    Ok(Json(service::view(&state, m).await?))
}

/// Renames a module, changes its description or its model.
#[utoipa::path(patch, path = "/api/modules/{id}", tag = "modules", params(("id" = String, Path)), request_body = PatchModule,
    responses((status = 200, body = ModuleView), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn patch_module(
    State(state): State<AppState>,
    actor: CurrentUser,
    meta: RequestMeta,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PatchModule>,
) -> ApiResult<Json<ModuleView>> {
    let m = service::update(
        &state,
        &actor,
        &meta,
        &id,
        b.name.as_deref(),
        b.description.as_deref(),
        b.model_id.as_ref().map(|o| o.as_deref()),
    )
    .await?;
    Ok(Json(service::view(&state, m).await?))
}

fn wants_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"))
}

/// Asks the module's model (or `modelId`) for a new version through the Patch
/// Gateway. With `Accept: text/event-stream`, progress streams as SSE events
/// (`attempt`, `chunk`, `reasoning`, `retrying`, `validation`, `repair`, then `done`
/// with the result or `error`); otherwise the result is returned as JSON (201).
#[utoipa::path(post, path = "/api/modules/{id}/generate", tag = "modules", params(("id" = String, Path)), request_body = GenerateBody,
    responses((status = 201, body = Generated), (status = 422, body = crate::http::openapi::ErrorBody),
              (status = 502, body = crate::http::openapi::ErrorBody)))]
async fn generate(
    State(state): State<AppState>,
    actor: CurrentUser,
    meta: RequestMeta,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<GenerateBody>,
) -> Result<Response, ApiError> {
    let cancel = llm::CancellationToken::new();
    if !wants_stream(&headers) {
        let ask = Ask {
            module_id: &id,
            prompt: &b.prompt,
            model_id: b.model_id.as_deref(),
        };
        let g = gateway::generate(&state, &actor, &meta, ask, &mut |_| {}, &cancel).await?;
        return Ok((StatusCode::CREATED, Json(g)).into_response());
    }
    // Fail fast (404, 422) before the stream starts, so those stay plain errors.
    service::get(&state, &id).await?;
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
        let result = gateway::generate(&state, &actor, &meta, ask, &mut progress, &stop).await;
        let last = match result {
            Ok(g) => Event::default().event("done").json_data(&g),
            Err(e) => Event::default().event("error").json_data(serde_json::json!({
                "status": e.status.as_u16(), "code": e.code, "message": e.message, "details": e.details })),
        };
        if let Ok(ev) = last {
            let _ = tx.send(ev);
        }
    });
    Ok(crate::http::sse::respond(rx, Some(cancel)))
}

/// The module's versions, newest first.
#[utoipa::path(get, path = "/api/modules/{id}/versions", tag = "modules", params(("id" = String, Path)),
    responses((status = 200, body = VersionList), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn list_versions(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<VersionList>> {
    service::get(&state, &id).await?;
    let items = store::modules::versions(&state.db, &id)
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
    actor: CurrentUser,
    meta: RequestMeta,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<CreateVersion>,
) -> ApiResult<(StatusCode, Json<VersionView>)> {
    let patch = match b.patch {
        Value::String(s) => s,
        v @ Value::Object(_) => serde_json::to_string_pretty(&v).expect("JSON serialises"),
        _ => {
            return Err(ApiError::invalid(
                "patch",
                "must be a patch document (an object) or its JSON text",
            ));
        }
    };
    let v = service::save_version(
        &state,
        &actor,
        &meta,
        &id,
        SaveInput {
            patch,
            message: b.message,
            base_version: b.base_version,
            confirm_l2: b.confirm_l2,
            source: Source::Manual,
            prompt: None,
            model: None,
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
    ApiPath((id, n)): ApiPath<(String, i64)>,
) -> ApiResult<Json<VersionView>> {
    Ok(Json(service::version_view(&state, &id, n).await?))
}

/// A person confirms an L2 version a model wrote.
#[utoipa::path(post, path = "/api/modules/{id}/versions/{n}/confirm", tag = "modules", params(("id" = String, Path), ("n" = i64, Path)),
    responses((status = 200, body = VersionView), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 409, body = crate::http::openapi::ErrorBody)))]
async fn confirm_version(
    State(state): State<AppState>,
    actor: CurrentUser,
    meta: RequestMeta,
    ApiPath((id, n)): ApiPath<(String, i64)>,
) -> ApiResult<Json<VersionView>> {
    Ok(Json(service::confirm(&state, &actor, &meta, &id, n).await?))
}

/// The difference between two versions: operations added and removed, the patch
/// text diff and the spec diff.
#[utoipa::path(get, path = "/api/modules/{id}/diff", tag = "modules", params(("id" = String, Path), DiffQuery),
    responses((status = 200, body = VersionDiff), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn diff(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> ApiResult<Json<VersionDiff>> {
    Ok(Json(service::diff(&state, &id, q.from, q.to).await?))
}

/// Saves an old version's patch as a new version.
#[utoipa::path(post, path = "/api/modules/{id}/restore", tag = "modules", params(("id" = String, Path)), request_body = RestoreBody,
    responses((status = 201, body = VersionView), (status = 409, body = crate::http::openapi::ErrorBody),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn restore(
    State(state): State<AppState>,
    actor: CurrentUser,
    meta: RequestMeta,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RestoreBody>,
) -> ApiResult<(StatusCode, Json<VersionView>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::restore(&state, &actor, &meta, &id, b.version, b.confirm_l2).await?),
    ))
}
