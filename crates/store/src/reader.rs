//! Reads of SQLite records with no thread hand-off. sqlx runs each SQLite connection
//! on a thread of its own, so every query costs two hops between threads; a record
//! read is short enough that the hops cost more than the query. Here each worker
//! thread keeps its own read-only connection with cached statements, and the read
//! runs where the request runs. Writes stay on the pool (one writer, transactions).

use rusqlite::{Connection, OpenFlags};
use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Read-only connections to one SQLite file, one per thread that reads.
#[derive(Debug, Clone)]
pub struct Reader {
    path: PathBuf,
    /// Alive while any clone of the database handle is: a thread drops its
    /// connection to a database nobody holds any more.
    alive: Arc<()>,
}

struct Open {
    alive: Weak<()>,
    conn: Connection,
}

thread_local! {
    static OPEN: RefCell<Vec<Open>> = const { RefCell::new(Vec::new()) };
}

impl Reader {
    pub fn new(path: PathBuf) -> Reader {
        Reader {
            path,
            alive: Arc::new(()),
        }
    }

    /// Runs `f` on this thread's connection to the file, opening it on first use.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        OPEN.with(|cell| {
            let mut open = cell.borrow_mut();
            open.retain(|o| o.alive.strong_count() > 0);
            let at = match open
                .iter()
                .position(|o| std::ptr::eq(o.alive.as_ptr(), Arc::as_ptr(&self.alive)))
            {
                Some(i) => i,
                None => {
                    open.push(Open {
                        alive: Arc::downgrade(&self.alive),
                        conn: self.connect()?,
                    });
                    open.len() - 1
                }
            };
            f(&open[at].conn)
        })
    }

    fn connect(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A reader waits out a checkpoint or recovery rather than failing the request.
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(64);
        // 8 MiB of pages per reading thread (SQLite's default is 2): a page of records
        // and its index pages stay cached between requests.
        conn.pragma_update(None, "cache_size", -8_192)?;
        Ok(conn)
    }
}
