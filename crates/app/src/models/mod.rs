//! AI model configurations: parsing, the changes with their audit rows, and the
//! connection test. Saving never touches the network: the test is a separate step.

pub mod client;

use crate::error::{AppError, AppResult, FieldErrors, Problem};
use crate::{App, Caller};
use access::Permission;
use client::{client_for, seal_key};
use llm::{ChatRequest, ErrorKind, LlmError, Message, ProviderKind};
use serde::Serialize;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use store::audit::{self, Outcome};
use store::{StoreError, new_id, now_ms};

pub use store::models::{ModelConfig, ModelParams, ModelStatus};

/// Call settings as given; `None` keeps the current (or default) value, and
/// `Some(None)` clears an optional one.
#[derive(Debug, Default, Clone)]
pub struct ParamsInput {
    pub temperature: Option<Option<f64>>,
    pub max_tokens: Option<Option<i64>>,
    pub timeout_ms: Option<i64>,
    pub retries: Option<i64>,
}

/// A model as given by a person, before parsing. For an edit, `None` leaves a field
/// as it is; `api_key: Some(None)` removes the key.
#[derive(Debug, Default, Clone)]
pub struct ModelInput {
    pub name: Option<String>,
    pub provider: Option<String>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key: Option<Option<String>>,
    pub params: Option<ParamsInput>,
    pub enabled: Option<bool>,
    /// Models to try, in order, when this one fails in a way another may not.
    pub fallback_model_ids: Option<Vec<String>>,
    /// `Some(None)` removes the prices (calls are then counted in tokens only).
    pub prices: Option<Option<llm::Prices>>,
}

/// At most this many fallbacks: each one is a full call's wait when all are down.
const MAX_FALLBACKS: usize = 5;

pub fn parse_name(raw: &str) -> Result<String, String> {
    let n = raw.trim();
    if n.is_empty() {
        return Err("is required".into());
    }
    if n.chars().count() > 80 {
        return Err("must be at most 80 characters".into());
    }
    if n.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(n.to_owned())
}

/// A base URL: http(s), a host, no credentials, no query. A key belongs in the key
/// field, where it is encrypted; in a URL it would be shown everywhere.
pub fn parse_base_url(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    let url = url::Url::parse(s).map_err(|e| format!("'{s}' is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "must start with http:// or https:// (got '{}:')",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials; put the key in the API key field".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    Ok(s.to_owned())
}

pub fn parse_model_id(raw: &str) -> Result<String, String> {
    let m = raw.trim();
    if m.is_empty() {
        return Err("is required".into());
    }
    if m.len() > 128 || m.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be a model id without spaces, at most 128 characters".into());
    }
    Ok(m.to_owned())
}

/// A key as typed: surrounding space trimmed (pasting adds it), nothing else changed.
pub fn parse_key(raw: &str) -> Result<Option<String>, String> {
    let k = raw.trim();
    if k.is_empty() {
        return Ok(None);
    }
    if k.len() > 512 {
        return Err("is longer than 512 characters".into());
    }
    if k.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or line breaks".into());
    }
    Ok(Some(k.to_owned()))
}

fn apply_params(base: ModelParams, p: &ParamsInput, errs: &mut FieldErrors) -> ModelParams {
    let mut out = base;
    if let Some(t) = p.temperature {
        match t {
            Some(t) if !(t.is_finite() && (0.0..=2.0).contains(&t)) => {
                errs.add("params.temperature", "must be between 0 and 2")
            }
            t => out.temperature = t,
        }
    }
    if let Some(n) = p.max_tokens {
        match n {
            Some(n) if !(1..=1_000_000).contains(&n) => {
                errs.add("params.maxTokens", "must be between 1 and 1000000")
            }
            n => out.max_tokens = n,
        }
    }
    if let Some(ms) = p.timeout_ms {
        if (100..=600_000).contains(&ms) {
            out.timeout_ms = ms;
        } else {
            errs.add(
                "params.timeoutMs",
                "must be between 100 and 600000 milliseconds",
            );
        }
    }
    if let Some(r) = p.retries {
        if (0..=5).contains(&r) {
            out.retries = r;
        } else {
            errs.add("params.retries", "must be between 0 and 5");
        }
    }
    out
}

