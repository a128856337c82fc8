//! Fresh databases for tests: a temporary SQLite file by default, or a new
//! PostgreSQL database when `TEST_DATABASE_URL` is set (CI sets it for its second run).

use crate::{Db, StoreError};
use sqlx::Connection;

/// Keeps a test database alive (the temp dir of a SQLite file).
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Another handle on the same database (for a second replica); the original
    /// keeps the temporary files alive.
    pub fn shared(other: &TestDb) -> TestDb {
        TestDb {
            url: other.url.clone(),
            _dir: None,
        }
    }
}

/// The PostgreSQL server for tests, if configured.
pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Replaces the database name in a PostgreSQL URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

/// Creates an empty database (not migrated) and returns its URL.
pub async fn fresh() -> Result<TestDb, StoreError> {
    match postgres_url() {
        Some(admin_url) => {
            let name = format!("modgate_t_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
            Ok(TestDb {
                url: with_database(&admin_url, &name),
                _dir: None,
            })
        }
        None => {
            let dir =
                tempfile::tempdir().map_err(|e| StoreError::Corrupt(format!("temp dir: {e}")))?;
            let url = format!("sqlite:{}", dir.path().join("test.db").display());
            Ok(TestDb {
                url,
                _dir: Some(dir),
            })
        }
    }
}

/// A fresh, migrated database.
pub async fn fresh_db() -> Result<(Db, TestDb), StoreError> {
    let t = fresh().await?;
    let db = Db::connect(&t.url).await?;
    db.migrate().await?;
    Ok((db, t))
}

/// Runs one SQL statement directly (to play someone with database access).
pub async fn exec(db: &Db, sql: &str) -> Result<u64, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match db {
        Db::Sqlite(crate::SqliteDb { pool: p, .. }) => {
            sqlx::query(sql).execute(p).await.map(|r| r.rows_affected())
        }
        Db::Postgres(crate::PgDb { pool: p, .. }) => {
            sqlx::query(sql).execute(p).await.map(|r| r.rows_affected())
        }
    }
}

/// Lifts the audit log's append-only guard, as a database administrator could, so a
/// test can tamper with history and show that verification catches it.
pub async fn lift_audit_guard(db: &Db) -> Result<(), sqlx::Error> {
    match db {
        Db::Sqlite(_) => {
            exec(db, "DROP TRIGGER IF EXISTS audit_logs_no_update").await?;
            exec(db, "DROP TRIGGER IF EXISTS audit_logs_no_delete").await?;
        }
        Db::Postgres(_) => {
            exec(
                db,
                "ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_append_only",
            )
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            super::with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h:5432", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
