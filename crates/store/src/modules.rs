//! AI modules and their immutable versions. Which status a module moves to is the
//! application's lifecycle rule; this layer stores what it is told.

use crate::vocab::{parse, text_enum};
use crate::{Db, StoreError, Tx, now_ms};
use patch::Level;

text_enum! {
    /// Where a module is in its lifecycle (docs/module-lifecycle.md).
    pub enum ModuleStatus {
        Draft => "draft",
        PendingReview => "pending_review",
        Reviewing => "reviewing",
        Approved => "approved",
        Published => "published",
        Unpublished => "unpublished",
    }
}

text_enum! {
    /// Who made a version: a model through the gateway, a person's edit, a restore
    /// of an older version, or an import of another instance's signed bundle.
    pub enum VersionSource {
        Ai => "ai",
        Manual => "manual",
        Restore => "restore",
        Import => "import",
    }
}

/// The `source` column's CHECK predates imports, and changing a CHECK portably means
/// rebuilding the table (decision 0016): an import is stored as `manual` with its
/// `imported` provenance, and read back as `import`. This pair is the only place
/// that knows.
fn stored_source(s: VersionSource) -> &'static str {
    match s {
        VersionSource::Import => VersionSource::Manual.as_str(),
        other => other.as_str(),
    }
}

