//! Parsing and the state changes behind both the model API and the pages. Saving
//! never touches the network: the connection test is a separate step.

use crate::ai::models::{client_for, seal_key};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::http::extract::RequestMeta;
use crate::http::users::service::FieldErrors;
use crate::state::AppState;
use llm::{ChatRequest, ErrorKind, LlmError, Message, ProviderKind};
use serde::Serialize;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use store::audit::{self, Outcome};
use store::models::{ModelConfig, ModelParams};
use store::{StoreError, new_id, now_ms};

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
}

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
pub(crate) struct Resolved {
    pub config: ModelConfig,
    /// `Some(Some(k))`: set this key; `Some(None)`: remove it; `None`: keep.
    pub key: Option<Option<String>>,
}

pub(crate) fn resolve(
    current: Option<&ModelConfig>,
    input: &ModelInput,
) -> Result<Resolved, ApiError> {
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
        status: "untested".into(),
        last_test_at: None,
        last_latency_ms: None,
        last_result: None,
        created_at: now,
        updated_at: now,
    });
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
    errs.into_result()?;
    Ok(Resolved { config: c, key })
}

/// Puts a resolved key on the row: sealed, with its mask.
fn seal_into(state: &AppState, c: &mut ModelConfig, key: &Option<Option<String>>) {
    match key {
        Some(Some(k)) => {
            c.api_key_enc = Some(seal_key(&state.secret, &c.id, k));
            c.api_key_mask = Some(llm::mask(k));
        }
        Some(None) => {
            c.api_key_enc = None;
            c.api_key_mask = None;
        }
        None => {}
    }
}

fn name_conflict(name: &str) -> impl FnOnce(StoreError) -> ApiError + '_ {
    move |e| match e {
        StoreError::Conflict(_) => {
            ApiError::conflict(format!("a model named '{name}' already exists")).with_details(
                json!({ "fields": [{ "field": "name", "message": format!("'{name}' is taken") }] }),
            )
        }
        e => e.into(),
    }
}

/// What the audit log says of a model: everything but the key (not even its mask).
fn audit_view(c: &ModelConfig) -> Value {
    json!({
        "name": c.name, "provider": c.provider, "baseUrl": c.base_url, "model": c.model,
        "params": c.params, "enabled": c.enabled, "keySet": c.api_key_enc.is_some(),
    })
}

fn entry(
    meta: &RequestMeta,
    actor: &CurrentUser,
    action: &str,
    outcome: Outcome,
    id: &str,
) -> store::audit::NewEntry {
    let mut e = meta.audit(Some(&actor.username), action, outcome);
    e.resource_type = Some("model".into());
    e.resource_id = Some(id.to_owned());
    e
}

pub async fn get(state: &AppState, id: &str) -> Result<ModelConfig, ApiError> {
    store::models::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("model {id}")))
}

pub async fn create(
    state: &AppState,
    actor: &CurrentUser,
    meta: &RequestMeta,
    input: ModelInput,
) -> Result<ModelConfig, ApiError> {
    let Resolved { mut config, key } = resolve(None, &input)?;
    seal_into(state, &mut config, &key);
    let mut tx = state.db.begin().await?;
    store::models::insert(&mut tx, &config)
        .await
        .map_err(name_conflict(&config.name))?;
    let mut e = entry(meta, actor, "model.create", Outcome::Success, &config.id);
    e.details = audit_view(&config);
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    get(state, &config.id).await
}

pub async fn update(
    state: &AppState,
    actor: &CurrentUser,
    meta: &RequestMeta,
    id: &str,
    input: ModelInput,
) -> Result<ModelConfig, ApiError> {
    let before = get(state, id).await?;
    let Resolved { mut config, key } = resolve(Some(&before), &input)?;
    if before.is_default && !config.enabled {
        return Err(ApiError::conflict(format!(
            "'{}' is the default model and cannot be disabled; make another model the default first",
            before.name
        )));
    }
    seal_into(state, &mut config, &key);
    let key_changed = key.is_some() && config.api_key_enc != before.api_key_enc;
    let retest = key_changed
        || config.provider != before.provider
        || config.base_url != before.base_url
        || config.model != before.model;
    let (from, to) = (audit_view(&before), audit_view(&config));
    let mut changes = serde_json::Map::new();
    for (k, v) in to.as_object().into_iter().flatten() {
        if from.get(k) != Some(v) && k != "keySet" {
            changes.insert(k.clone(), json!({ "from": from[k], "to": v }));
        }
    }
    let mut tx = state.db.begin().await?;
    store::models::update(&mut tx, &config, retest)
        .await
        .map_err(name_conflict(&config.name))?;
    let mut e = entry(meta, actor, "model.update", Outcome::Success, id);
    e.details = json!({ "name": config.name, "changes": changes, "keyChanged": key_changed,
        "keyRemoved": matches!(key, Some(None)) && before.api_key_enc.is_some() });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    get(state, id).await
}

