//! A configured model: the protocol implementation plus the call policy around it —
//! the total timeout, retries with backoff, cancellation, latency and attempts.

use crate::protocol::anthropic::AnthropicMessages;
use crate::protocol::offline::{Offline, Responder};
use crate::protocol::openai::OpenAiChat;
use crate::protocol::{ChatModel, Transport};
use crate::{
    ApiKey, ChatReply, ChatRequest, ErrorKind, LlmError, Protocol, ProviderKind, RetryPolicy,
    StreamEvent, preset,
};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Per-model call settings, as an administrator configures them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// The whole of one try, from connecting to the last byte of the answer.
    pub timeout: Duration,
    /// Tries after the first, on failures where waiting can help.
    pub retries: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            temperature: None,
            max_tokens: None,
            timeout: Duration::from_secs(120),
            retries: 2,
        }
    }
}

/// Everything needed to reach one model.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub kind: ProviderKind,
    pub base_url: String,
    pub model: String,
    pub api_key: Option<ApiKey>,
    pub params: Params,
}

pub struct Client {
    model: Box<dyn ChatModel>,
    model_id: String,
    params: Params,
    policy: RetryPolicy,
    /// The key and its mask, to scrub echoed keys out of error messages.
    key: Option<ApiKey>,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Client {
    /// A client for a configured model. `offline` answers for the `builtin` provider.
    pub fn new(spec: &ModelSpec, offline: Responder) -> Result<Client, LlmError> {
        let protocol = spec.kind.protocol();
        let model: Box<dyn ChatModel> = match protocol {
            Protocol::Offline => Box::new(Offline { responder: offline }),
            Protocol::OpenAi | Protocol::Anthropic => {
                let base = spec.base_url.trim();
                let parsed = reqwest::Url::parse(base).map_err(|e| {
                    LlmError::new(
                        ErrorKind::NotFound,
                        format!("base URL '{base}' is not a URL: {e}"),
                    )
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(LlmError::new(
                        ErrorKind::NotFound,
                        format!("base URL '{base}' must start with http:// or https://"),
                    ));
                }
                let transport = Transport::new(CONNECT_TIMEOUT.min(spec.params.timeout))?;
                let url = preset::chat_url(protocol, base);
                let models_url = preset::models_url(protocol, base);
                if protocol == Protocol::OpenAi {
                    Box::new(OpenAiChat {
                        transport,
                        kind: spec.kind,
                        url,
                        models_url,
                        key: spec.api_key.clone(),
                        model: spec.model.clone(),
                    })
                } else {
                    Box::new(AnthropicMessages {
                        transport,
                        kind: spec.kind,
                        url,
                        models_url,
                        key: spec.api_key.clone(),
                        model: spec.model.clone(),
                    })
                }
            }
        };
        Ok(Client {
            model,
            model_id: spec.model.clone(),
            params: spec.params,
            policy: RetryPolicy::default(),
            key: spec.api_key.clone(),
        })
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Client {
        self.policy = policy;
        self
    }

    fn scrub(&self, e: LlmError) -> LlmError {
        match &self.key {
            Some(k) => e.scrub(k.expose(), &k.mask()),
            None => e,
        }
    }

    /// Calls the model, retrying where it may help. Once any part of a streamed answer
    /// has been passed on, a failure is final: a retry would repeat it.
    pub async fn chat(
        &self,
        req: &ChatRequest,
        sink: &mut (dyn FnMut(StreamEvent) + Send),
        cancel: &CancellationToken,
    ) -> Result<ChatReply, LlmError> {
        let mut req = req.clone();
        req.temperature = req.temperature.or(self.params.temperature);
        req.max_tokens = req.max_tokens.or(self.params.max_tokens);
        let started = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let mut emitted = false;
            let outcome = {
                let mut tracked = |ev: StreamEvent| {
                    emitted = true;
                    sink(ev)
                };
                let call = self.model.attempt(&req, &mut tracked);
                tokio::select! {
                    r = tokio::time::timeout(self.params.timeout, call) => r.unwrap_or_else(|_| {
                        Err(LlmError::new(ErrorKind::Timeout, format!(
                            "no complete answer within {} ms", self.params.timeout.as_millis())))
                    }),
                    _ = cancel.cancelled() => Err(LlmError::new(ErrorKind::Cancelled, "the call was cancelled")),
                }
            };
            match outcome {
                Ok(mut reply) => {
                    reply.latency_ms = started.elapsed().as_millis() as u64;
                    reply.attempts = attempt;
                    return Ok(reply);
                }
                Err(e) => {
                    let e = self.scrub(e);
                    let wait = (e.retryable && !emitted && attempt <= self.params.retries)
                        .then(|| {
                            self.policy
                                .delay(attempt - 1, e.retry_after, rand::random())
                        })
                        .flatten();
                    let Some(wait) = wait else {
                        return Err(finish(e, attempt));
                    };
                    tracing::info!(model = %self.model_id, attempt, kind = e.kind.as_str(),
                        wait_ms = wait.as_millis() as u64, "model call failed; retrying");
                    sink(StreamEvent::Retrying {
                        attempt,
                        wait_ms: wait.as_millis() as u64,
                        kind: e.kind,
                        message: e.message.clone(),
                    });
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = cancel.cancelled() => {
                            return Err(LlmError::new(ErrorKind::Cancelled, "the call was cancelled"));
                        }
                    }
                }
            }
        }
    }

    /// The models the provider offers; errors are those of a chat call.
    pub async fn list_models(&self) -> Result<Vec<String>, LlmError> {
        match tokio::time::timeout(self.params.timeout, self.model.list_models()).await {
            Ok(r) => r.map_err(|e| self.scrub(e)),
            Err(_) => Err(LlmError::new(
                ErrorKind::Timeout,
                "listing models timed out",
            )),
        }
    }
}

fn finish(mut e: LlmError, attempts: u32) -> LlmError {
    if attempts > 1 {
        e.message = format!("{} (after {attempts} attempts)", e.message);
    }
    e
}
