//! Configuration, layered: built-in defaults, then `modgate.toml`, then `MODGATE_*`
//! environment variables (and `DATABASE_URL`), then command-line flags. A bad value
//! stops start-up with a message naming the key.

use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A string that never appears in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A database URL. It may carry a password, so its `Debug` form (and so every log
/// line that prints a config) shows it redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        DatabaseUrl(url.into())
    }

    /// The URL as it is, to connect with.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***`, fit for messages and logs.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

impl From<String> for DatabaseUrl {
    fn from(s: String) -> Self {
        DatabaseUrl(s)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

/// A database URL with any password removed.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Log output style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The server's settings after all layers are applied.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    /// Holds the SQLite file and the generated instance secret.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; `None` means `sqlite:<data_dir>/modgate.db`.
    pub database_url: Option<DatabaseUrl>,
    /// Mark cookies `Secure` (set when served over https).
    pub secure_cookies: bool,
    pub session_ttl_hours: u64,
    pub request_timeout_secs: u64,
    pub body_limit_bytes: usize,
    pub login_max_failures: i64,
    pub login_lock_secs: u64,
    pub log_format: LogFormat,
    /// Tokens (in + out, over all attempts) one generation may spend.
    pub ai_token_budget: u64,
    /// Attempts per generation: the first plus repairs after the validator's report.
    pub ai_max_attempts: u32,
    /// Failures within a minute after which a model is skipped (its circuit opens).
    pub ai_breaker_failures: u32,
    /// How long an open circuit skips the model before it is tried again.
    pub ai_breaker_cooldown_secs: u64,
    /// How long a live preview link works.
    pub preview_ttl_mins: u64,
    /// Module coverage (0–1) a version's latest test run needs to be ready to submit.
    pub test_gate: f64,
    /// The first admin's password; random (and printed once) when unset.
    pub admin_password: Option<Secret>,
    /// Key material for encrypting secrets at rest; generated into the data dir when unset.
    pub secret_key: Option<Secret>,
    /// A bearer token a metrics scraper presents for `GET /metrics` (admins need none).
    pub metrics_token: Option<Secret>,
    /// Attempts per webhook or email delivery before it is marked failed.
    pub webhook_max_attempts: u32,
    /// `smtp://host:port` (or `smtps://user:pass@host`) to send notification emails;
    /// with `mail_from`. Unset: no email.
    pub smtp_url: Option<DatabaseUrl>,
    pub mail_from: Option<String>,
    /// The address people reach the server at, for links in emails
    /// (e.g. `https://modgate.example.com`); unset: links are paths.
    pub public_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("."),
            database_url: None,
            secure_cookies: false,
            session_ttl_hours: 12,
            request_timeout_secs: 30,
            body_limit_bytes: 2 * 1024 * 1024,
            login_max_failures: 5,
            login_lock_secs: 15 * 60,
            log_format: LogFormat::Text,
            ai_token_budget: 400_000,
            ai_max_attempts: 3,
            ai_breaker_failures: 3,
            ai_breaker_cooldown_secs: 60,
            preview_ttl_mins: 30,
            test_gate: 0.8,
            admin_password: None,
            secret_key: None,
            metrics_token: None,
            webhook_max_attempts: 8,
            smtp_url: None,
            mail_from: None,
            public_url: None,
        }
    }
}

/// The config file's shape: every key optional, unknown keys rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLayer {
    bind: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    secure_cookies: Option<bool>,
    session_ttl_hours: Option<u64>,
    request_timeout_secs: Option<u64>,
    body_limit_bytes: Option<usize>,
    login_max_failures: Option<i64>,
    login_lock_secs: Option<u64>,
    log_format: Option<LogFormat>,
    ai_token_budget: Option<u64>,
    ai_max_attempts: Option<u32>,
    ai_breaker_failures: Option<u32>,
    ai_breaker_cooldown_secs: Option<u64>,
    preview_ttl_mins: Option<u64>,
    test_gate: Option<f64>,
    webhook_max_attempts: Option<u32>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    public_url: Option<String>,
}

/// A configuration problem, naming the key and where it came from.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

