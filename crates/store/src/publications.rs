//! Which module versions are published, in what order; releases; the published set
//! behind each spec version; first answers of retried requests.

use crate::vocab::{parse, text_enum};
use crate::{Db, StoreError, Tx};

text_enum! {
    /// Whether a module's published version is part of the live spec.
    pub enum PublicationStatus {
        Published => "published",
        Unpublished => "unpublished",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Publication {
    pub module_id: String,
    pub version: i64,
    pub content_hash: String,
    pub position: i64,
    pub status: PublicationStatus,
    pub release: String,
    pub published_by: String,
    pub published_at: i64,
    pub unpublished_by: Option<String>,
    pub unpublished_at: Option<i64>,
    pub spec_version: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    module_id: String,
    version: i64,
    content_hash: String,
    position: i64,
    status: String,
    release: String,
    published_by: String,
    published_at: i64,
    unpublished_by: Option<String>,
    unpublished_at: Option<i64>,
    spec_version: i64,
}

impl TryFrom<Row> for Publication {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Publication {
            status: parse(&r.status, &format!("status of publication {}", r.module_id))?,
            module_id: r.module_id,
            version: r.version,
            content_hash: r.content_hash,
            position: r.position,
            release: r.release,
            published_by: r.published_by,
            published_at: r.published_at,
            unpublished_by: r.unpublished_by,
            unpublished_at: r.unpublished_at,
            spec_version: r.spec_version,
        })
    }
}

const COLUMNS: &str = "module_id, version, content_hash, position, status, release, published_by, \
     published_at, unpublished_by, unpublished_at, spec_version";

/// Every publication (published or not), in publish order.
pub async fn list(db: &Db) -> Result<Vec<Publication>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM published_modules ORDER BY position");
    let rows: Vec<Row> =
        with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?);
    rows.into_iter().map(Publication::try_from).collect()
}

/// Every publication as the transaction sees it, in publish order.
pub async fn list_in(tx: &mut Tx) -> Result<Vec<Publication>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM published_modules ORDER BY position");
    let rows: Vec<Row> =
        with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?);
    rows.into_iter().map(Publication::try_from).collect()
}

/// Inserts or replaces the module's publication (its position is the caller's choice:
/// kept on a replacement, next on a first publish).
pub async fn put(tx: &mut Tx, p: &Publication) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query("DELETE FROM published_modules WHERE module_id = $1")
        .bind(&p.module_id).execute(c).await?.rows_affected());
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO published_modules (module_id, version, content_hash, position, status, release, published_by, \
         published_at, unpublished_by, unpublished_at, spec_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
        .bind(&p.module_id).bind(p.version).bind(&p.content_hash).bind(p.position).bind(p.status.as_str())
        .bind(&p.release).bind(&p.published_by).bind(p.published_at).bind(&p.unpublished_by)
        .bind(p.unpublished_at).bind(p.spec_version)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// One release of a module.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Release {
    pub id: String,
    pub module_id: String,
    pub version: i64,
    pub content_hash: String,
    pub release: String,
    pub changelog: String,
    pub action: String,
    pub by_user: String,
    pub at: i64,
    pub spec_version: i64,
}

pub async fn add_release(tx: &mut Tx, r: &Release) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO module_releases (id, module_id, version, content_hash, release, changelog, action, by_user, at, spec_version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(&r.id).bind(&r.module_id).bind(r.version).bind(&r.content_hash).bind(&r.release)
        .bind(&r.changelog).bind(&r.action).bind(&r.by_user).bind(r.at).bind(r.spec_version)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// A module's releases, newest first.
pub async fn releases(db: &Db, module_id: &str) -> Result<Vec<Release>, StoreError> {
    Ok(with_db!(db, c => sqlx::query_as(
        "SELECT id, module_id, version, content_hash, release, changelog, action, by_user, at, spec_version \
         FROM module_releases WHERE module_id = $1 ORDER BY at DESC, id DESC")
        .bind(module_id).fetch_all(c).await?))
}

/// A module's releases as the transaction sees them, newest first.
pub async fn releases_in(tx: &mut Tx, module_id: &str) -> Result<Vec<Release>, StoreError> {
    Ok(with_tx!(tx, c => sqlx::query_as(
        "SELECT id, module_id, version, content_hash, release, changelog, action, by_user, at, spec_version \
         FROM module_releases WHERE module_id = $1 ORDER BY at DESC, id DESC")
        .bind(module_id).fetch_all(c).await?))
}

/// Records the published set (module, version, position) behind a spec version.
pub async fn snapshot(
    tx: &mut Tx,
    spec_version: i64,
    set: &[(String, i64, i64)],
) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query("DELETE FROM spec_version_modules WHERE spec_version = $1")
        .bind(spec_version).execute(c).await?.rows_affected());
    for (module_id, version, position) in set {
        with_tx!(tx, c => sqlx::query(
            "INSERT INTO spec_version_modules (spec_version, position, module_id, version) VALUES ($1, $2, $3, $4)")
            .bind(spec_version).bind(*position).bind(module_id).bind(*version)
            .execute(c).await?.rows_affected());
    }
    Ok(())
}

/// The published set behind a spec version: (module, version, position) in order.
pub async fn set_of(tx: &mut Tx, spec_version: i64) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(with_tx!(tx, c => sqlx::query_as(
        "SELECT module_id, version, position FROM spec_version_modules WHERE spec_version = $1 ORDER BY position")
        .bind(spec_version).fetch_all(c).await?))
}

/// The first answer given for `key` by `user`: (request, status, body).
pub async fn idempotent(
    db: &Db,
    user_id: &str,
    key: &str,
) -> Result<Option<(String, i64, String)>, StoreError> {
    Ok(with_db!(db, c => sqlx::query_as(
        "SELECT request, status, body FROM idempotency_keys WHERE user_id = $1 AND key = $2")
        .bind(user_id).bind(key).fetch_optional(c).await?))
}

/// Keeps the answer given for `key`; `false` when the key was taken meanwhile.
pub async fn remember(
    tx: &mut Tx,
    user_id: &str,
    key: &str,
    request: &str,
    status: i64,
    body: &str,
) -> Result<bool, StoreError> {
    let r = with_tx!(tx, c => sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, request, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(user_id).bind(key).bind(request).bind(status).bind(body).bind(crate::now_ms())
        .execute(c).await.map(|r| r.rows_affected()));
    match r {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Ok(false),
        Err(e) => Err(e.into()),
    }
}
