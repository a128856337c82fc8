//! The Patch Gateway (docs/module-development.md): the one way a model's patch
//! enters the system. Build the context, call the module's model, extract the JSON,
//! validate and dry-run it against the live spec, send the report back and try again
//! up to a bound, then save a new version — or fail clearly and save nothing. Every
//! attempt is audited.

pub mod chain;
pub mod log;
pub mod prompt;

use crate::error::{AppError, AppResult, Problem};
use crate::modules::{self, SaveInput, Source};
use crate::usage::{CallContext, costs_view};
use crate::{App, Caller};
use chain::{Chain, Spent};
use llm::{
    CancellationToken, ChatRequest, ErrorKind, LlmError, Message, ProviderKind, StreamEvent,
};
use log::{AttemptLog, truncate};
use patch::answer::{Found, Reading};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use store::models::ModelConfig;

/// Progress of a generation, as the page receives it (SSE `event:` = `type`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Progress {
    Attempt {
        attempt: u32,
        model: String,
    },
    Chunk {
        text: String,
    },
    Reasoning {
        text: String,
    },
    Retrying {
        attempt: u32,
        wait_ms: u64,
        kind: ErrorKind,
        message: String,
    },
    Validation {
        attempt: u32,
        valid: bool,
        level: patch::Level,
        errors: Vec<patch::Issue>,
        /// Fixes made to the reply without a model call (repair codes).
        repairs: Vec<String>,
    },
    Repair {
        attempt: u32,
    },
    /// The reply held several different valid documents; the model is asked which.
    Choosing {
        attempt: u32,
        candidates: usize,
    },
    /// A model failed (or is paused) and the next one in its fallback chain is asked.
    Fallback {
        attempt: u32,
        from: String,
        to: String,
        kind: ErrorKind,
        message: String,
    },
}

/// A model stream event as generation progress.
fn progress_of(ev: StreamEvent) -> Progress {
    match ev {
        StreamEvent::Text { text } => Progress::Chunk { text },
        StreamEvent::Reasoning { text } => Progress::Reasoning { text },
        StreamEvent::Retrying {
            attempt,
            wait_ms,
            kind,
            message,
        } => Progress::Retrying {
            attempt,
            wait_ms,
            kind,
            message,
        },
    }
}

/// A successful generation.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Generated {
    pub version: modules::VersionView,
    pub attempts: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The model id the provider says answered.
    pub model: String,
    /// The configured model that wrote the version (a fallback when the chosen
    /// model failed).
    pub answered_by: String,
    /// Models that failed before it, in order.
    pub fallbacks: Vec<String>,
    /// What the generation cost, per currency (every call, failed ones included).
    pub cost: BTreeMap<String, f64>,
}

/// The model a generation uses: the one asked for, else the module's, else the default.
pub async fn pick_model(
    app: &App,
    requested: Option<&str>,
    module_model: Option<&str>,
) -> AppResult<ModelConfig> {
    let m = match requested.or(module_model) {
        Some(id) => store::models::get(&app.db, id)
            .await?
            .ok_or_else(|| AppError::invalid("modelId", format!("no model with id '{id}'")))?,
        None => store::models::default_model(&app.db)
            .await?
            .ok_or_else(|| {
                AppError::conflict(
                    "no default model is configured; add one under AI Model Configuration",
                )
            })?,
    };
    if !m.enabled {
        return Err(AppError::conflict(format!(
            "the model '{}' is disabled; enable it or choose another",
            m.name
        )));
    }
    Ok(m)
}

/// What a person asked for.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub module_id: &'a str,
    pub prompt: &'a str,
    /// A model for this request only.
    pub model_id: Option<&'a str>,
}

/// Checks a generation request before anything is spent on it: the caller's
/// permission, the prompt, the module. A streamed generation calls this first, so
/// that such refusals stay plain answers rather than events of a stream.
pub async fn precheck(app: &App, by: &Caller, ask: Ask<'_>) -> AppResult<modules::Module> {
    let module = modules::get(app, by, ask.module_id).await?;
    // A generation ends in a save: the same rule decides whether it may start.
    modules::may_save(by, &module)?;
    let prompt_text = ask.prompt.trim();
    if prompt_text.is_empty() {
        return Err(AppError::invalid(
            "prompt",
            "describe what the module should do",
        ));
    }
    if prompt_text.chars().count() > 8_000 {
        return Err(AppError::invalid(
            "prompt",
            "must be at most 8000 characters",
        ));
    }
    Ok(module)
}

/// What a conversation with the model chain is about.
pub struct Target<'a> {
    /// The live spec the patch must apply to.
    pub spec: Arc<spec::Spec>,
    /// The module's current patch, which the answer replaces.
    pub current: Option<String>,
    /// Earlier requests of the module, newest first.
    pub earlier: Vec<String>,
    pub request: &'a str,
    /// `None` for an evaluation (no module is written).
    pub module_id: Option<&'a str>,
}

