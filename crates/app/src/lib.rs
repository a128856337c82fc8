//! Every use case of Modgate, with no HTTP: accounts and tokens, menus, the audit
//! log, AI models and connection tests, modules and their versions, the Patch
//! Gateway with fallbacks, usage, budgets and evaluations, test runs, review and its notifications (in-app, webhooks, email, with the
//! delivery worker), CRM records, the live spec and seeding. The server and the
//! command line are thin layers over this crate; a rule lives here, once.
//!
//! Each use case takes the [`App`] (what it may reach), a [`Caller`] (who acts, how
//! they proved it, from where) and typed input, and returns typed output or an
//! [`AppError`]. A change commits in one transaction with its audit row.

pub mod accounts;
pub mod audit;
pub mod breaker;
pub mod budgets;
pub mod bundles;
pub mod caller;
pub mod config;
pub mod credentials;
pub mod deliveries;
pub mod error;
pub mod eval;
pub mod gateway;
pub mod live;
pub mod markdown;
pub mod menus;
pub mod models;
pub mod modules;
pub mod notifications;
pub mod patches;
pub mod preview;
pub mod publishing;
pub mod records;
pub mod reviews;
pub mod secret;
pub mod seed;
pub mod telemetry;
pub mod test_runs;
pub mod time;
pub mod usage;
pub mod webhooks;

pub use caller::{Caller, Origin, Via};
pub use config::Config;
pub use error::{AppError, AppResult, FieldError, Problem};

use accounts::cache::IdentityCache;
use anyhow::Context;
use live::LiveSpec;
use secret::InstanceSecret;
use std::sync::Arc;
use store::Db;

/// What every use case may reach.
#[derive(Clone)]
pub struct App {
    /// The database (SQLite or PostgreSQL).
    pub db: Db,
    /// Settings after all layers are applied.
    pub config: Arc<Config>,
    /// Key material for secrets at rest.
    pub secret: Arc<InstanceSecret>,
    /// The live application spec, kept current by polling `spec_versions`.
    pub live: Arc<LiveSpec>,
    /// Recently resolved callers, cleared on any account change made here.
    pub identities: Arc<IdentityCache>,
    /// Wakes the delivery worker and live unread counts after an announcement.
    pub signals: Arc<notifications::Signals>,
    /// Which models are being skipped after repeated failures (this replica's view).
    pub breakers: Arc<breaker::Breakers>,
    /// The live previews open on this server.
    pub previews: Arc<preview::Previews>,
}

/// Connects to the configured database and applies migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
    }
    let url = config.effective_database_url();
    let db = Db::connect(url.expose())
        .await
        .with_context(|| format!("cannot open database {}", url.redacted()))?;
    db.migrate().await.context("database migration failed")?;
    Ok(db)
}

impl App {
    /// Opens everything a use case needs: the migrated database, the instance secret,
    /// the stored live spec (recorded on a fresh database). The server and the
    /// command line both start here.
    pub async fn open(config: Config) -> anyhow::Result<App> {
        let db = open_database(&config).await?;
        let secret = InstanceSecret::load_or_create(&config)?;
        let live = Arc::new(LiveSpec::open(&db).await?);
        let breakers = Arc::new(breaker::Breakers::new(
            config.ai_breaker_failures,
            std::time::Duration::from_secs(config.ai_breaker_cooldown_secs),
        ));
        Ok(App {
            db,
            config: Arc::new(config),
            secret: Arc::new(secret),
            live,
            identities: Arc::default(),
            signals: Arc::default(),
            breakers,
            previews: Arc::default(),
        })
    }

    /// [`App::open`], then what a first start needs (see [`seed::run`]).
    pub async fn open_seeded(config: Config) -> anyhow::Result<(App, seed::SeedOutcome)> {
        let app = App::open(config).await?;
        let seeded = seed::run(&app).await?;
        Ok((app, seeded))
    }
}

impl App {
    /// Whether the database answers: the backend's name, or `Unavailable`.
    pub async fn ready(&self) -> AppResult<&'static str> {
        let backend = match self.db.backend() {
            store::Backend::Sqlite => "sqlite",
            store::Backend::Postgres => "postgres",
        };
        match self.db.ping().await {
            Ok(()) => Ok(backend),
            Err(e) => {
                tracing::warn!(error = %e, "readiness check failed");
                Err(AppError::Unavailable {
                    message: "the database is not reachable".into(),
                })
            }
        }
    }
}
