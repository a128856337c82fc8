//! CRM records on SQLite and PostgreSQL: the database implementation of the records
//! engine's storage trait. Filters and sorts are pushed down into SQL with typed
//! comparisons per backend; a write set runs in one transaction.

use crate::db::Bind;
use crate::pg_reader::Param;
use crate::{Backend, Db, Tx};
use runtime::{
    Filter, FilterOp, ListQuery, NumberedInsert, Record, RecordStore, SortDir, StorageError,
    StoredRecord, UniqueKey, ValueKind, Write,
};
use serde_json::Value;

#[derive(sqlx::FromRow)]
struct Row {
    object: String,
    id: String,
    data: String,
    version: i64,
    created_at: i64,
    updated_at: i64,
    created_by: Option<String>,
    updated_by: Option<String>,
}

const COLUMNS: &str = "object, id, data, version, created_at, updated_at, created_by, updated_by";

/// A page row with the total number of matches (one round trip instead of two).
#[derive(sqlx::FromRow)]
struct CountedRow {
    #[sqlx(flatten)]
    row: Row,
    total_count: i64,
}

/// Rows preallocated for a page at most (a page's limit may be huge in internal reads).
const MAX_PREALLOC: u64 = 500;

impl Row {
    fn into_stored(self) -> StoredRecord {
        StoredRecord {
            id: self.id,
            object: self.object,
            data: self.data,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            created_by: self.created_by,
            updated_by: self.updated_by,
        }
    }

    fn into_record(self) -> Result<Record, StorageError> {
        parse(self.into_stored())
    }
}

fn parse(r: StoredRecord) -> Result<Record, StorageError> {
    let (object, id) = (r.object.clone(), r.id.clone());
    r.parse()
        .ok_or_else(|| StorageError::Backend(format!("record {object}/{id} holds invalid JSON")))
}

fn backend(e: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(e.to_string())
}

/// Builds the WHERE and ORDER BY of a list query for one backend.
struct SqlQuery {
    backend: Backend,
    binds: Vec<Bind>,
}

impl SqlQuery {
    fn param(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    /// The SQL expression of a field's value, typed for comparison.
    fn expr(&self, field: &str, kind: ValueKind) -> String {
        let column = match field {
            "id" => Some("id"),
            "createdAt" => Some("created_at"),
            "updatedAt" => Some("updated_at"),
            "createdBy" => Some("created_by"),
            "updatedBy" => Some("updated_by"),
            "version" => Some("version"),
            _ => None,
        };
        if let Some(c) = column {
            return c.to_owned();
        }
        // Field names are spec identifiers (letters and digits only), safe to embed.
        let name: String = field.chars().filter(char::is_ascii_alphanumeric).collect();
        match (self.backend, kind) {
            (Backend::Sqlite, ValueKind::Decimal) => {
                format!("CAST(json_extract(data, '$.{name}') AS REAL)")
            }
            (Backend::Sqlite, ValueKind::Datetime) => {
                format!("julianday(json_extract(data, '$.{name}'))")
            }
            (Backend::Sqlite, _) => format!("json_extract(data, '$.{name}')"),
            (Backend::Postgres, ValueKind::Decimal) => {
                format!("((data::jsonb ->> '{name}')::numeric)")
            }
            (Backend::Postgres, ValueKind::Integer) => {
                format!("((data::jsonb ->> '{name}')::bigint)")
            }
            (Backend::Postgres, ValueKind::Bool) => {
                format!("((data::jsonb ->> '{name}')::boolean)")
            }
            (Backend::Postgres, ValueKind::Datetime) => {
                format!("((data::jsonb ->> '{name}')::timestamptz)")
            }
            (Backend::Postgres, _) => format!("(data::jsonb ->> '{name}')"),
        }
    }

    /// A parameter holding `v` as `kind`, cast where the backend needs it.
    fn value(&mut self, kind: ValueKind, v: &Value) -> String {
        match kind {
            ValueKind::Integer | ValueKind::Millis => {
                let p = self.param(Bind::Int(v.as_i64().unwrap_or_default()));
                if self.backend == Backend::Postgres {
                    format!("CAST({p} AS BIGINT)")
                } else {
                    p
                }
            }
            ValueKind::Bool => match self.backend {
                Backend::Sqlite => self.param(Bind::Int(v.as_bool().unwrap_or_default() as i64)),
                Backend::Postgres => {
                    let p = self.param(Bind::Text(v.as_bool().unwrap_or_default().to_string()));
                    format!("CAST({p} AS BOOLEAN)")
                }
            },
            ValueKind::Decimal => {
                let text = v
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string());
                match self.backend {
                    // SQLite has no exact decimal type: filters compare in double precision
                    // (exact to 15 significant digits), values themselves stay exact.
                    Backend::Sqlite => self.param(Bind::Float(text.parse().unwrap_or_default())),
                    Backend::Postgres => {
                        let p = self.param(Bind::Text(text));
                        format!("CAST({p} AS NUMERIC)")
                    }
                }
            }
            ValueKind::Datetime => {
                let p = self.param(Bind::Text(v.as_str().unwrap_or_default().to_owned()));
                match self.backend {
                    Backend::Sqlite => format!("julianday({p})"),
                    Backend::Postgres => format!("CAST({p} AS TIMESTAMPTZ)"),
                }
            }
            _ => self.param(Bind::Text(
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string()),
            )),
        }
    }

    fn condition(&mut self, f: &Filter) -> String {
        let e = self.expr(&f.field, f.kind);
        if f.value.is_null() {
            return match f.op {
                FilterOp::Ne => format!("{e} IS NOT NULL"),
                FilterOp::Eq => format!("{e} IS NULL"),
                _ => "1 = 0".to_owned(),
            };
        }
        match f.op {
            FilterOp::Contains => {
                let p = self.value(ValueKind::Text, &f.value);
                match self.backend {
                    Backend::Sqlite => format!("instr(lower({e}), lower({p})) > 0"),
                    Backend::Postgres => format!("strpos(lower({e}), lower({p})) > 0"),
                }
            }
            FilterOp::In => {
                let values = f.value.as_array().cloned().unwrap_or_default();
                if values.is_empty() {
                    return "1 = 0".to_owned();
                }
                let ps: Vec<String> = values.iter().map(|v| self.value(f.kind, v)).collect();
                format!("{e} IN ({})", ps.join(", "))
            }
            FilterOp::Ne => {
                let p = self.value(f.kind, &f.value);
                format!("({e} IS NULL OR {e} <> {p})")
            }
            op => {
                let p = self.value(f.kind, &f.value);
                let sym = match op {
                    FilterOp::Eq => "=",
                    FilterOp::Lt => "<",
                    FilterOp::Lte => "<=",
                    FilterOp::Gt => ">",
                    _ => ">=",
                };
                format!("{e} {sym} {p}")
            }
        }
    }
}