/// A valid patch and what it took (the calls' totals are in the caller's [`Spent`]).
pub struct Produced {
    pub found: Found,
    /// The provider's model id of the last reply.
    pub model: String,
    /// The configured model that gave the accepted answer.
    pub answered_by: ModelConfig,
}

impl Produced {
    /// What the version keeps of its generation.
    pub fn generation(&self, spent: &Spent) -> serde_json::Value {
        json!({
            "attempts": spent.attempts, "tokensIn": spent.tokens_in, "tokensOut": spent.tokens_out,
            "cost": costs_view(&spent.costs), "answeredBy": self.answered_by.name,
            "fallbacks": spent.fallbacks,
        })
    }
}

/// Generates a new version of the module from a request.
pub async fn generate(
    app: &App,
    by: &Caller,
    ask: Ask<'_>,
    progress: &mut (dyn FnMut(Progress) + Send),
    cancel: &CancellationToken,
) -> AppResult<Generated> {
    let module = precheck(app, by, ask).await?;
    let module_id = ask.module_id;
    let prompt_text = ask.prompt.trim();
    let model = pick_model(app, ask.model_id, module.model_id.as_deref()).await?;
    crate::budgets::check(app, &model).await?;
    let base_version = module.current_version;
    let current = match base_version {
        0 => None,
        n => store::modules::version(&app.db, module_id, n)
            .await?
            .map(|v| v.patch),
    };
    let earlier: Vec<String> = store::modules::versions(&app.db, module_id)
        .await?
        .into_iter()
        .rev()
        .filter_map(|v| v.prompt)
        .collect();
    let target = Target {
        spec: crate::live::for_module(app, module_id).await?,
        current,
        earlier,
        request: prompt_text,
        module_id: Some(module_id),
    };
    let mut spent = Spent::default();
    let produced = produce(app, by, &target, model, &mut spent, progress, cancel).await?;
    let generation = produced.generation(&spent);
    let version = modules::save_version(
        app,
        by,
        module_id,
        SaveInput {
            patch: produced.found.json.clone(),
            message: format!("AI: {}", truncate(prompt_text, 200)),
            base_version,
            confirm_l2: false,
            source: Source::Ai,
            prompt: Some(prompt_text.to_owned()),
            model: Some(produced.answered_by.name.clone()),
            repairs: produced
                .found
                .repairs
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            generation: Some(generation),
            imported: None,
        },
    )
    .await?;
    Ok(Generated {
        version,
        attempts: spent.attempts,
        input_tokens: spent.tokens_in,
        output_tokens: spent.tokens_out,
        model: produced.model,
        answered_by: produced.answered_by.name.clone(),
        cost: costs_view(&spent.costs),
        fallbacks: spent.fallbacks,
    })
}

/// The responder of the built-in engine: it answers from the rules, against the same
/// spec and patch the model sees.
fn offline_responder(target: &Target<'_>) -> llm::Responder {
    let spec = target.spec.clone();
    let current_doc = target
        .current
        .as_deref()
        .and_then(|c| patch::parse(c.as_bytes()).ok());
    let request = target.request.to_owned();
    Arc::new(move |_req: &ChatRequest| {
        offline::respond(&spec, current_doc.as_ref(), &request)
            .map(|doc| serde_json::to_string_pretty(&doc).unwrap_or_default())
            .map_err(|r| LlmError::new(ErrorKind::Provider, r.message))
    })
}

