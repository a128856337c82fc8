//! Anthropic-compatible messages (`POST {base}/v1/messages`), plain and SSE.

use super::openai::model_ids;
use super::{
    BoxFuture, ChatModel, Draft, Sink, Transport, cut_short, is_event_stream, sse_error, u64_at,
};
use crate::{ApiKey, ChatReply, ChatRequest, ErrorKind, LlmError, ProviderKind, StreamEvent};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::{Value, json};

const VERSION: &str = "2023-06-01";
/// The protocol requires `max_tokens`; compatible servers guess badly without it.
const DEFAULT_MAX_TOKENS: u32 = 4096;

pub struct AnthropicMessages {
    pub transport: Transport,
    pub kind: ProviderKind,
    pub url: String,
    pub models_url: String,
    pub key: Option<ApiKey>,
    pub model: String,
}

impl AnthropicMessages {
    fn body(&self, req: &ChatRequest) -> Value {
        let messages: Vec<Value> = req
            .messages
            .iter()
            .map(|m| json!({ "role": m.role, "content": m.content }))
            .collect();
        let mut body = json!({
            "model": self.model,
            "max_tokens": req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            "messages": messages,
            "stream": req.stream,
        });
        if let Some(s) = &req.system {
            body["system"] = json!(s);
        }
        if let Some(t) = req.temperature {
            // The messages API accepts 0..=1.
            body["temperature"] = json!(t.clamp(0.0, 1.0));
        }
        body
    }

    fn authed(&self, mut r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        r = r.header("anthropic-version", VERSION);
        if let Some(k) = &self.key {
            r = r.header("x-api-key", k.expose());
            // Kimi Coding's endpoint takes its key as a bearer token as well.
            if self.kind == ProviderKind::KimiCode {
                r = r.bearer_auth(k.expose());
            }
        }
        r
    }

    async fn chat(&self, req: &ChatRequest, sink: Sink<'_>) -> Result<ChatReply, LlmError> {
        let r = self
            .authed(self.transport.http.post(&self.url))
            .json(&self.body(req));
        let resp = self.transport.send(r, &self.model).await?;
        let draft = if req.stream && is_event_stream(&resp) {
            read_stream(resp, sink).await?
        } else {
            let v = self.transport.json(resp).await?;
            read_body(&v)?
        };
        Ok(draft.into_reply(&self.model))
    }

    async fn models(&self) -> Result<Vec<String>, LlmError> {
        let r = self.authed(self.transport.http.get(&self.models_url));
        let resp = self.transport.send(r, &self.model).await?;
        let v = self.transport.json(resp).await?;
        Ok(model_ids(&v))
    }
}

impl ChatModel for AnthropicMessages {
    fn attempt<'a>(
        &'a self,
        req: &'a ChatRequest,
        sink: Sink<'a>,
    ) -> BoxFuture<'a, Result<ChatReply, LlmError>> {
        Box::pin(self.chat(req, sink))
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, LlmError>> {
        Box::pin(self.models())
    }
}

fn error_of(v: &Value) -> LlmError {
    let kind = v
        .pointer("/error/type")
        .and_then(|t| t.as_str())
        .unwrap_or("error");
    let message = v
        .pointer("/error/message")
        .and_then(|m| m.as_str())
        .unwrap_or("unknown error");
    let mut e = LlmError::new(ErrorKind::Provider, format!("{kind}: {message}"));
    if kind == "overloaded_error" || kind == "rate_limit_error" {
        e.kind = ErrorKind::RateLimited;
    }
    e
}

pub(crate) fn read_body(v: &Value) -> Result<Draft, LlmError> {
    if v.get("type").and_then(|t| t.as_str()) == Some("error") {
        return Err(error_of(v));
    }
    let content = v.get("content").and_then(|c| c.as_array()).ok_or_else(|| {
        LlmError::bad_response("the answer has no content blocks (not a message)")
    })?;
    let mut d = Draft {
        model: v
            .get("model")
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_owned(),
        finish_reason: v
            .get("stop_reason")
            .and_then(|s| s.as_str())
            .map(str::to_owned),
        ..Draft::default()
    };
    for block in content {
        match block.get("type").and_then(|t| t.as_str()) {
            Some("text") => d.text.push_str(
                block
                    .get("text")
                    .and_then(|t| t.as_str())
                    .unwrap_or_default(),
            ),
            Some("thinking") => d.reasoning.push_str(
                block
                    .get("thinking")
                    .and_then(|t| t.as_str())
                    .unwrap_or_default(),
            ),
            _ => {}
        }
    }
    input_usage(v.get("usage"), &mut d);
    d.usage.output_tokens = u64_at(v, "/usage/output_tokens").unwrap_or(0);
    Ok(d)
}