fn read_source(stored: VersionSource, imported: bool) -> VersionSource {
    match stored {
        VersionSource::Manual if imported => VersionSource::Import,
        other => other,
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Module {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub status: ModuleStatus,
    /// `None`: the default model.
    pub model_id: Option<String>,
    pub owner: String,
    pub current_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct ModuleRow {
    id: String,
    name: String,
    slug: String,
    description: String,
    status: String,
    model_id: Option<String>,
    owner: String,
    current_version: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ModuleRow> for Module {
    type Error = StoreError;

    fn try_from(r: ModuleRow) -> Result<Self, StoreError> {
        Ok(Module {
            status: parse(&r.status, &format!("status of module {}", r.id))?,
            id: r.id,
            name: r.name,
            slug: r.slug,
            description: r.description,
            model_id: r.model_id,
            owner: r.owner,
            current_version: r.current_version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const MODULE_COLUMNS: &str =
    "id, name, slug, description, status, model_id, owner, current_version, created_at, updated_at";

/// A stored version. `patch` and `report` are JSON text as saved.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Version {
    pub module_id: String,
    pub number: i64,
    pub patch: String,
    pub content_hash: String,
    pub author: String,
    pub parent_version: Option<i64>,
    pub message: String,
    pub source: VersionSource,
    pub prompt: Option<String>,
    pub model: Option<String>,
    pub report: String,
    pub level: Level,
    pub valid: bool,
    pub needs_confirmation: bool,
    pub created_at: i64,
    /// Who confirmed an L2 version a model wrote, when someone has.
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<i64>,
    /// Fixes the gateway made to the model's reply (codes), oldest first.
    pub repairs: Vec<String>,
    /// What the generation used (tokens, cost, attempts, the model that answered).
    pub generation: Option<serde_json::Value>,
    /// For a version imported from a bundle: what the bundle said of its making.
    pub imported: Option<serde_json::Value>,
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    module_id: String,
    number: i64,
    patch: String,
    content_hash: String,
    author: String,
    parent_version: Option<i64>,
    message: String,
    source: String,
    prompt: Option<String>,
    model: Option<String>,
    report: String,
    level: String,
    valid: bool,
    needs_confirmation: bool,
    created_at: i64,
    confirmed_by: Option<String>,
    confirmed_at: Option<i64>,
    repairs: String,
    generation: Option<String>,
    imported: Option<String>,
}

impl TryFrom<VersionRow> for Version {
    type Error = StoreError;

    fn try_from(r: VersionRow) -> Result<Self, StoreError> {
        let what = |col: &str| format!("{col} of version {} of module {}", r.number, r.module_id);
        let repairs = serde_json::from_str(&r.repairs)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", what("repairs"))))?;
        let generation = match &r.generation {
            Some(g) => Some(
                serde_json::from_str(g)
                    .map_err(|e| StoreError::Corrupt(format!("{}: {e}", what("generation"))))?,
            ),
            None => None,
        };
        let imported = match &r.imported {
            Some(g) => Some(
                serde_json::from_str(g)
                    .map_err(|e| StoreError::Corrupt(format!("{}: {e}", what("imported"))))?,
            ),
            None => None,
        };
        Ok(Version {
            repairs,
            generation,
            imported,
            source: read_source(parse(&r.source, &what("source"))?, r.imported.is_some()),
            level: parse(&r.level, &what("level"))?,
            module_id: r.module_id,
            number: r.number,
            patch: r.patch,
            content_hash: r.content_hash,
            author: r.author,
            parent_version: r.parent_version,
            message: r.message,
            prompt: r.prompt,
            model: r.model,
            report: r.report,
            valid: r.valid,
            needs_confirmation: r.needs_confirmation,
            created_at: r.created_at,
            confirmed_by: r.confirmed_by,
            confirmed_at: r.confirmed_at,
        })
    }
}

const VERSION_SELECT: &str = "SELECT v.module_id, v.number, v.patch, v.content_hash, v.author, v.parent_version, \
     v.message, v.source, v.prompt, v.model, v.report, v.level, v.valid, v.needs_confirmation, v.created_at, \
     c.confirmed_by, c.confirmed_at, v.repairs, v.generation, v.imported FROM module_versions v \
     LEFT JOIN module_version_confirmations c ON c.module_id = v.module_id AND c.number = v.number";

pub async fn list(db: &Db) -> Result<Vec<Module>, StoreError> {
    let sql = format!("SELECT {MODULE_COLUMNS} FROM ai_modules ORDER BY updated_at DESC, name");
    let rows: Vec<ModuleRow> =
        with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?);
    rows.into_iter().map(Module::try_from).collect()
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Module>, StoreError> {
    let sql = format!("SELECT {MODULE_COLUMNS} FROM ai_modules WHERE id = $1");
    let row: Option<ModuleRow> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?);
    row.map(Module::try_from).transpose()
}

/// The module as the transaction sees it (for a decision that must not race).
pub async fn get_in(tx: &mut Tx, id: &str) -> Result<Option<Module>, StoreError> {
    let sql = format!("SELECT {MODULE_COLUMNS} FROM ai_modules WHERE id = $1");
    let row: Option<ModuleRow> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?);
    row.map(Module::try_from).transpose()
}

/// A module by its slug.
pub async fn by_slug(db: &Db, slug: &str) -> Result<Option<Module>, StoreError> {
    let sql = format!("SELECT {MODULE_COLUMNS} FROM ai_modules WHERE slug = $1");
    let row: Option<ModuleRow> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(slug).fetch_optional(c).await?);
    row.map(Module::try_from).transpose()
}

/// A new module (version 0: no patch yet). [`StoreError::Conflict`] when the slug
/// is taken.
pub async fn insert(tx: &mut Tx, m: &Module) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO ai_modules (id, name, slug, description, status, model_id, owner, current_version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8)")
        .bind(&m.id).bind(&m.name).bind(&m.slug).bind(&m.description).bind(m.status.as_str())
        .bind(&m.model_id).bind(&m.owner).bind(m.created_at)
        .execute(c).await
        .map_err(StoreError::conflict_on_unique("a module with this name"))?.rows_affected());
    Ok(())
}

/// Name, description and model.
pub async fn update_details(tx: &mut Tx, m: &Module) -> Result<(), StoreError> {
    let n = with_tx!(tx, c => sqlx::query(
        "UPDATE ai_modules SET name = $1, slug = $2, description = $3, model_id = $4, updated_at = $5 WHERE id = $6")
        .bind(&m.name).bind(&m.slug).bind(&m.description).bind(&m.model_id).bind(now_ms()).bind(&m.id)
        .execute(c).await
        .map_err(StoreError::conflict_on_unique("a module with this name"))?.rows_affected());
    if n == 0 {
        return Err(StoreError::NotFound(format!("module {}", m.id)));
    }
    Ok(())
}

/// Moves the module to `status` (the lifecycle decided it).
pub async fn set_status(tx: &mut Tx, id: &str, status: ModuleStatus) -> Result<(), StoreError> {
    let n = with_tx!(tx, c => sqlx::query("UPDATE ai_modules SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.as_str()).bind(now_ms()).bind(id).execute(c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::NotFound(format!("module {id}")));
    }
    Ok(())
}

/// What a new version carries; the number is the module's current version + 1.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub patch: String,
    pub content_hash: String,
    pub author: String,
    pub message: String,
    pub source: VersionSource,
    pub prompt: Option<String>,
    pub model: Option<String>,
    pub report: String,
    pub level: Level,
    pub valid: bool,
    pub needs_confirmation: bool,
    pub repairs: Vec<String>,
    pub generation: Option<serde_json::Value>,
    pub imported: Option<serde_json::Value>,
}

/// Why a version was not saved.
#[derive(Debug)]
pub enum SaveError {
    /// The module's current version is not the one the edit started from.
    Stale {
        current: i64,
    },
    Store(StoreError),
}

impl From<StoreError> for SaveError {
    fn from(e: StoreError) -> Self {
        SaveError::Store(e)
    }
}

impl From<sqlx::Error> for SaveError {
    fn from(e: sqlx::Error) -> Self {
        SaveError::Store(e.into())
    }
}

/// Saves `v` as version `base + 1` and moves the module to `status`, if the module is
/// still at `base`: the compare and the move happen in one conditional update, so of
/// two concurrent saves from the same base exactly one wins.
pub async fn save_version(
    tx: &mut Tx,
    module_id: &str,
    base: i64,
    status: ModuleStatus,
    v: &NewVersion,
) -> Result<i64, SaveError> {
    if (v.source == VersionSource::Import) != v.imported.is_some() {
        return Err(StoreError::Corrupt(
            "an imported version, and only one, carries its bundle's provenance".into(),
        )
        .into());
    }
    let now = now_ms();
    let next = base + 1;
    let moved = with_tx!(tx, c => sqlx::query(
        "UPDATE ai_modules SET current_version = $1, status = $2, updated_at = $3 \
         WHERE id = $4 AND current_version = $5")
        .bind(next).bind(status.as_str()).bind(now).bind(module_id).bind(base)
        .execute(c).await?.rows_affected());
    if moved == 0 {
        let cur: Option<(i64,)> = with_tx!(tx, c => sqlx::query_as(
            "SELECT current_version FROM ai_modules WHERE id = $1").bind(module_id).fetch_optional(c).await?);
        return match cur {
            Some((current,)) => Err(SaveError::Stale { current }),
            None => Err(StoreError::NotFound(format!("module {module_id}")).into()),
        };
    }
    let parent = (base > 0).then_some(base);
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO module_versions (module_id, number, patch, content_hash, author, parent_version, message, \
         source, prompt, model, report, level, valid, needs_confirmation, created_at, repairs, generation, imported) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)")
        .bind(module_id).bind(next).bind(&v.patch).bind(&v.content_hash).bind(&v.author).bind(parent)
        .bind(&v.message).bind(stored_source(v.source)).bind(&v.prompt).bind(&v.model).bind(&v.report).bind(v.level.to_string())
        .bind(v.valid).bind(v.needs_confirmation).bind(now)
        .bind(serde_json::to_string(&v.repairs).unwrap_or_else(|_| "[]".into()))
        .bind(v.generation.as_ref().map(|g| g.to_string()))
        .bind(v.imported.as_ref().map(|g| g.to_string()))
        .execute(c).await?.rows_affected());
    Ok(next)
}

