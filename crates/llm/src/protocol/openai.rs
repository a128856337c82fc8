//! OpenAI-compatible chat completions (`POST {base}/chat/completions`), plain and SSE.

use super::{
    BoxFuture, ChatModel, Draft, Sink, Transport, cut_short, is_event_stream, sse_error, u64_at,
};
use crate::{ApiKey, ChatReply, ChatRequest, ErrorKind, LlmError, ProviderKind, StreamEvent};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::{Value, json};

pub struct OpenAiChat {
    pub transport: Transport,
    pub kind: ProviderKind,
    pub url: String,
    pub models_url: String,
    pub key: Option<ApiKey>,
    pub model: String,
}

impl OpenAiChat {
    fn body(&self, req: &ChatRequest) -> Value {
        let mut messages = Vec::new();
        if let Some(s) = &req.system {
            messages.push(json!({ "role": "system", "content": s }));
        }
        for m in &req.messages {
            messages.push(json!({ "role": m.role, "content": m.content }));
        }
        let mut body = json!({ "model": self.model, "messages": messages, "stream": req.stream });
        if let Some(t) = req.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(n) = req.max_tokens {
            // OpenAI's newer models refuse `max_tokens`; everybody else expects it.
            let field = if self.kind == ProviderKind::OpenAi {
                "max_completion_tokens"
            } else {
                "max_tokens"
            };
            body[field] = json!(n);
        }
        if req.json && self.kind.preset().json_mode {
            body["response_format"] = json!({ "type": "json_object" });
        }
        if req.stream && matches!(self.kind, ProviderKind::OpenAi | ProviderKind::DeepSeek) {
            body["stream_options"] = json!({ "include_usage": true });
        }
        body
    }

    fn request(&self, url: &str) -> reqwest::RequestBuilder {
        let mut r = self.transport.http.post(url);
        if let Some(k) = &self.key {
            r = r.bearer_auth(k.expose());
        }
        r
    }

    async fn chat(&self, req: &ChatRequest, sink: Sink<'_>) -> Result<ChatReply, LlmError> {
        let resp = self
            .transport
            .send(self.request(&self.url).json(&self.body(req)), &self.model)
            .await?;
        let draft = if req.stream && is_event_stream(&resp) {
            read_stream(resp, sink).await?
        } else {
            let v = self.transport.json(resp).await?;
            read_body(&v)?
        };
        Ok(draft.into_reply(&self.model))
    }

    async fn models(&self) -> Result<Vec<String>, LlmError> {
        let mut r = self.transport.http.get(&self.models_url);
        if let Some(k) = &self.key {
            r = r.bearer_auth(k.expose());
        }
        let resp = self.transport.send(r, &self.model).await?;
        let v = self.transport.json(resp).await?;
        Ok(model_ids(&v))
    }
}

