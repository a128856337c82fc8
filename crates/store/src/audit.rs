//! The audit log: append-only and hash-chained.
//!
//! Each row's `hash` is SHA-256 over a canonical encoding of the row and the previous
//! row's hash, so editing or deleting any row breaks every hash after it. Appends are
//! serialised (an advisory lock on PostgreSQL, `BEGIN IMMEDIATE` on SQLite) inside the
//! caller's transaction, so concurrent writers — even on several replicas — extend one
//! chain and never fork it.

use crate::db::Bind;
use crate::{Db, StoreError, Tx, now_ms};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Arbitrary constant naming the chain's lock among PostgreSQL advisory locks.
const CHAIN_LOCK: i64 = 727_002;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// An event to record. `details` must never hold secrets: callers pass what a
/// reviewer needs to know, not request bodies.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub actor: Option<String>,
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub outcome: Outcome,
    pub details: serde_json::Value,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

impl NewEntry {
    pub fn new(action: impl Into<String>, outcome: Outcome) -> Self {
        NewEntry {
            actor: None,
            action: action.into(),
            resource_type: None,
            resource_id: None,
            outcome,
            details: serde_json::Value::Object(Default::default()),
            request_id: None,
            client_addr: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub seq: i64,
    pub at: i64,
    pub actor: Option<String>,
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub outcome: String,
    pub details: String,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

const COLUMNS: &str = "seq, at, actor, action, resource_type, resource_id, outcome, details, request_id, client_addr, prev_hash, hash";

impl Entry {
    /// The hash this row should carry given its content and `prev_hash`.
    pub fn expected_hash(&self) -> String {
        // A JSON array of the fields in a fixed order is unambiguous (every string is
        // quoted and escaped), which a plain concatenation would not be.
        let canonical = serde_json::to_string(&(
            self.seq,
            self.at,
            &self.actor,
            &self.action,
            &self.resource_type,
            &self.resource_id,
            &self.outcome,
            &self.details,
            &self.request_id,
            &self.client_addr,
            &self.prev_hash,
        ))
        .expect("plain values serialise");
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }
}

/// Appends `entry` to the chain inside `tx`; the row commits or rolls back with it.
pub async fn append(tx: &mut Tx, entry: NewEntry) -> Result<Entry, StoreError> {
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CHAIN_LOCK)
            .execute(&mut **t)
            .await?;
    }
    let last: Option<(i64, String)> = with_tx!(tx, c => sqlx::query_as(
        "SELECT seq, hash FROM audit_logs ORDER BY seq DESC LIMIT 1",
    )
    .fetch_optional(c)
    .await?);
    let (seq, prev_hash) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_owned()),
    };
    let mut row = Entry {
        seq,
        at: now_ms(),
        actor: entry.actor,
        action: entry.action,
        resource_type: entry.resource_type,
        resource_id: entry.resource_id,
        outcome: entry.outcome.as_str().to_owned(),
        // The hash covers this text exactly as stored, so verification never depends
        // on how a map would be re-serialised.
        details: entry.details.to_string(),
        request_id: entry.request_id,
        client_addr: entry.client_addr,
        prev_hash,
        hash: String::new(),
    };
    row.hash = row.expected_hash();
    let sql = format!(
        "INSERT INTO audit_logs ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    with_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(row.seq)
        .bind(row.at)
        .bind(&row.actor)
        .bind(&row.action)
        .bind(&row.resource_type)
        .bind(&row.resource_id)
        .bind(&row.outcome)
        .bind(&row.details)
        .bind(&row.request_id)
        .bind(&row.client_addr)
        .bind(&row.prev_hash)
        .bind(&row.hash)
        .execute(c)
        .await?.rows_affected());
    Ok(row)
}

/// Appends one entry in its own transaction (for events with no other state change,
/// such as a failed login).
pub async fn record(db: &Db, entry: NewEntry) -> Result<Entry, StoreError> {
    let mut tx = db.begin().await?;
    let row = append(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(row)
}

/// Which entries to list. Empty fields do not filter.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Filter {
    /// Matches the action and everything under it: `auth` matches `auth.login`.
    pub action: Option<String>,
    pub actor: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub outcome: Option<Outcome>,
    /// Inclusive lower bound, unix ms.
    pub from: Option<i64>,
    /// Exclusive upper bound, unix ms.
    pub to: Option<i64>,
}

