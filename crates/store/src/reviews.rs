//! Reviews of module versions and their comment threads. Which review may move where
//! is the application's rule; the conditional updates here make a move happen at
//! most once when two people act at the same moment.

use crate::vocab::{parse, text_enum};
use crate::{Db, StoreError, Tx, now_ms};

text_enum! {
    /// Where a review is: waiting, being looked at, decided, taken back by its
    /// submitter, or overtaken by a newer version.
    pub enum ReviewStatus {
        Pending => "pending",
        Reviewing => "reviewing",
        Approved => "approved",
        Rejected => "rejected",
        Withdrawn => "withdrawn",
        Superseded => "superseded",
    }
}

impl ReviewStatus {
    /// Still waiting for a decision.
    pub fn is_open(self) -> bool {
        matches!(self, ReviewStatus::Pending | ReviewStatus::Reviewing)
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Review {
    pub id: String,
    pub module_id: String,
    pub version: i64,
    pub content_hash: String,
    pub status: ReviewStatus,
    pub submitted_by: String,
    pub note: String,
    pub reviewers: Vec<String>,
    pub test_run_id: Option<String>,
    pub coverage: Option<f64>,
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    module_id: String,
    version: i64,
    content_hash: String,
    status: String,
    submitted_by: String,
    note: String,
    reviewers: String,
    test_run_id: Option<String>,
    coverage: Option<f64>,
    decision: Option<String>,
    reason: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for Review {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Review {
            status: parse(&r.status, &format!("status of review {}", r.id))?,
            reviewers: serde_json::from_str(&r.reviewers)
                .map_err(|e| StoreError::Corrupt(format!("reviewers of review {}: {e}", r.id)))?,
            id: r.id,
            module_id: r.module_id,
            version: r.version,
            content_hash: r.content_hash,
            submitted_by: r.submitted_by,
            note: r.note,
            test_run_id: r.test_run_id,
            coverage: r.coverage,
            decision: r.decision,
            reason: r.reason,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, module_id, version, content_hash, status, submitted_by, note, reviewers, \
     test_run_id, coverage, decision, reason, decided_by, decided_at, created_at, updated_at";

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// A new review. [`StoreError::Conflict`] when the module has an open one already.
pub async fn insert(tx: &mut Tx, r: &Review) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO ai_module_reviews (id, module_id, version, content_hash, status, submitted_by, note, reviewers, \
         test_run_id, coverage, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)")
        .bind(&r.id).bind(&r.module_id).bind(r.version).bind(&r.content_hash).bind(r.status.as_str())
        .bind(&r.submitted_by).bind(&r.note).bind(json_list(&r.reviewers)).bind(&r.test_run_id)
        .bind(r.coverage).bind(r.created_at)
        .execute(c).await
        .map_err(StoreError::conflict_on_unique("an open review of this module"))?.rows_affected());
    Ok(())
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Review>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM ai_module_reviews WHERE id = $1");
    let row: Option<Row> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?);
    row.map(Review::try_from).transpose()
}

pub async fn get_in(tx: &mut Tx, id: &str) -> Result<Option<Review>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM ai_module_reviews WHERE id = $1");
    let row: Option<Row> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?);
    row.map(Review::try_from).transpose()
}

/// The module's open review, as the transaction sees it.
pub async fn open_for_module_in(
    tx: &mut Tx,
    module_id: &str,
) -> Result<Option<Review>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM ai_module_reviews WHERE module_id = $1 AND status IN ('pending', 'reviewing')"
    );
    let row: Option<Row> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(module_id).fetch_optional(c).await?);
    row.map(Review::try_from).transpose()
}

/// Reviews, newest first: every status, or those in `status`.
pub async fn list(db: &Db, status: Option<ReviewStatus>) -> Result<Vec<Review>, StoreError> {
    let rows: Vec<Row> = match status {
        Some(s) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM ai_module_reviews WHERE status = $1 ORDER BY created_at DESC, id DESC"
            );
            with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(s.as_str()).fetch_all(c).await?)
        }
        None => {
            let sql = format!(
                "SELECT {COLUMNS} FROM ai_module_reviews ORDER BY created_at DESC, id DESC"
            );
            with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?)
        }
    };
    rows.into_iter().map(Review::try_from).collect()
}

/// A module's reviews, newest first.
pub async fn for_module(db: &Db, module_id: &str) -> Result<Vec<Review>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM ai_module_reviews WHERE module_id = $1 ORDER BY created_at DESC, id DESC"
    );
    let rows: Vec<Row> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(module_id).fetch_all(c).await?);
    rows.into_iter().map(Review::try_from).collect()
}

/// The approval of version `version` whose content hash is `hash`, if any.
pub async fn approval_of(
    db: &Db,
    module_id: &str,
    version: i64,
    hash: &str,
) -> Result<Option<Review>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM ai_module_reviews WHERE module_id = $1 AND version = $2 AND content_hash = $3 \
         AND status = 'approved' ORDER BY decided_at DESC LIMIT 1"
    );
    let row: Option<Row> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(module_id).bind(version).bind(hash).fetch_optional(c).await?);
    row.map(Review::try_from).transpose()
}