/// The configuration that results from `input` applied to `current` (or to nothing,
/// for a new model), with every problem collected. The new key, when one was given,
/// is returned separately: it is sealed only once the row id is known.
pub struct Resolved {
    pub config: ModelConfig,
    /// `Some(Some(k))`: set this key; `Some(None)`: remove it; `None`: keep.
    pub key: Option<Option<String>>,
}

pub fn resolve(current: Option<&ModelConfig>, input: &ModelInput) -> AppResult<Resolved> {
    let mut errs = FieldErrors::default();
    let now = now_ms();
    let mut c = current.cloned().unwrap_or_else(|| ModelConfig {
        id: new_id(),
        name: String::new(),
        provider: String::new(),
        base_url: String::new(),
        model: String::new(),
        api_key_enc: None,
        api_key_mask: None,
        params: ModelParams::default(),
        enabled: true,
        is_default: false,
        status: ModelStatus::Untested,
        last_test_at: None,
        last_latency_ms: None,
        last_result: None,
        fallback_model_ids: Vec::new(),
        prices: None,
        created_at: now,
        updated_at: now,
    });
    let (old_provider, old_model) = (c.provider.clone(), c.model.clone());
    if let Some(n) = &input.name {
        match parse_name(n) {
            Ok(n) => c.name = n,
            Err(m) => errs.add("name", m),
        }
    } else if current.is_none() {
        errs.add("name", "is required");
    }

    let kind = match (&input.provider, current) {
        (Some(p), _) => match p.trim().parse::<ProviderKind>() {
            Ok(k) => Some(k),
            Err(m) => {
                errs.add("provider", m);
                None
            }
        },
        (None, Some(cur)) => cur.provider.parse::<ProviderKind>().ok(),
        (None, None) => {
            errs.add("provider", "is required");
            None
        }
    };
    let provider_changed =
        kind.is_some_and(|k| current.is_none_or(|cur| cur.provider != k.as_str()));

    let mut key = None;
    if let Some(kind) = kind {
        let preset = kind.preset();
        c.provider = kind.as_str().to_owned();
        let given_url = input
            .base_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        if kind == ProviderKind::Builtin {
            if given_url.is_some() {
                errs.add("baseUrl", "the built-in provider has no URL");
            }
            c.base_url = String::new();
        } else {
            match given_url {
                Some(u) => match parse_base_url(u) {
                    Ok(u) => c.base_url = u,
                    Err(m) => errs.add("baseUrl", m),
                },
                None if provider_changed || input.base_url.is_some() => {
                    if preset.base_url.is_empty() {
                        errs.add(
                            "baseUrl",
                            format!("is required for provider {kind} (for example http://127.0.0.1:11434/v1)"),
                        );
                    } else {
                        c.base_url = preset.base_url.to_owned();
                    }
                }
                None => {}
            }
        }

        match input
            .model
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
        {
            Some(m) if kind == ProviderKind::Builtin && m != "builtin" => {
                errs.add("model", "the built-in provider has one model, 'builtin'")
            }
            Some(m) => match parse_model_id(m) {
                Ok(m) => c.model = m,
                Err(e) => errs.add("model", e),
            },
            None if provider_changed || input.model.is_some() => {
                if preset.model.is_empty() {
                    errs.add("model", format!("is required for provider {kind}"));
                } else {
                    c.model = preset.model.to_owned();
                }
            }
            None => {}
        }

        key = match &input.api_key {
            Some(Some(raw)) => match parse_key(raw) {
                Ok(k) => Some(k),
                Err(m) => {
                    errs.add("apiKey", m);
                    None
                }
            },
            Some(None) => Some(None),
            None => None,
        };
        if kind == ProviderKind::Builtin {
            if matches!(key, Some(Some(_))) {
                errs.add("apiKey", "the built-in provider takes no key");
            }
            key = c.api_key_enc.as_ref().map(|_| None);
        } else if preset.key_required {
            let will_have_key = match &key {
                Some(k) => k.is_some(),
                None => c.api_key_enc.is_some(),
            };
            if !will_have_key {
                errs.add("apiKey", format!("is required for provider {kind}"));
            }
        }
    }

    if let Some(p) = &input.params {
        c.params = apply_params(c.params, p, &mut errs);
    }
    if let Some(e) = input.enabled {
        c.enabled = e;
    }
    match &input.prices {
        Some(Some(p)) => {
            let problems = p.problems();
            for (f, m) in &problems {
                errs.add(&format!("prices.{f}"), m.clone());
            }
            if problems.is_empty() {
                let given = serde_json::to_value(p).ok();
                // The old model's list prices sent back unchanged (a form does)
                // follow the model like prices that were not sent.
                let unchanged_list = current.is_some()
                    && (old_provider != c.provider || old_model != c.model)
                    && given == known_prices_json(&old_provider, &old_model);
                c.prices = if unchanged_list {
                    known_prices_json(&c.provider, &c.model)
                } else {
                    given
                };
            }
        }
        Some(None) => c.prices = None,
        None => {
            // List prices follow the model while nobody has edited them.
            let was_list_price =
                current.is_none() || c.prices == known_prices_json(&old_provider, &old_model);
            if was_list_price {
                c.prices = known_prices_json(&c.provider, &c.model);
            }
        }
    }
    if let Some(ids) = &input.fallback_model_ids {
        let ids: Vec<String> = ids.iter().map(|i| i.trim().to_owned()).collect();
        let mut seen = std::collections::BTreeSet::new();
        if ids.len() > MAX_FALLBACKS {
            errs.add(
                "fallbackModelIds",
                format!("at most {MAX_FALLBACKS} fallback models"),
            );
        } else if let Some(dup) = ids.iter().find(|i| !seen.insert(i.as_str())) {
            errs.add("fallbackModelIds", format!("'{dup}' is listed twice"));
        } else if ids.contains(&c.id) {
            errs.add("fallbackModelIds", "a model cannot fall back to itself");
        } else {
            c.fallback_model_ids = ids;
        }
    }
    errs.into_result()?;
    Ok(Resolved { config: c, key })
}