/// The conversation: ask the chain, read the answer, send the validator's report
/// back, up to the bounds — a valid patch, or a clear failure. Saves nothing.
/// `spent` adds up every call, whether or not the conversation succeeds.
pub async fn produce(
    app: &App,
    by: &Caller,
    target: &Target<'_>,
    model: ModelConfig,
    spent: &mut Spent,
    progress: &mut (dyn FnMut(Progress) + Send),
    cancel: &CancellationToken,
) -> AppResult<Produced> {
    let spec = &target.spec;
    let prompt_text = target.request;
    let chain = Chain::of(app, model, offline_responder(target)).await?;
    let log = AttemptLog {
        app,
        by,
        action: if target.module_id.is_some() {
            "ai.generate"
        } else {
            "ai.eval"
        },
        module_id: target.module_id,
        request: prompt_text,
    };
    let cx = CallContext {
        by,
        module_id: target.module_id,
        purpose: if target.module_id.is_some() {
            "generate"
        } else {
            "eval"
        },
    };
    let deterministic = chain.primary().provider == ProviderKind::Builtin.as_str();
    let max_attempts = if deterministic {
        1
    } else {
        app.config.ai_max_attempts
    };
    let budget = app.config.ai_token_budget;

    let mut messages = vec![Message::user(prompt::request(
        spec,
        target.current.as_deref(),
        &target.earlier,
        prompt_text,
    ))];
    let mut last_report: Option<patch::Report> = None;
    for attempt in 1..=max_attempts {
        if spent.tokens_in + spent.tokens_out >= budget {
            return Err(AppError::NoAnswer(Box::new(Problem::new(
                "token_budget",
                format!(
                    "stopped after {} attempts: the generation used {} of its {budget} tokens; nothing was saved",
                    attempt - 1,
                    spent.tokens_in + spent.tokens_out
                ),
            ))));
        }
        spent.attempts = attempt;
        progress(Progress::Attempt {
            attempt,
            model: chain.primary().model.clone(),
        });
        let sent = messages
            .last()
            .map(|m| m.content.clone())
            .unwrap_or_default();
        let answer = chain
            .call(
                app, cx, &log, attempt, &messages, true, spent, progress, cancel,
            )
            .await?;
        let mut answered = answer.link;
        let reply = answer.reply;
        let fallback_from = json!(spent.fallbacks);
        let mut reading = patch::answer::read(spec, prompt_text, &reply.text);
        messages.push(Message::assistant(reply.text.clone()));
        let mut provider_model = reply.model.clone();
        if let Reading::Ambiguous(candidates) = &reading {
            // Two different valid documents: the model says which, never a guess.
            progress(Progress::Choosing {
                attempt,
                candidates: candidates.len(),
            });
            log.record(
                chain.model(answered),
                attempt,
                &sent,
                Some(&reply),
                "ambiguous",
                json!({ "candidates": candidates.len(), "cost": answer.cost.view(), "fallbackFrom": fallback_from }),
            )
            .await?;
            let question = prompt::which(candidates);
            messages.push(Message::user(question.clone()));
            // A number, not a document: no JSON output mode.
            let choice = chain
                .call(
                    app, cx, &log, attempt, &messages, false, spent, progress, cancel,
                )
                .await?;
            messages.push(Message::assistant(choice.reply.text.clone()));
            let picked = prompt::picked(&choice.reply.text, candidates.len());
            log.record(
                chain.model(choice.link),
                attempt,
                &question,
                Some(&choice.reply),
                if picked.is_some() {
                    "chosen"
                } else {
                    "not_chosen"
                },
                json!({ "choice": picked.map(|i| i + 1), "cost": choice.cost.view() }),
            )
            .await?;
            if let Some(i) = picked {
                reading = Reading::Answer(candidates[i].clone());
                provider_model = choice.reply.model.clone();
                answered = choice.link;
            }
        }
        let (valid, report, repairs) = match &reading {
            Reading::Answer(f) | Reading::Invalid(f) => (
                f.report.valid,
                f.report.clone(),
                f.repairs
                    .iter()
                    .map(|r| r.as_str().to_owned())
                    .collect::<Vec<_>>(),
            ),
            _ => (false, patch::Report::rejected(Vec::new()), Vec::new()),
        };
        progress(Progress::Validation {
            attempt,
            valid,
            level: report.level,
            errors: report.errors.clone(),
            repairs: repairs.clone(),
        });
        let outcome = match &reading {
            Reading::Answer(_) => "valid",
            Reading::Invalid(_) => "invalid",
            Reading::Ambiguous(_) => "ambiguous",
            Reading::NotAPatch(_) => "not_a_patch",
            Reading::CutOff => "cut_off",
            Reading::Nothing => "no_json",
        };
        if !matches!(reading, Reading::Ambiguous(_)) {
            log.record(
                chain.model(answered), attempt, &sent, Some(&reply), outcome,
                json!({ "errors": report.errors.iter().map(|e| json!({"code": e.code, "message": e.message})).collect::<Vec<_>>(),
                        "level": report.level, "repairs": repairs, "cost": answer.cost.view(),
                        "fallbackFrom": fallback_from }),
            )
            .await?;
        }
        if let Reading::Answer(found) = reading {
            return Ok(Produced {
                found,
                model: provider_model,
                answered_by: chain.model(answered).clone(),
            });
        }
        let follow_up = prompt::follow_up(&reading);
        last_report = Some(report);
        if attempt < max_attempts {
            progress(Progress::Repair {
                attempt: attempt + 1,
            });
            messages.push(Message::user(follow_up));
        }
    }
    let errors = last_report.map(|r| r.errors).unwrap_or_default();
    let summary = errors
        .iter()
        .take(3)
        .map(|e| format!("{} {}", e.code, e.message))
        .collect::<Vec<_>>()
        .join("; ");
    Err(AppError::NoAnswer(Box::new(
        Problem::new(
            "generation_failed",
            format!(
                "the model did not produce a valid patch in {max_attempts} attempt{}; nothing was saved{}",
                if max_attempts == 1 { "" } else { "s" },
                if summary.is_empty() { " (no JSON patch in the answer)".to_owned() } else { format!(" (last errors: {summary})") }
            ),
        )
        .detail("attempts", max_attempts)
        .detail("errors", &errors),
    )))
}
