//! The audit entry of every model call a generation or an evaluation makes.

use crate::error::AppResult;
use crate::{App, Caller};
use serde_json::{Value, json};
use store::audit::{self, Outcome};
use store::models::ModelConfig;

/// How much of a prompt or response the audit detail keeps.
const AUDIT_TEXT_LIMIT: usize = 64 * 1024;

pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} more bytes]", &s[..end], s.len() - end)
}

/// Who is generating what: what every call's audit entry says besides the call.
pub struct AttemptLog<'a> {
    pub app: &'a App,
    pub by: &'a Caller,
    /// `ai.generate` (about a module) or `ai.eval` (about a model).
    pub action: &'static str,
    pub module_id: Option<&'a str>,
    pub request: &'a str,
}

impl AttemptLog<'_> {
    /// Audits one model call made with `model`.
    pub async fn record(
        &self,
        model: &ModelConfig,
        attempt: u32,
        sent: &str,
        reply: Option<&llm::ChatReply>,
        outcome: &str,
        extra: Value,
    ) -> AppResult<()> {
        let ok = outcome == "valid";
        let mut e = self.by.audit(
            self.action,
            if ok {
                Outcome::Success
            } else {
                Outcome::Failure
            },
        );
        match self.module_id {
            Some(m) => {
                e.resource_type = Some("module".into());
                e.resource_id = Some(m.to_owned());
            }
            None => {
                e.resource_type = Some("model".into());
                e.resource_id = Some(model.id.clone());
            }
        }
        let mut details = json!({
            "model": model.name, "provider": model.provider, "modelId": model.model, "attempt": attempt,
            "outcome": outcome, "request": truncate(self.request, AUDIT_TEXT_LIMIT),
            "prompt": truncate(sent, AUDIT_TEXT_LIMIT),
            "tokensIn": reply.map(|r| r.usage.input_tokens), "tokensOut": reply.map(|r| r.usage.output_tokens),
            "latencyMs": reply.map(|r| r.latency_ms),
            "response": reply.map(|r| truncate(&r.text, AUDIT_TEXT_LIMIT)),
        });
        if let (Some(d), Some(x)) = (details.as_object_mut(), extra.as_object()) {
            for (k, v) in x {
                d.insert(k.clone(), v.clone());
            }
        }
        e.details = details;
        let mut tx = self.app.db.begin().await?;
        audit::append(&mut tx, e).await?;
        tx.commit().await?;
        Ok(())
    }
}
