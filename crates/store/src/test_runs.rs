//! Test runs of module versions and their per-scenario results.

use crate::vocab::{parse, text_enum};
use crate::{Db, StoreError, Tx};

text_enum! {
    /// How a run ended: every scenario passed, some failed, or the suite could not
    /// run at all (malformed scenarios, a patch that no longer applies).
    pub enum RunStatus {
        Passed => "passed",
        Failed => "failed",
        Error => "error",
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestRun {
    pub id: String,
    pub module_id: String,
    pub version: i64,
    pub status: RunStatus,
    pub started_at: i64,
    pub finished_at: i64,
    pub duration_ms: i64,
    pub passed: i64,
    pub failed: i64,
    pub module_coverage: Option<f64>,
    pub spec_coverage: Option<f64>,
    pub ready: bool,
    #[serde(skip)]
    pub report: String,
    pub started_by: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    module_id: String,
    version: i64,
    status: String,
    started_at: i64,
    finished_at: i64,
    duration_ms: i64,
    passed: i64,
    failed: i64,
    module_coverage: Option<f64>,
    spec_coverage: Option<f64>,
    ready: bool,
    report: String,
    started_by: String,
}

impl TryFrom<Row> for TestRun {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(TestRun {
            status: parse(&r.status, &format!("status of test run {}", r.id))?,
            id: r.id,
            module_id: r.module_id,
            version: r.version,
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_ms: r.duration_ms,
            passed: r.passed,
            failed: r.failed,
            module_coverage: r.module_coverage,
            spec_coverage: r.spec_coverage,
            ready: r.ready,
            report: r.report,
            started_by: r.started_by,
        })
    }
}

const COLUMNS: &str = "id, module_id, version, status, started_at, finished_at, duration_ms, passed, failed, \
     module_coverage, spec_coverage, ready, report, started_by";

/// One scenario's outcome in a run.
#[derive(Debug, Clone)]
pub struct ScenarioRow {
    pub scenario: String,
    pub object: String,
    pub source: String,
    pub status: String,
    pub error: Option<String>,
}

pub async fn insert(tx: &mut Tx, run: &TestRun, results: &[ScenarioRow]) -> Result<(), StoreError> {
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO ai_module_tests (id, module_id, version, status, started_at, finished_at, duration_ms, passed, failed, \
         module_coverage, spec_coverage, ready, report, started_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)")
        .bind(&run.id).bind(&run.module_id).bind(run.version).bind(run.status.as_str()).bind(run.started_at)
        .bind(run.finished_at).bind(run.duration_ms).bind(run.passed).bind(run.failed)
        .bind(run.module_coverage).bind(run.spec_coverage).bind(run.ready).bind(&run.report).bind(&run.started_by)
        .execute(c).await?.rows_affected());
    for (i, r) in results.iter().enumerate() {
        with_tx!(tx, c => sqlx::query(
            "INSERT INTO ai_module_test_results (run_id, position, scenario, object, source, status, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&run.id).bind(i as i64).bind(&r.scenario).bind(&r.object).bind(&r.source).bind(&r.status).bind(&r.error)
            .execute(c).await?.rows_affected());
    }
    Ok(())
}

/// A module's runs, newest first (reports left out).
pub async fn list(db: &Db, module_id: &str) -> Result<Vec<TestRun>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM ai_module_tests WHERE module_id = $1 ORDER BY started_at DESC, id DESC"
    );
    let rows: Vec<Row> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(module_id).fetch_all(c).await?);
    rows.into_iter().map(TestRun::try_from).collect()
}

pub async fn get(db: &Db, id: &str) -> Result<Option<TestRun>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM ai_module_tests WHERE id = $1");
    let row: Option<Row> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?);
    row.map(TestRun::try_from).transpose()
}

/// The newest run of one version.
pub async fn latest_for_version(
    db: &Db,
    module_id: &str,
    version: i64,
) -> Result<Option<TestRun>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM ai_module_tests WHERE module_id = $1 AND version = $2 ORDER BY started_at DESC, id DESC LIMIT 1"
    );
    let row: Option<Row> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(module_id).bind(version).fetch_optional(c).await?);
    row.map(TestRun::try_from).transpose()
}