pub async fn versions(db: &Db, module_id: &str) -> Result<Vec<Version>, StoreError> {
    let sql = format!("{VERSION_SELECT} WHERE v.module_id = $1 ORDER BY v.number DESC");
    let rows: Vec<VersionRow> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(module_id).fetch_all(c).await?);
    rows.into_iter().map(Version::try_from).collect()
}

pub async fn version(db: &Db, module_id: &str, number: i64) -> Result<Option<Version>, StoreError> {
    let sql = format!("{VERSION_SELECT} WHERE v.module_id = $1 AND v.number = $2");
    let row: Option<VersionRow> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(module_id).bind(number).fetch_optional(c).await?);
    row.map(Version::try_from).transpose()
}

/// One version as the transaction sees it.
pub async fn version_in(
    tx: &mut Tx,
    module_id: &str,
    number: i64,
) -> Result<Option<Version>, StoreError> {
    let sql = format!("{VERSION_SELECT} WHERE v.module_id = $1 AND v.number = $2");
    let row: Option<VersionRow> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(module_id).bind(number).fetch_optional(c).await?);
    row.map(Version::try_from).transpose()
}

/// Records a person's confirmation of an L2 version; `false` when it was confirmed
/// already.
pub async fn confirm(
    tx: &mut Tx,
    module_id: &str,
    number: i64,
    by: &str,
) -> Result<bool, StoreError> {
    let r = with_tx!(tx, c => sqlx::query(
        "INSERT INTO module_version_confirmations (module_id, number, confirmed_by, confirmed_at) VALUES ($1, $2, $3, $4)")
        .bind(module_id).bind(number).bind(by).bind(now_ms())
        .execute(c).await.map(|r| r.rows_affected()));
    match r {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Records where an imported module came from (canonical JSON text).
pub async fn set_origin(tx: &mut Tx, module_id: &str, origin: &str) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query("UPDATE ai_modules SET origin = $1 WHERE id = $2")
        .bind(origin).bind(module_id).execute(c).await?.rows_affected());
    Ok(())
}

/// The module imported earlier from the same origin, if any.
pub async fn by_origin(db: &Db, origin: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = with_db!(db, c => sqlx::query_as(
        "SELECT id FROM ai_modules WHERE origin = $1").bind(origin).fetch_optional(c).await?);
    Ok(row.map(|(id,)| id))
}

/// Where an imported module came from (canonical JSON text), if it was imported.
pub async fn origin(db: &Db, module_id: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(Option<String>,)> = with_db!(db, c => sqlx::query_as(
        "SELECT origin FROM ai_modules WHERE id = $1").bind(module_id).fetch_optional(c).await?);
    Ok(row.and_then(|(o,)| o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_is_stored_as_manual_and_read_back_as_import() {
        assert_eq!(stored_source(VersionSource::Import), "manual");
        assert_eq!(
            read_source(VersionSource::Manual, true),
            VersionSource::Import
        );
        for s in [
            VersionSource::Ai,
            VersionSource::Manual,
            VersionSource::Restore,
        ] {
            assert_eq!(stored_source(s), s.as_str());
            assert_eq!(read_source(s, false), s);
        }
    }
}
