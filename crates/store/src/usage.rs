//! Model calls as rows: what each used and cost. Budgets and the usage page sum them.

use crate::{Db, StoreError, new_id};

/// One model call.
#[derive(Debug, Clone)]
pub struct NewUsage {
    pub at: i64,
    pub model_id: String,
    pub model_name: String,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub module_id: Option<String>,
    /// `generate` or `eval`.
    pub purpose: &'static str,
    /// `ok` or the error kind.
    pub outcome: String,
    pub tokens_in: i64,
    pub cached_in: i64,
    pub tokens_out: i64,
    pub cost_micros: i64,
    pub currency: Option<String>,
    pub latency_ms: i64,
}

pub async fn record(db: &Db, u: &NewUsage) -> Result<(), StoreError> {
    with_db!(db, c => sqlx::query(
        "INSERT INTO model_usage (id, at, model_id, model_name, user_id, username, module_id, purpose, \
         outcome, tokens_in, cached_in, tokens_out, cost_micros, currency, latency_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)")
        .bind(new_id()).bind(u.at).bind(&u.model_id).bind(&u.model_name).bind(&u.user_id)
        .bind(&u.username).bind(&u.module_id).bind(u.purpose).bind(&u.outcome).bind(u.tokens_in)
        .bind(u.cached_in).bind(u.tokens_out).bind(u.cost_micros).bind(&u.currency).bind(u.latency_ms)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Tokens (in + out) and the cost in `currency` of the calls in `[from, to)`, of one
/// model or of all.
pub async fn spent(
    db: &Db,
    model_id: Option<&str>,
    from: i64,
    to: i64,
    currency: &str,
) -> Result<(i64, i64), StoreError> {
    let (tokens, cost): (i64, i64) = with_db!(db, c => sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(tokens_in + tokens_out), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN currency = $3 THEN cost_micros ELSE 0 END), 0) AS BIGINT) \
         FROM model_usage WHERE at >= $1 AND at < $2 AND ($4 IS NULL OR model_id = $4)")
        .bind(from).bind(to).bind(currency).bind(model_id)
        .fetch_one(c).await?);
    Ok((tokens, cost))
}

/// What usage is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Model,
    /// Days since the epoch (UTC).
    Day,
    User,
    Module,
}

impl Dim {
    /// The key as text (a day as its number since the epoch) and a label.
    fn exprs(self) -> (&'static str, &'static str) {
        match self {
            Dim::Model => ("model_id", "MAX(model_name)"),
            Dim::Day => ("CAST(at / 86400000 AS TEXT)", "''"),
            Dim::User => ("COALESCE(username, '')", "''"),
            Dim::Module => ("COALESCE(module_id, '')", "''"),
        }
    }
}

/// Sums over one group, in one currency (a group with calls in several currencies
/// has a row per currency).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Sums {
    pub key: String,
    /// The second key, when grouped by two dimensions; else empty.
    pub key2: String,
    /// The model's name when grouped by model first; else empty.
    pub label: String,
    pub currency: String,
    pub calls: i64,
    pub failed: i64,
    pub tokens_in: i64,
    pub cached_in: i64,
    pub tokens_out: i64,
    pub cost_micros: i64,
}

/// Which calls are summed.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: i64,
    pub to: i64,
    pub module_id: Option<String>,
}

/// Usage in the filter's window grouped by one or two dimensions, largest first.
pub async fn grouped(
    db: &Db,
    f: &Filter,
    by: Dim,
    then: Option<Dim>,
) -> Result<Vec<Sums>, StoreError> {
    let (k1, label) = by.exprs();
    let k2 = then.map_or("''", |d| d.exprs().0);
    // PostgreSQL refuses a constant in GROUP BY: the second key is grouped only when
    // there is one.
    let group2 = then.map_or(String::new(), |d| format!("{}, ", d.exprs().0));
    // Fixed expressions only: nothing a caller gives reaches the SQL text.
    let sql = format!(
        "SELECT {k1} AS key, {k2} AS key2, {label} AS label, COALESCE(currency, '') AS currency, \
         COUNT(*) AS calls, CAST(SUM(CASE WHEN outcome = 'ok' THEN 0 ELSE 1 END) AS BIGINT) AS failed, \
         CAST(SUM(tokens_in) AS BIGINT) AS tokens_in, CAST(SUM(cached_in) AS BIGINT) AS cached_in, \
         CAST(SUM(tokens_out) AS BIGINT) AS tokens_out, CAST(SUM(cost_micros) AS BIGINT) AS cost_micros \
         FROM model_usage WHERE at >= $1 AND at < $2 AND ($3 IS NULL OR module_id = $3) \
         GROUP BY {k1}, {group2}COALESCE(currency, '') \
         ORDER BY SUM(tokens_in + tokens_out) DESC, key, key2"
    );
    let rows: Vec<Sums> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(f.from).bind(f.to).bind(&f.module_id).fetch_all(c).await?);
    Ok(rows)
}
