//! What can go wrong when calling a model, sorted into the kinds a person can act on.

use serde::Serialize;
use std::time::Duration;

/// The kind of failure: what the administrator should do differs for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The key is missing, wrong, or not allowed to use this model.
    Auth,
    /// The model id or the URL does not exist.
    NotFound,
    /// Too many requests, or the quota is spent.
    RateLimited,
    /// No (complete) answer within the configured time.
    Timeout,
    /// The connection failed or broke.
    Network,
    /// An answer came back that is not what the protocol promises.
    BadResponse,
    /// The provider reported an error of its own; its message is kept.
    Provider,
    /// The caller gave up (the page was closed, the request cancelled).
    Cancelled,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Network => "network",
            ErrorKind::BadResponse => "bad_response",
            ErrorKind::Provider => "provider",
            ErrorKind::Cancelled => "cancelled",
        }
    }
}

/// A failed model call. The message never contains the API key (the client scrubs it).
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{}: {message}", kind.as_str())]
pub struct LlmError {
    pub kind: ErrorKind,
    pub message: String,
    /// The HTTP status, when the provider answered with one.
    pub status: Option<u16>,
    /// How long the provider asked us to wait (`Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<Duration>,
    /// Whether trying again may help (429 and 5xx, a refused connection).
    #[serde(skip)]
    pub retryable: bool,
}

impl LlmError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> LlmError {
        LlmError {
            kind,
            message: message.into(),
            status: None,
            retry_after: None,
            retryable: false,
        }
    }

    pub fn bad_response(message: impl Into<String>) -> LlmError {
        LlmError::new(ErrorKind::BadResponse, message)
    }

    /// Classifies a non-success HTTP answer from the status and what the body says.
    pub fn from_status(
        status: u16,
        body: &str,
        retry_after: Option<Duration>,
        model: &str,
    ) -> LlmError {
        let said = provider_message(body);
        let detail = |default: &str| {
            if said.is_empty() {
                default.to_owned()
            } else {
                said.clone()
            }
        };
        let lower = body.to_ascii_lowercase();
        let (kind, message, retryable) = match status {
            401 | 403 => (
                ErrorKind::Auth,
                format!(
                    "the provider rejected the API key ({})",
                    detail("no detail given")
                ),
                false,
            ),
            404 => (
                ErrorKind::NotFound,
                format!(
                    "model '{model}' or the URL was not found ({})",
                    detail("404")
                ),
                false,
            ),
            // Some providers answer an unknown model with 400.
            400 | 422 if mentions_missing_model(&lower) => (
                ErrorKind::NotFound,
                format!("model '{model}' was not found ({})", detail("")),
                false,
            ),
            429 if lower.contains("quota") || lower.contains("insufficient") => (
                ErrorKind::RateLimited,
                format!("the account's quota is spent ({})", detail("429")),
                false,
            ),
            429 => (
                ErrorKind::RateLimited,
                format!("rate limited by the provider ({})", detail("429")),
                true,
            ),
            408 | 504 => (
                ErrorKind::Timeout,
                format!("the provider timed out ({})", detail(&status.to_string())),
                true,
            ),
            500..=599 => (
                ErrorKind::Provider,
                format!("provider error {status}: {}", detail("no detail given")),
                true,
            ),
            _ => (
                ErrorKind::Provider,
                format!("provider error {status}: {}", detail("no detail given")),
                false,
            ),
        };
        LlmError {
            kind,
            message,
            status: Some(status),
            retry_after,
            retryable,
        }
    }

    pub fn from_reqwest(e: &reqwest::Error, timeout: Duration) -> LlmError {
        if e.is_timeout() {
            return LlmError::new(
                ErrorKind::Timeout,
                format!("no answer within {} ms", timeout.as_millis()),
            );
        }
        if e.is_connect() {
            let mut err = LlmError::new(
                ErrorKind::Network,
                format!("could not connect: {}", root_cause(e)),
            );
            err.retryable = true;
            return err;
        }
        if e.is_body() || e.is_decode() {
            return LlmError::new(
                ErrorKind::Network,
                format!(
                    "the connection broke while reading the answer: {}",
                    root_cause(e)
                ),
            );
        }
        if e.is_builder() {
            return LlmError::new(ErrorKind::NotFound, "the base URL is not a valid URL");
        }
        LlmError::new(ErrorKind::Network, root_cause(e))
    }

    /// Whether another model may succeed where this one failed: the provider is
    /// unreachable, slow, rate-limited or broken (5xx). Never for a wrong key, an
    /// unknown model or a request the provider refused: those fail on any model
    /// until a person fixes them.
    pub fn calls_for_fallback(&self) -> bool {
        match self.kind {
            ErrorKind::Network | ErrorKind::Timeout | ErrorKind::RateLimited => true,
            ErrorKind::Provider => self.status.is_some_and(|s| (500..600).contains(&s)),
            _ => false,
        }
    }

    /// Replaces every occurrence of `secret` (some providers echo the key they were
    /// given in their error message) with `mask`.
    pub fn scrub(mut self, secret: &str, mask: &str) -> LlmError {
        if secret.len() >= 4 && self.message.contains(secret) {
            self.message = self.message.replace(secret, mask);
        }
        self
    }
}

