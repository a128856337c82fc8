//! Browser sessions. Only a hash of the cookie value is stored, so a copy of the
//! database does not hand out live sessions.

use crate::{Db, StoreError, Tx, now_ms};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub user_id: String,
    pub csrf_token: String,
    pub expires_at: i64,
}

pub async fn create(
    tx: &mut Tx,
    token_hash: &str,
    user_id: &str,
    csrf_token: &str,
    ttl_ms: i64,
) -> Result<(), StoreError> {
    let now = now_ms();
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(csrf_token)
    .bind(now)
    .bind(now + ttl_ms)
    .execute(c)
    .await?.rows_affected());
    // Expired sessions are swept here rather than by a timer: logins are frequent
    // enough, and this keeps the table small without another moving part.
    with_tx!(tx, c => sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(c).await?.rows_affected());
    Ok(())
}

/// The live session with this token hash, if any.
pub async fn find(db: &Db, token_hash: &str) -> Result<Option<Session>, StoreError> {
    Ok(with_db!(db, c => sqlx::query_as(
        "SELECT user_id, csrf_token, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now_ms())
    .fetch_optional(c)
    .await?))
}

pub async fn delete(tx: &mut Tx, token_hash: &str) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(c).await?.rows_affected());
    Ok(())
}

/// Ends every session of a user (deactivation, password reset).
pub async fn delete_for_user(tx: &mut Tx, user_id: &str) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(c).await?.rows_affected());
    Ok(())
}