// The statements of a write set, shared by both drivers (sqlx here, the SQLite writer
// in `writer.rs`).
pub(crate) const CURRENT_VERSION: &str =
    "SELECT version FROM records WHERE object = $1 AND id = $2";
pub(crate) const CLEAR_UNIQUE: &str = "DELETE FROM record_unique WHERE object = $1 AND id = $2";
pub(crate) const CLAIM_UNIQUE: &str =
    "INSERT INTO record_unique (object, field, value, id) VALUES ($1, $2, $3, $4)";
pub(crate) const INSERT_RECORD: &str = "INSERT INTO records (object, id, data, version, created_at, updated_at, created_by, updated_by) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub(crate) const UPDATE_RECORD: &str = "UPDATE records SET data = $1, version = $2, updated_at = $3, updated_by = $4 \
     WHERE object = $5 AND id = $6 AND version = $7";
pub(crate) const DELETE_RECORD: &str =
    "DELETE FROM records WHERE object = $1 AND id = $2 AND version = $3";

async fn current_version(tx: &mut Tx, object: &str, id: &str) -> Result<Option<i64>, StorageError> {
    let row: Option<(i64,)> = with_tx!(tx, c => sqlx::query_as(CURRENT_VERSION)
        .bind(object)
        .bind(id)
        .fetch_optional(c)
        .await
        .map_err(backend)?);
    Ok(row.map(|r| r.0))
}

