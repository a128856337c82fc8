//! Webhook subscriptions. Secrets arrive sealed; this layer never sees them in clear.

use crate::{Db, StoreError, Tx, now_ms};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    /// Event names; empty: every event.
    pub events: Vec<String>,
    pub enabled: bool,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Webhook {
    /// Whether the webhook wants `event`.
    pub fn wants(&self, event: &str) -> bool {
        self.enabled && (self.events.is_empty() || self.events.iter().any(|e| e == event))
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    url: String,
    events: String,
    enabled: bool,
    secret: String,
    previous_secret: Option<String>,
    previous_until: Option<i64>,
    created_by: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for Webhook {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Webhook {
            events: serde_json::from_str(&r.events)
                .map_err(|e| StoreError::Corrupt(format!("events of webhook {}: {e}", r.id)))?,
            id: r.id,
            url: r.url,
            enabled: r.enabled,
            secret: r.secret,
            previous_secret: r.previous_secret,
            previous_until: r.previous_until,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, url, events, enabled, secret, previous_secret, previous_until, created_by, created_at, updated_at";

fn events_json(events: &[String]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".into())
}

pub async fn insert(tx: &mut Tx, w: &Webhook) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO webhooks (id, url, events, enabled, secret, previous_secret, previous_until, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $7, $7)")
        .bind(&w.id).bind(&w.url).bind(events_json(&w.events)).bind(w.enabled).bind(&w.secret)
        .bind(&w.created_by).bind(w.created_at)
        .execute(c).await?.rows_affected());
    Ok(())
}

pub async fn list(db: &Db) -> Result<Vec<Webhook>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM webhooks ORDER BY created_at, id");
    let rows: Vec<Row> =
        with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?);
    rows.into_iter().map(Webhook::try_from).collect()
}

/// Every webhook, as the transaction sees them (to fan an event out).
pub async fn list_in(tx: &mut Tx) -> Result<Vec<Webhook>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM webhooks ORDER BY created_at, id");
    let rows: Vec<Row> =
        with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?);
    rows.into_iter().map(Webhook::try_from).collect()
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Webhook>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM webhooks WHERE id = $1");
    let row: Option<Row> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?);
    row.map(Webhook::try_from).transpose()
}

/// URL, events and enabled.
pub async fn update(tx: &mut Tx, w: &Webhook) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query(
        "UPDATE webhooks SET url = $1, events = $2, enabled = $3, updated_at = $4 WHERE id = $5")
        .bind(&w.url).bind(events_json(&w.events)).bind(w.enabled).bind(now_ms()).bind(&w.id)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// A new secret; the old one stays valid until `previous_until`.
pub async fn rotate(
    tx: &mut Tx,
    id: &str,
    secret: &str,
    previous: &str,
    previous_until: i64,
) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query(
        "UPDATE webhooks SET secret = $1, previous_secret = $2, previous_until = $3, updated_at = $4 WHERE id = $5")
        .bind(secret).bind(previous).bind(previous_until).bind(now_ms()).bind(id)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Deletes the webhook and its deliveries; `false` when there was none.
pub async fn delete(tx: &mut Tx, id: &str) -> Result<bool, StoreError> {
    with_tx!(tx, c => sqlx::query(
        "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE webhook_id = $1)")
        .bind(id).execute(c).await?.rows_affected());
    with_tx!(tx, c => sqlx::query("DELETE FROM deliveries WHERE webhook_id = $1")
        .bind(id).execute(c).await?.rows_affected());
    let n = with_tx!(tx, c => sqlx::query("DELETE FROM webhooks WHERE id = $1")
        .bind(id).execute(c).await?.rows_affected());
    Ok(n == 1)
}
