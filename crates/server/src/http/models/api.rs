use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::routing::Routes;
use crate::state::AppState;
use access::{Access, Permission};
use app::AppError;
use app::breaker::CircuitView;
use app::eval::{EvalEvent, EvalRunView};
use app::models::{self, ModelConfig, ModelInput, ParamsInput, TestResult};
use app::time::rfc3339;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let manage = Access::Permission(Permission::ModelsManage);
    Routes::default()
        .api(manage, routes!(list_models, create_model))
        .api(manage, routes!(get_model, patch_model, delete_model))
        .api(manage, routes!(test_model))
        .api(manage, routes!(default_model))
        .api(manage, routes!(list_providers))
        .api_long_running(manage, routes!(evaluate_model))
        .api(manage, routes!(list_evals))
        .api(manage, routes!(get_eval))
}

/// A model as the API shows it: the key only as a mask.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelView {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub provider_label: String,
    /// `open-ai`, `anthropic` or `offline`.
    pub protocol: String,
    pub base_url: String,
    pub model: String,
    /// Whether a key is stored.
    pub has_key: bool,
    /// What may be shown of the key, like `sk-…a1b2`.
    pub api_key_mask: Option<String>,
    pub params: ParamsView,
    pub enabled: bool,
    pub is_default: bool,
    /// `untested`, `ok` or `failing`.
    pub status: String,
    pub last_test_at: Option<String>,
    pub last_latency_ms: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub last_result: Option<serde_json::Value>,
    /// Models tried in this order when this one fails with `network`, `timeout`,
    /// `rate_limited` or a provider 5xx.
    pub fallback_model_ids: Vec<String>,
    /// Per million tokens; absent when the model is unpriced.
    pub prices: Option<PricesBody>,
    /// Whether calls go through now (this server's view).
    pub circuit: CircuitView,
    pub created_at: String,
    pub updated_at: String,
}

/// Prices per million tokens.
#[derive(Serialize, Deserialize, ToSchema, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PricesBody {
    #[schema(minimum = 0, maximum = 10000)]
    pub input: f64,
    /// Input served from the provider's cache; defaults to `input`.
    #[schema(minimum = 0, maximum = 10000)]
    pub cached_input: Option<f64>,
    #[schema(minimum = 0, maximum = 10000)]
    pub output: f64,
    /// ISO 4217 (`USD`, `CNY`); defaults to `USD`.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

impl From<PricesBody> for llm::Prices {
    fn from(p: PricesBody) -> Self {
        llm::Prices {
            input: p.input,
            // Only a problem given is reported: a bad input price is not repeated here.
            cached_input: p
                .cached_input
                .unwrap_or(if p.input >= 0.0 { p.input } else { 0.0 }),
            output: p.output,
            currency: p.currency.unwrap_or_else(|| "USD".into()),
        }
    }
}

