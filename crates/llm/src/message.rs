//! A chat request and what comes back, independent of the wire protocol.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// One call to a model. Sampling parameters left `None` use the model's configuration.
#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    pub system: Option<String>,
    pub messages: Vec<Message>,
    /// Ask for a JSON object (sent as JSON mode where the provider has one).
    pub json: bool,
    /// Stream the answer (SSE) and report chunks as they arrive.
    pub stream: bool,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
}

/// Tokens counted by the provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// All input tokens, cached ones included.
    pub input_tokens: u64,
    /// The part of `input_tokens` the provider served from its prompt cache (billed
    /// at a lower price).
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
}

/// A successful call.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatReply {
    /// The answer (never the reasoning channel).
    pub text: String,
    /// What a thinking model reasoned before answering; shown as progress only.
    pub reasoning: String,
    /// The model id the provider says answered.
    pub model: String,
    pub usage: Usage,
    pub finish_reason: Option<String>,
    pub latency_ms: u64,
    /// 1 when the first try succeeded.
    pub attempts: u32,
}

/// Progress of a call, for pages that show the model working.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// A piece of the answer.
    Text { text: String },
    /// A piece of the reasoning channel (thinking models).
    Reasoning { text: String },
    /// A try failed and another follows after `wait_ms`.
    Retrying {
        attempt: u32,
        wait_ms: u64,
        kind: crate::ErrorKind,
        message: String,
    },
}
