//! A fake model provider over real HTTP. It speaks OpenAI chat completions
//! (`/v1/chat/completions`) and Anthropic messages (`/v1/messages`), plain or SSE as
//! the request asks, and plays a script of replies: answers, error statuses, hangs,
//! malformed bodies and streams that break off. Every request is recorded.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::Protocol;

/// One scripted reply.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A successful answer, in the request's protocol and mode.
    Text(String),
    /// A successful answer from a thinking model: reasoning first, then the text.
    Thinking { reasoning: String, text: String },
    /// An error status with a provider-style body and optional `Retry-After`.
    Status {
        status: u16,
        message: String,
        retry_after: Option<String>,
    },
    /// Accepts the request and never answers.
    Hang,
    /// 200 with a body that is not what the protocol promises.
    Malformed(String),
    /// Starts streaming the text, then breaks the connection.
    Cut(String),
    /// Streams the text, then ends the body cleanly without the terminal event.
    EndsEarly(String),
}

/// A request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    fallback: Option<Reply>,
    requests: Vec<Recorded>,
    key: Option<String>,
    models: Option<Vec<String>>,
    /// Pause between streamed events (default 3 ms).
    pace: Option<std::time::Duration>,
}

#[derive(Clone)]
pub struct FakeLlm {
    addr: std::net::SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl FakeLlm {
    /// Starts a fake on a free port; it lives as long as the test's runtime.
    pub async fn start() -> FakeLlm {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/messages", post(chat))
            .route("/v1/models", get(models))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeLlm { addr, inner }
    }

    /// The base URL an administrator would enter for this protocol.
    pub fn base_url(&self, protocol: Protocol) -> String {
        match protocol {
            Protocol::Anthropic => format!("http://{}", self.addr),
            _ => format!("http://{}/v1", self.addr),
        }
    }

    /// Requires this key (bearer or `x-api-key`); a wrong one gets a 401 that echoes
    /// it, as some providers do.
    pub fn require_key(&self, key: &str) -> &Self {
        self.lock().key = Some(key.to_owned());
        self
    }

    /// Only these model ids exist; others get a 404.
    pub fn known_models(&self, models: &[&str]) -> &Self {
        self.lock().models = Some(models.iter().map(|m| m.to_string()).collect());
        self
    }

    /// The pause between streamed events; zero streams as fast as possible.
    pub fn pace(&self, pause: std::time::Duration) -> &Self {
        self.lock().pace = Some(pause);
        self
    }

    /// Queues replies, played in order.
    pub fn push(&self, reply: Reply) -> &Self {
        self.lock().script.push_back(reply);
        self
    }

    /// The reply once the script is used up (default: `Text("ok")`).
    pub fn always(&self, reply: Reply) -> &Self {
        self.lock().fallback = Some(reply);
        self
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn given_key(h: &HeaderMap) -> Option<String> {
    if let Some(k) = h.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(k.to_owned());
    }
    h.get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
}

async fn models(State(inner): State<Arc<Mutex<Inner>>>) -> Response {
    let ids = inner
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .models
        .clone()
        .unwrap_or_else(|| vec!["fake-model".into()]);
    let data: Vec<Value> = ids
        .iter()
        .map(|i| json!({ "id": i, "object": "model" }))
        .collect();
    axum::Json(json!({ "object": "list", "data": data })).into_response()
}

async fn chat(
    State(inner): State<Arc<Mutex<Inner>>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let protocol = if uri.path().ends_with("/messages") {
        Protocol::Anthropic
    } else {
        Protocol::OpenAi
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (reply, key, models, pace) = {
        let mut g = inner.lock().unwrap_or_else(|p| p.into_inner());
        g.requests.push(Recorded {
            path: uri.path().to_owned(),
            headers: headers.clone(),
            body: body.clone(),
            at: Instant::now(),
        });
        let reply = g
            .script
            .pop_front()
            .or_else(|| g.fallback.clone())
            .unwrap_or_else(|| Reply::Text("ok".into()));
        let pace = g.pace.unwrap_or(std::time::Duration::from_millis(3));
        (reply, g.key.clone(), g.models.clone(), pace)
    };
    let model = body["model"].as_str().unwrap_or("fake-model").to_owned();
    if let Some(k) = key {
        let given = given_key(&headers).unwrap_or_default();
        if given != k {
            return error(
                protocol,
                401,
                &format!("Incorrect API key provided: {given}"),
                None,
            );
        }
    }
    if let Some(m) = models
        && !m.contains(&model)
    {
        return error(
            protocol,
            404,
            &format!("Not found the model {model} or Permission denied"),
            None,
        );
    }
    let stream = body["stream"].as_bool().unwrap_or(false);
    match reply {
        Reply::Text(text) => answer(protocol, stream, &model, "", &text, Ending::Done, pace),
        Reply::Thinking { reasoning, text } => answer(
            protocol,
            stream,
            &model,
            &reasoning,
            &text,
            Ending::Done,
            pace,
        ),
        Reply::Cut(text) => answer(protocol, true, &model, "", &text, Ending::Break, pace),
        Reply::EndsEarly(text) => answer(protocol, true, &model, "", &text, Ending::Early, pace),
        Reply::Status {
            status,
            message,
            retry_after,
        } => error(protocol, status, &message, retry_after),
        Reply::Hang => std::future::pending().await,
        Reply::Malformed(text) => {
            ([(header::CONTENT_TYPE, "application/json")], text).into_response()
        }
    }
}

fn error(protocol: Protocol, status: u16, message: &str, retry_after: Option<String>) -> Response {
    let body = match protocol {
        Protocol::Anthropic => {
            json!({ "type": "error", "error": { "type": "api_error", "message": message } })
        }
        _ => json!({ "error": { "message": message, "type": "invalid_request_error" } }),
    };
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(body),
    )
        .into_response();
    if let Some(ra) = retry_after
        && let Ok(v) = ra.parse()
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Sends items a few milliseconds apart, so each arrives as its own chunk, as a
/// model's tokens do.
fn paced(
    items: Vec<Result<Bytes, std::io::Error>>,
    pace: std::time::Duration,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(items.into_iter(), move |mut it| async move {
        let next = it.next()?;
        if !pace.is_zero() {
            tokio::time::sleep(pace).await;
        }
        Some((next, it))
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Ending {
    Done,
    Break,
    Early,
}

/// Splits text into a few pieces, as a model streams it.
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len().div_ceil(3).max(1);
    chars.chunks(n).map(|c| c.iter().collect()).collect()
}

fn answer(
    protocol: Protocol,
    stream: bool,
    model: &str,
    reasoning: &str,
    text: &str,
    ending: Ending,
    pace: std::time::Duration,
) -> Response {
    let (input, output) = (11u64, text.split_whitespace().count() as u64);
    if !stream {
        let body = match protocol {
            Protocol::Anthropic => {
                let mut content = Vec::new();
                if !reasoning.is_empty() {
                    content.push(json!({ "type": "thinking", "thinking": reasoning }));
                }
                content.push(json!({ "type": "text", "text": text }));
                json!({ "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                    "content": content, "stop_reason": "end_turn",
                    "usage": { "input_tokens": input, "output_tokens": output } })
            }
            _ => {
                let mut message = json!({ "role": "assistant", "content": text });
                if !reasoning.is_empty() {
                    message["reasoning_content"] = json!(reasoning);
                }
                json!({ "id": "chatcmpl-fake", "object": "chat.completion", "model": model,
                    "choices": [{ "index": 0, "message": message, "finish_reason": "stop" }],
                    "usage": { "prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output } })
            }
        };
        return axum::Json(body).into_response();
    }
    let mut events: Vec<String> = Vec::new();
    let data = |v: Value| format!("data: {v}\n\n");
    let named = |name: &str, v: Value| format!("event: {name}\ndata: {v}\n\n");
    let text_pieces = pieces(text);
    match protocol {
        Protocol::Anthropic => {
            events.push(named("message_start", json!({ "type": "message_start", "message": {
                "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [],
                "usage": { "input_tokens": input, "output_tokens": 0 } } })));
            if !reasoning.is_empty() {
                events.push(named(
                    "content_block_delta",
                    json!({ "type": "content_block_delta", "index": 0,
                    "delta": { "type": "thinking_delta", "thinking": reasoning } }),
                ));
            }
            events.push(named(
                "content_block_start",
                json!({ "type": "content_block_start", "index": 1,
                "content_block": { "type": "text", "text": "" } }),
            ));
            events.push(named("ping", json!({ "type": "ping" })));
            for p in &text_pieces {
                events.push(named(
                    "content_block_delta",
                    json!({ "type": "content_block_delta", "index": 1,
                    "delta": { "type": "text_delta", "text": p } }),
                ));
            }
            if ending == Ending::Done {
                events.push(named(
                    "content_block_stop",
                    json!({ "type": "content_block_stop", "index": 1 }),
                ));
                events.push(named(
                    "message_delta",
                    json!({ "type": "message_delta",
                    "delta": { "stop_reason": "end_turn" }, "usage": { "output_tokens": output } }),
                ));
                events.push(named("message_stop", json!({ "type": "message_stop" })));
            }
        }
        _ => {
            let chunk = |delta: Value, finish: Value| {
                json!({ "id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
                    "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }] })
            };
            events.push(data(chunk(
                json!({ "role": "assistant", "content": "" }),
                Value::Null,
            )));
            if !reasoning.is_empty() {
                events.push(data(chunk(
                    json!({ "reasoning_content": reasoning }),
                    Value::Null,
                )));
            }
            for p in &text_pieces {
                events.push(data(chunk(json!({ "content": p }), Value::Null)));
            }
            if ending == Ending::Done {
                let mut last = chunk(json!({}), json!("stop"));
                last["choices"][0]["usage"] =
                    json!({ "prompt_tokens": input, "completion_tokens": output });
                events.push(data(last));
                events.push("data: [DONE]\n\n".to_owned());
            }
        }
    }
    let mut items: Vec<Result<Bytes, std::io::Error>> =
        events.into_iter().map(|e| Ok(Bytes::from(e))).collect();
    if ending == Ending::Break {
        items.push(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "fake provider broke the stream",
        )));
    }
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(paced(items, pace)))
        .expect("valid response")
}
