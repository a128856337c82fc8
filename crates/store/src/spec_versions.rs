//! The live spec's history. The newest row is the live spec; replicas notice a new
//! one by polling the cheap `MAX(number)`.

use crate::{Db, StoreError, Tx, now_ms};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct SpecVersion {
    pub number: i64,
    pub content: String,
    pub hash: String,
    pub cause: String,
    pub created_at: i64,
}

pub fn hash_of(content: &str) -> String {
    hex::encode(Sha256::digest(content.as_bytes()))
}

/// The newest version's number (0 when there is none).
pub async fn latest_number(db: &Db) -> Result<i64, StoreError> {
    let (n,): (Option<i64>,) = with_db!(db, c => sqlx::query_as("SELECT MAX(number) FROM spec_versions").fetch_one(c).await?);
    Ok(n.unwrap_or(0))
}

pub async fn latest(db: &Db) -> Result<Option<SpecVersion>, StoreError> {
    Ok(with_db!(db, c => sqlx::query_as(
        "SELECT number, content, hash, cause, created_at FROM spec_versions ORDER BY number DESC LIMIT 1",
    )
    .fetch_optional(c)
    .await?))
}

/// The newest version as the transaction sees it.
pub async fn latest_in(tx: &mut Tx) -> Result<Option<SpecVersion>, StoreError> {
    Ok(with_tx!(tx, c => sqlx::query_as(
        "SELECT number, content, hash, cause, created_at FROM spec_versions ORDER BY number DESC LIMIT 1",
    )
    .fetch_optional(c)
    .await?))
}

/// Records `content` as the new live spec inside `tx`, unless it equals the latest;
/// returns the live version and whether it is new. Writers are serialised (an advisory
/// lock on PostgreSQL, the write lock of `BEGIN IMMEDIATE` on SQLite), so concurrent
/// writers get consecutive numbers.
pub async fn record_in(
    tx: &mut Tx,
    content: &str,
    cause: &str,
) -> Result<(SpecVersion, bool), StoreError> {
    if let crate::Tx::Postgres(t) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock(727003)")
            .execute(&mut **t)
            .await?;
    }
    let last = latest_in(tx).await?;
    let hash = hash_of(content);
    if let Some(l) = last.as_ref().filter(|l| l.hash == hash) {
        return Ok((l.clone(), false));
    }
    let v = SpecVersion {
        number: last.map(|l| l.number + 1).unwrap_or(1),
        content: content.to_owned(),
        hash,
        cause: cause.to_owned(),
        created_at: now_ms(),
    };
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO spec_versions (number, content, hash, cause, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(v.number).bind(&v.content).bind(&v.hash).bind(&v.cause).bind(v.created_at)
    .execute(c)
    .await?
    .rows_affected());
    Ok((v, true))
}

/// [`record_in`] in a transaction of its own. The application writes the live spec
/// only through its `recompute`; this is for tools and tests that play a database
/// administrator.
pub async fn record(db: &Db, content: &str, cause: &str) -> Result<SpecVersion, StoreError> {
    let mut tx = db.begin().await?;
    let (v, _) = record_in(&mut tx, content, cause).await?;
    tx.commit().await?;
    Ok(v)
}

/// The history, newest first, without contents: (number, hash, cause, created_at).
pub async fn history(db: &Db, limit: i64) -> Result<Vec<(i64, String, String, i64)>, StoreError> {
    Ok(with_db!(db, c => sqlx::query_as(
        "SELECT number, hash, cause, created_at FROM spec_versions ORDER BY number DESC LIMIT $1")
        .bind(limit).fetch_all(c).await?))
}
