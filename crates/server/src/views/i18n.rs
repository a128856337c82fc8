//! One message catalog per language, embedded; English first, Chinese alongside.
//! Templates call `t("key")`; a key missing in a language falls back to English,
//! then to the key itself (so a gap is visible, not blank).

use axum::http::{HeaderMap, header};
use minijinja::State;
use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// From the `lang` cookie, else the browser's `Accept-Language`, else English.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        if let Some(v) = crate::auth::current::cookie_value(headers, "lang") {
            return if v == "zh" { Lang::Zh } else { Lang::En };
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if accept.trim_start().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }
}

type Catalog = HashMap<String, String>;

fn parse(name: &str, text: &str) -> Catalog {
    toml::from_str(text).unwrap_or_else(|e| panic!("locale {name}: {e}"))
}

static EN: LazyLock<Catalog> = LazyLock::new(|| parse("en", include_str!("../../locales/en.toml")));
static ZH: LazyLock<Catalog> = LazyLock::new(|| parse("zh", include_str!("../../locales/zh.toml")));

/// Looks a key up in a language's catalog.
pub fn lookup(lang: &str, key: &str) -> String {
    let primary = if lang == "zh" { &*ZH } else { &*EN };
    primary
        .get(key)
        .or_else(|| EN.get(key))
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

/// The template function `t(key)`; the language comes from the context's `lang`.
pub(super) fn translate(state: &State, key: &str) -> String {
    let lang = state
        .lookup("lang")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    lookup(&lang, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chinese_key_exists_in_english() {
        for k in ZH.keys() {
            assert!(EN.contains_key(k), "zh has '{k}' but en does not");
        }
        assert_eq!(lookup("zh", "nav.logout"), "退出登录");
        assert_eq!(lookup("en", "nav.logout"), "Log out");
        assert_eq!(lookup("en", "no.such.key"), "no.such.key");
    }
}