/// The innermost cause, which names what actually failed (refused, reset, DNS …),
/// without the URL that reqwest's own message starts with.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

fn mentions_missing_model(lower_body: &str) -> bool {
    lower_body.contains("model_not_found")
        || (lower_body.contains("model")
            && (lower_body.contains("not found")
                || lower_body.contains("does not exist")
                || lower_body.contains("not exist")
                || lower_body.contains("invalid model")))
}

/// The message a provider put in its error body: OpenAI `{"error":{"message"}}`,
/// Anthropic `{"type":"error","error":{"message"}}`, or a short plain text.
pub fn provider_message(body: &str) -> String {
    const MAX: usize = 300;
    let from_json = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("message"))
                .or_else(|| v.get("error"))
                .and_then(|m| m.as_str())
                .map(str::to_owned)
        });
    let text = from_json.unwrap_or_else(|| body.trim().to_owned());
    if text.chars().count() > MAX {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_kinds() {
        let k = |s, b| LlmError::from_status(s, b, None, "m").kind;
        assert_eq!(k(401, ""), ErrorKind::Auth);
        assert_eq!(k(403, ""), ErrorKind::Auth);
        assert_eq!(k(404, ""), ErrorKind::NotFound);
        assert_eq!(
            k(
                400,
                r#"{"error":{"message":"Not found the model kimi-latest or Permission denied"}}"#
            ),
            ErrorKind::NotFound
        );
        assert_eq!(
            k(400, r#"{"error":{"message":"bad temperature"}}"#),
            ErrorKind::Provider
        );
        assert_eq!(k(429, ""), ErrorKind::RateLimited);
        assert_eq!(k(504, ""), ErrorKind::Timeout);
        assert_eq!(k(500, ""), ErrorKind::Provider);
        assert_eq!(k(529, ""), ErrorKind::Provider);
    }

    #[test]
    fn retryable_only_where_waiting_can_help() {
        let r = |s, b| LlmError::from_status(s, b, None, "m").retryable;
        assert!(r(429, r#"{"error":{"message":"slow down"}}"#));
        assert!(!r(
            429,
            r#"{"error":{"type":"exceeded_current_quota_error","message":"quota"}}"#
        ));
        assert!(r(500, ""));
        assert!(r(503, ""));
        assert!(!r(401, ""));
        assert!(!r(400, ""));
    }

    #[test]
    fn fallback_only_for_failures_another_model_may_not_have() {
        let f = |s, b| LlmError::from_status(s, b, None, "m").calls_for_fallback();
        assert!(f(503, ""));
        assert!(f(500, ""));
        assert!(f(429, ""));
        assert!(f(429, r#"{"error":{"message":"quota spent"}}"#));
        assert!(f(504, ""));
        assert!(!f(401, ""));
        assert!(!f(404, ""));
        assert!(!f(400, r#"{"error":{"message":"bad temperature"}}"#));
        assert!(LlmError::new(ErrorKind::Network, "refused").calls_for_fallback());
        assert!(!LlmError::new(ErrorKind::Provider, "offline refusal").calls_for_fallback());
        assert!(!LlmError::new(ErrorKind::Cancelled, "gone").calls_for_fallback());
        assert!(!LlmError::bad_response("garbled").calls_for_fallback());
    }

    #[test]
    fn provider_messages_are_kept_and_bounded() {
        assert_eq!(
            provider_message(r#"{"error":{"message":"Invalid Authentication","type":"x"}}"#),
            "Invalid Authentication"
        );
        assert_eq!(
            provider_message(
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            ),
            "Overloaded"
        );
        assert_eq!(provider_message("  upstream down \n"), "upstream down");
        assert!(provider_message(&"x".repeat(5000)).chars().count() <= 301);
        let e = LlmError::from_status(401, r#"{"error":{"message":"bad key"}}"#, None, "m");
        assert!(e.message.contains("bad key"), "{}", e.message);
        assert_eq!(e.status, Some(401));
    }

    #[test]
    fn scrub_removes_an_echoed_key() {
        let e = LlmError::new(
            ErrorKind::Auth,
            "Incorrect API key provided: sk-abcdef123456",
        )
        .scrub("sk-abcdef123456", "sk-…3456");
        assert_eq!(e.message, "Incorrect API key provided: sk-…3456");
    }
}
