//! The built-in provider: no network, no key. The rules that turn requests into
//! patches are injected by the caller, so this crate stays free of the spec.

use super::{BoxFuture, ChatModel, Draft, Sink};
use crate::{ChatReply, ChatRequest, LlmError, StreamEvent};
use std::sync::Arc;

/// Answers a request without a network: the rules engine, or [`describe`].
pub type Responder = Arc<dyn Fn(&ChatRequest) -> Result<String, LlmError> + Send + Sync>;

pub const MODEL: &str = "builtin";

/// What the built-in provider says of itself (the connection test shows it).
pub fn describe(_: &ChatRequest) -> Result<String, LlmError> {
    Ok(
        "Built-in offline rules engine: no network and no API key; it turns simple, \
        precisely worded requests into patches, deterministically."
            .to_owned(),
    )
}

pub struct Offline {
    pub responder: Responder,
}

impl ChatModel for Offline {
    fn attempt<'a>(
        &'a self,
        req: &'a ChatRequest,
        sink: Sink<'a>,
    ) -> BoxFuture<'a, Result<ChatReply, LlmError>> {
        Box::pin(async move {
            let text = (self.responder)(req)?;
            if req.stream {
                sink(StreamEvent::Text { text: text.clone() });
            }
            let mut d = Draft {
                text,
                model: MODEL.to_owned(),
                finish_reason: Some("stop".to_owned()),
                ..Draft::default()
            };
            // No tokenizer here: count words so budgets still mean something.
            d.usage.input_tokens = req
                .messages
                .iter()
                .map(|m| m.content.split_whitespace().count() as u64)
                .sum();
            d.usage.output_tokens = d.text.split_whitespace().count() as u64;
            Ok(d.into_reply(MODEL))
        })
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, LlmError>> {
        Box::pin(async { Ok(vec![MODEL.to_owned()]) })
    }
}
