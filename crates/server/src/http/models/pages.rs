use crate::auth::CurrentUser;
use crate::http::extract::FormFields;
use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult, Refusal};
use access::{Access, Permission};
use app::AppError;
use app::models::{self, ModelConfig, ModelInput, ModelParams, ParamsInput};
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect};
use minijinja::value::Serde;
use minijinja::{Value, context};

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
        .page(Method::GET, "/admin/ai-models/evals/{id}", manage, eval_run)
}

async fn eval_run(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> PageResult {
    let run = app::eval::get(&state.app, &page.user, &id).await?;
    Ok(page.render("models/eval.html", context! { run => Serde(&run) }))
}

fn presets() -> Value {
    let all: Vec<&llm::Preset> = llm::ProviderKind::ALL.iter().map(|k| k.preset()).collect();
    Value::from(Serde(all))
}

/// How many fallbacks the form offers (the API takes up to five).
const FALLBACK_SLOTS: usize = 3;

/// The price fields: all blank is "no prices" on an edit and "the list prices" for a
/// new model; otherwise input and output are needed.
fn prices_of(
    f: &FormFields,
    editing: bool,
    bad: &mut Vec<(String, String)>,
) -> Option<Option<llm::Prices>> {
    let given = [
        "price_input",
        "price_cached",
        "price_output",
        "price_currency",
    ]
    .iter()
    .any(|k| !f.one(k).trim().is_empty());
    if !given {
        return if editing { Some(None) } else { None };
    }
    let input = f.number::<f64>("price_input", "prices.input", bad);
    let cached = f.number::<f64>("price_cached", "prices.cachedInput", bad);
    let output = f.number::<f64>("price_output", "prices.output", bad);
    let currency = f.one("price_currency").trim().to_uppercase();
    match (input, output) {
        (Some(input), Some(output)) => Some(Some(llm::Prices {
            input,
            cached_input: cached.unwrap_or(input),
            output,
            currency: if currency.is_empty() {
                "USD".into()
            } else {
                currency
            },
        })),
        (i, o) => {
            if i.is_none() && !bad.iter().any(|(k, _)| k == "prices.input") {
                bad.push(("prices.input".into(), "give the input price".into()));
            }
            if o.is_none() && !bad.iter().any(|(k, _)| k == "prices.output") {
                bad.push(("prices.output".into(), "give the output price".into()));
            }
            None
        }
    }
}

/// The form as the application's input. The key field left blank keeps the stored key.
fn input_of(f: &FormFields, editing: bool) -> (ModelInput, Vec<(String, String)>) {
    let mut bad = Vec::new();
    let prices = prices_of(f, editing, &mut bad);
    let fallback_model_ids = Some(
        (1..=FALLBACK_SLOTS)
            .map(|i| f.one(&format!("fallback_{i}")).trim().to_owned())
            .filter(|id| !id.is_empty())
            .collect(),
    );
    let temperature = f.number::<f64>("temperature", "params.temperature", &mut bad);
    let max_tokens = f.number::<i64>("max_tokens", "params.maxTokens", &mut bad);
    let timeout_ms = f.number::<i64>("timeout_ms", "params.timeoutMs", &mut bad);
    let retries = f.number::<i64>("retries", "params.retries", &mut bad);
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
        fallback_model_ids,
        prices,
    };
    (input, bad)
}

/// The form's inputs for the API's field names (the key never goes back in a form).
const INPUTS: &[(&str, &str)] = &[
    ("baseUrl", "base_url"),
    ("apiKey", "api_key"),
    ("params.temperature", "temperature"),
    ("params.maxTokens", "max_tokens"),
    ("params.timeoutMs", "timeout_ms"),
    ("params.retries", "retries"),
    ("fallbackModelIds", "fallbacks"),
    ("prices.input", "price_input"),
    ("prices.cachedInput", "price_cached"),
    ("prices.output", "price_output"),
    ("prices.currency", "price_currency"),
];

