//! Guards that portable SQL cannot express, applied after every migration run.
//! Each statement is idempotent, so every start (and every replica) may run them.

use crate::{Db, StoreError};

/// The audit log is append-only and module versions are immutable: the database itself refuses to change history, so a
/// code path that tried would fail loudly rather than silently rewrite it.
pub(crate) async fn apply(db: &Db) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(crate::SqliteDb { pool: p, .. }) => {
            for stmt in [
                "CREATE TRIGGER IF NOT EXISTS audit_logs_no_update BEFORE UPDATE ON audit_logs \
                 BEGIN SELECT RAISE(ABORT, 'audit_logs is append-only'); END",
                "CREATE TRIGGER IF NOT EXISTS audit_logs_no_delete BEFORE DELETE ON audit_logs \
                 BEGIN SELECT RAISE(ABORT, 'audit_logs is append-only'); END",
                "CREATE TRIGGER IF NOT EXISTS module_versions_no_update BEFORE UPDATE ON module_versions \
                 BEGIN SELECT RAISE(ABORT, 'module versions are immutable'); END",
            ] {
                sqlx::query(stmt).execute(p).await?;
            }
        }
        Db::Postgres(crate::PgDb { pool: p, .. }) => {
            let mut tx = p.begin().await?;
            // Several replicas may start at once; serialise the DDL.
            sqlx::query("SELECT pg_advisory_xact_lock(727001)")
                .execute(&mut *tx)
                .await?;
            for stmt in [
                "CREATE OR REPLACE FUNCTION modgate_audit_append_only() RETURNS trigger \
                 LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_logs is append-only'; END $$",
                "DROP TRIGGER IF EXISTS audit_logs_append_only ON audit_logs",
                "CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE OR TRUNCATE \
                 ON audit_logs FOR EACH STATEMENT EXECUTE FUNCTION modgate_audit_append_only()",
                "CREATE OR REPLACE FUNCTION modgate_versions_immutable() RETURNS trigger \
                 LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'module versions are immutable'; END $$",
                "DROP TRIGGER IF EXISTS module_versions_immutable ON module_versions",
                "CREATE TRIGGER module_versions_immutable BEFORE UPDATE \
                 ON module_versions FOR EACH STATEMENT EXECUTE FUNCTION modgate_versions_immutable()",
            ] {
                sqlx::query(stmt).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
    }
    Ok(())
}
