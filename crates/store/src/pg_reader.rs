//! Reads of PostgreSQL records, pipelined. Through sqlx's pool each read holds a
//! connection for its whole round trip, so the database serves one query per
//! connection at a time and wakes once per query. Here a few connections are shared
//! by every request: concurrent reads are written to a connection as they come and
//! answered in order (tokio-postgres pipelines), with each statement prepared once per
//! connection. Measured beside the pool on the same machine: about three times the
//! reads per second (docs/performance.md). Writes and transactions stay on the pool.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Config, NoTls, Row, Statement};

/// Connections shared by all reads: enough to keep both sides of a small machine
/// busy, few enough that each carries a pipeline.
const CONNECTIONS: usize = 4;
/// Statements kept per connection; list queries differ by their filters and page, so
/// the cache is bounded and starts over when full.
const STATEMENTS: usize = 256;

#[derive(Clone)]
pub struct PgReader {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PgReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgReader").finish_non_exhaustive()
    }
}

struct Inner {
    config: Config,
    slots: Vec<Slot>,
    next: AtomicUsize,
}

#[derive(Default)]
struct Slot {
    open: RwLock<Option<Arc<Conn>>>,
    /// One reconnect at a time per slot.
    connecting: tokio::sync::Mutex<()>,
}

struct Conn {
    client: Client,
    statements: Mutex<HashMap<String, Statement>>,
}

/// A parameter of a read: what sqlx would bind, with the type declared to the server.
pub(crate) enum Param<'a> {
    Text(&'a str),
    Int(i64),
    Float(f64),
}

impl Param<'_> {
    fn ty(&self) -> Type {
        match self {
            Param::Text(_) => Type::TEXT,
            Param::Int(_) => Type::INT8,
            Param::Float(_) => Type::FLOAT8,
        }
    }

    fn value(&self) -> &(dyn ToSql + Sync) {
        match self {
            Param::Text(s) => s,
            Param::Int(n) => n,
            Param::Float(x) => x,
        }
    }
}

impl PgReader {
    /// A reader for `url`, or `None` when its connections would need TLS or options
    /// only sqlx understands: then reads stay on the pool.
    pub fn new(url: &str) -> Option<PgReader> {
        let config = Config::from_str(url).ok()?;
        if !matches!(
            config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Disable | tokio_postgres::config::SslMode::Prefer
        ) {
            return None;
        }
        Some(PgReader {
            inner: Arc::new(Inner {
                config,
                slots: (0..CONNECTIONS).map(|_| Slot::default()).collect(),
                next: AtomicUsize::new(0),
            }),
        })
    }

    /// Runs a read and returns its rows. A connection found closed (the server
    /// restarted, a network blip) is opened again and the read tried once more.
    pub async fn query(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let slot = &self.inner.slots
            [self.inner.next.fetch_add(1, Ordering::Relaxed) % self.inner.slots.len()];
        let mut retried = false;
        loop {
            let conn = self.open(slot).await?;
            match conn.query(sql, params).await {
                Err(e) if conn.client.is_closed() && !retried => {
                    tracing::warn!(error = %e, "a PostgreSQL read connection closed; reconnecting");
                    retried = true;
                }
                other => return other,
            }
        }
    }

    async fn open(&self, slot: &Slot) -> Result<Arc<Conn>, tokio_postgres::Error> {
        if let Some(c) = live(slot) {
            return Ok(c);
        }
        let _one = slot.connecting.lock().await;
        if let Some(c) = live(slot) {
            return Ok(c);
        }
        let (client, connection) = self.inner.config.connect(NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "PostgreSQL read connection ended");
            }
        });
        let conn = Arc::new(Conn {
            client,
            statements: Mutex::new(HashMap::new()),
        });
        *slot.open.write().unwrap_or_else(|p| p.into_inner()) = Some(conn.clone());
        Ok(conn)
    }
}

fn live(slot: &Slot) -> Option<Arc<Conn>> {
    slot.open
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .filter(|c| !c.client.is_closed())
        .cloned()
}

impl Conn {
    async fn query(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let types: Vec<Type> = params.iter().map(Param::ty).collect();
        let key = cache_key(sql, &types);
        let cached = self
            .statements
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        let statement = match cached {
            Some(s) => s,
            None => {
                let s = self.client.prepare_typed(sql, &types).await?;
                let mut cache = self.statements.lock().unwrap_or_else(|p| p.into_inner());
                if cache.len() >= STATEMENTS {
                    cache.clear();
                }
                cache.insert(key, s.clone());
                s
            }
        };
        let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(Param::value).collect();
        self.client.query(&statement, &values).await
    }
}

/// The same text with other parameter types is another statement.
fn cache_key(sql: &str, types: &[Type]) -> String {
    let mut key = String::with_capacity(sql.len() + types.len() * 5);
    key.push_str(sql);
    for t in types {
        key.push('\u{0}');
        key.push_str(t.name());
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_or_sqlx_only_options_keep_reads_on_the_pool() {
        assert!(PgReader::new("postgres://u@127.0.0.1:5432/db").is_some());
        assert!(PgReader::new("postgres://u@127.0.0.1:5432/db?sslmode=disable").is_some());
        assert!(PgReader::new("postgres://u@h/db?sslmode=require").is_none());
        assert!(PgReader::new("postgres://u@h/db?statement-cache-capacity=10").is_none());
    }

    #[test]
    fn a_statement_is_cached_per_text_and_parameter_types() {
        let a = cache_key("SELECT $1", &[Type::TEXT]);
        assert_ne!(a, cache_key("SELECT $1", &[Type::INT8]));
        assert_eq!(a, cache_key("SELECT $1", &[Type::TEXT]));
    }
}
