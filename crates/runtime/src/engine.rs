//! The engine: each operation checks permission, validates, plans its writes with
//! their preconditions, and hands them to the store to apply atomically.

use crate::actor::{Action, Actor, allowed};
use crate::error::{FieldError, RuntimeError};
use crate::input::{self, Mode};
use crate::query::{Filter, FilterOp, ListQuery, Sort, SortDir, ValueKind};
use crate::record::{Record, StoredRecord};
use crate::storage::{NumberedInsert, RecordStore, StorageError, Write};
use serde_json::{Map, Value, json};
use spec::names::did_you_mean;
use spec::{FieldType, ObjectDef, OnDelete, Spec};
use std::collections::HashSet;

/// Most records one list call returns.
pub const MAX_PAGE: u64 = 500;

/// A page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Record>,
    /// Records matching the filters in all.
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}

/// A page of a list with the values as stored text, for showing.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPage {
    pub items: Vec<StoredRecord>,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}

/// A reference a record makes: (field, target object, target id).
pub type Reference = (String, String, String);

/// The records engine over one spec and one store.
pub struct Engine<'a, S> {
    spec: &'a Spec,
    store: &'a S,
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn storage(e: StorageError) -> RuntimeError {
    RuntimeError::Storage(format!("{e:?}"))
}

impl<'a, S: RecordStore> Engine<'a, S> {
    pub fn new(spec: &'a Spec, store: &'a S) -> Self {
        Engine { spec, store }
    }

