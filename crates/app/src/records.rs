//! CRM records on the live spec, as one caller may see and change them. The records
//! engine checks the business permissions of every call against the spec's grants.

use crate::error::{AppError, AppResult};
use crate::live::Live;
use crate::{App, Caller};
use runtime::{
    Action, Engine, Filter, FilterOp, ListQuery, MAX_PAGE, Page, Record, RuntimeError, SortDir,
};
use serde_json::{Map, Value};
use spec::Spec;
use std::sync::Arc;
use store::Db;

/// The records of one live spec version, for one caller. Open one per request: a
/// spec change that lands meanwhile applies to the next.
pub struct Records {
    live: Arc<Live>,
    db: Db,
    actor: runtime::Actor,
}

/// A version the caller read and expects the record still to have: if it moved on,
/// the change is refused as stale rather than overwriting someone else's.
fn stale(e: RuntimeError, expected: Option<i64>) -> AppError {
    match e {
        RuntimeError::VersionConflict { current, .. } if expected.is_some() => {
            AppError::PreconditionFailed {
                message: format!("the record is now at version {current}; reload and try again"),
                current_version: current,
            }
        }
        e => e.into(),
    }
}

impl Records {
    pub fn open(app: &App, by: &Caller) -> Records {
        Records {
            live: app.live.get(),
            db: app.db.clone(),
            actor: by.actor(),
        }
    }

    /// The live spec these records follow.
    pub fn spec(&self) -> &Spec {
        &self.live.spec
    }

    fn engine(&self) -> Engine<'_, Db> {
        Engine::new(&self.live.spec, &self.db)
    }

    /// A record as clients see it (hidden fields left out).
    pub fn view(&self, r: &Record) -> Value {
        self.engine().view(r)
    }

    /// Whether the caller may do `action` on `object`.
    pub fn allowed(&self, object: &str, action: Action<'_>) -> bool {
        runtime::allowed(&self.live.spec, &self.actor, object, action)
    }

    /// Parses query pairs into a list query for `object`:
    /// `status=draft&amount.gte=10&tier.in=gold,silver&sort=-amount,name&page=2&perPage=20`.
    /// Returns the query, the page number and the page size; a bad parameter is named.
    pub fn query(
        &self,
        object: &str,
        pairs: &[(String, String)],
    ) -> AppResult<(ListQuery, u64, u64)> {
        let e = self.engine();
        e.object(object)?;
        let mut q = ListQuery::default();
        let mut page = 1u64;
        let mut per_page = 20u64;
        for (key, raw) in pairs {
            match key.as_str() {
                "page" => {
                    page = raw.parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
                        AppError::bad_request(format!("page: '{raw}' is not a page number"))
                    })?
                }
                "perPage" => {
                    per_page = raw
                        .parse()
                        .ok()
                        .filter(|p| (1..=MAX_PAGE).contains(p))
                        .ok_or_else(|| {
                            AppError::bad_request(format!(
                                "perPage: must be between 1 and {MAX_PAGE}"
                            ))
                        })?
                }
                "sort" => {
                    for part in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        let (field, dir) = match part.strip_prefix('-') {
                            Some(f) => (f, SortDir::Desc),
                            None => (part, SortDir::Asc),
                        };
                        q.sort.push(e.sort(object, field, dir)?);
                    }
                }
                _ => {
                    let (field, op) = match key.rsplit_once('.') {
                        Some((f, op)) => {
                            let op = FilterOp::parse(op).ok_or_else(|| {
                                AppError::bad_request(format!("{key}: unknown operator '{op}'; use eq ne lt lte gt gte contains in"))
                            })?;
                            (f, op)
                        }
                        None => (key.as_str(), FilterOp::Eq),
                    };
                    let value = if op == FilterOp::In {
                        Value::Array(
                            raw.split(',')
                                .map(|v| Value::String(v.trim().to_owned()))
                                .collect(),
                        )
                    } else if raw == "null" {
                        Value::Null
                    } else {
                        Value::String(raw.clone())
                    };
                    q.filters.push(e.filter(object, field, op, value)?);
                }
            }
        }
        q.offset = (page - 1).saturating_mul(per_page);
        q.limit = per_page;
        Ok((q, page, per_page))
    }

    /// A filter on one field, for lists built in code (related records).
    pub fn filter(
        &self,
        object: &str,
        field: &str,
        op: FilterOp,
        value: Value,
    ) -> AppResult<Filter> {
        Ok(self.engine().filter(object, field, op, value)?)
    }

    pub async fn list(&self, object: &str, q: &ListQuery) -> AppResult<Page> {
        Ok(self.engine().list(&self.actor, object, q).await?)
    }

    pub async fn get(&self, object: &str, id: &str) -> AppResult<Record> {
        Ok(self.engine().get(&self.actor, object, id).await?)
    }

    pub async fn create(&self, object: &str, data: &Map<String, Value>) -> AppResult<Record> {
        Ok(self.engine().create(&self.actor, object, data).await?)
    }

    /// Changes the given fields; with `expected`, only if the record is still at
    /// that version.
    pub async fn update(
        &self,
        object: &str,
        id: &str,
        data: &Map<String, Value>,
        expected: Option<i64>,
    ) -> AppResult<Record> {
        self.engine()
            .update(&self.actor, object, id, data, expected)
            .await
            .map_err(|e| stale(e, expected))
    }

    pub async fn delete(&self, object: &str, id: &str, expected: Option<i64>) -> AppResult<()> {
        self.engine()
            .delete(&self.actor, object, id, expected)
            .await
            .map_err(|e| stale(e, expected))
    }

    pub async fn transition(
        &self,
        object: &str,
        id: &str,
        name: &str,
        expected: Option<i64>,
    ) -> AppResult<Record> {
        self.engine()
            .transition(&self.actor, object, id, name, expected)
            .await
            .map_err(|e| stale(e, expected))
    }
}
