//! The Patch Gateway (docs/module-development.md): the one way a model's patch
//! enters the system. Build the context, call the module's model, extract the JSON,
//! validate and dry-run it against the live spec, send the report back and try again
//! up to a bound, then save a new version — or fail clearly and save nothing. Every
//! attempt is audited.

pub mod prompt;

use crate::error::{AppError, AppResult, Problem};
use crate::models::client::client_for;
use crate::modules::{self, SaveInput, Source};
use crate::{App, Caller};
use llm::{
    CancellationToken, ChatRequest, ErrorKind, LlmError, Message, ProviderKind, StreamEvent,
};
use patch::answer::Reading;
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use store::audit::{self, Outcome};
use store::models::ModelConfig;

/// How much of a prompt or response the audit detail keeps.
const AUDIT_TEXT_LIMIT: usize = 64 * 1024;

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
    pub model: String,
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} more bytes]", &s[..end], s.len() - end)
}

/// The model a generation uses: the one asked for, else the module's, else the default.
async fn pick_model(
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

/// Generates a new version of the module from a request.
pub async fn generate(
    app: &App,
    by: &Caller,
    ask: Ask<'_>,
    progress: &mut (dyn FnMut(Progress) + Send),
    cancel: &CancellationToken,
) -> AppResult<Generated> {
    let module = precheck(app, by, ask).await?;
    let (module_id, model_id) = (ask.module_id, ask.model_id);
    let prompt_text = ask.prompt.trim();
    let model = pick_model(app, model_id, module.model_id.as_deref()).await?;
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
    let spec = crate::live::for_module(app, module_id).await?;

    // The built-in engine answers from the rules, against the same spec and patch.
    let responder: llm::Responder = {
        let spec = spec.clone();
        let current_doc = current
            .as_deref()
            .and_then(|c| patch::parse(c.as_bytes()).ok());
        let request = prompt_text.to_owned();
        Arc::new(move |_req: &ChatRequest| {
            offline::respond(&spec, current_doc.as_ref(), &request)
                .map(|doc| serde_json::to_string_pretty(&doc).unwrap_or_default())
                .map_err(|r| LlmError::new(ErrorKind::Provider, r.message))
        })
    };
    let client = client_for(&app.secret, &model, responder).map_err(AppError::Upstream)?;
    let log = AttemptLog {
        app,
        by,
        module_id,
        model: &model,
        request: prompt_text,
    };
    let deterministic = model.provider == ProviderKind::Builtin.as_str();
    let max_attempts = if deterministic {
        1
    } else {
        app.config.ai_max_attempts
    };
    let budget = app.config.ai_token_budget;

    let mut messages = vec![Message::user(prompt::request(
        &spec,
        current.as_deref(),
        &earlier,
        prompt_text,
    ))];
    let (mut tokens_in, mut tokens_out) = (0u64, 0u64);
    let mut last_report: Option<patch::Report> = None;
    for attempt in 1..=max_attempts {
        if tokens_in + tokens_out >= budget {
            return Err(AppError::NoAnswer(Box::new(Problem::new(
                "token_budget",
                format!(
                    "stopped after {} attempts: the generation used {} of its {budget} tokens; nothing was saved",
                    attempt - 1,
                    tokens_in + tokens_out
                ),
            ))));
        }
        progress(Progress::Attempt {
            attempt,
            model: model.model.clone(),
        });
        let sent = messages
            .last()
            .map(|m| m.content.clone())
            .unwrap_or_default();
        let reply = call(&client, &model, &messages, true, progress, cancel).await;
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                log.record(attempt, &sent, None, "error", json!({ "error": e }))
                    .await?;
                if deterministic && e.kind == ErrorKind::Provider {
                    // The offline engine's refusal: what it can do, never a guess.
                    return Err(AppError::NoAnswer(Box::new(Problem::new(
                        "not_understood",
                        e.message,
                    ))));
                }
                return Err(AppError::Upstream(e));
            }
        };
        tokens_in += reply.usage.input_tokens;
        tokens_out += reply.usage.output_tokens;
        let mut reading = patch::answer::read(&spec, prompt_text, &reply.text);
        messages.push(Message::assistant(reply.text.clone()));
        let mut answered_by = reply.model.clone();
        if let Reading::Ambiguous(candidates) = &reading {
            // Two different valid documents: the model says which, never a guess.
            progress(Progress::Choosing {
                attempt,
                candidates: candidates.len(),
            });
            log.record(
                attempt,
                &sent,
                Some(&reply),
                "ambiguous",
                json!({ "candidates": candidates.len() }),
            )
            .await?;
            let question = prompt::which(candidates);
            messages.push(Message::user(question.clone()));
            // A number, not a document: no JSON output mode.
            let choice = call(&client, &model, &messages, false, progress, cancel)
                .await
                .map_err(AppError::Upstream)?;
            tokens_in += choice.usage.input_tokens;
            tokens_out += choice.usage.output_tokens;
            messages.push(Message::assistant(choice.text.clone()));
            let picked = prompt::picked(&choice.text, candidates.len());
            log.record(
                attempt,
                &question,
                Some(&choice),
                if picked.is_some() {
                    "chosen"
                } else {
                    "not_chosen"
                },
                json!({ "choice": picked.map(|i| i + 1) }),
            )
            .await?;
            if let Some(i) = picked {
                reading = Reading::Answer(candidates[i].clone());
                answered_by = choice.model.clone();
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
 attempt, &sent, Some(&reply), outcome,
                json!({ "errors": report.errors.iter().map(|e| json!({"code": e.code, "message": e.message})).collect::<Vec<_>>(),
                        "level": report.level, "repairs": repairs }),
            )
            .await?;
        }
        if let Reading::Answer(found) = reading {
            let version = modules::save_version(
                app,
                by,
                module_id,
                SaveInput {
                    patch: found.json,
                    message: format!("AI: {}", truncate(prompt_text, 200)),
                    base_version,
                    confirm_l2: false,
                    source: Source::Ai,
                    prompt: Some(prompt_text.to_owned()),
                    model: Some(model.name.clone()),
                    repairs,
                },
            )
            .await?;
            return Ok(Generated {
                version,
                attempts: attempt,
                input_tokens: tokens_in,
                output_tokens: tokens_out,
                model: answered_by,
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

/// One streamed model call with the conversation so far, measured for `/metrics`.
async fn call(
    client: &llm::Client,
    model: &ModelConfig,
    messages: &[Message],
    json: bool,
    progress: &mut (dyn FnMut(Progress) + Send),
    cancel: &CancellationToken,
) -> Result<llm::ChatReply, LlmError> {
    let req = ChatRequest {
        system: Some(prompt::system().to_owned()),
        messages: messages.to_vec(),
        json,
        stream: true,
        ..ChatRequest::default()
    };
    let started = std::time::Instant::now();
    let reply = client
        .chat(&req, &mut |ev| progress(progress_of(ev)), cancel)
        .await;
    crate::telemetry::model_call(
        &model.provider,
        &model.model,
        reply.as_ref().map_or_else(|e| e.kind.as_str(), |_| "ok"),
        started.elapsed(),
        reply.as_ref().ok().map(|r| &r.usage),
    );
    reply
}

/// Who is generating what with which model: what every attempt's audit entry says.
struct AttemptLog<'a> {
    app: &'a App,
    by: &'a Caller,
    module_id: &'a str,
    model: &'a ModelConfig,
    request: &'a str,
}

impl AttemptLog<'_> {
    /// Audits one model call of the generation (`ai.generate`).
    async fn record(
        &self,
        attempt: u32,
        sent: &str,
        reply: Option<&llm::ChatReply>,
        outcome: &str,
        extra: Value,
    ) -> AppResult<()> {
        let AttemptLog {
            app,
            by,
            module_id,
            model,
            request,
        } = *self;
        let ok = outcome == "valid";
        let mut e = by.audit(
            "ai.generate",
            if ok {
                Outcome::Success
            } else {
                Outcome::Failure
            },
        );
        e.resource_type = Some("module".into());
        e.resource_id = Some(module_id.to_owned());
        let mut details = json!({
            "model": model.name, "provider": model.provider, "modelId": model.model, "attempt": attempt,
            "outcome": outcome, "request": truncate(request, AUDIT_TEXT_LIMIT), "prompt": truncate(sent, AUDIT_TEXT_LIMIT),
            "tokensIn": reply.map(|r| r.usage.input_tokens), "tokensOut": reply.map(|r| r.usage.output_tokens),
            "latencyMs": reply.map(|r| r.latency_ms),
            "response": reply.map(|r| truncate(&r.text, AUDIT_TEXT_LIMIT)),
        });
        if let (Some(d), Some(x)) = (details.as_object_mut(), extra.as_object()) {
            for (k, v) in x {
                d.insert(k.clone(), v.clone());
            }
        }
        e.details = details;
        let mut tx = app.db.begin().await?;
        audit::append(&mut tx, e).await?;
        tx.commit().await?;
        Ok(())
    }
}