/// Anthropic counts cache reads apart from `input_tokens`; ours include them.
fn input_usage(usage: Option<&Value>, d: &mut Draft) {
    let Some(u) = usage else { return };
    let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
    d.usage.cached_input_tokens = n("cache_read_input_tokens");
    d.usage.input_tokens =
        n("input_tokens") + n("cache_read_input_tokens") + n("cache_creation_input_tokens");
}

/// `message_start`, content block deltas, `message_delta`, then `message_stop`.
async fn read_stream(resp: reqwest::Response, sink: Sink<'_>) -> Result<Draft, LlmError> {
    let mut d = Draft::default();
    let mut events = resp.bytes_stream().eventsource();
    while let Some(ev) = events.next().await {
        let ev = ev.map_err(sse_error)?;
        if ev.data.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&ev.data)
            .map_err(|e| LlmError::bad_response(format!("a stream event is not JSON ({e})")))?;
        let kind = v
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or(ev.event.as_str());
        match kind {
            "message_start" => {
                if let Some(m) = v.pointer("/message/model").and_then(|m| m.as_str()) {
                    d.model = m.to_owned();
                }
                input_usage(v.pointer("/message/usage"), &mut d);
            }
            "content_block_delta" => match v.pointer("/delta/type").and_then(|t| t.as_str()) {
                Some("text_delta") => {
                    let t = v
                        .pointer("/delta/text")
                        .and_then(|t| t.as_str())
                        .unwrap_or_default();
                    d.text.push_str(t);
                    sink(StreamEvent::Text { text: t.to_owned() });
                }
                Some("thinking_delta") => {
                    let t = v
                        .pointer("/delta/thinking")
                        .and_then(|t| t.as_str())
                        .unwrap_or_default();
                    d.reasoning.push_str(t);
                    sink(StreamEvent::Reasoning { text: t.to_owned() });
                }
                _ => {}
            },
            "message_delta" => {
                if let Some(s) = v.pointer("/delta/stop_reason").and_then(|s| s.as_str()) {
                    d.finish_reason = Some(s.to_owned());
                }
                if let Some(n) = u64_at(&v, "/usage/output_tokens") {
                    d.usage.output_tokens = n;
                }
            }
            "message_stop" => return Ok(d),
            "error" => return Err(error_of(&v)),
            _ => {}
        }
    }
    Err(cut_short("message_stop"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_message_keeps_thinking_apart() {
        let v = json!({"id":"msg_1","type":"message","role":"assistant","model":"kimi-for-coding",
            "content":[{"type":"thinking","thinking":"hmm"},{"type":"text","text":"ok"}],
            "stop_reason":"end_turn","usage":{"input_tokens":9,"output_tokens":1}});
        let d = read_body(&v).unwrap();
        assert_eq!((d.text.as_str(), d.reasoning.as_str()), ("ok", "hmm"));
        assert_eq!((d.usage.input_tokens, d.usage.output_tokens), (9, 1));
        let cached = json!({"model":"m","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn",
            "usage":{"input_tokens":9,"cache_read_input_tokens":40,"output_tokens":1}});
        let u = read_body(&cached).unwrap().usage;
        assert_eq!((u.input_tokens, u.cached_input_tokens), (49, 40));
        assert_eq!(d.finish_reason.as_deref(), Some("end_turn"));
    }

    #[test]
    fn error_bodies() {
        let e = read_body(
            &json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}),
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(
            read_body(&json!({"type":"message"})).unwrap_err().kind,
            ErrorKind::BadResponse
        );
    }
}
