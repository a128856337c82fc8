//! Record writes on SQLite with no thread hand-off: one read-write connection of the
//! store's own, used where the request runs while this process's turn to write is
//! held. Through the pool, each statement of a write set would hop to the
//! connection's thread and back; a create is half a dozen statements in two
//! transactions, and SQLite runs one writer at a time, so those hops would be the
//! ceiling on writes per second.

use crate::records::{
    CLAIM_UNIQUE, CLEAR_UNIQUE, CURRENT_VERSION, DELETE_RECORD, INSERT_RECORD, RESERVE,
    UPDATE_RECORD,
};
use runtime::{StorageError, UniqueKey, Write};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde_json::Value;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// Pages the write-ahead log grows to before a commit copies them back: a page that
/// many writes touch (an index's upper levels) is copied once per checkpoint, so
/// fewer, larger checkpoints cost less in all (SQLite's default is 1,000).
pub(crate) const WAL_PAGES: i64 = 4_000;

#[derive(Debug)]
pub struct Writer {
    conn: Mutex<Connection>,
}

fn backend(e: rusqlite::Error) -> StorageError {
    StorageError::Backend(e.to_string())
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

impl Writer {
    pub fn open(path: &Path, busy: Duration) -> rusqlite::Result<Writer> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(busy)?;
        // Per connection, as the pool's connections are set up.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // The pages a write touches (records, their object's indexes, unique values)
        // stay cached between writes: 16 MiB instead of SQLite's 2.
        conn.pragma_update(None, "cache_size", -16_384)?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_PAGES)?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(Writer {
            conn: Mutex::new(conn),
        })
    }

    /// Runs `f` in an immediate transaction; commits when it succeeds. The caller
    /// holds the process's turn to write, so the lock here is never contended. It runs
    /// on the caller's thread: only another process (a second replica) holding
    /// SQLite's lock makes it wait, up to the busy timeout.
    fn transaction<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let out = f(&tx)?;
        tx.commit().map_err(backend)?;
        Ok(out)
    }

    /// [`runtime::RecordStore::apply`]: every write or none.
    pub fn apply(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        self.transaction(|tx| {
            for w in writes {
                write(tx, w)?;
            }
            Ok(())
        })
    }

    /// [`runtime::RecordStore::reserve_numbers`], in a transaction of its own.
    pub fn reserve_numbers(
        &self,
        object: &str,
        field: &str,
        count: u32,
    ) -> Result<i64, StorageError> {
        self.transaction(|tx| {
            let last: i64 = tx
                .prepare_cached(RESERVE)
                .and_then(|mut st| st.query_row((object, field, i64::from(count)), |r| r.get(0)))
                .map_err(backend)?;
            Ok(last - i64::from(count) + 1)
        })
    }
}

fn current_version(
    tx: &rusqlite::Transaction<'_>,
    object: &str,
    id: &str,
) -> Result<Option<i64>, StorageError> {
    tx.prepare_cached(CURRENT_VERSION)
        .and_then(|mut st| st.query_row((object, id), |r| r.get(0)).optional())
        .map_err(backend)
}

fn claim(
    tx: &rusqlite::Transaction<'_>,
    object: &str,
    id: &str,
    keys: &[UniqueKey],
) -> Result<(), StorageError> {
    tx.prepare_cached(CLEAR_UNIQUE)
        .and_then(|mut st| st.execute((object, id)))
        .map_err(backend)?;
    let mut st = tx.prepare_cached(CLAIM_UNIQUE).map_err(backend)?;
    for k in keys {
        match st.execute((object, &k.field, &k.value, id)) {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StorageError::Unique {
                    object: object.to_owned(),
                    field: k.field.clone(),
                });
            }
            Err(e) => return Err(backend(e)),
        }
    }
    Ok(())
}

fn write(tx: &rusqlite::Transaction<'_>, w: Write) -> Result<(), StorageError> {
    match w {
        Write::Insert { record: r, unique } => {
            let data = Value::Object(r.data).to_string();
            tx.prepare_cached(INSERT_RECORD)
                .and_then(|mut st| {
                    st.execute((
                        &r.object,
                        &r.id,
                        &data,
                        r.version,
                        r.created_at,
                        r.updated_at,
                        &r.created_by,
                        &r.updated_by,
                    ))
                })
                .map_err(backend)?;
            claim(tx, &r.object, &r.id, &unique)
        }
        Write::Update {
            record: r,
            expected,
            unique,
        } => {
            let data = Value::Object(r.data).to_string();
            let n = tx
                .prepare_cached(UPDATE_RECORD)
                .and_then(|mut st| {
                    st.execute((
                        &data,
                        r.version,
                        r.updated_at,
                        &r.updated_by,
                        &r.object,
                        &r.id,
                        expected,
                    ))
                })
                .map_err(backend)?;
            if n == 0 {
                let current = current_version(tx, &r.object, &r.id)?;
                return Err(StorageError::Version {
                    object: r.object,
                    id: r.id,
                    current,
                });
            }
            claim(tx, &r.object, &r.id, &unique)
        }
        Write::Delete {
            object,
            id,
            expected,
        } => {
            let n = tx
                .prepare_cached(DELETE_RECORD)
                .and_then(|mut st| st.execute((&object, &id, expected)))
                .map_err(backend)?;
            if n == 0 {
                let current = current_version(tx, &object, &id)?;
                return Err(StorageError::Version {
                    object,
                    id,
                    current,
                });
            }
            claim(tx, &object, &id, &[])
        }
        Write::Exists { object, id } => {
            if current_version(tx, &object, &id)?.is_none() {
                return Err(StorageError::Missing { object, id });
            }
            Ok(())
        }
    }
}