    /// The definition of an object of the live spec.
    pub fn object(&self, name: &str) -> Result<&'a ObjectDef, RuntimeError> {
        self.spec
            .objects
            .get(name)
            .ok_or_else(|| RuntimeError::UnknownObject {
                object: name.to_owned(),
                hint: did_you_mean(name, self.spec.objects.keys().map(String::as_str)),
            })
    }

    /// Refuses `action` on `object` unless the actor's business roles grant it.
    pub fn require(&self, actor: &Actor, object: &str, action: Action) -> Result<(), RuntimeError> {
        if allowed(self.spec, actor, object, action) {
            Ok(())
        } else {
            Err(RuntimeError::Forbidden {
                action: action.describe(),
                object: object.to_owned(),
            })
        }
    }

    /// A record as clients see it.
    pub fn view(&self, r: &Record) -> Value {
        match self.spec.objects.get(&r.object) {
            Some(def) => r.view(def),
            None => json!({ "id": r.id }),
        }
    }

    async fn load(&self, object: &str, id: &str) -> Result<Record, RuntimeError> {
        self.store
            .get(object, id)
            .await
            .map_err(storage)?
            .ok_or_else(|| RuntimeError::NotFound {
                object: object.to_owned(),
                id: id.to_owned(),
            })
    }

    /// Each reference must point at an existing record the actor may read; the write
    /// set re-checks existence when it commits.
    async fn references(
        &self,
        actor: &Actor,
        refs: &[(String, String, String)],
    ) -> Result<Vec<Write>, RuntimeError> {
        let mut errs = Vec::new();
        let mut writes = Vec::new();
        for (field, target, id) in refs {
            let found = self.store.get(target, id).await.map_err(storage)?;
            if found.is_none() || !allowed(self.spec, actor, target, Action::Read) {
                errs.push(FieldError {
                    field: field.clone(),
                    rule: "reference".into(),
                    message: format!("there is no {target} with id '{id}' that you can see"),
                });
            } else {
                writes.push(Write::Exists {
                    object: target.clone(),
                    id: id.clone(),
                });
            }
        }
        if errs.is_empty() {
            Ok(writes)
        } else {
            Err(RuntimeError::Validation(errs))
        }
    }

    /// Maps a refused write set to what the caller did wrong.
    fn refused(&self, e: StorageError) -> RuntimeError {
        match e {
            StorageError::Unique { object, field } => RuntimeError::field(
                &field,
                "unique",
                format!("another {object} record already has this {field}"),
            ),
            StorageError::Version {
                object,
                id,
                current,
            } => match current {
                Some(current) => RuntimeError::VersionConflict {
                    object,
                    id,
                    current,
                },
                None => RuntimeError::NotFound { object, id },
            },
            StorageError::Missing { object, id } => RuntimeError::field(
                "reference",
                "reference",
                format!("{object} {id} was deleted meanwhile"),
            ),
            StorageError::Backend(m) => RuntimeError::Storage(m),
        }
    }

    fn locked(&self, def: &ObjectDef, r: &Record) -> bool {
        // An immutable object's record is locked once it leaves its initial state
        // (decision 0004); without a flow, once it exists.
        def.immutable
            && def
                .state_flow
                .as_ref()
                .is_none_or(|f| r.state(def) != Some(f.initial.as_str()))
    }

    /// Checks permission and input for a new record and builds it — defaults, initial
    /// state, system fields — without numbers or reference checks: what [`create`]
    /// and bulk imports share. The references are (field, target object, id).
    ///
    /// [`create`]: Engine::create
    pub fn prepare_create(
        &self,
        actor: &Actor,
        object: &str,
        input: &Map<String, Value>,
    ) -> Result<(Record, Vec<Reference>), RuntimeError> {
        let def = self.object(object)?;
        self.require(actor, object, Action::Create)?;
        let checked =
            input::check(object, def, input, Mode::Create).map_err(RuntimeError::Validation)?;
        let mut data: Map<String, Value> = checked
            .values
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .collect();
        if let Some(flow) = &def.state_flow {
            data.insert(flow.field.clone(), json!(flow.initial));
        }
        let now = now_ms();
        let record = Record {
            id: uuid::Uuid::now_v7().to_string(),
            object: object.to_owned(),
            data,
            version: 1,
            created_at: now,
            updated_at: now,
            created_by: Some(actor.user.clone()),
            updated_by: Some(actor.user.clone()),
        };
        Ok((record, checked.references))
    }

    /// What the object's field rules say of a record as stored: the values a changed
    /// spec (a module's new constraint) would now refuse, nothing written. Fields the
    /// spec no longer has, the state and numbered fields are not input and not judged.
    pub fn violations(&self, r: &Record) -> Vec<crate::FieldError> {
        let Ok(def) = self.object(&r.object) else {
            return Vec::new();
        };
        let data: Map<String, Value> = r
            .data
            .iter()
            .filter(|(k, _)| {
                def.state_flow.as_ref().is_none_or(|flow| flow.field != **k)
                    && def.fields.get(*k).is_some_and(|f| f.auto_number.is_none())
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        match input::check(&r.object, def, &data, Mode::Create) {
            Ok(_) => Vec::new(),
            Err(errors) => errors,
        }
    }

    /// The unique values a record claims (its unique and numbered fields).
    pub fn unique_keys(&self, def: &ObjectDef, record: &Record) -> Vec<crate::UniqueKey> {
        input::unique_keys(def, &record.data)
    }

    pub async fn create(
        &self,
        actor: &Actor,
        object: &str,
        input: &Map<String, Value>,
    ) -> Result<Record, RuntimeError> {
        let insert = self.prepare_insert(actor, object, input).await?;
        self.store
            .insert_numbered(insert)
            .await
            .map_err(|e| self.refused(e))
    }

    /// A new record checked and ready to write: its references looked up (and kept as
    /// preconditions), its unique values, and the numbered fields still to fill.
    pub async fn prepare_insert(
        &self,
        actor: &Actor,
        object: &str,
        input: &Map<String, Value>,
    ) -> Result<NumberedInsert, RuntimeError> {
        let (record, references) = self.prepare_create(actor, object, input)?;
        let def = self.object(object)?;
        Ok(NumberedInsert {
            writes: self.references(actor, &references).await?,
            unique: input::unique_keys(def, &record.data),
            numbered: def
                .fields
                .iter()
                .filter_map(|(name, f)| Some((name.clone(), f.auto_number.clone()?)))
                .collect(),
            record,
        })
    }

    /// Writes `next` as the new version of `current` (with any other writes of the set).
    async fn save(
        &self,
        actor: &Actor,
        def: &ObjectDef,
        current: &Record,
        mut next: Record,
        mut writes: Vec<Write>,
    ) -> Result<Record, RuntimeError> {
        next.version = current.version + 1;
        next.updated_at = now_ms();
        next.updated_by = Some(actor.user.clone());
        let unique = input::unique_keys(def, &next.data);
        writes.push(Write::Update {
            record: next.clone(),
            expected: current.version,
            unique,
        });
        self.store
            .apply(writes)
            .await
            .map_err(|e| self.refused(e))?;
        Ok(next)
    }

    pub async fn get(&self, actor: &Actor, object: &str, id: &str) -> Result<Record, RuntimeError> {
        self.readable(actor, object)?;
        self.load(object, id).await
    }

    /// Refuses an unknown object, or one the actor may not read.
    fn readable(&self, actor: &Actor, object: &str) -> Result<(), RuntimeError> {
        self.object(object)?;
        self.require(actor, object, Action::Read)
    }

    /// The query with its page size within bounds.
    fn bounded(query: &ListQuery) -> ListQuery {
        let mut q = query.clone();
        q.limit = q.limit.clamp(1, MAX_PAGE);
        q
    }

    /// [`Engine::get`] for showing: the same checks, the values left as stored text.
    pub async fn get_stored(
        &self,
        actor: &Actor,
        object: &str,
        id: &str,
    ) -> Result<StoredRecord, RuntimeError> {
        self.readable(actor, object)?;
        self.store
            .get_stored(object, id)
            .await
            .map_err(storage)?
            .ok_or_else(|| RuntimeError::NotFound {
                object: object.to_owned(),
                id: id.to_owned(),
            })
    }

    /// A stored record as clients see it, as JSON text (see [`Engine::view`]).
    pub fn view_json(&self, r: &StoredRecord) -> Result<String, RuntimeError> {
        let def = self.object(&r.object)?;
        r.view_json(def).ok_or_else(|| {
            RuntimeError::Storage(format!("record {}/{} holds invalid JSON", r.object, r.id))
        })
    }

    fn check_version(r: &Record, expected: Option<i64>) -> Result<(), RuntimeError> {
        match expected {
            Some(v) if v != r.version => Err(RuntimeError::VersionConflict {
                object: r.object.clone(),
                id: r.id.clone(),
                current: r.version,
            }),
            _ => Ok(()),
        }
    }

    /// Changes the fields given in `input` (`null` clears a value). With `expected`,
    /// fails unless the record is still at that version.
    pub async fn update(
        &self,
        actor: &Actor,
        object: &str,
        id: &str,
        input: &Map<String, Value>,
        expected: Option<i64>,
    ) -> Result<Record, RuntimeError> {
        let def = self.object(object)?;
        self.require(actor, object, Action::Update)?;
        let current = self.load(object, id).await?;
        Self::check_version(&current, expected)?;
        if self.locked(def, &current) {
            return Err(RuntimeError::Immutable {
                object: object.to_owned(),
                id: id.to_owned(),
            });
        }
        let checked =
            input::check(object, def, input, Mode::Update).map_err(RuntimeError::Validation)?;
        let writes = self.references(actor, &checked.references).await?;
        let mut next = current.clone();
        for (k, v) in checked.values {
            if v.is_null() {
                next.data.remove(&k);
            } else {
                next.data.insert(k, v);
            }
        }
        let missing = input::missing_required(def, &next.data);
        if !missing.is_empty() {
            return Err(RuntimeError::Validation(missing));
        }
        self.save(actor, def, &current, next, writes).await
    }

    /// Applies a transition of the object's state flow.
    pub async fn transition(
        &self,
        actor: &Actor,
        object: &str,
        id: &str,
        name: &str,
        expected: Option<i64>,
    ) -> Result<Record, RuntimeError> {
        let def = self.object(object)?;
        let invalid = |state: &str, message: String| RuntimeError::InvalidTransition {
            object: object.to_owned(),
            id: id.to_owned(),
            transition: name.to_owned(),
            state: state.to_owned(),
            message,
        };
        let Some(flow) = &def.state_flow else {
            return Err(invalid("", format!("{object} has no state flow")));
        };
        let Some(t) = flow.transitions.get(name) else {
            let hint = did_you_mean(name, flow.transitions.keys().map(String::as_str));
            return Err(invalid(
                "",
                format!("{object} has no transition '{name}'{hint}"),
            ));
        };
        self.require(actor, object, Action::Transition(name))?;
        let current = self.load(object, id).await?;
        Self::check_version(&current, expected)?;
        let state = current.state(def).unwrap_or(&flow.initial).to_owned();
        if !t.from.contains(&state) {
            let why = if flow.states.get(&state).is_some_and(|s| s.is_final) {
                format!("{object} {id} is {state}, a final state; no transition leaves it")
            } else {
                format!(
                    "'{name}' applies to {object} records in {}; this one is {state}",
                    t.from.join(" or ")
                )
            };
            return Err(invalid(&state, why));
        }
        let mut next = current.clone();
        next.data.insert(flow.field.clone(), json!(t.to));
        self.save(actor, def, &current, next, Vec::new()).await
    }

    /// Deletes a record, honouring every reference to it (`restrict`, `cascade`,
    /// `setNull`) in the same atomic write set.
    pub async fn delete(
        &self,
        actor: &Actor,
        object: &str,
        id: &str,
        expected: Option<i64>,
    ) -> Result<(), RuntimeError> {
        let def = self.object(object)?;
        self.require(actor, object, Action::Delete)?;
        let current = self.load(object, id).await?;
        Self::check_version(&current, expected)?;
        if self.locked(def, &current) {
            return Err(RuntimeError::Immutable {
                object: object.to_owned(),
                id: id.to_owned(),
            });
        }
        let mut writes = Vec::new();
        let mut doomed = HashSet::new();
        Box::pin(self.plan_delete(current, &mut writes, &mut doomed)).await?;
        self.store.apply(writes).await.map_err(|e| self.refused(e))
    }

    async fn plan_delete(
        &self,
        r: Record,
        writes: &mut Vec<Write>,
        doomed: &mut HashSet<(String, String)>,
    ) -> Result<(), RuntimeError> {
        if !doomed.insert((r.object.clone(), r.id.clone())) {
            return Ok(());
        }
        for (other, odef) in &self.spec.objects {
            for (field, f) in &odef.fields {
                if f.ty != FieldType::Reference || f.object.as_deref() != Some(r.object.as_str()) {
                    continue;
                }
                let q = ListQuery {
                    filters: vec![Filter {
                        field: field.clone(),
                        kind: ValueKind::Text,
                        op: FilterOp::Eq,
                        value: json!(r.id),
                    }],
                    sort: Vec::new(),
                    offset: 0,
                    limit: u64::MAX,
                };
                let (refs, _) = self.store.list(other, &q).await.map_err(storage)?;
                let refs: Vec<Record> = refs
                    .into_iter()
                    .filter(|x| !doomed.contains(&(x.object.clone(), x.id.clone())))
                    .collect();
                if refs.is_empty() {
                    continue;
                }
                match f.on_delete.unwrap_or(OnDelete::Restrict) {
                    OnDelete::Restrict => {
                        return Err(RuntimeError::Restricted {
                            object: r.object.clone(),
                            id: r.id.clone(),
                            by_object: other.clone(),
                            by_field: field.clone(),
                            count: refs.len(),
                        });
                    }
                    OnDelete::Cascade => {
                        for child in refs {
                            if self.locked(odef, &child) {
                                return Err(RuntimeError::Immutable {
                                    object: child.object,
                                    id: child.id,
                                });
                            }
                            Box::pin(self.plan_delete(child, writes, doomed)).await?;
                        }
                    }
                    OnDelete::SetNull => {
                        for mut child in refs {
                            let expected = child.version;
                            child.data.remove(field);
                            child.version += 1;
                            child.updated_at = now_ms();
                            let unique = input::unique_keys(odef, &child.data);
                            writes.push(Write::Update {
                                record: child,
                                expected,
                                unique,
                            });
                        }
                    }
                }
            }
        }
        writes.push(Write::Delete {
            object: r.object.clone(),
            id: r.id.clone(),
            expected: r.version,
        });
        Ok(())
    }

    /// How a field of an object compares, or why it cannot be queried.
    fn kind_of(
        &self,
        object: &str,
        def: &ObjectDef,
        field: &str,
    ) -> Result<ValueKind, RuntimeError> {
        Ok(match field {
            "id" | "createdBy" | "updatedBy" => ValueKind::Text,
            "createdAt" | "updatedAt" => ValueKind::Millis,
            "version" => ValueKind::Integer,
            f if def.state_flow.as_ref().is_some_and(|fl| fl.field == f) => ValueKind::Text,
            f => match def.fields.get(f).map(|d| d.ty) {
                Some(FieldType::Integer) => ValueKind::Integer,
                Some(FieldType::Decimal) => ValueKind::Decimal,
                Some(FieldType::Boolean) => ValueKind::Bool,
                Some(FieldType::Date) => ValueKind::Date,
                Some(FieldType::Datetime) => ValueKind::Datetime,
                Some(FieldType::Json) => ValueKind::Json,
                Some(_) => ValueKind::Text,
                None => {
                    let mut names: Vec<&str> = def.fields.keys().map(String::as_str).collect();
                    names.extend(spec::names::SYSTEM_FIELDS);
                    let hint = did_you_mean(f, names);
                    return Err(RuntimeError::field(
                        f,
                        "unknown",
                        format!("{object} has no field '{f}'{hint}"),
                    ));
                }
            },
        })
    }

    /// A filter on `field`, its value checked and normalised (decimals as numbers,
    /// system times from RFC 3339).
    pub fn filter(
        &self,
        object: &str,
        field: &str,
        op: FilterOp,
        value: Value,
    ) -> Result<Filter, RuntimeError> {
        let def = self.object(object)?;
        let kind = self.kind_of(object, def, field)?;
        if kind == ValueKind::Json {
            return Err(RuntimeError::field(
                field,
                "type",
                "json fields cannot be filtered",
            ));
        }
        if op == FilterOp::Contains && kind != ValueKind::Text {
            return Err(RuntimeError::field(
                field,
                "type",
                "'contains' applies to text fields",
            ));
        }
        let norm = |v: &Value| -> Result<Value, RuntimeError> {
            let bad = || {
                RuntimeError::field(
                    field,
                    "type",
                    format!("'{v}' cannot be compared with {field}"),
                )
            };
            Ok(match kind {
                ValueKind::Millis => match v.as_str() {
                    Some(s) => {
                        let t = time::OffsetDateTime::parse(
                            s,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .map_err(|_| bad())?;
                        json!((t.unix_timestamp_nanos() / 1_000_000) as i64)
                    }
                    None => v.as_i64().map(|n| json!(n)).ok_or_else(bad)?,
                },
                ValueKind::Integer => v
                    .as_i64()
                    .map(|n| json!(n))
                    .or_else(|| {
                        v.as_str()
                            .and_then(|s| s.parse::<i64>().ok())
                            .map(|n| json!(n))
                    })
                    .ok_or_else(bad)?,
                ValueKind::Decimal => spec::value::decimal_of(v)
                    .map(|d| json!(d.to_string()))
                    .ok_or_else(bad)?,
                ValueKind::Bool => v
                    .as_bool()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    .map(|b| json!(b))
                    .ok_or_else(bad)?,
                _ => v.clone(),
            })
        };
        let value = match (op, &value) {
            (FilterOp::In, Value::Array(vs)) => {
                Value::Array(vs.iter().map(&norm).collect::<Result<_, _>>()?)
            }
            (FilterOp::In, _) => {
                return Err(RuntimeError::field(
                    field,
                    "type",
                    "'in' takes a list of values",
                ));
            }
            (_, Value::Null) => Value::Null,
            (_, v) => norm(v)?,
        };
        Ok(Filter {
            field: field.to_owned(),
            kind,
            op,
            value,
        })
    }

    pub fn sort(&self, object: &str, field: &str, dir: SortDir) -> Result<Sort, RuntimeError> {
        let def = self.object(object)?;
        Ok(Sort {
            field: field.to_owned(),
            kind: self.kind_of(object, def, field)?,
            dir,
        })
    }

    pub async fn list(
        &self,
        actor: &Actor,
        object: &str,
        query: &ListQuery,
    ) -> Result<Page, RuntimeError> {
        self.readable(actor, object)?;
        let q = Self::bounded(query);
        let (items, total) = self.store.list(object, &q).await.map_err(storage)?;
        Ok(Page {
            items,
            total,
            offset: q.offset,
            limit: q.limit,
        })
    }

    /// [`Engine::list`] for showing: the same checks, the values left as stored text.
    pub async fn list_stored(
        &self,
        actor: &Actor,
        object: &str,
        query: &ListQuery,
    ) -> Result<StoredPage, RuntimeError> {
        self.readable(actor, object)?;
        let q = Self::bounded(query);
        let (items, total) = self.store.list_stored(object, &q).await.map_err(storage)?;
        Ok(StoredPage {
            items,
            total,
            offset: q.offset,
            limit: q.limit,
        })
    }
}
