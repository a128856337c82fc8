//! CRM records on the live spec, as one caller may see and change them. The records
//! engine checks the business permissions of every call against the spec's grants.

mod backing;
mod bulk;
mod csv;

pub use backing::Backing;

pub use bulk::Refused;

pub use csv::{ImportReport, RowError};

use crate::error::{AppError, AppResult};
use crate::live::Live;
use crate::{App, Caller};
use runtime::{
    Action, Engine, Filter, FilterOp, ListQuery, MAX_PAGE, Page, Record, RuntimeError, SortDir,
};
use serde_json::{Map, Value};
use spec::Spec;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use store::Db;

/// The records of one live spec version, for one caller. Open one per request: a
/// spec change that lands meanwhile applies to the next.
pub struct Records {
    live: Arc<Live>,
    db: Db,
    /// The database, or a preview's overlay over it: what the engine reads and writes.
    store: Backing,
    /// `by` as the records engine sees it, made once.
    actor: runtime::Actor,
    /// Who asks, for the audit entries of bulk changes.
    by: Caller,
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
            store: Backing::Live(app.db.clone()),
            actor: by.actor(),
            by: by.clone(),
        }
    }

    /// The records a preview shows: `spec` in place of the live spec, reads from the
    /// database through `layer`, writes to `layer` only (see [`crate::preview`]).
    pub fn preview(
        app: &App,
        by: &Caller,
        spec: Arc<Spec>,
        layer: runtime::SharedLayer,
    ) -> Records {
        let live = app.live.get();
        Records {
            live: Arc::new(Live {
                number: live.number,
                hash: format!("preview:{}", live.hash),
                spec,
            }),
            db: app.db.clone(),
            store: Backing::Preview(runtime::OverlayStore::new(app.db.clone(), layer)),
            actor: by.actor(),
            by: by.clone(),
        }
    }

    /// Bulk writes go to the database in their own transactions: a preview refuses
    /// them rather than let them reach production.
    pub(crate) fn require_live(&self, what: &str) -> AppResult<()> {
        match self.store {
            Backing::Live(_) => Ok(()),
            Backing::Preview(_) => Err(AppError::conflict(format!(
                "{what} is not available in a preview: it would write to production"
            ))),
        }
    }

    /// The live spec these records follow.
    pub fn spec(&self) -> &Spec {
        &self.live.spec
    }

    fn engine(&self) -> Engine<'_, Backing> {
        Engine::new(&self.live.spec, &self.store)
    }

    /// What this spec's field rules would refuse of a stored record, as "field: message"
    /// lines: a preview marks the records a module's new constraint does not fit.
    pub fn impact(&self, r: &Record) -> Vec<String> {
        self.engine()
            .violations(r)
            .into_iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect()
    }

    /// A record as clients see it (hidden fields left out).
    pub fn view(&self, r: &Record) -> Value {
        self.engine().view(r)
    }

    /// Refuses `action` on `object` (403) unless the caller may do it: for use cases
    /// that must know before they start (a streamed export, an import).
    pub fn require(&self, object: &str, action: Action<'_>) -> AppResult<()> {
        Ok(self.engine().require(&self.actor, object, action)?)
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
        let page = self.engine().list(&self.actor, object, q).await?;
        crate::telemetry::records_read(object, page.items.len());
        Ok(page)
    }

    /// One record as clients see it, as JSON text, and its version: the read path
    /// that serves the stored text without parsing it.
    pub async fn get_json(&self, object: &str, id: &str) -> AppResult<(String, i64)> {
        let e = self.engine();
        let r = e.get_stored(&self.actor, object, id).await?;
        crate::telemetry::records_read(object, 1);
        Ok((e.view_json(&r)?, r.version))
    }

    /// A page of records as clients see them, each as JSON text (written by the view,
    /// so not checked again), and how many match.
    pub async fn list_json(&self, object: &str, q: &ListQuery) -> AppResult<(Vec<String>, u64)> {
        let e = self.engine();
        let page = e.list_stored(&self.actor, object, q).await?;
        crate::telemetry::records_read(object, page.items.len());
        let items = page
            .items
            .iter()
            .map(|r| e.view_json(r))
            .collect::<Result<Vec<_>, RuntimeError>>()?;
        Ok((items, page.total))
    }

    pub async fn get(&self, object: &str, id: &str) -> AppResult<Record> {
        let r = self.engine().get(&self.actor, object, id).await?;
        crate::telemetry::records_read(object, 1);
        Ok(r)
    }

    pub async fn create(&self, object: &str, data: &Map<String, Value>) -> AppResult<Record> {
        let r = self.engine().create(&self.actor, object, data).await?;
        crate::telemetry::records_written(object, "create", 1);
        Ok(r)
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
        let r = self
            .engine()
            .update(&self.actor, object, id, data, expected)
            .await
            .map_err(|e| stale(e, expected))?;
        crate::telemetry::records_written(object, "update", 1);
        Ok(r)
    }

    pub async fn delete(&self, object: &str, id: &str, expected: Option<i64>) -> AppResult<()> {
        self.engine()
            .delete(&self.actor, object, id, expected)
            .await
            .map_err(|e| stale(e, expected))?;
        crate::telemetry::records_written(object, "delete", 1);
        Ok(())
    }

    pub async fn transition(
        &self,
        object: &str,
        id: &str,
        name: &str,
        expected: Option<i64>,
    ) -> AppResult<Record> {
        let r = self
            .engine()
            .transition(&self.actor, object, id, name, expected)
            .await
            .map_err(|e| stale(e, expected))?;
        crate::telemetry::records_written(object, "transition", 1);
        Ok(r)
    }

    /// A record's title: the value of its object's title field, else its id.
    pub fn title_of(&self, object: &str, r: &Record) -> String {
        self.live
            .spec
            .objects
            .get(object)
            .and_then(|d| d.title_field())
            .and_then(|f| r.data.get(f))
            .and_then(|v| match v {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
            .unwrap_or_else(|| r.id.clone())
    }

    /// The titles of the records that the reference fields of `records` point to, by
    /// id — of those the caller may read (others stay ids).
    pub async fn reference_titles(
        &self,
        object: &str,
        records: &[Record],
    ) -> AppResult<BTreeMap<String, String>> {
        let Some(def) = self.live.spec.objects.get(object) else {
            return Ok(BTreeMap::new());
        };
        let mut wanted: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for (f, fd) in &def.fields {
            let Some(target) = fd
                .object
                .as_deref()
                .filter(|_| fd.ty == spec::FieldType::Reference)
            else {
                continue;
            };
            for r in records {
                if let Some(Value::String(id)) = r.data.get(f) {
                    wanted.entry(target).or_default().insert(id.clone());
                }
            }
        }
        let mut out = BTreeMap::new();
        for (target, ids) in wanted {
            out.extend(self.titles(target, ids).await?);
        }
        Ok(out)
    }

    /// The titles of records of `object` by id, of those that exist and the caller
    /// may read.
    pub async fn titles(
        &self,
        object: &str,
        ids: BTreeSet<String>,
    ) -> AppResult<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        if ids.is_empty() || !self.allowed(object, Action::Read) {
            return Ok(out);
        }
        let ids: Vec<Value> = ids.into_iter().map(Value::String).collect();
        let q = ListQuery {
            limit: ids.len() as u64,
            filters: vec![self.filter(object, "id", FilterOp::In, Value::Array(ids))?],
            ..ListQuery::default()
        };
        for r in self.list(object, &q).await?.items {
            out.insert(r.id.clone(), self.title_of(object, &r));
        }
        Ok(out)
    }

    /// Records of `object` whose title contains `q` (any case), by title: what a
    /// picker offers. At most `limit` (1 to 50).
    pub async fn lookup(
        &self,
        object: &str,
        q: &str,
        limit: u64,
    ) -> AppResult<Vec<(String, String)>> {
        let def = self.engine().object(object)?;
        if !(1..=50).contains(&limit) {
            return Err(AppError::invalid("limit", "must be between 1 and 50"));
        }
        let mut query = ListQuery {
            limit,
            ..ListQuery::default()
        };
        match def.title_field() {
            Some(t) => {
                if !q.trim().is_empty() {
                    query.filters.push(self.filter(
                        object,
                        t,
                        FilterOp::Contains,
                        Value::String(q.trim().to_owned()),
                    )?);
                }
                query
                    .sort
                    .push(self.engine().sort(object, t, SortDir::Asc)?);
            }
            None => {
                if !q.trim().is_empty() {
                    query.filters.push(self.filter(
                        object,
                        "id",
                        FilterOp::Contains,
                        Value::String(q.trim().to_owned()),
                    )?);
                }
            }
        }
        Ok(self
            .list(object, &query)
            .await?
            .items
            .iter()
            .map(|r| (r.id.clone(), self.title_of(object, r)))
            .collect())
    }
}
