//! Failed-login throttling, per typed username (existing or not).

use crate::{Db, StoreError, now_ms};

/// When failures lock a name out, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures within `window_ms` that trigger a lock.
    pub max_failures: i64,
    pub window_ms: i64,
    pub lock_ms: i64,
}

/// Until when (unix ms) `username` is locked, if it is now.
pub async fn locked_until(db: &Db, username: &str) -> Result<Option<i64>, StoreError> {
    let row: Option<(Option<i64>,)> = with_db!(db, c => sqlx::query_as(
        "SELECT locked_until FROM login_attempts WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(c)
    .await?);
    let now = now_ms();
    Ok(row.and_then(|r| r.0).filter(|&t| t > now))
}

/// Counts a failure; returns the lock's end when this failure triggered one.
pub async fn record_failure(
    db: &Db,
    username: &str,
    policy: Policy,
) -> Result<Option<i64>, StoreError> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    let row: Option<(i64, i64)> = with_tx!(&mut tx, c => sqlx::query_as(
        "SELECT failures, first_failure_at FROM login_attempts WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(c)
    .await?);
    let (failures, first) = match row {
        Some((n, first)) if now - first <= policy.window_ms => (n + 1, first),
        _ => (1, now),
    };
    let lock = (failures >= policy.max_failures).then_some(now + policy.lock_ms);
    // A lock starts a fresh window, so the next failure after it ends counts from one.
    let (stored_failures, stored_first) = if lock.is_some() {
        (0, now)
    } else {
        (failures, first)
    };
    with_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO login_attempts (username, failures, first_failure_at, locked_until) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (username) DO UPDATE SET failures = excluded.failures, \
         first_failure_at = excluded.first_failure_at, locked_until = excluded.locked_until",
    )
    .bind(username)
    .bind(stored_failures)
    .bind(stored_first)
    .bind(lock)
    .execute(c)
    .await?.rows_affected());
    tx.commit().await?;
    Ok(lock)
}

pub async fn clear(db: &Db, username: &str) -> Result<(), StoreError> {
    with_db!(db, c => sqlx::query("DELETE FROM login_attempts WHERE username = $1")
        .bind(username)
        .execute(c)
        .await?.rows_affected());
    Ok(())
}