pub async fn delete(
    state: &AppState,
    actor: &CurrentUser,
    meta: &RequestMeta,
    id: &str,
) -> Result<(), ApiError> {
    let mut tx = state.db.begin().await?;
    let m = store::models::get_in(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("model {id}")))?;
    if m.is_default {
        return Err(ApiError::conflict(format!(
            "'{}' is the default model; make another model the default before deleting it",
            m.name
        )));
    }
    let users = store::models::modules_using(&mut tx, id).await?;
    if !users.is_empty() {
        let quoted: Vec<String> = users.iter().map(|n| format!("'{n}'")).collect();
        return Err(ApiError::conflict(format!(
            "'{}' is used by {} module{}: {}; move them to another model first",
            m.name,
            users.len(),
            if users.len() == 1 { "" } else { "s" },
            quoted.join(", ")
        ))
        .with_details(json!({ "modules": users })));
    }
    store::models::delete(&mut tx, id).await?;
    let mut e = entry(meta, actor, "model.delete", Outcome::Success, id);
    e.details = audit_view(&m);
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn make_default(
    state: &AppState,
    actor: &CurrentUser,
    meta: &RequestMeta,
    id: &str,
) -> Result<ModelConfig, ApiError> {
    let previous = store::models::default_model(&state.db)
        .await?
        .map(|x| x.name);
    let mut tx = state.db.begin().await?;
    let m = store::models::get_in(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("model {id}")))?;
    if !m.enabled {
        return Err(ApiError::conflict(format!(
            "'{}' is disabled; enable it before making it the default",
            m.name
        )));
    }
    if !m.is_default {
        store::models::set_default(&mut tx, id).await?;
        let mut e = entry(meta, actor, "model.default", Outcome::Success, id);
        e.details = json!({ "name": m.name, "previous": previous });
        audit::append(&mut tx, e).await?;
    }
    tx.commit().await?;
    get(state, id).await
}

/// A connection test's result, as the API returns it and the page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TestError {
    /// `auth`, `not_found`, `rate_limited`, `timeout`, `network`, `bad_response`, `provider`.
    pub kind: String,
    pub message: String,
    pub status: Option<u16>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
pub async fn test(
    state: &AppState,
    actor: &CurrentUser,
    meta: &RequestMeta,
    id: &str,
) -> Result<TestResult, ApiError> {
    let m = get(state, id).await?;
    // The whole test must answer within the server's request timeout.
    let budget = Duration::from_secs(state.config.request_timeout_secs.saturating_sub(2).max(1));
    let started = Instant::now();
    let outcome: Result<(llm::ChatReply, Option<Vec<String>>), LlmError> = async {
        let client = client_for(
            &state.secret,
            &m,
            std::sync::Arc::new(llm::describe_offline),
        )?;
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
    let tested_at = crate::http::users::api::rfc3339(now_ms());
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
    let stored = serde_json::to_value(&result).expect("result serialises");
    let mut tx = state.db.begin().await?;
    store::models::record_test(&mut tx, id, result.ok, result.latency_ms as i64, &stored).await?;
    let outcome = if result.ok {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let mut e = entry(meta, actor, "model.test", outcome, id);
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
pub async fn seed_builtin(db: &store::Db) -> Result<(), StoreError> {
    if store::models::count(db).await? > 0 {
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
        status: "untested".into(),
        last_test_at: None,
        last_latency_ms: None,
        last_result: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = db.begin().await?;
    match store::models::insert(&mut tx, &m).await {
        Ok(()) => {
            let mut e = store::audit::NewEntry::new("model.create", Outcome::Success);
            e.actor = Some("system".into());
            e.resource_type = Some("model".into());
            e.resource_id = Some(m.id.clone());
            e.details = json!({ "name": m.name, "provider": m.provider, "model": m.model, "default": true, "seed": true });
            audit::append(&mut tx, e).await?;
            tx.commit().await
        }
        Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
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

    fn fields(e: ApiError) -> Vec<String> {
        e.details["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap().to_owned())
            .collect()
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
        ] {
            assert!(got.contains(&f.to_owned()), "{f} missing from {got:?}");
        }
        let e = resolve(None, &input("x", "moonshot")).err().unwrap();
        assert!(
            e.message.contains("unknown provider 'moonshot'"),
            "{}",
            e.message
        );
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
