//! In-app notifications and each user's choice of events and channels.

use crate::{Db, StoreError, Tx, now_ms};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Notification {
    pub id: String,
    pub user_id: String,
    pub event_id: String,
    pub event: String,
    pub payload: String,
    pub read_at: Option<i64>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, user_id, event_id, event, payload, read_at, created_at";

pub async fn insert(tx: &mut Tx, n: &Notification) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO notifications (id, user_id, event_id, event, payload, read_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, NULL, $6)")
        .bind(&n.id).bind(&n.user_id).bind(&n.event_id).bind(&n.event).bind(&n.payload).bind(n.created_at)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// A user's notifications, newest first (only the unread ones when `unread`).
pub async fn list(
    db: &Db,
    user_id: &str,
    unread: bool,
    limit: i64,
) -> Result<Vec<Notification>, StoreError> {
    let filter = if unread { " AND read_at IS NULL" } else { "" };
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications WHERE user_id = $1{filter} ORDER BY created_at DESC, id DESC LIMIT $2"
    );
    Ok(
        with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user_id).bind(limit).fetch_all(c).await?),
    )
}

/// How many unread notifications the user has, and the newest one's id (what a
/// live count compares to notice a change).
pub async fn unread(db: &Db, user_id: &str) -> Result<(i64, Option<String>), StoreError> {
    let (n,): (i64,) = with_db!(db, c => sqlx::query_as(
        "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user_id).fetch_one(c).await?);
    let newest: Option<(String,)> = with_db!(db, c => sqlx::query_as(
        "SELECT id FROM notifications WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1")
        .bind(user_id).fetch_optional(c).await?);
    Ok((n, newest.map(|(id,)| id)))
}

/// Marks one of the user's notifications read; `None` when the user has no such
/// notification, `Some(false)` when it was read already.
pub async fn mark_read(db: &Db, user_id: &str, id: &str) -> Result<Option<bool>, StoreError> {
    let n = with_db!(db, c => sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE id = $2 AND user_id = $3 AND read_at IS NULL")
        .bind(now_ms()).bind(id).bind(user_id).execute(c).await?.rows_affected());
    if n == 1 {
        return Ok(Some(true));
    }
    let exists: Option<(String,)> = with_db!(db, c => sqlx::query_as(
        "SELECT id FROM notifications WHERE id = $1 AND user_id = $2").bind(id).bind(user_id).fetch_optional(c).await?);
    Ok(exists.map(|_| false))
}

/// Marks every notification of the user read; how many were unread.
pub async fn mark_all_read(db: &Db, user_id: &str) -> Result<u64, StoreError> {
    Ok(with_db!(db, c => sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
        .bind(now_ms()).bind(user_id).execute(c).await?.rows_affected()))
}

/// The choices a user made: (event, channel, enabled). Anything not listed is on.
pub async fn preferences(
    db: &Db,
    user_id: &str,
) -> Result<Vec<(String, String, bool)>, StoreError> {
    Ok(with_db!(db, c => sqlx::query_as(
        "SELECT event, channel, enabled FROM notification_preferences WHERE user_id = $1 ORDER BY event, channel")
        .bind(user_id).fetch_all(c).await?))
}

/// Replaces the user's choices.
pub async fn set_preferences(
    tx: &mut Tx,
    user_id: &str,
    prefs: &[(String, String, bool)],
) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query("DELETE FROM notification_preferences WHERE user_id = $1")
        .bind(user_id).execute(c).await?.rows_affected());
    for (event, channel, enabled) in prefs {
        with_tx!(tx, c => sqlx::query(
            "INSERT INTO notification_preferences (user_id, event, channel, enabled) VALUES ($1, $2, $3, $4)")
            .bind(user_id).bind(event).bind(channel).bind(*enabled).execute(c).await?.rows_affected());
    }
    Ok(())
}

/// The choices of several users for one event and channel, as the transaction sees
/// them: the ids of those who turned it off.
pub async fn opted_out_in(
    tx: &mut Tx,
    event: &str,
    channel: &str,
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = with_tx!(tx, c => sqlx::query_as(
        "SELECT user_id FROM notification_preferences WHERE event = $1 AND channel = $2 AND NOT enabled")
        .bind(event).bind(channel).fetch_all(c).await?);
    Ok(rows.into_iter().map(|(u,)| u).collect())
}
