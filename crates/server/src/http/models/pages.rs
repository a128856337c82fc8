use super::service::{self, ModelInput, ParamsInput};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::http::extract::{FormFields, RequestMeta};
use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult};
use access::{Access, Permission};
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect};
use minijinja::value::Serde;
use minijinja::{Value, context};
use std::collections::BTreeMap;
use store::models::ModelConfig;

pub fn routes() -> Routes {
    let manage = Access::Permission(Permission::ModelsManage);
    Routes::default()
        .page(Method::GET, "/admin/ai-models", manage, list)
        .page(Method::GET, "/admin/ai-models/new", manage, new_form)
        .page(Method::POST, "/admin/ai-models", manage, create)
        .page(Method::GET, "/admin/ai-models/{id}", manage, edit_form)
        .page(Method::POST, "/admin/ai-models/{id}", manage, update)
        .page(
            Method::POST,
            "/admin/ai-models/{id}/default",
            manage,
            make_default,
        )
        .page(
            Method::POST,
            "/admin/ai-models/{id}/enabled",
            manage,
            set_enabled,
        )
        .page(Method::POST, "/admin/ai-models/{id}/delete", manage, delete)
}

fn presets() -> Value {
    let all: Vec<&llm::Preset> = llm::ProviderKind::ALL.iter().map(|k| k.preset()).collect();
    Value::from(Serde(all))
}

/// A number field: empty means "not set"; text that is not a number becomes a field
/// error instead of being silently dropped.
fn number<T: std::str::FromStr>(
    f: &FormFields,
    k: &str,
    bad: &mut Vec<(String, String)>,
    api_name: &str,
) -> Option<T> {
    let v = f.one(k);
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    match v.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            bad.push((api_name.to_owned(), format!("'{v}' is not a number")));
            None
        }
    }
}

/// The form as a service input. The key field left blank keeps the stored key.
fn input_of(f: &FormFields, editing: bool) -> (ModelInput, Vec<(String, String)>) {
    let mut bad = Vec::new();
    let temperature = number::<f64>(f, "temperature", &mut bad, "params.temperature");
    let max_tokens = number::<i64>(f, "max_tokens", &mut bad, "params.maxTokens");
    let timeout_ms = number::<i64>(f, "timeout_ms", &mut bad, "params.timeoutMs");
    let retries = number::<i64>(f, "retries", &mut bad, "params.retries");
    let key = f.one("api_key");
    let api_key = if f.checked("remove_key") {
        Some(None)
    } else if key.trim().is_empty() {
        if editing { None } else { Some(None) }
    } else {
        Some(Some(key))
    };
    let input = ModelInput {
        name: Some(f.one("name")),
        provider: Some(f.one("provider")),
        base_url: Some(f.one("base_url")),
        model: Some(f.one("model")),
        api_key,
        params: Some(ParamsInput {
            temperature: Some(temperature),
            max_tokens: Some(max_tokens),
            timeout_ms,
            retries,
        }),
        enabled: Some(f.checked("enabled")),
    };
    (input, bad)
}

/// Maps a validation error to the form's inputs (the key never goes back in a form).
fn field_errors(e: &ApiError) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if let Some(fields) = e.details.get("fields").and_then(|f| f.as_array()) {
        for f in fields {
            let key = match f["field"].as_str().unwrap_or_default() {
                "baseUrl" => "base_url",
                "apiKey" => "api_key",
                "params.temperature" => "temperature",
                "params.maxTokens" => "max_tokens",
                "params.timeoutMs" => "timeout_ms",
                "params.retries" => "retries",
                other => other,
            };
            m.insert(
                key.to_owned(),
                f["message"].as_str().unwrap_or_default().to_owned(),
            );
        }
    }
    m
}

