//! Monthly limits on model use, per model or over all models.

use crate::{Db, StoreError, Tx, now_ms};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Budget {
    pub id: String,
    /// `None`: all models together.
    pub model_id: Option<String>,
    pub period: String,
    pub limit_tokens: Option<i64>,
    pub limit_cost_micros: Option<i64>,
    pub currency: String,
    /// The period whose 80% warning went out.
    pub warned_period: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, model_id, period, limit_tokens, limit_cost_micros, currency, warned_period, \
     created_at, updated_at";

pub async fn list(db: &Db) -> Result<Vec<Budget>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM model_budgets ORDER BY model_id IS NOT NULL, created_at");
    Ok(with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?))
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Budget>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM model_budgets WHERE id = $1");
    Ok(
        with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?),
    )
}

pub async fn insert(tx: &mut Tx, b: &Budget) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO model_budgets (id, model_id, period, limit_tokens, limit_cost_micros, currency, \
         warned_period, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
        .bind(&b.id).bind(&b.model_id).bind(&b.period).bind(b.limit_tokens).bind(b.limit_cost_micros)
        .bind(&b.currency).bind(&b.warned_period).bind(b.created_at)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Writes the limits; a changed limit may warn again this period.
pub async fn update(tx: &mut Tx, b: &Budget) -> Result<(), StoreError> {
    let n = with_tx!(tx, c => sqlx::query(
        "UPDATE model_budgets SET model_id = $1, period = $2, limit_tokens = $3, limit_cost_micros = $4, \
         currency = $5, warned_period = $6, updated_at = $7 WHERE id = $8")
        .bind(&b.model_id).bind(&b.period).bind(b.limit_tokens).bind(b.limit_cost_micros)
        .bind(&b.currency).bind(&b.warned_period).bind(now_ms()).bind(&b.id)
        .execute(c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::NotFound(format!("budget {}", b.id)));
    }
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: &str) -> Result<(), StoreError> {
    let n = with_tx!(tx, c => sqlx::query("DELETE FROM model_budgets WHERE id = $1")
        .bind(id).execute(c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::NotFound(format!("budget {id}")));
    }
    Ok(())
}

/// The budgets of one model (its own, not the overall ones).
pub async fn of_model(tx: &mut Tx, model_id: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = with_tx!(tx, c => sqlx::query_as(
        "SELECT id FROM model_budgets WHERE model_id = $1").bind(model_id).fetch_all(c).await?);
    Ok(rows.into_iter().map(|(i,)| i).collect())
}

/// Claims the period's warning: true for exactly one caller, across replicas.
pub async fn claim_warning(tx: &mut Tx, id: &str, period: &str) -> Result<bool, StoreError> {
    let n = with_tx!(tx, c => sqlx::query(
        "UPDATE model_budgets SET warned_period = $1 WHERE id = $2 \
         AND (warned_period IS NULL OR warned_period <> $1)")
        .bind(period).bind(id).execute(c).await?.rows_affected());
    Ok(n == 1)
}