fn where_clause(f: &Filter) -> (String, Vec<Bind>) {
    let mut conds: Vec<String> = Vec::new();
    let mut binds = Vec::new();
    fn param(binds: &mut Vec<Bind>, b: Bind) -> String {
        binds.push(b);
        format!("${}", binds.len())
    }
    if let Some(a) = f.action.as_deref().filter(|s| !s.is_empty()) {
        // Prefix match on a dotted boundary without LIKE, whose escaping differs by backend.
        let exact = param(&mut binds, Bind::Text(a.to_owned()));
        let prefix = param(&mut binds, Bind::Text(format!("{a}.")));
        let len = param(&mut binds, Bind::Int(a.chars().count() as i64 + 1));
        conds.push(format!(
            "(action = {exact} OR SUBSTR(action, 1, CAST({len} AS INTEGER)) = {prefix})"
        ));
    }
    let text_filters = [
        ("actor", f.actor.as_deref()),
        ("resource_type", f.resource_type.as_deref()),
        ("resource_id", f.resource_id.as_deref()),
        ("outcome", f.outcome.map(Outcome::as_str)),
    ];
    for (column, value) in text_filters {
        if let Some(v) = value.filter(|s| !s.is_empty()) {
            let p = param(&mut binds, Bind::Text(v.to_owned()));
            conds.push(format!("{column} = {p}"));
        }
    }
    if let Some(v) = f.from {
        let p = param(&mut binds, Bind::Int(v));
        conds.push(format!("at >= {p}"));
    }
    if let Some(v) = f.to {
        let p = param(&mut binds, Bind::Int(v));
        conds.push(format!("at < {p}"));
    }
    let clause = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    (clause, binds)
}

/// A page of entries, newest first, and the total matching the filter.
pub async fn list(
    db: &Db,
    f: &Filter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Entry>, i64), StoreError> {
    let (clause, binds) = where_clause(f);
    let n = binds.len();
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_logs{clause} ORDER BY seq DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let count_sql = format!("SELECT COUNT(*) FROM audit_logs{clause}");
    let rows: Vec<Entry> = with_db!(db, c => bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &binds)
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await?);
    let (total,): (i64,) = with_db!(db, c => bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(count_sql)), &binds)
        .fetch_one(c)
        .await?);
    Ok((rows, total))
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The walk began after this row (0: at the first row).
    pub started_after: i64,
    /// Rows found to hold in this walk.
    pub rows_checked: i64,
    /// The first row that does not hold, and why.
    pub first_broken: Option<(i64, String)>,
    /// The last row that holds and its hash: where the next walk may start.
    pub last_good: Option<(i64, String)>,
}

/// A row up to which the chain was verified to hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub verified_at: i64,
}

/// Walks the whole chain in order and reports the first row that does not hold:
/// a changed row (its hash no longer matches), a deleted row (a gap in `seq`, or a
/// `prev_hash` that is not its predecessor's hash), or a reordered one.
pub async fn verify(db: &Db) -> Result<Verification, StoreError> {
    verify_from(db, None).await
}