/// Who wrote a version of the module, or started one of its AI generations, since
/// its last approval: the people four-eyes keeps from deciding on it.
const AUTHORS_SINCE_APPROVAL: &str = "WITH since AS (SELECT COALESCE(MAX(decided_at), 0) AS t FROM ai_module_reviews \
     WHERE module_id = $1 AND status = 'approved') \
     SELECT author FROM module_versions, since WHERE module_id = $1 AND created_at > since.t \
     UNION SELECT actor FROM audit_logs, since WHERE action = 'ai.generate' AND resource_id = $1 \
     AND at > since.t AND actor IS NOT NULL";

pub async fn authors_since_approval(db: &Db, module_id: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = with_db!(db, c => sqlx::query_as(AUTHORS_SINCE_APPROVAL)
        .bind(module_id).fetch_all(c).await?);
    Ok(rows.into_iter().map(|(a,)| a).collect())
}

/// [`authors_since_approval`] as the transaction sees it (for a decision).
pub async fn authors_since_approval_in(
    tx: &mut Tx,
    module_id: &str,
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = with_tx!(tx, c => sqlx::query_as(AUTHORS_SINCE_APPROVAL)
        .bind(module_id).fetch_all(c).await?);
    Ok(rows.into_iter().map(|(a,)| a).collect())
}

/// What a move records besides the status.
#[derive(Debug, Clone, Default)]
pub struct Decision<'a> {
    pub decision: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub by: Option<&'a str>,
}

/// Moves the review to `to` if it is in one of `from`; `false` when it was not (someone
/// else moved it first).
pub async fn transition(
    tx: &mut Tx,
    id: &str,
    from: &[ReviewStatus],
    to: ReviewStatus,
    d: Decision<'_>,
) -> Result<bool, StoreError> {
    let allowed = from
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let now = now_ms();
    let decided_at = d.decision.map(|_| now);
    let sql = format!(
        "UPDATE ai_module_reviews SET status = $1, updated_at = $2, \
         decision = COALESCE($3, decision), reason = COALESCE($4, reason), \
         decided_by = COALESCE($5, decided_by), decided_at = COALESCE($6, decided_at) \
         WHERE id = $7 AND status IN ({allowed})"
    );
    let n = with_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(to.as_str()).bind(now).bind(d.decision).bind(d.reason).bind(d.by).bind(decided_at).bind(id)
        .execute(c).await?.rows_affected());
    Ok(n == 1)
}

pub async fn set_reviewers(tx: &mut Tx, id: &str, reviewers: &[String]) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query(
        "UPDATE ai_module_reviews SET reviewers = $1, updated_at = $2 WHERE id = $3")
        .bind(json_list(reviewers)).bind(now_ms()).bind(id)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// One comment of a review's thread.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Comment {
    pub id: String,
    pub review_id: String,
    pub author: String,
    pub body: String,
    pub operation: Option<i64>,
    pub reply_to: Option<String>,
    pub resolved: bool,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<i64>,
    pub created_at: i64,
}

const COMMENT_COLUMNS: &str = "id, review_id, author, body, operation, reply_to, resolved, resolved_by, resolved_at, created_at";

pub async fn insert_comment(tx: &mut Tx, c: &Comment) -> Result<(), StoreError> {
    with_tx!(tx, conn => sqlx::query(
        "INSERT INTO review_comments (id, review_id, author, body, operation, reply_to, resolved, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(&c.id).bind(&c.review_id).bind(&c.author).bind(&c.body).bind(c.operation)
        .bind(&c.reply_to).bind(c.resolved).bind(c.created_at)
        .execute(conn).await?.rows_affected());
    Ok(())
}

/// A review's comments, oldest first.
pub async fn comments(db: &Db, review_id: &str) -> Result<Vec<Comment>, StoreError> {
    let sql = format!(
        "SELECT {COMMENT_COLUMNS} FROM review_comments WHERE review_id = $1 ORDER BY created_at, id"
    );
    Ok(
        with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(review_id).fetch_all(c).await?),
    )
}

pub async fn comment_in(
    tx: &mut Tx,
    review_id: &str,
    id: &str,
) -> Result<Option<Comment>, StoreError> {
    let sql =
        format!("SELECT {COMMENT_COLUMNS} FROM review_comments WHERE review_id = $1 AND id = $2");
    Ok(
        with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(review_id).bind(id).fetch_optional(c).await?),
    )
}

/// Marks a comment resolved; `false` when it already was.
pub async fn resolve_comment(tx: &mut Tx, id: &str, by: &str) -> Result<bool, StoreError> {
    let n = with_tx!(tx, c => sqlx::query(
        "UPDATE review_comments SET resolved = TRUE, resolved_by = $1, resolved_at = $2 WHERE id = $3 AND NOT resolved")
        .bind(by).bind(now_ms()).bind(id).execute(c).await?.rows_affected());
    Ok(n == 1)
}
