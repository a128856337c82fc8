//! From a stored model configuration to an `llm::Client`.

use crate::secret::InstanceSecret;
use llm::{ApiKey, Client, ErrorKind, LlmError, ModelSpec, Params, ProviderKind};
use std::time::Duration;
use store::models::{ModelConfig, ModelParams};

/// The purpose the API-key encryption key is derived for.
pub const KEY_PURPOSE: &str = "model-api-key";

pub fn seal_key(secret: &InstanceSecret, model_id: &str, key: &str) -> String {
    secret.seal(KEY_PURPOSE, model_id, key)
}

/// The stored key in the clear, for the one request header that carries it.
pub fn open_key(secret: &InstanceSecret, m: &ModelConfig) -> Result<Option<ApiKey>, LlmError> {
    let Some(sealed) = &m.api_key_enc else {
        return Ok(None);
    };
    secret
        .open(KEY_PURPOSE, &m.id, sealed)
        .map(|k| Some(ApiKey::new(k)))
        .map_err(|_| {
            LlmError::new(
                ErrorKind::Auth,
                "the stored API key cannot be read with this instance's secret \
                 (was MODGATE_SECRET_KEY or secret.key changed?); enter the key again",
            )
        })
}

pub fn params_of(p: &ModelParams) -> Params {
    Params {
        temperature: p.temperature.map(|t| t as f32),
        max_tokens: p.max_tokens.map(|n| n.clamp(1, u32::MAX as i64) as u32),
        timeout: Duration::from_millis(p.timeout_ms.max(1) as u64),
        retries: p.retries.clamp(0, 10) as u32,
    }
}

/// A client for the configured model; fails (as a model error) when the
/// configuration cannot work, such as an unreadable key. `offline` answers for
/// the built-in provider.
pub fn client_for(
    secret: &InstanceSecret,
    m: &ModelConfig,
    offline: llm::Responder,
) -> Result<Client, LlmError> {
    let kind: ProviderKind = m
        .provider
        .parse()
        .map_err(|e: String| LlmError::new(ErrorKind::NotFound, e))?;
    let spec = ModelSpec {
        kind,
        base_url: m.base_url.clone(),
        model: m.model.clone(),
        api_key: open_key(secret, m)?,
        params: params_of(&m.params),
    };
    Client::new(&spec, offline)
}
