/// What went wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint rejected the write; the string names what was duplicated.
    #[error("{0} already exists")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Maps a unique violation to [`StoreError::Conflict`], leaving other errors as they are.
    pub(crate) fn conflict_on_unique(what: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
        move |e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict(what.to_owned())
            }
            _ => StoreError::Database(e),
        }
    }
}
