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
use runtime::{NUMBER_ATTEMPTS, NumberedInsert, Record, StorageError, UniqueKey, Write};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde_json::Value;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::oneshot;

/// Pages the write-ahead log grows to before a commit copies them back: a page that
/// many writes touch (an index's upper levels) is copied once per checkpoint, so
/// fewer, larger checkpoints cost less in all (SQLite's default is 1,000).
pub(crate) const WAL_PAGES: i64 = 4_000;

#[derive(Debug)]
pub struct Writer {
    conn: Mutex<Connection>,
    /// Creates waiting for the next group commit.
    queue: Mutex<Queue>,
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
            queue: Mutex::new(Queue::default()),
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
        self.transaction(|tx| reserve(tx, object, field, count))
    }

    /// Queues a create for the next group commit ([`Writer::commit_queued`]); the
    /// answer arrives on the ticket once its transaction has committed. Dropping the
    /// ticket before a group took the create withdraws it (a request given up, or no
    /// turn to write within the busy timeout): it is then never written.
    pub fn enqueue(&self, insert: NumberedInsert) -> Ticket<'_> {
        let (done, answer) = oneshot::channel();
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.next += 1;
        let id = q.next;
        q.waiting.push(Queued { id, insert, done });
        Ticket {
            writer: self,
            id,
            answer,
        }
    }

    /// Writes every queued create in one transaction (group commit): creates that
    /// arrive while another is being written share the next commit, so the pages they
    /// all touch (the object's indexes, the counter) reach the log once per group, not
    /// once per record. Each create is its own savepoint: one refused leaves the
    /// others written. Called with the process's turn to write held; a caller whose
    /// create an earlier group already took finds the queue empty.
    pub fn commit_queued(&self) {
        let queued: Vec<Queued> = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            let n = q.waiting.len().min(GROUP_MAX);
            q.waiting.drain(..n).collect()
        };
        if queued.is_empty() {
            return;
        }
        let outcome = self.transaction(|tx| {
            Ok(queued
                .iter()
                .map(|q| in_savepoint(tx, "one_create", |tx| insert_numbered(tx, &q.insert)))
                .collect::<Vec<_>>())
        });
        match outcome {
            Ok(answers) => {
                for (q, answer) in queued.into_iter().zip(answers) {
                    let _ = q.done.send(answer);
                }
            }
            Err(e) => {
                for q in queued {
                    let _ = q.done.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Creates written per group commit at most: a bound on how long the first of them
/// waits for the rest.
const GROUP_MAX: usize = 64;

#[derive(Debug, Default)]
struct Queue {
    waiting: Vec<Queued>,
    next: u64,
}

#[derive(Debug)]
struct Queued {
    id: u64,
    insert: NumberedInsert,
    done: oneshot::Sender<Result<Record, StorageError>>,
}

/// A queued create: its answer, or its withdrawal when dropped unanswered.
#[derive(Debug)]
pub struct Ticket<'w> {
    writer: &'w Writer,
    id: u64,
    answer: oneshot::Receiver<Result<Record, StorageError>>,
}

impl Ticket<'_> {
    /// Whether the create still waits for a group to take it.
    pub fn waiting(&self) -> bool {
        let q = self.writer.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.waiting.iter().any(|w| w.id == self.id)
    }

    /// The create's outcome, once a group commit has written it.
    pub async fn answer(mut self) -> Result<Record, StorageError> {
        (&mut self.answer)
            .await
            .map_err(|_| StorageError::Backend("the write was dropped unanswered".into()))?
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut q = self.writer.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.waiting.retain(|w| w.id != self.id);
    }
}

/// Runs `f` inside a savepoint: kept when it succeeds, rolled back when it fails.
fn in_savepoint<T>(
    tx: &rusqlite::Transaction<'_>,
    name: &str,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    tx.execute_batch(&format!("SAVEPOINT {name}"))
        .map_err(backend)?;
    match f(tx) {
        Ok(out) => {
            tx.execute_batch(&format!("RELEASE {name}"))
                .map_err(backend)?;
            Ok(out)
        }
        Err(e) => {
            tx.execute_batch(&format!("ROLLBACK TO {name}; RELEASE {name}"))
                .map_err(backend)?;
            Err(e)
        }
    }
}

/// [`runtime::RecordStore::insert_numbered`] inside a transaction: the numbers and
/// the record commit together. A clash rolls back to after the reservation, so the
/// next attempt takes the next number.
fn insert_numbered(
    tx: &rusqlite::Transaction<'_>,
    insert: &NumberedInsert,
) -> Result<Record, StorageError> {
    let mut attempt = 1;
    loop {
        let mut numbers = Vec::with_capacity(insert.numbered.len());
        for (field, _) in &insert.numbered {
            numbers.push(reserve(tx, &insert.record.object, field, 1)?);
        }
        let (set, record) = insert.with_numbers(&numbers);
        match in_savepoint(tx, "numbered", |tx| {
            set.into_iter().try_for_each(|w| write(tx, w))
        }) {
            Ok(()) => return Ok(record),
            Err(e) if attempt < NUMBER_ATTEMPTS && insert.clashes(&e) => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

fn reserve(
    tx: &rusqlite::Transaction<'_>,
    object: &str,
    field: &str,
    count: u32,
) -> Result<i64, StorageError> {
    let last: i64 = tx
        .prepare_cached(RESERVE)
        .and_then(|mut st| st.query_row((object, field, i64::from(count)), |r| r.get(0)))
        .map_err(backend)?;
    Ok(last - i64::from(count) + 1)
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

#[cfg(all(test, feature = "testing"))]
mod tests {
    use runtime::{Actor, Engine, StorageError};
    use serde_json::{Map, Value, json};

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[tokio::test]
    async fn a_group_writes_each_create_or_refuses_it_alone_and_leaves_no_gap() {
        let (db, _t) = crate::testing::fresh_db().await.unwrap();
        let Some(writer) = db.writer() else {
            return; // PostgreSQL: no group commit
        };
        let spec = spec::base_spec();
        let e = Engine::new(&spec, &db);
        let admin = Actor::admin("admin");
        let c = e
            .create(&admin, "Customer", &obj(json!({ "name": "Acme" })))
            .await
            .unwrap();
        let order = || obj(json!({ "customer": c.id, "amount": "5" }));
        let same = |name: &str| obj(json!({ "name": name, "email": "same@acme.test" }));
        let mut tickets = Vec::new();
        for input in [order(), same("A"), order(), same("B"), order()] {
            let object = if input.contains_key("amount") {
                "Order"
            } else {
                "Customer"
            };
            let insert = e.prepare_insert(&admin, object, &input).await.unwrap();
            tickets.push(writer.enqueue(insert));
        }
        // A create given up before a group took it is never written.
        let withdrawn = e.prepare_insert(&admin, "Order", &order()).await.unwrap();
        let withdrawn_id = withdrawn.record.id.clone();
        drop(writer.enqueue(withdrawn));
        assert!(tickets.iter().all(|t| t.waiting()));
        writer.commit_queued();
        assert!(tickets.iter().all(|t| !t.waiting()));
        let mut answers = Vec::new();
        for t in tickets {
            answers.push(t.answer().await);
        }
        let numbers: Vec<_> = [0, 2, 4]
            .iter()
            .map(|&i| answers[i].as_ref().unwrap().data["number"].clone())
            .collect();
        assert_eq!(numbers, ["SO-000001", "SO-000002", "SO-000003"]);
        assert!(answers[1].is_ok());
        assert!(matches!(&answers[3], Err(StorageError::Unique { field, .. }) if field == "email"));
        assert!(e.get(&admin, "Order", &withdrawn_id).await.is_err());
        // Nothing refused or withdrawn used up a number.
        let next = e.create(&admin, "Order", &order()).await.unwrap();
        assert_eq!(next.data["number"], "SO-000004");
    }
}
