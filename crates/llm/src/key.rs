//! API keys: held in memory only as long as a call needs them, never printed.

/// A provider API key. `Debug` and `Display` show only the mask.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The key itself, for the one header that carries it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn mask(&self) -> String {
        mask(&self.0)
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({})", self.mask())
    }
}

/// What a page may show of a key: its conventional prefix and last four characters
/// (`sk-…a1b2`), and for short keys nothing but an ellipsis, since four characters of
/// a short key would give too much away.
pub fn mask(key: &str) -> String {
    let chars: Vec<char> = key.trim().chars().collect();
    if chars.len() < 16 {
        return "…".to_owned();
    }
    let prefix: String = match chars.iter().take(8).position(|c| *c == '-') {
        Some(i) => chars[..=i].iter().collect(),
        None => String::new(),
    };
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{prefix}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_show_prefix_and_last_four() {
        assert_eq!(mask("sk-0123456789abcdefa1b2"), "sk-…a1b2");
        assert_eq!(mask("sk-ant-api03-xxxxxxxxxxxxa1b2"), "sk-…a1b2");
        assert_eq!(mask("abcdefghijklmnopqrstuvwx"), "…uvwx");
        assert_eq!(mask("short-key"), "…");
        let k = ApiKey::new("sk-0123456789abcdefa1b2");
        assert!(!format!("{k:?}").contains("0123456789"));
    }
}