fn known_prices_json(provider: &str, model: &str) -> Option<Value> {
    llm::price::known_prices(provider, model).and_then(|p| serde_json::to_value(p).ok())
}

/// Every fallback must name an existing model (checked against the database, which
/// [`resolve`] does not reach).
async fn check_fallbacks(app: &App, c: &ModelConfig) -> AppResult<()> {
    let mut errs = FieldErrors::default();
    for id in &c.fallback_model_ids {
        if store::models::get(&app.db, id).await?.is_none() {
            errs.add("fallbackModelIds", format!("no model with id '{id}'"));
        }
    }
    errs.into_result()
}

/// Puts a resolved key on the row: sealed, with its mask.
fn seal_into(app: &App, c: &mut ModelConfig, key: &Option<Option<String>>) {
    match key {
        Some(Some(k)) => {
            c.api_key_enc = Some(seal_key(&app.secret, &c.id, k));
            c.api_key_mask = Some(llm::mask(k));
        }
        Some(None) => {
            c.api_key_enc = None;
            c.api_key_mask = None;
        }
        None => {}
    }
}

fn name_conflict(name: &str) -> impl FnOnce(StoreError) -> AppError + '_ {
    move |e| match e {
        StoreError::Conflict(_) => AppError::Conflict(Box::new(
            Problem::new("conflict", format!("a model named '{name}' already exists"))
                .field("name", format!("'{name}' is taken")),
        )),
        e => e.into(),
    }
}

/// What the audit log says of a model: everything but the key (not even its mask).
fn audit_view(c: &ModelConfig) -> Value {
    json!({
        "name": c.name, "provider": c.provider, "baseUrl": c.base_url, "model": c.model,
        "params": c.params, "enabled": c.enabled, "keySet": c.api_key_enc.is_some(),
        "fallbackModelIds": c.fallback_model_ids, "prices": c.prices,
    })
}

fn entry(by: &Caller, action: &str, outcome: Outcome, id: &str) -> store::audit::NewEntry {
    let mut e = by.audit(action, outcome);
    e.resource_type = Some("model".into());
    e.resource_id = Some(id.to_owned());
    e
}

/// Every model, the default first.
pub async fn list(app: &App, by: &Caller) -> AppResult<Vec<ModelConfig>> {
    by.require(Permission::ModelsManage)?;
    Ok(store::models::list(&app.db).await?)
}

