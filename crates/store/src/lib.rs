//! Persistence for Modgate on SQLite (the embedded default) and PostgreSQL.
//!
//! One set of portable migrations and one set of queries serve both backends: every
//! query is written once with `$N` placeholders and dispatched to the backend's own
//! driver by the [`with_db!`] and [`with_tx!`] macros, so native types and errors are
//! kept. State changes take a [`Tx`] so that a change and its audit row commit
//! together.

#[macro_use]
mod db;
pub mod audit;
pub mod budgets;
pub mod bundles;
pub mod deliveries;
mod error;
pub mod evals;
mod hardening;
pub mod login_attempts;
pub mod menus;
pub mod models;
pub mod modules;
pub mod notifications;
mod pg_reader;
pub mod publications;
mod reader;
pub mod records;
pub mod reviews;
pub mod roles;
pub mod sessions;
pub mod spec_versions;
pub mod test_runs;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tokens;
pub mod usage;
pub mod users;
mod vocab;
pub mod webhooks;
mod writer;

pub use db::{Backend, Db, PgDb, PoolStats, SqliteDb, Tx};
pub use error::StoreError;
pub use models::ModelStatus;
pub use modules::{ModuleStatus, VersionSource};
pub use reviews::ReviewStatus;
pub use test_runs::RunStatus;

/// Milliseconds since the Unix epoch: the one time representation in the database.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A fresh identifier for a row (UUID v7: sortable by creation time).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
