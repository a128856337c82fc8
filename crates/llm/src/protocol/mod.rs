//! One trait, one implementation per wire protocol. An implementation makes exactly
//! one try; retries, timeouts and cancellation belong to [`crate::Client`].

pub mod anthropic;
pub mod offline;
pub mod openai;

use crate::{ChatReply, ChatRequest, LlmError, StreamEvent, Usage};
use futures_util::StreamExt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where progress goes while a call streams.
pub type Sink<'a> = &'a mut (dyn FnMut(StreamEvent) + Send);

/// A model behind some wire protocol.
pub trait ChatModel: Send + Sync {
    /// One try at a chat request: no retry, no timeout of its own beyond connecting.
    fn attempt<'a>(
        &'a self,
        req: &'a ChatRequest,
        sink: Sink<'a>,
    ) -> BoxFuture<'a, Result<ChatReply, LlmError>>;

    /// The model ids the provider offers (for a picker after a good connection test).
    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, LlmError>>;
}

/// Largest non-streamed answer read into memory.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// What the HTTP protocols share: the client, where to send, and how to explain a
/// failed connection.
#[derive(Clone)]
pub struct Transport {
    pub http: reqwest::Client,
    pub connect_timeout: Duration,
}

impl Transport {
    pub fn new(connect_timeout: Duration) -> Result<Transport, LlmError> {
        let http = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            // Keys go in headers; a redirect to another host must not carry them.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("modgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::new(crate::ErrorKind::Network, e.to_string()))?;
        Ok(Transport {
            http,
            connect_timeout,
        })
    }

    /// Sends the request and returns the response when its status is a success;
    /// otherwise reads the body and classifies the failure.
    pub async fn send(
        &self,
        req: reqwest::RequestBuilder,
        model: &str,
    ) -> Result<reqwest::Response, LlmError> {
        let resp = req
            .send()
            .await
            .map_err(|e| LlmError::from_reqwest(&e, self.connect_timeout))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let retry_after = crate::retry::parse_retry_after(resp.headers());
        let body = read_limited(resp, 64 * 1024).await.unwrap_or_default();
        Err(LlmError::from_status(
            status.as_u16(),
            &body,
            retry_after,
            model,
        ))
    }

    /// Reads a whole JSON body.
    pub async fn json(&self, resp: reqwest::Response) -> Result<serde_json::Value, LlmError> {
        let text = read_limited(resp, MAX_BODY).await?;
        serde_json::from_str(&text).map_err(|e| {
            LlmError::bad_response(format!(
                "the answer is not JSON ({e}): {}",
                crate::error::provider_message(&text)
            ))
        })
    }
}

async fn read_limited(resp: reqwest::Response, max: usize) -> Result<String, LlmError> {
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| LlmError::from_reqwest(&e, Duration::ZERO))?;
        if body.len() + chunk.len() > max {
            return Err(LlmError::bad_response(format!(
                "the answer is larger than {max} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Whether a successful response is an SSE stream (a server may ignore `stream: true`).
pub fn is_event_stream(resp: &reqwest::Response) -> bool {
    resp.headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

/// An answer being put together from a body or a stream.
#[derive(Debug, Default)]
pub struct Draft {
    pub text: String,
    pub reasoning: String,
    pub model: String,
    pub usage: Usage,
    pub finish_reason: Option<String>,
}

impl Draft {
    pub fn into_reply(self, fallback_model: &str) -> ChatReply {
        ChatReply {
            text: self.text,
            reasoning: self.reasoning,
            model: if self.model.is_empty() {
                fallback_model.to_owned()
            } else {
                self.model
            },
            usage: self.usage,
            finish_reason: self.finish_reason,
            latency_ms: 0,
            attempts: 0,
        }
    }
}

pub fn sse_error(e: eventsource_stream::EventStreamError<reqwest::Error>) -> LlmError {
    match e {
        eventsource_stream::EventStreamError::Transport(e) => LlmError::new(
            crate::ErrorKind::Network,
            format!("the stream broke off: {}", root_message(&e)),
        ),
        other => LlmError::bad_response(format!("the stream is not valid SSE: {other}")),
    }
}

fn root_message(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

pub fn cut_short(what: &str) -> LlmError {
    LlmError::bad_response(format!(
        "the stream ended before the model finished (no {what})"
    ))
}

fn u64_at(v: &serde_json::Value, ptr: &str) -> Option<u64> {
    v.pointer(ptr).and_then(|x| x.as_u64())
}
