//! The evaluation bench (docs/model-operations.md): a corpus of requests run through
//! the real gateway — the model's fallbacks, the repair loop, budgets — against the
//! base CRM, each answer checked against what the case expects. The run is stored,
//! so the models page can put models side by side.

use crate::error::{AppError, AppResult};
use crate::gateway::chain::Spent;
use crate::gateway::{Progress, Target, produce};
use crate::usage::costs_view;
use crate::{App, Caller};
use access::Permission;
use eval::{Case, CaseOutcome, CaseResult, Corpus, Summary};
use llm::CancellationToken;
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;
use store::audit::{self, Outcome};
use store::evals::EvalRun;
use store::models::ModelConfig;
use store::{new_id, now_ms};

/// Progress of a run, as the page and the CLI receive it (SSE `event:` = `type`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EvalEvent {
    Started {
        model: String,
        corpus: String,
        requests: usize,
    },
    Case {
        index: usize,
        result: CaseResult,
    },
}

/// A stored run.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EvalRunView {
    pub id: String,
    pub model_id: String,
    pub model_name: String,
    pub corpus: String,
    pub started_by: String,
    pub started_at: String,
    pub finished_at: String,
    /// `requests`, `accepted`, `validNotAccepted`, `failed`, `score` (0–1),
    /// `attempts`, `tokensIn`, `tokensOut`, `cost` (per currency), `latencyP50Ms`,
    /// `latencyP95Ms`, `acceptedByLanguage` (`{"zh": [accepted, of]}`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub summary: Value,
    /// One per request, in corpus order (empty in lists).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub results: Vec<Value>,
}

fn summary_view(s: &Summary) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    v["cost"] = json!(costs_view(&s.cost_micros));
    v
}

impl EvalRunView {
    fn of(r: EvalRun) -> EvalRunView {
        EvalRunView {
            summary: serde_json::from_str(&r.summary).unwrap_or_default(),
            results: serde_json::from_str(&r.results).unwrap_or_default(),
            id: r.id,
            model_id: r.model_id,
            model_name: r.model_name,
            corpus: r.corpus,
            started_by: r.started_by,
            started_at: crate::time::rfc3339(r.started_at),
            finished_at: crate::time::rfc3339(r.finished_at),
        }
    }
}

