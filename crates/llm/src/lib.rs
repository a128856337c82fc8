//! Calling the models that write modules.
//!
//! One trait ([`protocol::ChatModel`]) with an implementation per wire protocol —
//! OpenAI-compatible chat completions, Anthropic-compatible messages (each plain or
//! SSE-streamed) and the built-in offline engine — and one [`Client`] that puts the
//! call policy around them: a total timeout per try, retries with jittered
//! exponential backoff on 429/5xx honouring `Retry-After`, cancellation, latency and
//! token usage, and errors sorted into [`ErrorKind`]s. Keys are scrubbed from every
//! error message.
//!
//! Written on reqwest rather than a multi-provider client crate: the product needs the
//! provider's status, `Retry-After`, reasoning channel and a truncated stream to be
//! told apart exactly, which is a thin layer here and an adapter fight there
//! (see docs/decisions/0006-llm-client.md).

mod client;
mod error;
mod key;
mod message;
pub mod preset;
pub mod price;
pub mod protocol;
mod retry;

pub use client::{Client, ModelSpec, Params};
pub use error::{ErrorKind, LlmError, provider_message};
pub use key::{ApiKey, mask};
pub use message::{ChatReply, ChatRequest, Message, Role, StreamEvent, Usage};
pub use preset::{Preset, Protocol, ProviderKind};
pub use price::Prices;
pub use protocol::offline::{Responder, describe as describe_offline};
pub use retry::{RetryPolicy, parse_retry_after};
pub use tokio_util::sync::CancellationToken;

#[cfg(feature = "testing")]
pub mod testing;