/// What the form shows of a refusal, together with the numbers the page could not
/// read (`unreadable`: API field name → message), so every problem shows at once.
fn refusal(e: Option<&AppError>, unreadable: &[(String, String)]) -> Refusal {
    let mut r = match e {
        Some(e) => Refusal::of(e, INPUTS),
        None => Refusal {
            errors: Default::default(),
            message: String::new(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
        },
    };
    for (field, message) in unreadable {
        let input = INPUTS
            .iter()
            .find(|(api, _)| api == field)
            .map(|(_, form)| *form)
            .unwrap_or(field);
        r.errors.insert(input.to_owned(), message.clone());
    }
    if !unreadable.is_empty() {
        r.status = StatusCode::UNPROCESSABLE_ENTITY;
        if e.is_none_or(|e| !matches!(e, AppError::Invalid(_))) {
            r.message = unreadable
                .iter()
                .map(|(f, m)| format!("{f}: {m}"))
                .collect::<Vec<_>>()
                .join("; ");
        }
    }
    r
}

fn form_of(m: &ModelConfig) -> Value {
    let p: Option<llm::Prices> = m
        .prices
        .clone()
        .and_then(|p| serde_json::from_value(p).ok());
    let price =
        |f: fn(&llm::Prices) -> f64| p.as_ref().map(|p| f(p).to_string()).unwrap_or_default();
    context! {
        name => m.name.clone(), provider => m.provider.clone(), base_url => m.base_url.clone(),
        model => m.model.clone(), enabled => m.enabled,
        temperature => m.params.temperature.map(|t| t.to_string()).unwrap_or_default(),
        max_tokens => m.params.max_tokens.map(|t| t.to_string()).unwrap_or_default(),
        timeout_ms => m.params.timeout_ms.to_string(), retries => m.params.retries.to_string(),
        fallbacks => m.fallback_model_ids.clone(),
        price_input => price(|p| p.input), price_cached => price(|p| p.cached_input),
        price_output => price(|p| p.output),
        price_currency => p.as_ref().map(|p| p.currency.clone()).unwrap_or_default(),
    }
}

fn form_as_typed(f: &FormFields) -> Value {
    let fallbacks: Vec<String> = (1..=FALLBACK_SLOTS)
        .map(|i| f.one(&format!("fallback_{i}")))
        .collect();
    context! {
        name => f.one("name"), provider => f.one("provider"), base_url => f.one("base_url"),
        model => f.one("model"), enabled => f.checked("enabled"),
        temperature => f.one("temperature"), max_tokens => f.one("max_tokens"),
        timeout_ms => f.one("timeout_ms"), retries => f.one("retries"),
        fallbacks => fallbacks,
        price_input => f.one("price_input"), price_cached => f.one("price_cached"),
        price_output => f.one("price_output"), price_currency => f.one("price_currency"),
    }
}

/// The models a model may fall back to (all but itself), for the form's choices.
async fn others(state: &AppState, page: &Page, id: Option<&str>) -> Result<Value, AppError> {
    let list: Vec<Value> = models::list(&state.app, &page.user)
        .await?
        .into_iter()
        .filter(|m| Some(m.id.as_str()) != id)
        .map(|m| context! { id => m.id, name => m.name, enabled => m.enabled })
        .collect();
    Ok(Value::from(list))
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
    error: Option<AppError>,
) -> PageResult {
    let list: Vec<_> = models::list(&state.app, &page.user)
        .await?
        .into_iter()
        .map(|m| super::api::ModelView::from(m).with_circuit(&state.app))
        .collect();
    let evals = app::eval::latest(&state.app, &page.user).await?;
    let status = error
        .as_ref()
        .map(crate::error::status_of)
        .unwrap_or(StatusCode::OK);
    let mut resp = page.render(
        "models/list.html",
        context! { models => Serde(&list), evals => Serde(&evals), flash_ok => flash_ok,
        flash_error => error.map(|e| e.to_string()) },
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

async fn new_form(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let kind = q
        .provider
        .as_deref()
        .and_then(|p| p.parse::<llm::ProviderKind>().ok())
        .unwrap_or(llm::ProviderKind::Kimi);
    let p = kind.preset();
    let d = ModelParams::default();
    let form = context! {
        name => p.label, provider => p.id, base_url => p.base_url, model => p.model, enabled => true,
        temperature => "", max_tokens => "", timeout_ms => d.timeout_ms.to_string(), retries => d.retries.to_string(),
        fallbacks => Vec::<String>::new(),
    };
    Ok(page.render(
        "models/form.html",
        context! { presets => presets(), form => form, model => (), others => others(&state, &page, None).await? },
    ))
}

async fn create(
    State(state): State<AppState>,
    page: Page,
    by: CurrentUser,
    body: axum::body::Bytes,
) -> PageResult {
    let f = FormFields::parse(&body);
    let (input, bad) = input_of(&f, false);
    let refused = if bad.is_empty() {
        match models::create(&state.app, &by, input).await {
            Ok(m) => {
                return Ok(
                    Redirect::to(&format!("/admin/ai-models/{}?created=1", m.id)).into_response(),
                );
            }
            Err(e) if e.is_callers() => refusal(Some(&e), &[]),
            Err(e) => return Err(e.into()),
        }
    } else {
        // Report unreadable numbers together with whatever else is wrong.
        refusal(models::resolve(None, &input).err().as_ref(), &bad)
    };
    let mut resp = page.render(
        "models/form.html",
        context! { presets => presets(), form => form_as_typed(&f), model => (), errors => Serde(refused.errors),
                   flash_error => refused.message, others => others(&state, &page, None).await? },
    );
    *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(resp)
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
    error: Option<Refusal>,
    created: bool,
) -> PageResult {
    let m = models::get(&state.app, &page.user, id).await?;
    let form = form.unwrap_or_else(|| form_of(&m));
    let (errors, flash, status) = match error {
        Some(r) => (r.errors, Some(r.message), r.status),
        None => (Default::default(), None, StatusCode::OK),
    };
    let view = super::api::ModelView::from(m).with_circuit(&state.app);
    let mut resp = page.render(
        "models/form.html",
        context! { presets => presets(), form => form, model => Serde(&view), errors => Serde(errors),
                   flash_error => flash, created => created, others => others(state, page, Some(id)).await? },
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
    by: CurrentUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let f = FormFields::parse(&body);
    let (input, bad) = input_of(&f, true);
    let refused = if bad.is_empty() {
        match models::update(&state.app, &by, &id, input).await {
            Ok(_) => return Ok(Redirect::to("/admin/ai-models?done=saved").into_response()),
            Err(e) if e.is_callers() && !matches!(e, AppError::NotFound { .. }) => {
                refusal(Some(&e), &[])
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        refusal(None, &bad)
    };
    render_edit(
        &state,
        &page,
        &id,
        Some(form_as_typed(&f)),
        Some(refused),
        false,
    )
    .await
}

async fn make_default(
    State(state): State<AppState>,
    page: Page,
    by: CurrentUser,
    Path(id): Path<String>,
) -> PageResult {
    match models::make_default(&state.app, &by, &id).await {
        Ok(_) => Ok(Redirect::to("/admin/ai-models?done=default").into_response()),
        Err(e @ AppError::Conflict(_)) => render_list(&state, &page, None, Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

async fn set_enabled(
    State(state): State<AppState>,
    page: Page,
    by: CurrentUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let f = FormFields::parse(&body);
    let input = ModelInput {
        enabled: Some(f.checked("enabled")),
        ..ModelInput::default()
    };
    match models::update(&state.app, &by, &id, input).await {
        Ok(_) => Ok(Redirect::to("/admin/ai-models?done=saved").into_response()),
        Err(e) if e.is_callers() && !matches!(e, AppError::NotFound { .. }) => {
            render_list(&state, &page, None, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete(
    State(state): State<AppState>,
    page: Page,
    by: CurrentUser,
    Path(id): Path<String>,
) -> PageResult {
    match models::delete(&state.app, &by, &id).await {
        Ok(()) => Ok(Redirect::to("/admin/ai-models?done=deleted").into_response()),
        Err(e @ AppError::Conflict(_)) => render_list(&state, &page, None, Some(e)).await,
        Err(e) => Err(e.into()),
    }
}
