//! Evaluation runs: a model over a corpus, with totals and per-request results.

use crate::{Db, StoreError};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EvalRun {
    pub id: String,
    pub model_id: String,
    pub model_name: String,
    pub corpus: String,
    pub started_by: String,
    pub started_at: i64,
    pub finished_at: i64,
    /// JSON.
    pub summary: String,
    /// JSON array; empty in [`latest`].
    pub results: String,
}

pub async fn insert(db: &Db, r: &EvalRun) -> Result<(), StoreError> {
    with_db!(db, c => sqlx::query(
        "INSERT INTO model_evals (id, model_id, model_name, corpus, started_by, started_at, finished_at, \
         summary, results) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(&r.id).bind(&r.model_id).bind(&r.model_name).bind(&r.corpus).bind(&r.started_by)
        .bind(r.started_at).bind(r.finished_at).bind(&r.summary).bind(&r.results)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// The newest run of each model, without the per-request results.
pub async fn latest(db: &Db) -> Result<Vec<EvalRun>, StoreError> {
    let rows: Vec<EvalRun> = with_db!(db, c => sqlx::query_as(
        "SELECT e.id, e.model_id, e.model_name, e.corpus, e.started_by, e.started_at, e.finished_at, \
         e.summary, '' AS results FROM model_evals e \
         WHERE e.finished_at = (SELECT MAX(x.finished_at) FROM model_evals x WHERE x.model_id = e.model_id) \
         ORDER BY e.model_name")
        .fetch_all(c).await?);
    // Two runs finishing in the same millisecond: keep one.
    let mut seen = std::collections::BTreeSet::new();
    Ok(rows
        .into_iter()
        .filter(|r| seen.insert(r.model_id.clone()))
        .collect())
}

pub async fn get(db: &Db, id: &str) -> Result<Option<EvalRun>, StoreError> {
    Ok(with_db!(db, c => sqlx::query_as(
        "SELECT id, model_id, model_name, corpus, started_by, started_at, finished_at, summary, results \
         FROM model_evals WHERE id = $1")
        .bind(id).fetch_optional(c).await?))
}
