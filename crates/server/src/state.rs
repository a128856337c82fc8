use crate::config::Config;
use crate::live::LiveSpec;
use crate::secret::InstanceSecret;
use std::collections::BTreeSet;
use std::sync::Arc;
use store::Db;
use store::login_attempts::Policy;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database (SQLite or PostgreSQL).
    pub db: Db,
    /// Settings after all layers are applied.
    pub config: Arc<Config>,
    /// Key material for secrets at rest.
    pub secret: Arc<InstanceSecret>,
    /// Paths of the HTML pages that exist: menu items pointing elsewhere stay hidden.
    pub page_paths: Arc<BTreeSet<String>>,
    /// The live application spec, kept current by polling `spec_versions`.
    pub live: Arc<LiveSpec>,
    /// Recently resolved callers (sessions and tokens), cleared on any account change.
    pub identities: Arc<crate::auth::cache::IdentityCache>,
}

impl AppState {
    pub fn login_policy(&self) -> Policy {
        Policy {
            max_failures: self.config.login_max_failures,
            window_ms: 15 * 60 * 1000,
            lock_ms: self.config.login_lock_secs as i64 * 1000,
        }
    }
}
