//! The providers an administrator can choose, with their wire protocol and defaults.

use serde::Serialize;

/// The wire protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// `POST {base}/chat/completions` (OpenAI, Moonshot, DeepSeek, Ollama, vLLM …).
    OpenAi,
    /// `POST {base}/v1/messages` (Anthropic, Kimi Coding).
    Anthropic,
    /// No network: the built-in rules engine.
    Offline,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::OpenAi => "open-ai",
            Protocol::Anthropic => "anthropic",
            Protocol::Offline => "offline",
        }
    }
}

/// A provider preset. The set is closed: a stored model names one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProviderKind {
    Kimi,
    KimiCode,
    OpenAi,
    DeepSeek,
    Anthropic,
    OpenAiCompatible,
    Builtin,
}

/// What the model-configuration form pre-fills for a provider.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preset {
    pub id: &'static str,
    pub label: &'static str,
    pub protocol: Protocol,
    /// Empty for `openai-compatible` (the administrator must give one) and `builtin`.
    pub base_url: &'static str,
    /// Other known base URLs (regions).
    pub alt_base_urls: &'static [&'static str],
    pub model: &'static str,
    pub models: &'static [&'static str],
    pub key_required: bool,
    /// Whether `response_format: json_object` is sent when JSON output is asked for.
    pub json_mode: bool,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 7] = [
        ProviderKind::Kimi,
        ProviderKind::KimiCode,
        ProviderKind::OpenAi,
        ProviderKind::DeepSeek,
        ProviderKind::Anthropic,
        ProviderKind::OpenAiCompatible,
        ProviderKind::Builtin,
    ];

    pub fn as_str(self) -> &'static str {
        self.preset().id
    }

    pub fn protocol(self) -> Protocol {
        self.preset().protocol
    }

    pub fn preset(self) -> &'static Preset {
        match self {
            ProviderKind::Kimi => &KIMI,
            ProviderKind::KimiCode => &KIMI_CODE,
            ProviderKind::OpenAi => &OPENAI,
            ProviderKind::DeepSeek => &DEEPSEEK,
            ProviderKind::Anthropic => &ANTHROPIC,
            ProviderKind::OpenAiCompatible => &OPENAI_COMPATIBLE,
            ProviderKind::Builtin => &BUILTIN,
        }
    }
}

impl std::str::FromStr for ProviderKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProviderKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = ProviderKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown provider '{s}'; known: {}", known.join(", "))
            })
    }
}

impl std::fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

static KIMI: Preset = Preset {
    id: "kimi",
    label: "Kimi (Moonshot)",
    protocol: Protocol::OpenAi,
    base_url: "https://api.moonshot.cn/v1",
    alt_base_urls: &["https://api.moonshot.ai/v1"],
    model: "kimi-k2.6",
    models: &[
        "kimi-k2.6",
        "kimi-k2.5",
        "kimi-k2.7-code",
        "moonshot-v1-8k",
        "moonshot-v1-32k",
        "moonshot-v1-128k",
        "moonshot-v1-auto",
    ],
    key_required: true,
    json_mode: true,
};

static KIMI_CODE: Preset = Preset {
    id: "kimi-code",
    label: "Kimi Coding",
    protocol: Protocol::Anthropic,
    base_url: "https://api.kimi.com/coding/",
    alt_base_urls: &[],
    model: "kimi-for-coding",
    models: &["kimi-for-coding"],
    key_required: true,
    json_mode: false,
};

static OPENAI: Preset = Preset {
    id: "openai",
    label: "OpenAI",
    protocol: Protocol::OpenAi,
    base_url: "https://api.openai.com/v1",
    alt_base_urls: &[],
    model: "gpt-4.1",
    models: &["gpt-4.1", "gpt-4.1-mini", "gpt-4o"],
    key_required: true,
    json_mode: true,
};

static DEEPSEEK: Preset = Preset {
    id: "deepseek",
    label: "DeepSeek",
    protocol: Protocol::OpenAi,
    base_url: "https://api.deepseek.com/v1",
    alt_base_urls: &[],
    model: "deepseek-chat",
    models: &["deepseek-chat", "deepseek-reasoner"],
    key_required: true,
    json_mode: true,
};

static ANTHROPIC: Preset = Preset {
    id: "anthropic",
    label: "Anthropic",
    protocol: Protocol::Anthropic,
    base_url: "https://api.anthropic.com",
    alt_base_urls: &[],
    model: "claude-sonnet-4-5",
    models: &["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"],
    key_required: true,
    json_mode: false,
};

static OPENAI_COMPATIBLE: Preset = Preset {
    id: "openai-compatible",
    label: "OpenAI-compatible (Ollama, vLLM, Qwen …)",
    protocol: Protocol::OpenAi,
    base_url: "",
    alt_base_urls: &["http://127.0.0.1:11434/v1", "http://127.0.0.1:8000/v1"],
    model: "",
    models: &[],
    key_required: false,
    json_mode: true,
};

static BUILTIN: Preset = Preset {
    id: "builtin",
    label: "Built-in offline rules engine",
    protocol: Protocol::Offline,
    base_url: "",
    alt_base_urls: &[],
    model: "builtin",
    models: &["builtin"],
    key_required: false,
    json_mode: false,
};

/// The endpoint a chat request goes to: each protocol's convention on top of the base.
pub fn chat_url(protocol: Protocol, base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    match protocol {
        Protocol::OpenAi => format!("{base}/chat/completions"),
        Protocol::Anthropic => format!("{base}/v1/messages"),
        Protocol::Offline => String::new(),
    }
}

/// Where the provider lists its models (`GET`).
pub fn models_url(protocol: Protocol, base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    match protocol {
        Protocol::OpenAi => format!("{base}/models"),
        Protocol::Anthropic => format!("{base}/v1/models"),
        Protocol::Offline => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_unknown_names_the_choices() {
        for k in ProviderKind::ALL {
            assert_eq!(k.as_str().parse::<ProviderKind>().unwrap(), k);
        }
        let e = "moonshot".parse::<ProviderKind>().unwrap_err();
        assert!(e.contains("'moonshot'") && e.contains("kimi-code"));
    }

    #[test]
    fn urls_follow_each_protocols_convention() {
        assert_eq!(
            chat_url(Protocol::OpenAi, "https://api.moonshot.cn/v1"),
            "https://api.moonshot.cn/v1/chat/completions"
        );
        assert_eq!(
            chat_url(Protocol::OpenAi, "http://127.0.0.1:11434/v1/"),
            "http://127.0.0.1:11434/v1/chat/completions"
        );
        assert_eq!(
            chat_url(Protocol::Anthropic, "https://api.kimi.com/coding/"),
            "https://api.kimi.com/coding/v1/messages"
        );
        assert_eq!(
            chat_url(Protocol::Anthropic, "https://api.anthropic.com"),
            "https://api.anthropic.com/v1/messages"
        );
        assert_eq!(
            models_url(Protocol::OpenAi, "https://api.moonshot.cn/v1"),
            "https://api.moonshot.cn/v1/models"
        );
    }

    #[test]
    fn kimi_comes_first_with_both_regions() {
        assert_eq!(ProviderKind::ALL[0], ProviderKind::Kimi);
        let p = ProviderKind::Kimi.preset();
        assert_eq!(p.base_url, "https://api.moonshot.cn/v1");
        assert!(p.alt_base_urls.contains(&"https://api.moonshot.ai/v1"));
        assert_eq!(ProviderKind::KimiCode.preset().model, "kimi-for-coding");
        assert_eq!(ProviderKind::KimiCode.protocol(), Protocol::Anthropic);
    }
}