fn with_form_errors(e: ApiError, bad: Vec<(String, String)>) -> ApiError {
    if bad.is_empty() {
        return e;
    }
    let mut fields: Vec<serde_json::Value> = e
        .details
        .get("fields")
        .and_then(|f| f.as_array())
        .cloned()
        .unwrap_or_default();
    for (f, m) in &bad {
        fields.push(serde_json::json!({ "field": f, "message": m }));
    }
    let message = if e.status == StatusCode::UNPROCESSABLE_ENTITY {
        e.message.clone()
    } else {
        bad.iter()
            .map(|(f, m)| format!("{f}: {m}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", message)
        .with_details(serde_json::json!({ "fields": fields }))
}

fn form_of(m: &ModelConfig) -> Value {
    context! {
        name => m.name.clone(), provider => m.provider.clone(), base_url => m.base_url.clone(),
        model => m.model.clone(), enabled => m.enabled,
        temperature => m.params.temperature.map(|t| t.to_string()).unwrap_or_default(),
        max_tokens => m.params.max_tokens.map(|t| t.to_string()).unwrap_or_default(),
        timeout_ms => m.params.timeout_ms.to_string(), retries => m.params.retries.to_string(),
    }
}

fn form_as_typed(f: &FormFields) -> Value {
    context! {
        name => f.one("name"), provider => f.one("provider"), base_url => f.one("base_url"),
        model => f.one("model"), enabled => f.checked("enabled"),
        temperature => f.one("temperature"), max_tokens => f.one("max_tokens"),
        timeout_ms => f.one("timeout_ms"), retries => f.one("retries"),
    }
}

#[derive(serde::Deserialize, Default)]
struct ListQuery {
    done: Option<String>,
    provider: Option<String>,
}

async fn render_list(
    state: &AppState,
    page: &Page,
    flash_ok: Option<String>,
    error: Option<ApiError>,
) -> PageResult {
    let models: Vec<_> = store::models::list(&state.db)
        .await?
        .into_iter()
        .map(super::api::ModelView::from)
        .collect();
    let status = error.as_ref().map(|e| e.status).unwrap_or(StatusCode::OK);
    let mut resp = page.render(
        "models/list.html",
        context! { models => Serde(&models), flash_ok => flash_ok, flash_error => error.map(|e| e.message) },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

async fn list(State(state): State<AppState>, page: Page, Query(q): Query<ListQuery>) -> PageResult {
    let flash = match q.done.as_deref() {
        Some("deleted") => Some(page.t("models.deleted")),
        Some("default") => Some(page.t("models.default_set")),
        Some("saved") => Some(page.t("models.saved")),
        _ => None,
    };
    render_list(&state, &page, flash, None).await
}

async fn new_form(page: Page, Query(q): Query<ListQuery>) -> PageResult {
    let kind = q
        .provider
        .as_deref()
        .and_then(|p| p.parse::<llm::ProviderKind>().ok())
        .unwrap_or(llm::ProviderKind::Kimi);
    let p = kind.preset();
    let d = store::models::ModelParams::default();
    let form = context! {
        name => p.label, provider => p.id, base_url => p.base_url, model => p.model, enabled => true,
        temperature => "", max_tokens => "", timeout_ms => d.timeout_ms.to_string(), retries => d.retries.to_string(),
    };
    Ok(page.render(
        "models/form.html",
        context! { presets => presets(), form => form, model => () },
    ))
}

async fn create(
    State(state): State<AppState>,
    page: Page,
    actor: CurrentUser,
    meta: RequestMeta,
    body: axum::body::Bytes,
) -> PageResult {
    let f = FormFields::parse(&body);
    let (input, bad) = input_of(&f, false);
    let result = if bad.is_empty() {
        service::create(&state, &actor, &meta, input).await
    } else {
        // Report unreadable numbers together with whatever else is wrong.
        match service::resolve(None, &input) {
            Ok(_) => Err(with_form_errors(
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", ""),
                bad,
            )),
            Err(e) => Err(with_form_errors(e, bad)),
        }
    };
    match result {
        Ok(m) => Ok(Redirect::to(&format!("/admin/ai-models/{}?created=1", m.id)).into_response()),
        Err(e) if e.status.is_client_error() => {
            let mut errors = field_errors(&e);
            if e.code == "conflict" {
                errors.insert("name".into(), e.message.clone());
            }
            let mut resp = page.render(
                "models/form.html",
                context! { presets => presets(), form => form_as_typed(&f), model => (), errors => Serde(errors), flash_error => e.message },
            );
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize, Default)]
struct EditQuery {
    created: Option<String>,
}

async fn render_edit(
    state: &AppState,
    page: &Page,
    id: &str,
    form: Option<Value>,
    error: Option<ApiError>,
    created: bool,
) -> PageResult {
    let m = service::get(state, id).await?;
    let form = form.unwrap_or_else(|| form_of(&m));
    let (errors, flash, status) = match &error {
        Some(e) => {
            let mut errs = field_errors(e);
            if e.code == "conflict" && e.message.contains("named") {
                errs.insert("name".into(), e.message.clone());
            }
            (errs, Some(e.message.clone()), e.status)
        }
        None => (BTreeMap::new(), None, StatusCode::OK),
    };
    let view = super::api::ModelView::from(m);
    let mut resp = page.render(
        "models/form.html",
        context! { presets => presets(), form => form, model => Serde(&view), errors => Serde(errors),
                   flash_error => flash, created => created },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

async fn edit_form(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Query(q): Query<EditQuery>,
) -> PageResult {
    render_edit(&state, &page, &id, None, None, q.created.is_some()).await
}

async fn update(
    State(state): State<AppState>,
    page: Page,
    actor: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let f = FormFields::parse(&body);
    let (input, bad) = input_of(&f, true);
    let result = if bad.is_empty() {
        service::update(&state, &actor, &meta, &id, input).await
    } else {
        Err(with_form_errors(
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", ""),
            bad,
        ))
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/ai-models?done=saved").into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            render_edit(&state, &page, &id, Some(form_as_typed(&f)), Some(e), false).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn make_default(
    State(state): State<AppState>,
    page: Page,
    actor: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<String>,
) -> PageResult {
    match service::make_default(&state, &actor, &meta, &id).await {
        Ok(_) => Ok(Redirect::to("/admin/ai-models?done=default").into_response()),
        Err(e) if e.status == StatusCode::CONFLICT => {
            render_list(&state, &page, None, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn set_enabled(
    State(state): State<AppState>,
    page: Page,
    actor: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let f = FormFields::parse(&body);
    let input = ModelInput {
        enabled: Some(f.checked("enabled")),
        ..ModelInput::default()
    };
    match service::update(&state, &actor, &meta, &id, input).await {
        Ok(_) => Ok(Redirect::to("/admin/ai-models?done=saved").into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            render_list(&state, &page, None, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete(
    State(state): State<AppState>,
    page: Page,
    actor: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<String>,
) -> PageResult {
    match service::delete(&state, &actor, &meta, &id).await {
        Ok(()) => Ok(Redirect::to("/admin/ai-models?done=deleted").into_response()),
        Err(e) if e.status == StatusCode::CONFLICT => {
            render_list(&state, &page, None, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}