/// The enabled models, for a module's model picker.
pub async fn enabled(app: &App, by: &Caller) -> AppResult<Vec<ModelConfig>> {
    by.require(Permission::ModulesDevelop)?;
    Ok(store::models::list(&app.db)
        .await?
        .into_iter()
        .filter(|m| m.enabled)
        .collect())
}

pub async fn get(app: &App, by: &Caller, id: &str) -> AppResult<ModelConfig> {
    by.require(Permission::ModelsManage)?;
    find(app, id).await
}

async fn find(app: &App, id: &str) -> AppResult<ModelConfig> {
    store::models::get(&app.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("model {id}")))
}

pub async fn create(app: &App, by: &Caller, input: ModelInput) -> AppResult<ModelConfig> {
    by.require(Permission::ModelsManage)?;
    let Resolved { mut config, key } = resolve(None, &input)?;
    check_fallbacks(app, &config).await?;
    seal_into(app, &mut config, &key);
    insert(app, by, &config).await?;
    find(app, &config.id).await
}

/// Stores a new model with its `model.create` audit row.
async fn insert(app: &App, by: &Caller, config: &ModelConfig) -> AppResult<()> {
    let mut tx = app.db.begin().await?;
    store::models::insert(&mut tx, config)
        .await
        .map_err(name_conflict(&config.name))?;
    let mut e = entry(by, "model.create", Outcome::Success, &config.id);
    e.details = audit_view(config);
    if config.is_default {
        e.details["default"] = json!(true);
    }
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn update(app: &App, by: &Caller, id: &str, input: ModelInput) -> AppResult<ModelConfig> {
    let before = get(app, by, id).await?;
    let Resolved { mut config, key } = resolve(Some(&before), &input)?;
    check_fallbacks(app, &config).await?;
    if before.is_default && !config.enabled {
        return Err(AppError::conflict(format!(
            "'{}' is the default model and cannot be disabled; make another model the default first",
            before.name
        )));
    }
    seal_into(app, &mut config, &key);
    let key_changed = key.is_some() && config.api_key_enc != before.api_key_enc;
    // A test says nothing about what it did not test.
    if key_changed
        || config.provider != before.provider
        || config.base_url != before.base_url
        || config.model != before.model
    {
        config.status = ModelStatus::Untested;
    }
    let (from, to) = (audit_view(&before), audit_view(&config));
    let mut changes = serde_json::Map::new();
    for (k, v) in to.as_object().into_iter().flatten() {
        if from.get(k) != Some(v) && k != "keySet" {
            changes.insert(k.clone(), json!({ "from": from[k], "to": v }));
        }
    }
    let mut tx = app.db.begin().await?;
    store::models::update(&mut tx, &config)
        .await
        .map_err(name_conflict(&config.name))?;
    let mut e = entry(by, "model.update", Outcome::Success, id);
    e.details = json!({ "name": config.name, "changes": changes, "keyChanged": key_changed,
        "keyRemoved": matches!(key, Some(None)) && before.api_key_enc.is_some() });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    find(app, id).await
}

pub async fn delete(app: &App, by: &Caller, id: &str) -> AppResult<()> {
    by.require(Permission::ModelsManage)?;
    let mut tx = app.db.begin().await?;
    let m = store::models::get_in(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("model {id}")))?;
    if m.is_default {
        return Err(AppError::conflict(format!(
            "'{}' is the default model; make another model the default before deleting it",
            m.name
        )));
    }
    let users = store::models::modules_using(&mut tx, id).await?;
    if !users.is_empty() {
        let quoted: Vec<String> = users.iter().map(|n| format!("'{n}'")).collect();
        return Err(AppError::Conflict(Box::new(
            Problem::new(
                "conflict",
                format!(
                    "'{}' is used by {} module{}: {}; move them to another model first",
                    m.name,
                    users.len(),
                    if users.len() == 1 { "" } else { "s" },
                    quoted.join(", ")
                ),
            )
            .detail("modules", &users),
        )));
    }
    let dependents = store::models::falling_back_to(&mut tx, id).await?;
    if !dependents.is_empty() {
        return Err(AppError::Conflict(Box::new(
            Problem::new(
                "conflict",
                format!(
                    "'{}' is a fallback of {}; remove it from their fallbacks first",
                    m.name,
                    dependents
                        .iter()
                        .map(|n| format!("'{n}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .detail("models", &dependents),
        )));
    }
    // Its own budgets go with it; usage rows stay (they are history).
    for b in store::budgets::of_model(&mut tx, id).await? {
        store::budgets::delete(&mut tx, &b).await?;
    }
    store::models::delete(&mut tx, id).await?;
    let mut e = entry(by, "model.delete", Outcome::Success, id);
    e.details = audit_view(&m);
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn make_default(app: &App, by: &Caller, id: &str) -> AppResult<ModelConfig> {
    by.require(Permission::ModelsManage)?;
    let previous = store::models::default_model(&app.db).await?.map(|x| x.name);
    let mut tx = app.db.begin().await?;
    let m = store::models::get_in(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("model {id}")))?;
    if !m.enabled {
        return Err(AppError::conflict(format!(
            "'{}' is disabled; enable it before making it the default",
            m.name
        )));
    }
    if !m.is_default {
        store::models::set_default(&mut tx, id).await?;
        let mut e = entry(by, "model.default", Outcome::Success, id);
        e.details = json!({ "name": m.name, "previous": previous });
        audit::append(&mut tx, e).await?;
    }
    tx.commit().await?;
    find(app, id).await
}

/// A connection test's result, as the API returns it and the page shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestResult {
    pub ok: bool,
    pub latency_ms: u64,
    /// The model id that answered (or was asked for, on failure).
    pub model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<TestError>,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<TestUsage>,
    /// Model ids the provider offers, when it lists them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    /// RFC 3339.
    pub tested_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestError {
    /// `auth`, `not_found`, `rate_limited`, `timeout`, `network`, `bad_response`, `provider`.
    pub kind: String,
    pub message: String,
    pub status: Option<u16>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

fn shorten(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// Sends a minimal real request to the model and records the outcome. The answer
/// is data (`ok: false` is a successful test of a failing model), so this returns
/// an error only when the model does not exist.
pub async fn test(app: &App, by: &Caller, id: &str) -> AppResult<TestResult> {
    let m = get(app, by, id).await?;
    // The whole test must answer within the server's request timeout.
    let budget = Duration::from_secs(app.config.request_timeout_secs.saturating_sub(2).max(1));
    let started = Instant::now();
    let outcome: Result<(llm::ChatReply, Option<Vec<String>>), LlmError> = async {
        let client = client_for(&app.secret, &m, std::sync::Arc::new(llm::describe_offline))?;
        let req = ChatRequest {
            system: Some("This is a connection test. Reply with the single word: ok".into()),
            messages: vec![Message::user("ping")],
            max_tokens: Some(64),
            ..ChatRequest::default()
        };
        let cancel = llm::CancellationToken::new();
        let call = async {
            let reply = client.chat(&req, &mut |_| {}, &cancel).await?;
            // A picker needs the list; its failure does not fail the test.
            let models = client.list_models().await.ok().filter(|l| !l.is_empty());
            Ok((reply, models))
        };
        match tokio::time::timeout(budget, call).await {
            Ok(r) => r,
            Err(_) => Err(LlmError::new(
                ErrorKind::Timeout,
                format!("the test took longer than {} s", budget.as_secs()),
            )),
        }
    }
    .await;
    crate::telemetry::model_call(
        &m.provider,
        &m.model,
        outcome.as_ref().map_or_else(|e| e.kind.as_str(), |_| "ok"),
        started.elapsed(),
        outcome.as_ref().ok().map(|(r, _)| &r.usage),
    );
    let tested_at = crate::time::rfc3339(now_ms());
    let result = match outcome {
        Ok((reply, models)) => TestResult {
            ok: true,
            latency_ms: reply.latency_ms,
            model: reply.model,
            reply: Some(shorten(&reply.text, 200)),
            error: None,
            attempts: reply.attempts,
            usage: Some(TestUsage {
                input_tokens: reply.usage.input_tokens,
                output_tokens: reply.usage.output_tokens,
            }),
            models,
            tested_at,
        },
        Err(e) => TestResult {
            ok: false,
            latency_ms: started.elapsed().as_millis() as u64,
            model: m.model.clone(),
            reply: None,
            error: Some(TestError {
                kind: e.kind.as_str().to_owned(),
                message: e.message,
                status: e.status,
            }),
            attempts: 0,
            usage: None,
            models: None,
            tested_at,
        },
    };
    let stored = serde_json::to_value(&result).map_err(anyhow::Error::from)?;
    let (status, outcome) = if result.ok {
        (ModelStatus::Ok, Outcome::Success)
    } else {
        (ModelStatus::Failing, Outcome::Failure)
    };
    let mut tx = app.db.begin().await?;
    store::models::record_test(&mut tx, id, status, result.latency_ms as i64, &stored).await?;
    let mut e = entry(by, "model.test", outcome, id);
    e.details = json!({
        "name": m.name, "provider": m.provider, "model": result.model, "latencyMs": result.latency_ms,
        "attempts": result.attempts, "error": result.error,
    });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(result)
}

/// On first start: the built-in offline model, as the default, so a fresh install
/// works without a key. Idempotent; replicas racing here collide on the name.
pub async fn seed_builtin(app: &App) -> AppResult<()> {
    if store::models::count(&app.db).await? > 0 {
        return Ok(());
    }
    let now = now_ms();
    let m = ModelConfig {
        id: new_id(),
        name: "Built-in (offline)".into(),
        provider: ProviderKind::Builtin.as_str().into(),
        base_url: String::new(),
        model: "builtin".into(),
        api_key_enc: None,
        api_key_mask: None,
        params: ModelParams::default(),
        enabled: true,
        is_default: true,
        status: ModelStatus::Untested,
        last_test_at: None,
        last_latency_ms: None,
        last_result: None,
        fallback_model_ids: Vec::new(),
        prices: known_prices_json("builtin", "builtin"),
        created_at: now,
        updated_at: now,
    };
    match insert(app, &Caller::system(), &m).await {
        Err(AppError::Conflict(_)) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, provider: &str) -> ModelInput {
        ModelInput {
            name: Some(name.into()),
            provider: Some(provider.into()),
            ..ModelInput::default()
        }
    }

    fn fields(e: AppError) -> Vec<String> {
        e.fields().iter().map(|f| f.field.clone()).collect()
    }

    #[test]
    fn kimi_gets_its_preset_url_and_model_and_needs_a_key() {
        let e = resolve(None, &input("Kimi", "kimi")).err().unwrap();
        assert_eq!(fields(e), vec!["apiKey"]);
        let mut i = input("Kimi", "kimi");
        i.api_key = Some(Some("  sk-abc123abc123abc123  ".into()));
        let r = resolve(None, &i).ok().unwrap();
        assert_eq!(r.config.base_url, "https://api.moonshot.cn/v1");
        assert_eq!(r.config.model, "kimi-k2.6");
        assert_eq!(r.key, Some(Some("sk-abc123abc123abc123".into())));
        assert_eq!(
            r.config.prices.as_ref().unwrap()["output"],
            4.0,
            "list prices pre-filled"
        );
    }

    #[test]
    fn list_prices_follow_the_model_until_edited() {
        let mut i = input("Kimi", "kimi");
        i.api_key = Some(Some("sk-abc123abc123abc123".into()));
        let mut cur = resolve(None, &i).ok().unwrap().config;
        cur.api_key_enc = Some("v1:sealed".into());
        let switch = ModelInput {
            model: Some("kimi-k2.5".into()),
            ..ModelInput::default()
        };
        let r = resolve(Some(&cur), &switch).ok().unwrap();
        assert_eq!(r.config.prices.as_ref().unwrap()["output"], 3.0);
        let mut edited = cur.clone();
        edited.prices = Some(
            serde_json::json!({"input": 1.0, "cachedInput": 0.5, "output": 2.0, "currency": "CNY"}),
        );
        let r = resolve(Some(&edited), &switch).ok().unwrap();
        assert_eq!(
            r.config.prices.as_ref().unwrap()["currency"],
            "CNY",
            "an edited price stays"
        );
        let own = ModelInput {
            fallback_model_ids: Some(vec![cur.id.clone()]),
            ..ModelInput::default()
        };
        let e = resolve(Some(&cur), &own).err().unwrap();
        assert!(e.to_string().contains("itself"), "{e}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let i = ModelInput {
            name: Some(" ".into()),
            provider: Some("openai-compatible".into()),
            base_url: Some("ftp://x".into()),
            model: Some("has space".into()),
            api_key: Some(Some("a b".into())),
            params: Some(ParamsInput {
                temperature: Some(Some(3.0)),
                max_tokens: Some(Some(0)),
                timeout_ms: Some(5),
                retries: Some(9),
            }),
            enabled: None,
            fallback_model_ids: Some(vec!["x".into(), "x".into()]),
            prices: Some(Some(llm::Prices {
                input: -1.0,
                cached_input: 0.0,
                output: 1.0,
                currency: "dollars".into(),
            })),
        };
        let got = fields(resolve(None, &i).err().unwrap());
        for f in [
            "name",
            "baseUrl",
            "model",
            "apiKey",
            "params.temperature",
            "params.maxTokens",
            "params.timeoutMs",
            "params.retries",
            "fallbackModelIds",
            "prices.input",
            "prices.currency",
        ] {
            assert!(got.contains(&f.to_owned()), "{f} missing from {got:?}");
        }
        let e = resolve(None, &input("x", "moonshot")).err().unwrap();
        assert!(e.to_string().contains("unknown provider 'moonshot'"), "{e}");
    }

    #[test]
    fn openai_compatible_needs_a_url_but_no_key() {
        let e = resolve(None, &input("Local", "openai-compatible"))
            .err()
            .unwrap();
        assert_eq!(fields(e), vec!["baseUrl", "model"]);
        let mut i = input("Local", "openai-compatible");
        i.base_url = Some("http://127.0.0.1:11434/v1".into());
        i.model = Some("qwen2.5".into());
        let r = resolve(None, &i).ok().unwrap();
        assert_eq!(r.key, None);
    }

    #[test]
    fn urls_with_credentials_or_queries_are_refused() {
        assert!(
            parse_base_url("https://user:pw@api.example.com/v1")
                .unwrap_err()
                .contains("credentials")
        );
        assert!(parse_base_url("https://api.example.com/v1?key=1").is_err());
        assert!(parse_base_url("http://").is_err());
        assert!(parse_base_url("api.moonshot.cn/v1").is_err());
        assert_eq!(
            parse_base_url(" https://api.moonshot.ai/v1 ").unwrap(),
            "https://api.moonshot.ai/v1"
        );
    }

    #[test]
    fn edits_keep_what_is_not_given_and_switching_provider_resets_defaults() {
        let mut i = input("Kimi", "kimi");
        i.api_key = Some(Some("sk-abc123abc123abc123".into()));
        let mut cur = resolve(None, &i).ok().unwrap().config;
        cur.api_key_enc = Some("v1:sealed".into());
        let r = resolve(
            Some(&cur),
            &ModelInput {
                params: Some(ParamsInput {
                    retries: Some(0),
                    ..ParamsInput::default()
                }),
                ..ModelInput::default()
            },
        )
        .ok()
        .unwrap();
        assert_eq!(r.config.model, "kimi-k2.6");
        assert_eq!(r.config.params.retries, 0);
        assert_eq!(r.key, None, "the stored key is kept");

        let r = resolve(
            Some(&cur),
            &ModelInput {
                provider: Some("kimi-code".into()),
                ..ModelInput::default()
            },
        )
        .ok()
        .unwrap();
        assert_eq!(r.config.base_url, "https://api.kimi.com/coding/");
        assert_eq!(r.config.model, "kimi-for-coding");

        let r = resolve(
            Some(&cur),
            &ModelInput {
                provider: Some("builtin".into()),
                ..ModelInput::default()
            },
        )
        .ok()
        .unwrap();
        assert_eq!(r.key, Some(None), "switching to builtin drops the key");
        assert_eq!(r.config.base_url, "");

        let e = resolve(
            Some(&cur),
            &ModelInput {
                api_key: Some(None),
                ..ModelInput::default()
            },
        )
        .err()
        .unwrap();
        assert_eq!(fields(e), vec!["apiKey"], "kimi cannot lose its key");
    }
}