impl ChatModel for OpenAiChat {
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

pub(crate) fn model_ids(v: &Value) -> Vec<String> {
    v.get("data")
        .and_then(|d| d.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|m| m.get("id").and_then(|i| i.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn usage_of(v: &Value, d: &mut Draft) {
    // Moonshot puts usage on the final choice; OpenAI at the top level.
    for base in ["/usage", "/choices/0/usage"] {
        if let Some(i) = u64_at(v, &format!("{base}/prompt_tokens")) {
            d.usage.input_tokens = i;
            d.usage.output_tokens = u64_at(v, &format!("{base}/completion_tokens")).unwrap_or(0);
            // OpenAI reports cache hits in the details, Moonshot beside the counts.
            d.usage.cached_input_tokens =
                u64_at(v, &format!("{base}/prompt_tokens_details/cached_tokens"))
                    .or_else(|| u64_at(v, &format!("{base}/cached_tokens")))
                    .unwrap_or(0)
                    .min(i);
        }
    }
}

fn error_in_body(v: &Value) -> Option<LlmError> {
    let e = v.get("error")?;
    let message = e
        .get("message")
        .and_then(|m| m.as_str())
        .unwrap_or("unknown error");
    Some(LlmError::new(ErrorKind::Provider, message.to_owned()))
}

/// A whole (non-streamed) completion.
pub(crate) fn read_body(v: &Value) -> Result<Draft, LlmError> {
    if let Some(e) = error_in_body(v) {
        return Err(e);
    }
    let msg = v.pointer("/choices/0/message").ok_or_else(|| {
        LlmError::bad_response("the answer has no choices[0].message (not a chat completion)")
    })?;
    let mut d = Draft {
        text: msg
            .get("content")
            .and_then(|c| c.as_str())
            .unwrap_or_default()
            .to_owned(),
        reasoning: msg
            .get("reasoning_content")
            .and_then(|c| c.as_str())
            .unwrap_or_default()
            .to_owned(),
        model: v
            .get("model")
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_owned(),
        finish_reason: v
            .pointer("/choices/0/finish_reason")
            .and_then(|f| f.as_str())
            .map(str::to_owned),
        ..Draft::default()
    };
    usage_of(v, &mut d);
    Ok(d)
}

/// An SSE stream of `chat.completion.chunk`s, ending with `data: [DONE]`.
async fn read_stream(resp: reqwest::Response, sink: Sink<'_>) -> Result<Draft, LlmError> {
    let mut d = Draft::default();
    let mut events = resp.bytes_stream().eventsource();
    while let Some(ev) = events.next().await {
        let ev = ev.map_err(sse_error)?;
        let data = ev.data.trim();
        if data.is_empty() {
            continue;
        }
        if data == "[DONE]" {
            return Ok(d);
        }
        let v: Value = serde_json::from_str(data)
            .map_err(|e| LlmError::bad_response(format!("a stream chunk is not JSON ({e})")))?;
        if let Some(e) = error_in_body(&v) {
            return Err(e);
        }
        if d.model.is_empty()
            && let Some(m) = v.get("model").and_then(|m| m.as_str())
        {
            d.model = m.to_owned();
        }
        if let Some(delta) = v.pointer("/choices/0/delta") {
            if let Some(r) = delta.get("reasoning_content").and_then(|c| c.as_str())
                && !r.is_empty()
            {
                d.reasoning.push_str(r);
                sink(StreamEvent::Reasoning { text: r.to_owned() });
            }
            if let Some(t) = delta.get("content").and_then(|c| c.as_str())
                && !t.is_empty()
            {
                d.text.push_str(t);
                sink(StreamEvent::Text { text: t.to_owned() });
            }
        }
        if let Some(f) = v
            .pointer("/choices/0/finish_reason")
            .and_then(|f| f.as_str())
        {
            d.finish_reason = Some(f.to_owned());
        }
        usage_of(&v, &mut d);
    }
    // Some servers close after the last chunk without `[DONE]`; a finish reason
    // says the answer is whole all the same.
    if d.finish_reason.is_some() {
        Ok(d)
    } else {
        Err(cut_short("finish_reason or [DONE]"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_body_with_reasoning_and_moonshot_usage() {
        let v = json!({"id":"x","model":"kimi-k2.6","choices":[{"index":0,"message":{"role":"assistant","content":"ok","reasoning_content":"thinking"},"finish_reason":"stop","usage":{"prompt_tokens":7,"completion_tokens":2}}]});
        let d = read_body(&v).unwrap();
        assert_eq!((d.text.as_str(), d.reasoning.as_str()), ("ok", "thinking"));
        assert_eq!((d.usage.input_tokens, d.usage.output_tokens), (7, 2));
        assert_eq!(d.usage.cached_input_tokens, 0);
        assert_eq!(d.model, "kimi-k2.6");
    }

    #[test]
    fn cache_hits_are_read_where_each_provider_puts_them() {
        let openai = json!({"model":"m","choices":[{"message":{"content":"ok"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":100,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":64}}});
        assert_eq!(read_body(&openai).unwrap().usage.cached_input_tokens, 64);
        let moonshot = json!({"model":"m","choices":[{"message":{"content":"ok"},"finish_reason":"stop",
            "usage":{"prompt_tokens":100,"completion_tokens":5,"cached_tokens":30}}]});
        assert_eq!(read_body(&moonshot).unwrap().usage.cached_input_tokens, 30);
        let too_many = json!({"model":"m","choices":[{"message":{"content":"ok"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":10,"completion_tokens":5,"cached_tokens":30}});
        assert_eq!(read_body(&too_many).unwrap().usage.cached_input_tokens, 10);
    }

    #[test]
    fn bodies_that_are_not_completions() {
        assert_eq!(
            read_body(&json!({"hello":"world"})).unwrap_err().kind,
            ErrorKind::BadResponse
        );
        let e = read_body(&json!({"error":{"message":"engine overloaded"}})).unwrap_err();
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::Provider, "engine overloaded")
        );
    }

    #[test]
    fn model_list() {
        let v = json!({"object":"list","data":[{"id":"kimi-k2.6"},{"id":"kimi-k2.5"}]});
        assert_eq!(model_ids(&v), vec!["kimi-k2.6", "kimi-k2.5"]);
    }
}