/// Finds a model by id, by name, or by its provider model id when only one has it
/// (`builtin`), for the command line.
pub async fn find_model(app: &App, key: &str) -> AppResult<ModelConfig> {
    let all = store::models::list(&app.db).await?;
    if let Some(m) = all.iter().find(|m| m.id == key || m.name == key) {
        return Ok(m.clone());
    }
    let by_model: Vec<&ModelConfig> = all.iter().filter(|m| m.model == key).collect();
    match by_model.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(AppError::not_found(format!(
            "a model named '{key}' (known: {})",
            all.iter()
                .map(|m| format!("'{}'", m.name))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        _ => Err(AppError::invalid(
            "model",
            format!("several models use '{key}'; name one by its name or id"),
        )),
    }
}

/// Checks the scenarios of every case before anything is spent.
fn check_scenarios(corpus: &Corpus) -> AppResult<()> {
    for c in &corpus.cases {
        for s in &c.expect.scenarios {
            scenario::format::from_value(&c.id, s)
                .map_err(|e| AppError::invalid("corpus", format!("case '{}': {e}", c.id)))?;
        }
    }
    Ok(())
}

/// Runs `corpus` against the model and stores the run.
pub async fn run(
    app: &App,
    by: &Caller,
    model_id: &str,
    corpus: &Corpus,
    progress: &mut (dyn FnMut(EvalEvent) + Send),
    cancel: &CancellationToken,
) -> AppResult<EvalRunView> {
    by.require(Permission::ModelsManage)?;
    let model = store::models::get(&app.db, model_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("model {model_id}")))?;
    check_scenarios(corpus)?;
    crate::budgets::check(app, &model).await?;
    let started_at = now_ms();
    progress(EvalEvent::Started {
        model: model.name.clone(),
        corpus: corpus.name.clone(),
        requests: corpus.cases.len(),
    });
    let base = Arc::new(spec::base_spec());
    let mut results = Vec::with_capacity(corpus.cases.len());
    let mut stop: Option<String> = None;
    for (index, case) in corpus.cases.iter().enumerate() {
        if cancel.is_cancelled() {
            break;
        }
        if stop.is_none()
            && let Some(b) = crate::budgets::exhausted(app, &model).await?
        {
            stop = Some(crate::budgets::refusal(&b).to_string());
        }
        let result = match &stop {
            // A spent budget ends the run: the rest are not sent.
            Some(why) => not_run(case, why),
            None => run_case(app, by, &base, &model, case, cancel).await?,
        };
        progress(EvalEvent::Case {
            index,
            result: result.clone(),
        });
        results.push(result);
    }
    let summary = Summary::of(&results);
    let run = EvalRun {
        id: new_id(),
        model_id: model.id.clone(),
        model_name: model.name.clone(),
        corpus: corpus.name.clone(),
        started_by: by.username.clone(),
        started_at,
        finished_at: now_ms(),
        summary: summary_view(&summary).to_string(),
        results: serde_json::to_string(&results).map_err(anyhow::Error::from)?,
    };
    store::evals::insert(&app.db, &run).await?;
    let mut e = by.audit("model.eval", Outcome::Success);
    e.resource_type = Some("model".into());
    e.resource_id = Some(model.id.clone());
    e.details = json!({ "name": model.name, "corpus": corpus.name, "run": run.id,
        "summary": summary_view(&summary) });
    let mut tx = app.db.begin().await?;
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(EvalRunView::of(run))
}

fn not_run(case: &Case, why: &str) -> CaseResult {
    CaseResult {
        id: case.id.clone(),
        request: case.request.clone(),
        language: case.language().into(),
        outcome: CaseOutcome::Failed,
        attempts: 0,
        tokens_in: 0,
        tokens_out: 0,
        cost_micros: Default::default(),
        latency_ms: 0,
        detail: format!("not run: {why}"),
    }
}

async fn run_case(
    app: &App,
    by: &Caller,
    base: &Arc<spec::Spec>,
    model: &ModelConfig,
    case: &Case,
    cancel: &CancellationToken,
) -> AppResult<CaseResult> {
    let target = Target {
        spec: base.clone(),
        current: case.start.as_ref().map(|s| s.to_string()),
        earlier: Vec::new(),
        request: &case.request,
        module_id: None,
    };
    let mut spent = Spent::default();
    let started = Instant::now();
    let produced = produce(
        app,
        by,
        &target,
        model.clone(),
        &mut spent,
        &mut |_: Progress| {},
        cancel,
    )
    .await;
    let latency_ms = started.elapsed().as_millis() as u64;
    let (outcome, detail) = match produced {
        Ok(p) => match accepted(base, case, &p.found.json).await {
            Ok(()) => (CaseOutcome::Accepted, String::new()),
            Err(why) => (CaseOutcome::ValidNotAccepted, why),
        },
        Err(
            e @ (AppError::NoAnswer(_)
            | AppError::Upstream(_)
            | AppError::Unavailable { .. }
            | AppError::Conflict(_)
            | AppError::Invalid(_)),
        ) => (CaseOutcome::Failed, e.to_string()),
        Err(e) => return Err(e),
    };
    Ok(CaseResult {
        id: case.id.clone(),
        request: case.request.clone(),
        language: case.language().into(),
        outcome,
        attempts: spent.attempts,
        tokens_in: spent.tokens_in,
        tokens_out: spent.tokens_out,
        cost_micros: spent.costs,
        latency_ms,
        detail,
    })
}

/// Whether a valid answer meets the case: every expected operation is there, and
/// every scenario passes on the base CRM with the answer applied.
async fn accepted(base: &spec::Spec, case: &Case, json: &str) -> Result<(), String> {
    let doc: Value = serde_json::from_str(json).map_err(|e| format!("unreadable answer: {e}"))?;
    let missing = eval::unmatched(&case.expect.operations, &doc);
    if !missing.is_empty() {
        let names: Vec<String> = missing
            .iter()
            .map(|i| case.expect.operations[*i].to_string())
            .collect();
        return Err(format!("missing {}", names.join(", ")));
    }
    if case.expect.scenarios.is_empty() {
        return Ok(());
    }
    let parsed = patch::parse(json.as_bytes()).map_err(|r| format!("unreadable patch: {r:?}"))?;
    let spec = patch::apply(base, &parsed).map_err(|r| {
        format!(
            "the patch does not apply: {}",
            r.errors.first().map(|e| e.message.as_str()).unwrap_or("")
        )
    })?;
    for s in &case.expect.scenarios {
        let sc = scenario::format::from_value(&case.id, s).map_err(|e| e.to_string())?;
        let r = scenario::run::run_scenario(&spec, &sc).await;
        if r.status != "passed" {
            return Err(format!(
                "scenario '{}' failed: {}",
                r.name,
                r.error.unwrap_or_default()
            ));
        }
    }
    Ok(())
}

/// The newest run of each model.
pub async fn latest(app: &App, by: &Caller) -> AppResult<Vec<EvalRunView>> {
    by.require(Permission::ModelsManage)?;
    Ok(store::evals::latest(&app.db)
        .await?
        .into_iter()
        .map(EvalRunView::of)
        .collect())
}

pub async fn get(app: &App, by: &Caller, id: &str) -> AppResult<EvalRunView> {
    by.require(Permission::ModelsManage)?;
    store::evals::get(&app.db, id)
        .await?
        .map(EvalRunView::of)
        .ok_or_else(|| AppError::not_found(format!("evaluation {id}")))
}