/// Walks the chain from `checkpoint` on: the checkpoint row must still carry the
/// hash it had when verified (so rows at and after it cannot have been changed or
/// removed unseen), and every later row must hold. Rows before the checkpoint are
/// taken as verified; a full walk ([`verify`]) checks them again.
pub async fn verify_from(
    db: &Db,
    checkpoint: Option<&Checkpoint>,
) -> Result<Verification, StoreError> {
    const BATCH: i64 = 1000;
    let mut out = Verification {
        started_after: 0,
        rows_checked: 0,
        first_broken: None,
        last_good: None,
    };
    let mut prev_hash = GENESIS.to_owned();
    if let Some(cp) = checkpoint {
        let sql = format!("SELECT {COLUMNS} FROM audit_logs WHERE seq = $1");
        let row: Option<Entry> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(cp.seq)
            .fetch_optional(c)
            .await?);
        let broken = match &row {
            None => Some("the checkpoint row is missing: rows were deleted".to_owned()),
            Some(r) if r.hash != cp.hash || r.hash != r.expected_hash() => Some(
                "the checkpoint row no longer matches the hash it was verified with: the row was changed"
                    .to_owned(),
            ),
            Some(_) => None,
        };
        if let Some(why) = broken {
            out.first_broken = Some((cp.seq, why));
            return Ok(out);
        }
        out.started_after = cp.seq;
        out.last_good = Some((cp.seq, cp.hash.clone()));
        prev_hash = cp.hash.clone();
    }
    let mut after = out.started_after;
    let mut expected_seq = after + 1;
    loop {
        let sql = format!("SELECT {COLUMNS} FROM audit_logs WHERE seq > $1 ORDER BY seq LIMIT $2");
        let rows: Vec<Entry> = with_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(BATCH)
            .fetch_all(c)
            .await?);
        if rows.is_empty() {
            return Ok(out);
        }
        for row in rows {
            let broken = if row.seq != expected_seq {
                Some(format!(
                    "expected row {expected_seq}, found row {}: rows are missing",
                    row.seq
                ))
            } else if row.prev_hash != prev_hash {
                Some("prev_hash does not match the previous row's hash".to_owned())
            } else if row.hash != row.expected_hash() {
                Some("hash does not match the row's content: the row was changed".to_owned())
            } else {
                None
            };
            if let Some(why) = broken {
                out.first_broken = Some((row.seq, why));
                return Ok(out);
            }
            out.rows_checked += 1;
            expected_seq += 1;
            after = row.seq;
            out.last_good = Some((row.seq, row.hash.clone()));
            prev_hash = row.hash;
        }
    }
}

/// The newest checkpoint, if the chain was ever verified.
pub async fn latest_checkpoint(db: &Db) -> Result<Option<Checkpoint>, StoreError> {
    Ok(with_db!(db, c => sqlx::query_as(
        "SELECT seq, hash, verified_at FROM audit_checkpoints ORDER BY seq DESC LIMIT 1",
    )
    .fetch_optional(c)
    .await?))
}

/// Remembers that the chain holds up to row `seq` with `hash`. Saving the same row
/// twice (two replicas verifying at once) keeps the first.
pub async fn save_checkpoint(db: &Db, seq: i64, hash: &str) -> Result<(), StoreError> {
    with_db!(db, c => sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, verified_at) VALUES ($1, $2, $3) ON CONFLICT (seq) DO NOTHING",
    )
    .bind(seq)
    .bind(hash)
    .bind(now_ms())
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// How many rows the log holds (to tell a fresh install from a used one).
pub async fn count(db: &Db) -> Result<i64, StoreError> {
    let (n,): (i64,) =
        with_db!(db, c => sqlx::query_as("SELECT COUNT(*) FROM audit_logs").fetch_one(c).await?);
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            seq: 1,
            at: 1_700_000_000_000,
            actor: Some("admin".into()),
            action: "auth.login".into(),
            resource_type: None,
            resource_id: None,
            outcome: "success".into(),
            details: "{}".into(),
            request_id: None,
            client_addr: None,
            prev_hash: GENESIS.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn hash_depends_on_every_field() {
        let base = entry().expected_hash();
        let mut e = entry();
        e.actor = Some("admim".into());
        assert_ne!(e.expected_hash(), base);
        let mut e = entry();
        e.prev_hash = "1".repeat(64);
        assert_ne!(e.expected_hash(), base);
        let mut e = entry();
        e.details = "{\"a\":1}".into();
        assert_ne!(e.expected_hash(), base);
        // Moving text between adjacent fields must change the hash too.
        let mut a = entry();
        a.resource_type = Some("ab".into());
        a.resource_id = Some("c".into());
        let mut b = entry();
        b.resource_type = Some("a".into());
        b.resource_id = Some("bc".into());
        assert_ne!(a.expected_hash(), b.expected_hash());
    }

    #[test]
    fn action_filter_matches_prefix_on_dot_boundary() {
        let (clause, binds) = where_clause(&Filter {
            action: Some("auth".into()),
            ..Default::default()
        });
        assert_eq!(
            clause,
            " WHERE (action = $1 OR SUBSTR(action, 1, CAST($3 AS INTEGER)) = $2)"
        );
        assert_eq!(binds.len(), 3);
    }
}
