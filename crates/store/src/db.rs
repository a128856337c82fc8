use crate::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a SQLite writer waits for its turn (another replica's transaction, or
/// this process's) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool on one of the two backends.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

/// PostgreSQL: the pool (writes, transactions, every query but record reads) and
/// the pipelined connections record reads share.
#[derive(Debug, Clone)]
pub struct PgDb {
    pub pool: PgPool,
    /// `None` when the connection needs what only sqlx speaks (TLS, sqlx options).
    pub(crate) reader: Option<crate::pg_reader::PgReader>,
}

/// SQLite: the pool (all writes, and reads inside transactions) and, for a database
/// in a file, the per-thread readers that serve record reads without thread hand-offs.
#[derive(Debug, Clone)]
pub struct SqliteDb {
    pub pool: SqlitePool,
    pub(crate) reader: Option<crate::reader::Reader>,
    /// For a database in a file: record write sets without thread hand-offs.
    pub(crate) writer: Option<std::sync::Arc<crate::writer::Writer>>,
    /// Write transactions of this process take turns here before `BEGIN IMMEDIATE`:
    /// SQLite has one writer, and connections that contend for its lock back off by
    /// sleeping, which under load costs more than the writes themselves.
    turn: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// How a connection pool is used (for operators' metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: usize,
    pub max: u32,
}

/// A transaction on one of the two backends. Dropping it without [`Tx::commit`] rolls back.
pub enum Tx {
    /// With this process's turn to write, held until the transaction ends.
    Sqlite(
        Transaction<'static, Sqlite>,
        tokio::sync::OwnedMutexGuard<()>,
    ),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$c` bound to the backend's pool; the body is compiled once per
/// backend so each sees its native driver types.
macro_rules! with_db {
    ($db:expr, $c:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(db) => {
                let $c = &db.pool;
                $body
            }
            $crate::db::Db::Postgres(pg) => {
                let $c = &pg.pool;
                $body
            }
        }
    };
}

/// Like [`with_db!`], for a transaction: `$c` is the transaction's connection.
macro_rules! with_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t, _) => {
                let $c = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// A value bound into SQL that is built at run time (filters), in order of `$N`.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
    Float(f64),
}

/// Binds every value of a `&[Bind]` onto a query, in order.
macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                $crate::db::Bind::Text(s) => q.bind(s.clone()),
                $crate::db::Bind::Int(i) => q.bind(*i),
                $crate::db::Bind::Float(x) => q.bind(*x),
            };
        }
        q
    }};
}

impl Db {
    /// Connects to `url`: `sqlite:PATH` (created when missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                // A ping before every acquire would double a read's round trips; a
                // broken connection fails its query and is dropped from the pool.
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(PgDb {
                pool,
                reader: crate::pg_reader::PgReader::new(url),
            }))
        } else {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(BUSY_TIMEOUT)
                .pragma("wal_autocheckpoint", crate::writer::WAL_PAGES.to_string());
            let path = opts.get_filename().to_owned();
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            // An in-memory database lives in the pool's connections only.
            let (reader, writer) = if path.is_file() {
                let writer = crate::writer::Writer::open(&path, BUSY_TIMEOUT)
                    .map_err(|e| sqlx::Error::Configuration(Box::new(e)))?;
                (
                    Some(crate::reader::Reader::new(path)),
                    Some(std::sync::Arc::new(writer)),
                )
            } else {
                (None, None)
            };
            Ok(Db::Sqlite(SqliteDb {
                pool,
                reader,
                writer,
                turn: Default::default(),
            }))
        }
    }

    /// The SQLite writer and this process's turn to write, if this is a SQLite file.
    pub(crate) async fn sqlite_writer(
        &self,
    ) -> Result<Option<(&crate::writer::Writer, tokio::sync::OwnedMutexGuard<()>)>, StoreError>
    {
        match self {
            Db::Sqlite(s) => match &s.writer {
                Some(w) => Ok(Some((w, s.turn().await?))),
                None => Ok(None),
            },
            Db::Postgres(_) => Ok(None),
        }
    }

    /// The writer of a SQLite file, if this is one (without taking a turn).
    pub(crate) fn writer(&self) -> Option<&crate::writer::Writer> {
        match self {
            Db::Sqlite(s) => s.writer.as_deref(),
            Db::Postgres(_) => None,
        }
    }

    /// The pipelined record reads of PostgreSQL, if this is it.
    pub(crate) fn pg_reader(&self) -> Option<&crate::pg_reader::PgReader> {
        match self {
            Db::Postgres(pg) => pg.reader.as_ref(),
            Db::Sqlite(_) => None,
        }
    }

    /// The per-thread reader of a SQLite file, if this is one.
    pub(crate) fn reader(&self) -> Option<&crate::reader::Reader> {
        match self {
            Db::Sqlite(s) => s.reader.as_ref(),
            Db::Postgres(_) => None,
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations, then the backend-specific guards (triggers) that
    /// portable SQL cannot express.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        with_db!(self, p => MIGRATOR.run(p).await?);
        crate::hardening::apply(self).await
    }

    /// Begins a transaction that holds the write lock from its first statement.
    ///
    /// On SQLite a deferred transaction that reads and then writes can fail when another
    /// writer got there first; `BEGIN IMMEDIATE` takes the lock up front instead.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(s) => {
                // As long as SQLite's own busy timeout: a writer that long is stuck.
                let turn = s.turn().await?;
                Tx::Sqlite(s.pool.begin_with("BEGIN IMMEDIATE").await?, turn)
            }
            Db::Postgres(pg) => Tx::Postgres(pg.pool.begin().await?),
        })
    }

    /// The pool's connections now: open, idle, and the most it opens.
    pub fn pool_stats(&self) -> PoolStats {
        with_db!(self, p => PoolStats {
            size: p.size(),
            idle: p.num_idle(),
            max: p.options().get_max_connections(),
        })
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_db!(self, p => sqlx::query("SELECT 1").execute(p).await?.rows_affected());
        Ok(())
    }

    pub async fn close(&self) {
        with_db!(self, p => p.close().await)
    }
}

impl SqliteDb {
    /// This process's turn to write; waits as long as SQLite would for its lock.
    async fn turn(&self) -> Result<tokio::sync::OwnedMutexGuard<()>, StoreError> {
        tokio::time::timeout(BUSY_TIMEOUT, self.turn.clone().lock_owned())
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolTimedOut))
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t, _turn) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(..) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }
}
