//! The models a generation may call: the chosen one, then its fallbacks in order.
//! A call goes to the first model whose circuit is closed (and, for a fallback,
//! whose budget is not spent); when it fails in a way another model may not
//! (`LlmError::calls_for_fallback`), the next one is asked. Every call is recorded as
//! usage and every failure audited, so the audit says which model answered.

use super::log::AttemptLog;
use super::{Progress, progress_of, prompt};
use crate::App;
use crate::error::{AppError, AppResult, Problem};
use crate::models::client::client_for;
use crate::usage::{self, CallContext, Costs};
use llm::{CancellationToken, ChatReply, ChatRequest, ErrorKind, LlmError, Message};
use serde_json::json;
use std::time::Instant;
use store::models::ModelConfig;

pub struct Chain {
    links: Vec<(ModelConfig, llm::Client)>,
}

/// A reply and who gave it.
pub struct Answer {
    pub reply: ChatReply,
    /// Index into the chain of the model that answered.
    pub link: usize,
    pub cost: usage::CallCost,
}

/// What the calls of one generation added up to.
#[derive(Default)]
pub struct Spent {
    /// Attempts begun (a choice between two answers is part of its attempt).
    pub attempts: u32,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub costs: Costs,
    /// Names of the models that failed before another answered, in order.
    pub fallbacks: Vec<String>,
}

impl Chain {
    /// The primary and its enabled fallbacks, each with a client. A fallback whose
    /// client cannot be built (an unreadable key) is left out: the primary's failure
    /// still reaches the person.
    pub async fn of(app: &App, primary: ModelConfig, offline: llm::Responder) -> AppResult<Chain> {
        let client =
            client_for(&app.secret, &primary, offline.clone()).map_err(AppError::Upstream)?;
        let mut links = vec![(primary.clone(), client)];
        for id in &primary.fallback_model_ids {
            let Some(m) = store::models::get(&app.db, id).await? else {
                continue;
            };
            if !m.enabled || links.iter().any(|(l, _)| l.id == m.id) {
                continue;
            }
            match client_for(&app.secret, &m, offline.clone()) {
                Ok(c) => links.push((m, c)),
                Err(e) => tracing::warn!(model = %m.name, error = %e, "fallback model left out"),
            }
        }
        Ok(Chain { links })
    }

    pub fn model(&self, link: usize) -> &ModelConfig {
        &self.links[link].0
    }

    pub fn primary(&self) -> &ModelConfig {
        self.model(0)
    }

    /// One call with the conversation so far, on the first model that can take it.
    #[allow(clippy::too_many_arguments)]
    pub async fn call(
        &self,
        app: &App,
        cx: CallContext<'_>,
        log: &AttemptLog<'_>,
        attempt: u32,
        messages: &[Message],
        json: bool,
        spent: &mut Spent,
        progress: &mut (dyn FnMut(Progress) + Send),
        cancel: &CancellationToken,
    ) -> AppResult<Answer> {
        let sent = messages
            .last()
            .map(|m| m.content.clone())
            .unwrap_or_default();
        let mut failed: Option<(String, LlmError)> = None;
        let mut paused = Vec::new();
        for (i, (model, client)) in self.links.iter().enumerate() {
            if !app.breakers.allows(&model.id, Instant::now()) {
                paused.push(model.name.clone());
                continue;
            }
            // A spent primary refused the generation before it began; a spent
            // fallback is passed over (a failing budget lookup is an error, not a skip).
            if i > 0 && crate::budgets::exhausted(app, model).await?.is_some() {
                continue;
            }
            if let Some((from, e)) = &failed {
                progress(Progress::Fallback {
                    attempt,
                    from: from.clone(),
                    to: model.name.clone(),
                    kind: e.kind,
                    message: e.message.clone(),
                });
            } else if i > 0 {
                progress(Progress::Fallback {
                    attempt,
                    from: paused.first().cloned().unwrap_or_default(),
                    to: model.name.clone(),
                    kind: ErrorKind::Network,
                    message: "skipped after repeated failures (circuit open)".into(),
                });
            }
            let started = Instant::now();
            match one_call(client, model, messages, json, progress, cancel).await {
                Ok(reply) => {
                    app.breakers.succeeded(&model.id);
                    let cost =
                        usage::record(app, cx, model, "ok", &reply.usage, reply.latency_ms).await?;
                    cost.add_to(&mut spent.costs);
                    spent.tokens_in += reply.usage.input_tokens;
                    spent.tokens_out += reply.usage.output_tokens;
                    return Ok(Answer {
                        reply,
                        link: i,
                        cost,
                    });
                }
                Err(e) => {
                    let elapsed = started.elapsed().as_millis() as u64;
                    usage::record(
                        app,
                        cx,
                        model,
                        e.kind.as_str(),
                        &llm::Usage::default(),
                        elapsed,
                    )
                    .await?;
                    let moves_on = e.calls_for_fallback();
                    if moves_on {
                        app.breakers.failed(&model.id, Instant::now());
                    }
                    let more = moves_on && i + 1 < self.links.len();
                    log.record(
                        model,
                        attempt,
                        &sent,
                        None,
                        "error",
                        json!({ "error": e, "fallback": more }),
                    )
                    .await?;
                    if !moves_on {
                        return Err(refusal(model, e));
                    }
                    spent.fallbacks.push(model.name.clone());
                    failed = Some((model.name.clone(), e));
                }
            }
        }
        Err(match failed {
            Some((_, e)) => AppError::Upstream(e),
            None => AppError::Unavailable {
                message: format!(
                    "every model of this generation is paused after repeated failures ({}); try again in a minute",
                    paused.join(", ")
                ),
            },
        })
    }
}

/// A failure no other model can mend, as the person sees it.
fn refusal(model: &ModelConfig, e: LlmError) -> AppError {
    if model.provider == llm::ProviderKind::Builtin.as_str() && e.kind == ErrorKind::Provider {
        // The offline engine's refusal: what it can do, never a guess.
        return AppError::NoAnswer(Box::new(Problem::new("not_understood", e.message)));
    }
    AppError::Upstream(e)
}

/// One streamed model call, measured for `/metrics`.
async fn one_call(
    client: &llm::Client,
    model: &ModelConfig,
    messages: &[Message],
    json: bool,
    progress: &mut (dyn FnMut(Progress) + Send),
    cancel: &CancellationToken,
) -> Result<ChatReply, LlmError> {
    let req = ChatRequest {
        system: Some(prompt::system().to_owned()),
        messages: messages.to_vec(),
        json,
        stream: true,
        ..ChatRequest::default()
    };
    let started = Instant::now();
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