impl ModelView {
    /// The view with the model's circuit as this server sees it now.
    pub fn with_circuit(mut self, app: &app::App) -> ModelView {
        self.circuit = app.breakers.view(&self.id, std::time::Instant::now());
        self
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParamsView {
    pub temperature: Option<f64>,
    pub max_tokens: Option<i64>,
    pub timeout_ms: i64,
    pub retries: i64,
}

impl From<ModelConfig> for ModelView {
    fn from(m: ModelConfig) -> Self {
        let kind = m.provider.parse::<llm::ProviderKind>().ok();
        ModelView {
            provider_label: kind
                .map(|k| k.preset().label.to_owned())
                .unwrap_or_default(),
            protocol: kind
                .map(|k| k.protocol().as_str().to_owned())
                .unwrap_or_default(),
            id: m.id,
            name: m.name,
            provider: m.provider,
            base_url: m.base_url,
            model: m.model,
            has_key: m.api_key_enc.is_some(),
            api_key_mask: m.api_key_mask,
            params: ParamsView {
                temperature: m.params.temperature,
                max_tokens: m.params.max_tokens,
                timeout_ms: m.params.timeout_ms,
                retries: m.params.retries,
            },
            enabled: m.enabled,
            is_default: m.is_default,
            status: m.status.as_str().to_owned(),
            last_test_at: m.last_test_at.map(rfc3339),
            last_latency_ms: m.last_latency_ms,
            last_result: m.last_result,
            fallback_model_ids: m.fallback_model_ids,
            prices: m
                .prices
                .and_then(|p| serde_json::from_value::<llm::Prices>(p).ok())
                .map(|p| PricesBody {
                    input: p.input,
                    cached_input: Some(p.cached_input),
                    output: p.output,
                    currency: Some(p.currency),
                }),
            circuit: CircuitView {
                state: "closed",
                recent_failures: 0,
                retry_in_secs: None,
            },
            created_at: rfc3339(m.created_at),
            updated_at: rfc3339(m.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ModelList {
    pub items: Vec<ModelView>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParamsBody {
    /// 0–2; `null` clears it (the provider's default applies).
    #[serde(default, deserialize_with = "crate::http::extract::double_option")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 2)]
    pub temperature: Option<Option<f64>>,
    /// 1–1000000; `null` clears it.
    #[serde(default, deserialize_with = "crate::http::extract::double_option")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1000000)]
    pub max_tokens: Option<Option<i64>>,
    /// One try, connect to last byte: 100–600000 ms (default 120000).
    #[schema(minimum = 100, maximum = 600000)]
    pub timeout_ms: Option<i64>,
    /// Tries after the first on 429/5xx: 0–5 (default 2).
    #[schema(minimum = 0, maximum = 5)]
    pub retries: Option<i64>,
}

impl From<ParamsBody> for ParamsInput {
    fn from(p: ParamsBody) -> Self {
        ParamsInput {
            temperature: p.temperature,
            max_tokens: p.max_tokens,
            timeout_ms: p.timeout_ms,
            retries: p.retries,
        }
    }
}

/// A provider preset, as the API names it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum ProviderName {
    #[schema(rename = "kimi")]
    Kimi,
    #[schema(rename = "kimi-code")]
    KimiCode,
    #[schema(rename = "openai")]
    OpenAi,
    #[schema(rename = "deepseek")]
    DeepSeek,
    #[schema(rename = "anthropic")]
    Anthropic,
    #[schema(rename = "openai-compatible")]
    OpenAiCompatible,
    #[schema(rename = "builtin")]
    Builtin,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateModel {
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
    /// `kimi`, `kimi-code`, `openai`, `deepseek`, `anthropic`, `openai-compatible`, `builtin`.
    #[schema(value_type = ProviderName)]
    pub provider: String,
    /// Defaults to the provider's; required for `openai-compatible`.
    pub base_url: Option<String>,
    /// Defaults to the provider's.
    pub model: Option<String>,
    /// Write-only: stored encrypted, never returned.
    pub api_key: Option<String>,
    pub params: Option<ParamsBody>,
    pub enabled: Option<bool>,
    /// At most 5 other models, tried in order.
    #[schema(max_items = 5)]
    pub fallback_model_ids: Option<Vec<String>>,
    /// Defaults to the list prices of known models (Kimi), else unpriced.
    pub prices: Option<PricesBody>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchModel {
    #[schema(min_length = 1, max_length = 80)]
    pub name: Option<String>,
    #[schema(value_type = Option<ProviderName>)]
    pub provider: Option<String>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// A new key replaces the stored one; `null` removes it.
    #[serde(default, deserialize_with = "crate::http::extract::double_option")]
    #[schema(value_type = Option<String>)]
    pub api_key: Option<Option<String>>,
    pub params: Option<ParamsBody>,
    pub enabled: Option<bool>,
    #[schema(max_items = 5)]
    pub fallback_model_ids: Option<Vec<String>>,
    /// `null` removes the prices (calls are counted in tokens only).
    #[serde(default, deserialize_with = "crate::http::extract::double_option")]
    #[schema(value_type = Option<PricesBody>)]
    pub prices: Option<Option<PricesBody>>,
}

/// A provider preset, for forms and clients.
#[derive(Serialize, ToSchema)]
pub struct ProviderList {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<&'static llm::Preset>,
}

/// The provider presets.
#[utoipa::path(get, path = "/api/models/providers", tag = "models", responses((status = 200, body = ProviderList)))]
async fn list_providers() -> Json<ProviderList> {
    Json(ProviderList {
        items: llm::ProviderKind::ALL.iter().map(|k| k.preset()).collect(),
    })
}

/// All configured models, the default first.
#[utoipa::path(get, path = "/api/models", tag = "models", responses((status = 200, body = ModelList)))]
async fn list_models(State(state): State<AppState>, by: CurrentUser) -> ApiResult<Json<ModelList>> {
    let items = models::list(&state.app, &by)
        .await?
        .into_iter()
        .map(|m| ModelView::from(m).with_circuit(&state.app))
        .collect();
    Ok(Json(ModelList { items }))
}

/// Adds a model. Nothing is sent to the provider: test the connection separately.
#[utoipa::path(post, path = "/api/models", tag = "models", request_body = CreateModel,
    responses((status = 201, body = ModelView), (status = 409, body = crate::http::openapi::ErrorBody),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn create_model(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiJson(b): ApiJson<CreateModel>,
) -> ApiResult<(StatusCode, Json<ModelView>)> {
    let input = ModelInput {
        name: Some(b.name),
        provider: Some(b.provider),
        base_url: b.base_url,
        model: b.model,
        api_key: b.api_key.map(Some),
        params: b.params.map(Into::into),
        enabled: b.enabled,
        fallback_model_ids: b.fallback_model_ids,
        prices: b.prices.map(|p| Some(p.into())),
    };
    let m = models::create(&state.app, &by, input).await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

/// One model.
#[utoipa::path(get, path = "/api/models/{id}", tag = "models", params(("id" = String, Path)),
    responses((status = 200, body = ModelView), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn get_model(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ModelView>> {
    Ok(Json(
        ModelView::from(models::get(&state.app, &by, &id).await?).with_circuit(&state.app),
    ))
}

/// Changes a model; a new `apiKey` rotates the key. Changing what a test depends on
/// marks the model untested.
#[utoipa::path(patch, path = "/api/models/{id}", tag = "models", params(("id" = String, Path)), request_body = PatchModel,
    responses((status = 200, body = ModelView), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 409, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn patch_model(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PatchModel>,
) -> ApiResult<Json<ModelView>> {
    let input = ModelInput {
        name: b.name,
        provider: b.provider,
        base_url: b.base_url,
        model: b.model,
        api_key: b.api_key,
        params: b.params.map(Into::into),
        enabled: b.enabled,
        fallback_model_ids: b.fallback_model_ids,
        prices: b.prices.map(|p| p.map(Into::into)),
    };
    Ok(Json(
        models::update(&state.app, &by, &id, input).await?.into(),
    ))
}

/// Deletes a model; refused for the default and for a model modules use.
#[utoipa::path(delete, path = "/api/models/{id}", tag = "models", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 409, body = crate::http::openapi::ErrorBody)))]
async fn delete_model(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    models::delete(&state.app, &by, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a minimal real request to the model. `ok: false` with an error
/// (`kind`, `message`, `status`) is a test that ran; it is recorded on the model
/// and in the audit log.
#[utoipa::path(post, path = "/api/models/{id}/test", tag = "models", params(("id" = String, Path)),
    responses((status = 200, body = TestResult), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn test_model(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TestResult>> {
    Ok(Json(models::test(&state.app, &by, &id).await?))
}

/// Makes the model the default (the one used when a module names none).
#[utoipa::path(post, path = "/api/models/{id}/default", tag = "models", params(("id" = String, Path)),
    responses((status = 200, body = ModelView), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 409, body = crate::http::openapi::ErrorBody)))]
async fn default_model(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ModelView>> {
    Ok(Json(
        models::make_default(&state.app, &by, &id).await?.into(),
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EvalBody {
    /// A corpus in the YAML format (docs/model-operations.md); absent: the shipped
    /// corpus over the base CRM.
    #[schema(max_length = 100000)]
    pub corpus: Option<String>,
}

/// Characters a corpus sent in a request may have (the shipped one has 18,000).
const MAX_CORPUS_CHARS: usize = 100_000;

fn corpus_of(b: &EvalBody) -> Result<eval::Corpus, AppError> {
    match &b.corpus {
        None => Ok(eval::shipped()),
        Some(text) if text.chars().count() > MAX_CORPUS_CHARS => Err(AppError::invalid(
            "corpus",
            format!(
                "must be at most {MAX_CORPUS_CHARS} characters; run a larger corpus with modgate eval --corpus FILE"
            ),
        )),
        Some(text) => {
            eval::Corpus::parse("corpus", text).map_err(|e| AppError::invalid("corpus", e.message))
        }
    }
}

/// Runs an evaluation corpus through the gateway against the model and stores the
/// run. With `Accept: text/event-stream`, progress streams as SSE events (`started`,
/// one `case` per request, then `done` with the run or `error`); otherwise the run
/// is returned as JSON (201) when it ends.
#[utoipa::path(post, path = "/api/models/{id}/eval", tag = "models", params(("id" = String, Path)), request_body(content = Option<EvalBody>),
    responses((status = 201, body = EvalRunView), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 409, body = crate::http::openapi::ErrorBody, description = "a budget of the model is spent"),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn evaluate_model(
    State(state): State<AppState>,
    CurrentUser(by): CurrentUser,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    body: Option<ApiJson<EvalBody>>,
) -> Result<Response, ApiError> {
    let b = body.map(|ApiJson(b)| b).unwrap_or_default();
    let corpus = corpus_of(&b)?;
    let cancel = llm::CancellationToken::new();
    if !crate::http::sse::wants_stream(&headers) {
        let run = app::eval::run(&state.app, &by, &id, &corpus, &mut |_| {}, &cancel).await?;
        return Ok((StatusCode::CREATED, Json(run)).into_response());
    }
    // Refusals (403, 404) stay plain answers.
    models::get(&state.app, &by, &id).await?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let stop = cancel.clone();
    tokio::spawn(async move {
        let progress_tx = tx.clone();
        let mut progress = |e: EvalEvent| {
            let name = match &e {
                EvalEvent::Started { .. } => "started",
                EvalEvent::Case { .. } => "case",
            };
            if let Ok(ev) = Event::default().event(name).json_data(&e)
                && progress_tx.send(ev).is_err()
            {
                stop.cancel();
            }
        };
        let result = app::eval::run(&state.app, &by, &id, &corpus, &mut progress, &stop).await;
        let last = match result {
            Ok(run) => Event::default()
                .event("done")
                .json_data(&run)
                .map_err(|e| AppError::Internal(e.into())),
            Err(e) => Err(e),
        };
        let _ = tx.send(last.unwrap_or_else(|e| crate::http::sse::error_event(e.into())));
    });
    Ok(crate::http::sse::respond(rx, Some(cancel)))
}

#[derive(Serialize, ToSchema)]
pub struct EvalList {
    pub items: Vec<EvalRunView>,
}

/// The newest evaluation of each model (without per-request results), to compare.
#[utoipa::path(get, path = "/api/models/evals", tag = "models", responses((status = 200, body = EvalList)))]
async fn list_evals(State(state): State<AppState>, by: CurrentUser) -> ApiResult<Json<EvalList>> {
    Ok(Json(EvalList {
        items: app::eval::latest(&state.app, &by).await?,
    }))
}

/// One evaluation run with its per-request results.
#[utoipa::path(get, path = "/api/models/evals/{id}", tag = "models", params(("id" = String, Path)),
    responses((status = 200, body = EvalRunView), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn get_eval(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<EvalRunView>> {
    Ok(Json(app::eval::get(&state.app, &by, &id).await?))
}
