//! The outbox of webhook and email deliveries. Rows are written in the transaction of
//! the state change they announce; workers claim due rows with a lease, so that of
//! several workers (and replicas) exactly one sends a given attempt.

use crate::vocab::{parse, text_enum};
use crate::{Db, StoreError, Tx, now_ms};

text_enum! {
    /// Waiting (for its first try or a retry), sent, or given up after the last attempt.
    pub enum DeliveryStatus {
        Pending => "pending",
        Delivered => "delivered",
        Failed => "failed",
    }
}

text_enum! {
    /// How a delivery goes out.
    pub enum Channel {
        Webhook => "webhook",
        Email => "email",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    pub event: String,
    pub channel: Channel,
    pub webhook_id: Option<String>,
    /// The address of an email delivery.
    pub recipient: Option<String>,
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_at: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    event_id: String,
    event: String,
    channel: String,
    webhook_id: Option<String>,
    recipient: Option<String>,
    payload: String,
    status: String,
    attempts: i64,
    next_at: i64,
    last_status: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    delivered_at: Option<i64>,
}

impl TryFrom<Row> for Delivery {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Delivery {
            status: parse(&r.status, &format!("status of delivery {}", r.id))?,
            channel: parse(&r.channel, &format!("channel of delivery {}", r.id))?,
            id: r.id,
            event_id: r.event_id,
            event: r.event,
            webhook_id: r.webhook_id,
            recipient: r.recipient,
            payload: r.payload,
            attempts: r.attempts,
            next_at: r.next_at,
            last_status: r.last_status,
            last_error: r.last_error,
            created_at: r.created_at,
            delivered_at: r.delivered_at,
        })
    }
}

const COLUMNS: &str = "id, event_id, event, channel, webhook_id, recipient, payload, status, attempts, next_at, \
     last_status, last_error, created_at, delivered_at";

/// One try at sending a delivery.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Attempt {
    pub delivery_id: String,
    pub attempt: i64,
    pub at: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// Adds a pending delivery, due now.
pub async fn enqueue(tx: &mut Tx, d: &Delivery) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO deliveries (id, event_id, event, channel, webhook_id, recipient, payload, status, attempts, \
         next_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8)")
        .bind(&d.id).bind(&d.event_id).bind(&d.event).bind(d.channel.as_str()).bind(&d.webhook_id)
        .bind(&d.recipient).bind(&d.payload).bind(d.created_at)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Pending deliveries due by `now` that nobody holds, oldest first.
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = with_db!(db, c => sqlx::query_as(
        "SELECT id FROM deliveries WHERE status = 'pending' AND next_at <= $1 \
         AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_at, id LIMIT $2")
        .bind(now).bind(limit).fetch_all(c).await?);
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Takes the delivery for `owner` until `until`, if it is still pending, due and
/// unheld: one conditional update, so of several workers exactly one gets it.
pub async fn claim(
    db: &Db,
    id: &str,
    owner: &str,
    now: i64,
    until: i64,
) -> Result<Option<Delivery>, StoreError> {
    let n = with_db!(db, c => sqlx::query(
        "UPDATE deliveries SET lease_owner = $1, lease_until = $2 WHERE id = $3 AND status = 'pending' \
         AND next_at <= $4 AND (lease_until IS NULL OR lease_until < $4)")
        .bind(owner).bind(until).bind(id).bind(now).execute(c).await?.rows_affected());
    if n == 0 {
        return Ok(None);
    }
    get(db, id).await
}

/// Deliveries waiting to go out (due or retrying later): the queue's depth.
pub async fn pending(db: &Db) -> Result<i64, StoreError> {
    let (n,): (i64,) = with_db!(db, c => sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
        .fetch_one(c)
        .await?);
    Ok(n)
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Delivery>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE id = $1");
    let row: Option<Row> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?);
    row.map(Delivery::try_from).transpose()
}

/// What became of an attempt.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// Sent: the receiver accepted it.
    pub delivered: bool,
    /// When to try again; `None` with `delivered` false: give up.
    pub retry_at: Option<i64>,
}

/// Records an attempt by the lease holder and moves the delivery on; `false` when the
/// lease was lost (the attempt is not recorded twice).
pub async fn finish(
    tx: &mut Tx,
    id: &str,
    owner: &str,
    attempt: i64,
    o: &Outcome,
) -> Result<bool, StoreError> {
    let now = now_ms();
    let status = if o.delivered {
        DeliveryStatus::Delivered
    } else if o.retry_at.is_some() {
        DeliveryStatus::Pending
    } else {
        DeliveryStatus::Failed
    };
    let n = with_tx!(tx, c => sqlx::query(
        "UPDATE deliveries SET status = $1, attempts = $2, next_at = $3, lease_owner = NULL, lease_until = NULL, \
         last_status = $4, last_error = $5, delivered_at = $6 WHERE id = $7 AND lease_owner = $8")
        .bind(status.as_str()).bind(attempt).bind(o.retry_at.unwrap_or(now)).bind(o.status_code)
        .bind(&o.error).bind(o.delivered.then_some(now)).bind(id).bind(owner)
        .execute(c).await?.rows_affected());
    if n == 0 {
        return Ok(false);
    }
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, error, duration_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id).bind(attempt).bind(now).bind(o.status_code).bind(&o.error).bind(o.duration_ms)
        .execute(c).await?.rows_affected());
    Ok(true)
}

/// A webhook's deliveries, newest first, with their attempts.
pub async fn for_webhook(
    db: &Db,
    webhook_id: &str,
    limit: i64,
) -> Result<Vec<(Delivery, Vec<Attempt>)>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM deliveries WHERE webhook_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    );
    let rows: Vec<Row> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(webhook_id).bind(limit).fetch_all(c).await?);
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let d = Delivery::try_from(r)?;
        let attempts: Vec<Attempt> = with_db!(db, c => sqlx::query_as(
            "SELECT delivery_id, attempt, at, status_code, error, duration_ms FROM delivery_attempts \
             WHERE delivery_id = $1 ORDER BY attempt").bind(&d.id).fetch_all(c).await?);
        out.push((d, attempts));
    }
    Ok(out)
}

/// Puts a delivered or failed delivery back in the queue, due now (one more attempt;
/// retries follow while it is under the attempt limit); `false` when it is pending
/// already.
pub async fn redeliver(tx: &mut Tx, id: &str) -> Result<bool, StoreError> {
    let n = with_tx!(tx, c => sqlx::query(
        "UPDATE deliveries SET status = 'pending', next_at = $1, lease_owner = NULL, lease_until = NULL \
         WHERE id = $2 AND status <> 'pending'")
        .bind(now_ms()).bind(id).execute(c).await?.rows_affected());
    Ok(n == 1)
}