async fn claim(
    tx: &mut Tx,
    object: &str,
    id: &str,
    keys: &[UniqueKey],
) -> Result<(), StorageError> {
    with_tx!(tx, c => sqlx::query(CLEAR_UNIQUE)
        .bind(object)
        .bind(id)
        .execute(c)
        .await
        .map_err(backend)?
        .rows_affected());
    for k in keys {
        let r = with_tx!(tx, c => sqlx::query(CLAIM_UNIQUE)
            .bind(object)
            .bind(&k.field)
            .bind(&k.value)
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()));
        match r {
            Ok(_) => {}
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
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

/// Applies one write of a write set inside a transaction the caller holds (bulk
/// creation checks its references' existence this way).
pub async fn write_in(tx: &mut Tx, w: Write) -> Result<(), StorageError> {
    write(tx, w).await
}

async fn write(tx: &mut Tx, w: Write) -> Result<(), StorageError> {
    match w {
        Write::Insert { record: r, unique } => {
            let data = Value::Object(r.data.clone()).to_string();
            with_tx!(tx, c => sqlx::query(INSERT_RECORD)
                .bind(&r.object).bind(&r.id).bind(&data).bind(r.version).bind(r.created_at).bind(r.updated_at)
                .bind(&r.created_by).bind(&r.updated_by)
                .execute(c)
                .await
                .map_err(backend)?
                .rows_affected());
            claim(tx, &r.object, &r.id, &unique).await
        }
        Write::Update {
            record: r,
            expected,
            unique,
        } => {
            let data = Value::Object(r.data.clone()).to_string();
            let n = with_tx!(tx, c => sqlx::query(UPDATE_RECORD)
            .bind(&data).bind(r.version).bind(r.updated_at).bind(&r.updated_by).bind(&r.object).bind(&r.id).bind(expected)
            .execute(c)
            .await
            .map_err(backend)?
            .rows_affected());
            if n == 0 {
                let current = current_version(tx, &r.object, &r.id).await?;
                return Err(StorageError::Version {
                    object: r.object,
                    id: r.id,
                    current,
                });
            }
            claim(tx, &r.object, &r.id, &unique).await
        }
        Write::Delete {
            object,
            id,
            expected,
        } => {
            let n = with_tx!(tx, c => sqlx::query(DELETE_RECORD)
                .bind(&object).bind(&id).bind(expected)
                .execute(c)
                .await
                .map_err(backend)?
                .rows_affected());
            if n == 0 {
                let current = current_version(tx, &object, &id).await?;
                return Err(StorageError::Version {
                    object,
                    id,
                    current,
                });
            }
            claim(tx, &object, &id, &[]).await
        }
        Write::Exists { object, id } => {
            // On PostgreSQL, FOR SHARE keeps a concurrent delete from removing the
            // target before this transaction commits.
            let sql = match tx.backend() {
                Backend::Sqlite => CURRENT_VERSION,
                Backend::Postgres => {
                    "SELECT version FROM records WHERE object = $1 AND id = $2 FOR SHARE"
                }
            };
            let row: Option<(i64,)> = with_tx!(tx, c => sqlx::query_as(sql).bind(&object).bind(&id).fetch_optional(c).await.map_err(backend)?);
            if row.is_none() {
                return Err(StorageError::Missing { object, id });
            }
            Ok(())
        }
    }
}

/// `s` as an SQL string literal (object names are identifiers; quotes are doubled
/// anyway).
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A list query as SQL: the page with its total, and the count alone (for a page past
/// the end, which carries no total), with their parameters.
struct ListSql {
    /// The page with `total_count` beside each row (one round trip: PostgreSQL).
    page: String,
    /// The page alone (SQLite's reader, where a second statement costs no round trip
    /// and the window would cost a temporary table and a sort).
    plain: String,
    count: String,
    binds: Vec<Bind>,
}

fn list_sql(backend: Backend, object: &str, q: &ListQuery) -> ListSql {
    let mut b = SqlQuery {
        backend,
        binds: Vec::new(),
    };
    // The object as a literal: the indexes are partial, one object each, and a
    // planner picks a partial index only when the query names its object.
    let mut conds = vec![format!("object = {}", literal(object))];
    for f in &q.filters {
        conds.push(b.condition(f));
    }
    let mut order: Vec<String> = q
        .sort
        .iter()
        .map(|s| {
            format!(
                "{} {} NULLS LAST",
                b.expr(&s.field, s.kind),
                if s.dir == SortDir::Desc {
                    "DESC"
                } else {
                    "ASC"
                }
            )
        })
        .collect();
    order.push("id ASC".to_owned());
    let where_sql = conds.join(" AND ");
    // Literal numbers, not parameters: SQLite re-plans a statement whenever a LIMIT
    // parameter is bound again, which would cost every page read a full prepare.
    let limit = q.limit.min(i64::MAX as u64);
    let offset = q.offset.min(i64::MAX as u64);
    ListSql {
        page: format!(
            "SELECT {COLUMNS}, COUNT(*) OVER () AS total_count FROM records WHERE {where_sql} \
             ORDER BY {} LIMIT {limit} OFFSET {offset}",
            order.join(", ")
        ),
        plain: format!(
            "SELECT {COLUMNS} FROM records WHERE {where_sql} \
             ORDER BY {} LIMIT {limit} OFFSET {offset}",
            order.join(", ")
        ),
        count: format!("SELECT COUNT(*) FROM records WHERE {where_sql}"),
        binds: b.binds,
    }
}

const GET_ONE: &str = "SELECT object, id, data, version, created_at, updated_at, created_by, updated_by \
     FROM records WHERE object = $1 AND id = $2";

/// A row of `COLUMNS` (and maybe a total after them) read by the per-thread reader.
fn stored_from(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRecord> {
    Ok(StoredRecord {
        object: row.get(0)?,
        id: row.get(1)?,
        data: row.get(2)?,
        version: row.get(3)?,
        created_at: row.get(4)?,
        updated_at: row.get(5)?,
        created_by: row.get(6)?,
        updated_by: row.get(7)?,
    })
}

/// The number of `COLUMNS`: a page's `total_count` comes after them.
const COLUMN_COUNT: usize = 8;

/// A row of `COLUMNS` (and maybe a total after them) read by the PostgreSQL reader.
fn stored_from_pg(row: &tokio_postgres::Row) -> Result<StoredRecord, tokio_postgres::Error> {
    Ok(StoredRecord {
        object: row.try_get(0)?,
        id: row.try_get(1)?,
        data: row.try_get(2)?,
        version: row.try_get(3)?,
        created_at: row.try_get(4)?,
        updated_at: row.try_get(5)?,
        created_by: row.try_get(6)?,
        updated_by: row.try_get(7)?,
    })
}

impl<'a> Param<'a> {
    fn of(b: &'a Bind) -> Param<'a> {
        match b {
            Bind::Text(s) => Param::Text(s),
            Bind::Int(n) => Param::Int(*n),
            Bind::Float(x) => Param::Float(*x),
        }
    }
}

/// Binds `$1…$n` by name: the statement's parameters in the order the builder made them.
fn bind_named(st: &mut rusqlite::Statement<'_>, binds: &[Bind]) -> rusqlite::Result<()> {
    for (i, b) in binds.iter().enumerate() {
        let Some(at) = st.parameter_index(&format!("${}", i + 1))? else {
            continue;
        };
        match b {
            Bind::Text(s) => st.raw_bind_parameter(at, s)?,
            Bind::Int(n) => st.raw_bind_parameter(at, n)?,
            Bind::Float(x) => st.raw_bind_parameter(at, x)?,
        }
    }
    Ok(())
}

impl RecordStore for Db {
    async fn get(&self, object: &str, id: &str) -> Result<Option<Record>, StorageError> {
        self.get_stored(object, id).await?.map(parse).transpose()
    }

    async fn list(&self, object: &str, q: &ListQuery) -> Result<(Vec<Record>, u64), StorageError> {
        let (items, total) = self.list_stored(object, q).await?;
        let items = items.into_iter().map(parse).collect::<Result<_, _>>()?;
        Ok((items, total))
    }

    async fn get_stored(
        &self,
        object: &str,
        id: &str,
    ) -> Result<Option<StoredRecord>, StorageError> {
        use rusqlite::OptionalExtension;
        if let Some(reader) = self.reader() {
            return reader
                .read(|c| {
                    c.prepare_cached(GET_ONE)?
                        .query_row((object, id), stored_from)
                        .optional()
                })
                .map_err(backend);
        }
        if let Some(reader) = self.pg_reader() {
            let rows = reader
                .query(GET_ONE, &[Param::Text(object), Param::Text(id)])
                .await
                .map_err(backend)?;
            return rows
                .first()
                .map(stored_from_pg)
                .transpose()
                .map_err(backend);
        }
        let row: Option<Row> = with_db!(self, c => sqlx::query_as(GET_ONE)
            .bind(object)
            .bind(id)
            .fetch_optional(c)
            .await
            .map_err(backend)?);
        Ok(row.map(Row::into_stored))
    }

    async fn list_stored(
        &self,
        object: &str,
        q: &ListQuery,
    ) -> Result<(Vec<StoredRecord>, u64), StorageError> {
        let sql = list_sql(self.backend(), object, q);
        let (items, first_total) = match self.reader() {
            Some(reader) => reader
                .read(|c| {
                    let mut st = c.prepare_cached(&sql.plain)?;
                    bind_named(&mut st, &sql.binds)?;
                    let mut rows = st.raw_query();
                    let mut items = Vec::with_capacity(q.limit.min(MAX_PREALLOC) as usize);
                    while let Some(row) = rows.next()? {
                        items.push(stored_from(row)?);
                    }
                    drop(rows);
                    // A first page that is not full holds every match.
                    let total = if q.offset == 0 && (items.len() as u64) < q.limit {
                        items.len() as i64
                    } else {
                        let mut st = c.prepare_cached(&sql.count)?;
                        bind_named(&mut st, &sql.binds)?;
                        let mut rows = st.raw_query();
                        match rows.next()? {
                            Some(row) => row.get(0)?,
                            None => 0,
                        }
                    };
                    Ok((items, Some(total)))
                })
                .map_err(backend)?,
            None if let Some(reader) = self.pg_reader() => {
                let params: Vec<Param<'_>> = sql.binds.iter().map(Param::of).collect();
                let rows = reader.query(&sql.page, &params).await.map_err(backend)?;
                let total = match rows.first() {
                    Some(r) => Some(r.try_get::<_, i64>(COLUMN_COUNT).map_err(backend)?),
                    None => None,
                };
                let items = rows
                    .iter()
                    .map(stored_from_pg)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)?;
                (items, total)
            }
            None => {
                let counted: Vec<CountedRow> = with_db!(self, c => bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql.page.clone())), &sql.binds)
                    .fetch_all(c)
                    .await
                    .map_err(backend)?);
                let total = counted.first().map(|r| r.total_count);
                (
                    counted.into_iter().map(|c| c.row.into_stored()).collect(),
                    total,
                )
            }
        };
        let total = match first_total {
            Some(t) => t,
            None if q.offset == 0 => 0,
            // A page past the end carries no count: ask for it.
            None => {
                let (t,): (i64,) = with_db!(self, c => bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql.count.clone())), &sql.binds)
                    .fetch_one(c)
                    .await
                    .map_err(backend)?);
                t
            }
        };
        Ok((items, total as u64))
    }

    async fn apply(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        if let Some((writer, _turn)) = self.sqlite_writer().await.map_err(backend)? {
            return writer.apply(writes);
        }
        let mut tx = self.begin().await.map_err(backend)?;
        for w in writes {
            write(&mut tx, w).await?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn insert_numbered(&self, insert: NumberedInsert) -> Result<Record, StorageError> {
        let Some(writer) = self.writer() else {
            return runtime::number_then_write(self, insert).await;
        };
        let ticket = writer.enqueue(insert);
        // No turn within the busy timeout drops the ticket: the create is withdrawn.
        if let Some((writer, _turn)) = self.sqlite_writer().await.map_err(backend)? {
            // Groups are bounded: a create behind a long queue may take two.
            while ticket.waiting() {
                writer.commit_queued();
            }
        }
        ticket.answer().await
    }

    async fn reserve_numbers(
        &self,
        object: &str,
        field: &str,
        count: u32,
    ) -> Result<i64, StorageError> {
        // Its own short transaction: the counter moves on even if the create fails.
        if let Some((writer, _turn)) = self.sqlite_writer().await.map_err(backend)? {
            return writer.reserve_numbers(object, field, count);
        }
        let mut tx = self.begin().await.map_err(backend)?;
        let first = reserve_numbers_in(&mut tx, object, field, count).await?;
        tx.commit().await.map_err(backend)?;
        Ok(first)
    }

    async fn unique_holder(
        &self,
        object: &str,
        key: &UniqueKey,
    ) -> Result<Option<String>, StorageError> {
        let row: Option<(String,)> = with_db!(self, c => sqlx::query_as(
            "SELECT id FROM record_unique WHERE object = $1 AND field = $2 AND value = $3")
            .bind(object).bind(&key.field).bind(&key.value)
            .fetch_optional(c).await.map_err(backend)?);
        Ok(row.map(|(id,)| id))
    }

    async fn last_number(&self, object: &str, field: &str) -> Result<i64, StorageError> {
        let row: Option<(i64,)> = with_db!(self, c => sqlx::query_as(
            "SELECT last_value FROM record_counters WHERE object = $1 AND field = $2")
            .bind(object).bind(field)
            .fetch_optional(c).await.map_err(backend)?);
        Ok(row.map_or(0, |(n,)| n))
    }
}

pub(crate) const RESERVE: &str = "INSERT INTO record_counters (object, field, last_value) VALUES ($1, $2, $3) \
     ON CONFLICT (object, field) DO UPDATE SET last_value = record_counters.last_value + excluded.last_value \
     RETURNING last_value";

/// [`RecordStore::reserve_numbers`] inside a transaction (bulk imports, backfills).
pub async fn reserve_numbers_in(
    tx: &mut Tx,
    object: &str,
    field: &str,
    count: u32,
) -> Result<i64, StorageError> {
    let last: (i64,) = with_tx!(tx, c => sqlx::query_as(RESERVE)
        .bind(object)
        .bind(field)
        .bind(i64::from(count))
        .fetch_one(c)
        .await
        .map_err(backend)?);
    Ok(last.0 - i64::from(count) + 1)
}

/// Numbers every record of `object` that has no value for `field`, in creation order
/// (a field that has just become numbered). A number some record already holds is
/// skipped. Each numbered record gets a new version. Returns how many were numbered.
pub async fn number_missing(
    tx: &mut Tx,
    object: &str,
    field: &str,
    numbering: &spec::AutoNumber,
    at: i64,
) -> Result<u64, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM records WHERE object = $1 ORDER BY created_at, id");
    let rows: Vec<Row> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(object)
        .fetch_all(c)
        .await
        .map_err(backend)?);
    let mut missing = Vec::new();
    for row in rows {
        let r = row.into_record()?;
        match r.data.get(field) {
            None | Some(Value::Null) => missing.push(r),
            // A value written by hand becomes unique with the numbering: claim it,
            // so no number repeats it.
            Some(v) => {
                let value = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                with_tx!(tx, c => sqlx::query(
                    "INSERT INTO record_unique (object, field, value, id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(object).bind(field).bind(&value).bind(&r.id)
                .execute(c)
                .await
                .map_err(backend)?
                .rows_affected());
            }
        }
    }
    let mut numbered = 0;
    for mut r in missing {
        loop {
            let n = reserve_numbers_in(tx, object, field, 1).await?;
            let value = numbering.format(n);
            let taken = with_tx!(tx, c => sqlx::query(
                "INSERT INTO record_unique (object, field, value, id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(object).bind(field).bind(&value).bind(&r.id)
            .execute(c)
            .await
            .map_err(backend)?
            .rows_affected())
                == 0;
            if taken {
                continue;
            }
            r.data.insert(field.to_owned(), Value::String(value));
            break;
        }
        let data = Value::Object(r.data).to_string();
        with_tx!(tx, c => sqlx::query(
            "UPDATE records SET data = $1, version = version + 1, updated_at = $2 WHERE object = $3 AND id = $4",
        )
        .bind(&data).bind(at).bind(object).bind(&r.id)
        .execute(c)
        .await
        .map_err(backend)?
        .rows_affected());
        numbered += 1;
    }
    Ok(numbered)
}

/// Creates the expression indexes the live spec's lists need: every reference field
/// (relations and `onDelete` look-ups) and every field a list page filters on. Index
/// expressions match those of the list queries, so the planner uses them.
pub async fn ensure_indexes(db: &Db, spec: &spec::Spec) -> Result<(), crate::StoreError> {
    let mut wanted: std::collections::BTreeSet<(String, String, ValueKind)> = Default::default();
    for (obj, def) in &spec.objects {
        for (name, f) in &def.fields {
            if f.ty == spec::FieldType::Reference {
                wanted.insert((obj.clone(), name.clone(), ValueKind::Text));
            }
        }
        // Pickers list records by title.
        if let Some(t) = def.title_field() {
            wanted.insert((obj.clone(), t.to_owned(), ValueKind::Text));
        }
    }
    for page in spec.pages.values() {
        if let spec::PageDef::List(l) = page
            && let Some(def) = spec.objects.get(&l.object)
        {
            for f in &l.filters {
                // Text-valued fields only: a cast in an index expression would fail the
                // whole index on one odd stored value.
                let textual = def.fields.get(f).is_some_and(|d| {
                    d.ty.is_textual()
                        || matches!(
                            d.ty,
                            spec::FieldType::Enum
                                | spec::FieldType::Reference
                                | spec::FieldType::Date
                        )
                }) || def.state_flow.as_ref().is_some_and(|fl| &fl.field == f);
                if textual {
                    wanted.insert((l.object.clone(), f.clone(), ValueKind::Text));
                }
            }
        }
    }
    let q = SqlQuery {
        backend: db.backend(),
        binds: Vec::new(),
    };
    let mut keep = std::collections::BTreeSet::new();
    for (obj, field, kind) in wanted {
        let name: String = format!("ri_{}_{}", obj, field)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(60)
            .collect::<String>()
            .to_lowercase();
        // Partial: an index holds one object's records, so a write updates only the
        // indexes of its own object. `id` second: a filtered page comes out in order.
        let sql = format!(
            "CREATE INDEX IF NOT EXISTS {name} ON records ({}, id) WHERE object = {}",
            q.expr(&field, kind),
            literal(&obj)
        );
        with_db!(db, c => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(c).await?.rows_affected());
        keep.insert(name);
    }
    // Indexes of fields no longer listed (and the whole-table `rx_` ones of earlier
    // versions) only slow writes down.
    let existing: Vec<(String,)> = match db.backend() {
        Backend::Sqlite => with_db!(db, c => sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' \
             AND (name LIKE 'rx\\_%' ESCAPE '\\' OR name LIKE 'ri\\_%' ESCAPE '\\')")
            .fetch_all(c).await?),
        Backend::Postgres => with_db!(db, c => sqlx::query_as(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'records' \
             AND (indexname LIKE 'rx\\_%' OR indexname LIKE 'ri\\_%')")
            .fetch_all(c).await?),
    };
    for (name,) in existing {
        if !keep.contains(&name) {
            let clean: String = name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let sql = format!("DROP INDEX IF EXISTS {clean}");
            with_db!(db, c => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(c).await?.rows_affected());
        }
    }
    Ok(())
}

/// Refreshes the planner's statistics, so that a filtered list uses the index of its
/// filter rather than scanning in id order (SQLite has no automatic statistics).
pub async fn analyze(db: &Db) -> Result<(), crate::StoreError> {
    match db {
        Db::Sqlite(crate::SqliteDb { pool: p, .. }) => {
            sqlx::query("ANALYZE").execute(p).await.map(|_| ())?
        }
        Db::Postgres(crate::PgDb { pool: p, .. }) => sqlx::query("ANALYZE records")
            .execute(p)
            .await
            .map(|_| ())?,
    }
    Ok(())
}

/// A question about stored records that a spec change raises (the impact of a
/// publish), answered by counting in SQL without loading the records.
#[derive(Debug, Clone, PartialEq)]
pub enum Count<'a> {
    /// Every record of the object.
    All,
    /// Records without a value for the field.
    Missing(&'a str),
    /// Records with a value for the field.
    Present(&'a str),
    /// Records whose value another record of the object shares.
    Duplicated(&'a str),
    /// Records whose number is below `min` or above `max`.
    Outside(&'a str, Option<f64>, Option<f64>),
    /// Records whose text is shorter than `min` or longer than `max` characters.
    LengthOutside(&'a str, Option<i64>, Option<i64>),
    /// Records whose value is none of these.
    NotIn(&'a str, &'a [String]),
}

/// How many records of `object` `what` finds.
pub async fn count(db: &Db, object: &str, what: &Count<'_>) -> Result<i64, crate::StoreError> {
    let backend = db.backend();
    // Field names are spec identifiers; keep only what an identifier may hold.
    let clean = |f: &str| {
        f.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
    };
    let text = |f: &str| match backend {
        Backend::Sqlite => format!("json_extract(data, '$.{}')", clean(f)),
        Backend::Postgres => format!("(data::jsonb ->> '{}')", clean(f)),
    };
    let number = |f: &str| match backend {
        Backend::Sqlite => format!("CAST(json_extract(data, '$.{}') AS REAL)", clean(f)),
        Backend::Postgres => format!("((data::jsonb ->> '{}')::double precision)", clean(f)),
    };
    let mut binds: Vec<Bind> = vec![Bind::Text(object.to_owned())];
    let cond = match what {
        Count::All => "TRUE".to_owned(),
        Count::Missing(f) => format!("{} IS NULL", text(f)),
        Count::Present(f) => format!("{} IS NOT NULL", text(f)),
        Count::Duplicated(f) => {
            let e = text(f);
            format!(
                "{e} IS NOT NULL AND {e} IN (SELECT {e} FROM records WHERE object = $1 AND {e} IS NOT NULL \
                 GROUP BY {e} HAVING COUNT(*) > 1)"
            )
        }
        Count::Outside(f, min, max) => {
            let e = number(f);
            let mut parts = Vec::new();
            if let Some(m) = min {
                binds.push(Bind::Float(*m));
                parts.push(format!("{e} < ${}", binds.len()));
            }
            if let Some(m) = max {
                binds.push(Bind::Float(*m));
                parts.push(format!("{e} > ${}", binds.len()));
            }
            if parts.is_empty() {
                return Ok(0);
            }
            format!("{} IS NOT NULL AND ({})", text(f), parts.join(" OR "))
        }
        Count::LengthOutside(f, min, max) => {
            let e = format!("LENGTH({})", text(f));
            let mut parts = Vec::new();
            if let Some(m) = min {
                binds.push(Bind::Int(*m));
                parts.push(format!("{e} < ${}", binds.len()));
            }
            if let Some(m) = max {
                binds.push(Bind::Int(*m));
                parts.push(format!("{e} > ${}", binds.len()));
            }
            if parts.is_empty() {
                return Ok(0);
            }
            format!("{} IS NOT NULL AND ({})", text(f), parts.join(" OR "))
        }
        Count::NotIn(f, values) => {
            let mut ps = Vec::new();
            for v in values.iter() {
                binds.push(Bind::Text(v.clone()));
                ps.push(format!("${}", binds.len()));
            }
            if ps.is_empty() {
                format!("{} IS NOT NULL", text(f))
            } else {
                format!(
                    "{} IS NOT NULL AND {} NOT IN ({})",
                    text(f),
                    text(f),
                    ps.join(", ")
                )
            }
        }
    };
    let sql = format!("SELECT COUNT(*) FROM records WHERE object = $1 AND {cond}");
    let (n,): (i64,) = with_db!(db, c => bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &binds)
        .fetch_one(c).await?);
    Ok(n)
}

/// Rows per multi-row INSERT of `columns` values. sqlx's SQLite driver looks every
/// parameter up by name, and SQLite finds a name by scanning the statement's list of
/// names: numbered parameters cost time quadratic in their count, anonymous `?` ones
/// do not — so SQLite takes large statements of `?`, PostgreSQL a few hundred `$N`.
fn rows_per_statement(backend: Backend, columns: usize) -> usize {
    match backend {
        Backend::Sqlite => 4000 / columns,
        Backend::Postgres => 800 / columns,
    }
}

/// `(…), (…)` placeholders for `rows` rows of `columns` values.
fn value_rows(backend: Backend, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for i in 0..rows {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for j in 0..columns {
            if j > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => sql.push_str(&format!("${}", i * columns + j + 1)),
            }
        }
        sql.push(')');
    }
    sql
}

/// Inserts new records in multi-row statements inside `tx` (bulk imports). Unique
/// values are claimed with `ON CONFLICT DO NOTHING`, so a clash does not abort the
/// transaction: it is returned as (record id, field) for the caller to report, and
/// the caller rolls back. Records must be fresh (new ids).
pub async fn insert_many(
    tx: &mut Tx,
    records: &[(Record, Vec<UniqueKey>)],
) -> Result<Vec<(String, String)>, StorageError> {
    if let Tx::Postgres(t) = tx {
        return insert_many_pg(t, records).await;
    }
    let kind = tx.backend();
    for chunk in records.chunks(rows_per_statement(kind, 8)) {
        let sql = format!(
            "INSERT INTO records ({COLUMNS}) VALUES {}",
            value_rows(kind, chunk.len(), 8)
        );
        let data: Vec<String> = chunk
            .iter()
            .map(|(r, _)| Value::Object(r.data.clone()).to_string())
            .collect();
        with_tx!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for ((r, _), d) in chunk.iter().zip(&data) {
                q = q.bind(&r.object).bind(&r.id).bind(d).bind(r.version).bind(r.created_at)
                    .bind(r.updated_at).bind(&r.created_by).bind(&r.updated_by);
            }
            q.execute(c).await.map_err(backend)?.rows_affected()
        });
    }
    let keys: Vec<(&Record, &UniqueKey)> = records
        .iter()
        .flat_map(|(r, ks)| ks.iter().map(move |k| (r, k)))
        .collect();
    let mut conflicts = Vec::new();
    for chunk in keys.chunks(rows_per_statement(kind, 4)) {
        let sql = format!(
            "INSERT INTO record_unique (object, field, value, id) VALUES {} \
             ON CONFLICT DO NOTHING RETURNING id, field",
            value_rows(kind, chunk.len(), 4)
        );
        let claimed: Vec<(String, String)> = with_tx!(tx, c => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for (r, k) in chunk {
                q = q.bind(&r.object).bind(&k.field).bind(&k.value).bind(&r.id);
            }
            q.fetch_all(c).await.map_err(backend)?
        });
        let claimed: std::collections::HashSet<(String, String)> = claimed.into_iter().collect();
        for (r, k) in chunk {
            if !claimed.contains(&(r.id.clone(), k.field.clone())) {
                conflicts.push((r.id.clone(), k.field.clone()));
            }
        }
    }
    Ok(conflicts)
}

/// Rows per statement on PostgreSQL: arrays bound whole, one parse per statement.
const PG_ARRAY_ROWS: usize = 5000;

/// [`insert_many`] on PostgreSQL: each column bound as one array and unnested, so a
/// statement carries thousands of rows with eight parameters and is planned once,
/// where `VALUES` lists are capped by the parameter limit and re-parsed per length.
async fn insert_many_pg(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    records: &[(Record, Vec<UniqueKey>)],
) -> Result<Vec<(String, String)>, StorageError> {
    const INSERT: &str = "INSERT INTO records (object, id, data, version, created_at, updated_at, created_by, updated_by) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[], $7::text[], $8::text[])";
    const CLAIM: &str = "INSERT INTO record_unique (object, field, value, id) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) \
         ON CONFLICT DO NOTHING RETURNING id, field";
    for chunk in records.chunks(PG_ARRAY_ROWS) {
        let column =
            |f: fn(&Record) -> &str| -> Vec<&str> { chunk.iter().map(|(r, _)| f(r)).collect() };
        let data: Vec<String> = chunk
            .iter()
            .map(|(r, _)| Value::Object(r.data.clone()).to_string())
            .collect();
        let number =
            |f: fn(&Record) -> i64| -> Vec<i64> { chunk.iter().map(|(r, _)| f(r)).collect() };
        let who = |f: fn(&Record) -> Option<&str>| -> Vec<Option<&str>> {
            chunk.iter().map(|(r, _)| f(r)).collect()
        };
        sqlx::query(INSERT)
            .bind(column(|r| &r.object))
            .bind(column(|r| &r.id))
            .bind(&data)
            .bind(number(|r| r.version))
            .bind(number(|r| r.created_at))
            .bind(number(|r| r.updated_at))
            .bind(who(|r| r.created_by.as_deref()))
            .bind(who(|r| r.updated_by.as_deref()))
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
    }
    let keys: Vec<(&Record, &UniqueKey)> = records
        .iter()
        .flat_map(|(r, ks)| ks.iter().map(move |k| (r, k)))
        .collect();
    let mut conflicts = Vec::new();
    for chunk in keys.chunks(PG_ARRAY_ROWS) {
        let claimed: Vec<(String, String)> = sqlx::query_as(CLAIM)
            .bind(
                chunk
                    .iter()
                    .map(|(r, _)| r.object.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                chunk
                    .iter()
                    .map(|(_, k)| k.field.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                chunk
                    .iter()
                    .map(|(_, k)| k.value.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(chunk.iter().map(|(r, _)| r.id.as_str()).collect::<Vec<_>>())
            .fetch_all(&mut **tx)
            .await
            .map_err(backend)?;
        let claimed: std::collections::HashSet<(String, String)> = claimed.into_iter().collect();
        for (r, k) in chunk {
            if !claimed.contains(&(r.id.clone(), k.field.clone())) {
                conflicts.push((r.id.clone(), k.field.clone()));
            }
        }
    }
    Ok(conflicts)
}