/// Environment variables the server reads; any other `MODGATE_*` is reported as unknown.
const ENV_KEYS: &[&str] = &[
    "MODGATE_BIND",
    "MODGATE_DATA_DIR",
    "MODGATE_DATABASE_URL",
    "MODGATE_SECURE_COOKIES",
    "MODGATE_SESSION_TTL_HOURS",
    "MODGATE_REQUEST_TIMEOUT_SECS",
    "MODGATE_BODY_LIMIT_BYTES",
    "MODGATE_LOGIN_MAX_FAILURES",
    "MODGATE_LOGIN_LOCK_SECS",
    "MODGATE_LOG_FORMAT",
    "MODGATE_AI_TOKEN_BUDGET",
    "MODGATE_AI_MAX_ATTEMPTS",
    "MODGATE_TEST_GATE",
    "MODGATE_ADMIN_PASSWORD",
    "MODGATE_SECRET_KEY",
    "MODGATE_METRICS_TOKEN",
    "MODGATE_WEBHOOK_MAX_ATTEMPTS",
    "MODGATE_SMTP_URL",
    "MODGATE_MAIL_FROM",
    "MODGATE_PUBLIC_URL",
    "MODGATE_CONFIG",
    "MODGATE_LOG",
];

impl Config {
    /// Loads defaults → file → environment. `file` is the explicit config path; else
    /// `MODGATE_CONFIG`, else `./modgate.toml` when it exists.
    /// Returns the config and warnings (unknown variables) for the caller to log.
    pub fn load(
        file: Option<&Path>,
        env: &[(String, String)],
    ) -> Result<(Config, Vec<String>), ConfigError> {
        let mut cfg = Config::default();
        let env_get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let path = file
            .map(Path::to_path_buf)
            .or_else(|| env_get("MODGATE_CONFIG").map(PathBuf::from))
            .or_else(|| Some(PathBuf::from("modgate.toml")).filter(|p| p.exists()));
        if let Some(path) = path {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
            cfg.apply_file(&text)
                .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        }
        let mut warnings = Vec::new();
        for (name, value) in env {
            if name.starts_with("MODGATE_") && !ENV_KEYS.contains(&name.as_str()) {
                warnings.push(format!("unknown environment variable {name} is ignored"));
                continue;
            }
            cfg.apply_env(name, value)?;
        }
        if let Some(url) = env_get("DATABASE_URL").filter(|s| !s.is_empty()) {
            cfg.database_url = Some(DatabaseUrl(url));
        }
        cfg.check()?;
        Ok((cfg, warnings))
    }

    fn apply_file(&mut self, text: &str) -> Result<(), String> {
        // toml's message names the offending key and line.
        let f: FileLayer = toml::from_str(text).map_err(|e| e.to_string())?;
        macro_rules! take {
            ($($k:ident),*) => { $( if let Some(v) = f.$k { self.$k = v; } )* };
        }
        take!(
            bind,
            data_dir,
            secure_cookies,
            session_ttl_hours,
            request_timeout_secs,
            body_limit_bytes,
            login_max_failures,
            login_lock_secs,
            log_format,
            ai_token_budget,
            ai_max_attempts,
            ai_breaker_failures,
            ai_breaker_cooldown_secs,
            preview_ttl_mins,
            test_gate,
            webhook_max_attempts
        );
        if f.smtp_url.is_some() {
            self.smtp_url = f.smtp_url.map(DatabaseUrl);
        }
        if f.mail_from.is_some() {
            self.mail_from = f.mail_from;
        }
        if f.public_url.is_some() {
            self.public_url = f.public_url;
        }
        if f.database_url.is_some() {
            self.database_url = f.database_url.map(DatabaseUrl);
        }
        Ok(())
    }

    fn apply_env(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        fn parse<T: std::str::FromStr>(
            name: &str,
            value: &str,
            what: &str,
        ) -> Result<T, ConfigError> {
            value
                .trim()
                .parse()
                .map_err(|_| ConfigError(format!("{name}: '{value}' is not {what}")))
        }
        match name {
            "MODGATE_BIND" => {
                self.bind = parse(name, value, "a socket address like 127.0.0.1:8080")?
            }
            "MODGATE_DATA_DIR" => self.data_dir = PathBuf::from(value),
            "MODGATE_DATABASE_URL" => {
                self.database_url = Some(value)
                    .filter(|s| !s.is_empty())
                    .map(|s| DatabaseUrl(s.to_owned()))
            }
            "MODGATE_SECURE_COOKIES" => self.secure_cookies = parse(name, value, "true or false")?,
            "MODGATE_SESSION_TTL_HOURS" => {
                self.session_ttl_hours = parse(name, value, "a whole number of hours")?
            }
            "MODGATE_REQUEST_TIMEOUT_SECS" => {
                self.request_timeout_secs = parse(name, value, "a whole number of seconds")?
            }
            "MODGATE_BODY_LIMIT_BYTES" => {
                self.body_limit_bytes = parse(name, value, "a number of bytes")?
            }
            "MODGATE_LOGIN_MAX_FAILURES" => {
                self.login_max_failures = parse(name, value, "a whole number")?
            }
            "MODGATE_AI_TOKEN_BUDGET" => {
                self.ai_token_budget = parse(name, value, "a whole number of tokens")?
            }
            "MODGATE_TEST_GATE" => self.test_gate = parse(name, value, "a number between 0 and 1")?,
            "MODGATE_AI_MAX_ATTEMPTS" => {
                self.ai_max_attempts = parse(name, value, "a whole number of attempts")?
            }
            "MODGATE_AI_BREAKER_FAILURES" => {
                self.ai_breaker_failures = parse(name, value, "a whole number of failures")?
            }
            "MODGATE_AI_BREAKER_COOLDOWN_SECS" => {
                self.ai_breaker_cooldown_secs = parse(name, value, "a whole number of seconds")?
            }
            "MODGATE_PREVIEW_TTL_MINS" => {
                self.preview_ttl_mins = parse(name, value, "a whole number of minutes")?
            }
            "MODGATE_LOGIN_LOCK_SECS" => {
                self.login_lock_secs = parse(name, value, "a whole number of seconds")?
            }
            "MODGATE_LOG_FORMAT" => {
                self.log_format = match value {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    _ => {
                        return Err(ConfigError(format!(
                            "{name}: '{value}' is not 'text' or 'json'"
                        )));
                    }
                }
            }
            "MODGATE_ADMIN_PASSWORD" => {
                self.admin_password = Some(Secret::new(value)).filter(|s| !s.0.is_empty())
            }
            "MODGATE_WEBHOOK_MAX_ATTEMPTS" => {
                self.webhook_max_attempts = parse(name, value, "a whole number of attempts")?
            }
            "MODGATE_SMTP_URL" => {
                self.smtp_url = Some(value)
                    .filter(|s| !s.is_empty())
                    .map(|s| DatabaseUrl(s.to_owned()))
            }
            "MODGATE_MAIL_FROM" => {
                self.mail_from = Some(value.trim().to_owned()).filter(|s| !s.is_empty())
            }
            "MODGATE_PUBLIC_URL" => {
                self.public_url =
                    Some(value.trim().trim_end_matches('/').to_owned()).filter(|s| !s.is_empty())
            }
            "MODGATE_SECRET_KEY" => {
                self.secret_key = Some(Secret::new(value)).filter(|s| !s.0.is_empty())
            }
            "MODGATE_METRICS_TOKEN" => {
                self.metrics_token = Some(Secret::new(value)).filter(|s| !s.0.is_empty())
            }
            _ => {}
        }
        Ok(())
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.session_ttl_hours == 0 {
            return Err(ConfigError("session_ttl_hours: must be at least 1".into()));
        }
        if !(0.0..=1.0).contains(&self.test_gate) {
            return Err(ConfigError("test_gate: must be between 0 and 1".into()));
        }
        if !(1..=1440).contains(&self.preview_ttl_mins) {
            return Err(ConfigError(
                "preview_ttl_mins: must be between 1 and 1440".into(),
            ));
        }
        if !(1..=100).contains(&self.ai_breaker_failures) {
            return Err(ConfigError(
                "ai_breaker_failures: must be between 1 and 100".into(),
            ));
        }
        if !(1..=86_400).contains(&self.ai_breaker_cooldown_secs) {
            return Err(ConfigError(
                "ai_breaker_cooldown_secs: must be between 1 and 86400".into(),
            ));
        }
        if !(1..=10).contains(&self.ai_max_attempts) {
            return Err(ConfigError(
                "ai_max_attempts: must be between 1 and 10".into(),
            ));
        }
        if self.request_timeout_secs == 0 {
            return Err(ConfigError(
                "request_timeout_secs: must be at least 1".into(),
            ));
        }
        if self.body_limit_bytes < 1024 {
            return Err(ConfigError(
                "body_limit_bytes: must be at least 1024".into(),
            ));
        }
        if !(1..=30).contains(&self.webhook_max_attempts) {
            return Err(ConfigError(
                "webhook_max_attempts: must be between 1 and 30".into(),
            ));
        }
        if let Some(DatabaseUrl(url)) = &self.smtp_url {
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(ConfigError(
                    "smtp_url: must start with smtp:// or smtps://".into(),
                ));
            }
            if self.mail_from.is_none() {
                return Err(ConfigError(
                    "mail_from: must be set when smtp_url is (the address emails come from)".into(),
                ));
            }
        }
        if self.login_max_failures < 1 {
            return Err(ConfigError("login_max_failures: must be at least 1".into()));
        }
        if let Some(DatabaseUrl(url)) = &self.database_url
            && !(url.starts_with("postgres://")
                || url.starts_with("postgresql://")
                || url.starts_with("sqlite:"))
        {
            return Err(ConfigError(
                "database_url: must start with postgres://, postgresql:// or sqlite:".into(),
            ));
        }
        if let Some(p) = &self.admin_password
            && p.expose().chars().count() < 8
        {
            return Err(ConfigError(
                "MODGATE_ADMIN_PASSWORD: must be at least 8 characters".into(),
            ));
        }
        if let Some(k) = &self.secret_key
            && k.expose().len() < 32
        {
            return Err(ConfigError(
                "MODGATE_SECRET_KEY: must be at least 32 characters".into(),
            ));
        }
        Ok(())
    }

    /// The database to use: the configured URL, or the SQLite file in the data dir.
    pub fn effective_database_url(&self) -> DatabaseUrl {
        match &self.database_url {
            Some(u) => u.clone(),
            None => DatabaseUrl(format!(
                "sqlite:{}",
                self.data_dir.join("modgate.db").display()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn env_overrides_file_and_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("modgate.toml");
        std::fs::write(&file, "bind = \"0.0.0.0:9000\"\nsession_ttl_hours = 3\n").unwrap();
        let (cfg, _) =
            Config::load(Some(&file), &env(&[("MODGATE_SESSION_TTL_HOURS", "5")])).unwrap();
        assert_eq!(cfg.bind.port(), 9000);
        assert_eq!(cfg.session_ttl_hours, 5);
        assert_eq!(cfg.request_timeout_secs, 30);
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = Config::load(None, &env(&[("MODGATE_BIND", "nowhere")])).unwrap_err();
        assert!(err.to_string().contains("MODGATE_BIND"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("modgate.toml");
        std::fs::write(&file, "sesion_ttl_hours = 3\n").unwrap();
        let err = Config::load(Some(&file), &[]).unwrap_err();
        assert!(err.to_string().contains("sesion_ttl_hours"), "{err}");
        std::fs::write(&file, "session_ttl_hours = \"many\"\n").unwrap();
        let err = Config::load(Some(&file), &[]).unwrap_err();
        assert!(err.to_string().contains("session_ttl_hours"), "{err}");
    }

    #[test]
    fn unknown_env_is_a_warning_and_secrets_are_redacted() {
        let (cfg, warnings) = Config::load(
            None,
            &env(&[
                ("MODGATE_BINDD", "x"),
                ("MODGATE_ADMIN_PASSWORD", "hunter2hunter2"),
            ]),
        )
        .unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("MODGATE_BINDD"));
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }

    #[test]
    fn default_database_is_sqlite_in_data_dir() {
        let (cfg, _) = Config::load(None, &env(&[("MODGATE_DATA_DIR", "/tmp/x")])).unwrap();
        assert_eq!(
            cfg.effective_database_url().expose(),
            "sqlite:/tmp/x/modgate.db"
        );
        let (cfg, _) = Config::load(None, &env(&[("DATABASE_URL", "postgres://h/db")])).unwrap();
        assert_eq!(cfg.effective_database_url().expose(), "postgres://h/db");
    }

    #[test]
    fn database_passwords_stay_out_of_debug_output() {
        let (cfg, _) = Config::load(
            None,
            &env(&[(
                "DATABASE_URL",
                "postgres://modgate:s3cr3t-pw@db:5432/modgate",
            )]),
        )
        .unwrap();
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("s3cr3t-pw"), "{shown}");
        assert!(
            shown.contains("postgres://modgate:***@db:5432/modgate"),
            "{shown}"
        );
        assert_eq!(
            cfg.database_url.unwrap().expose(),
            "postgres://modgate:s3cr3t-pw@db:5432/modgate"
        );
    }

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite:./modgate.db"), "sqlite:./modgate.db");
    }
}
