//! A store that layers one session's writes over a read-only view of another store.
//! A live preview reads production records through it and writes only to its layer:
//! unique values, versions, references and numbers are checked against both, so a
//! module behaves in preview as it will after publishing, and production storage is
//! never written.

use crate::query::{ListQuery, field_value, matches, order};
use crate::record::Record;
use crate::storage::{RecordStore, StorageError, UniqueKey, Write};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// What a session wrote: shared by every request of the session.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    /// object → id → the record as the session has it; `None`: deleted here.
    changed: HashMap<String, BTreeMap<String, Option<Record>>>,
    /// (object, field, value) → the record holding it in this layer.
    unique: HashMap<(String, String, String), String>,
    /// (object, id) → the record's unique keys in this layer.
    keys: HashMap<(String, String), Vec<UniqueKey>>,
    /// (object, field) → the last number handed out here.
    counters: HashMap<(String, String), i64>,
    /// Bumped by every applied write set, so a set staged against an older layer is
    /// staged again.
    generation: u64,
}

impl Layer {
    /// How many records the session created, changed or deleted.
    pub fn changes(&self) -> usize {
        self.changed.values().map(BTreeMap::len).sum()
    }

    fn entry(&self, object: &str, id: &str) -> Option<&Option<Record>> {
        self.changed.get(object).and_then(|m| m.get(id))
    }

    fn release(&mut self, object: &str, id: &str) {
        if let Some(keys) = self.keys.remove(&(object.to_owned(), id.to_owned())) {
            for k in keys {
                self.unique.remove(&(object.to_owned(), k.field, k.value));
            }
        }
    }
}

/// A session's layer, to keep between requests.
pub type SharedLayer = Arc<Mutex<Layer>>;

pub struct OverlayStore<B> {
    base: B,
    layer: SharedLayer,
}

impl<B: RecordStore> OverlayStore<B> {
    pub fn new(base: B, layer: SharedLayer) -> OverlayStore<B> {
        OverlayStore { base, layer }
    }

    fn snapshot(&self) -> Layer {
        self.layer.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The record's version as the session sees it.
    async fn current(
        &self,
        l: &Layer,
        object: &str,
        id: &str,
    ) -> Result<Option<i64>, StorageError> {
        Ok(match l.entry(object, id) {
            Some(r) => r.as_ref().map(|r| r.version),
            None => self.base.get(object, id).await?.map(|r| r.version),
        })
    }

    /// Takes `keys` for `id`, refusing a value another record holds here or beneath.
    async fn claim(
        &self,
        l: &mut Layer,
        object: &str,
        id: &str,
        keys: Vec<UniqueKey>,
    ) -> Result<(), StorageError> {
        for k in &keys {
            let slot = (object.to_owned(), k.field.clone(), k.value.clone());
            let taken = match l.unique.get(&slot) {
                Some(holder) => holder != id,
                None => match self.base.unique_holder(object, k).await? {
                    // A base holder the session changed holds only what its layer
                    // keys say, and this value is not among them.
                    Some(holder) => holder != id && l.entry(object, &holder).is_none(),
                    None => false,
                },
            };
            if taken {
                return Err(StorageError::Unique {
                    object: object.to_owned(),
                    field: k.field.clone(),
                });
            }
            l.unique.insert(slot, id.to_owned());
        }
        l.keys.insert((object.to_owned(), id.to_owned()), keys);
        Ok(())
    }

    async fn stage(&self, l: &mut Layer, w: Write) -> Result<(), StorageError> {
        let expect = |current: Option<i64>, expected: i64, object: &str, id: &str| {
            if current == Some(expected) {
                Ok(())
            } else {
                Err(StorageError::Version {
                    object: object.to_owned(),
                    id: id.to_owned(),
                    current,
                })
            }
        };
        match w {
            Write::Insert { record, unique } => {
                self.claim(l, &record.object, &record.id, unique).await?;
                l.changed
                    .entry(record.object.clone())
                    .or_default()
                    .insert(record.id.clone(), Some(record));
            }
            Write::Update {
                record,
                expected,
                unique,
            } => {
                let current = self.current(l, &record.object, &record.id).await?;
                expect(current, expected, &record.object, &record.id)?;
                l.release(&record.object, &record.id);
                self.claim(l, &record.object, &record.id, unique).await?;
                l.changed
                    .entry(record.object.clone())
                    .or_default()
                    .insert(record.id.clone(), Some(record));
            }
            Write::Delete {
                object,
                id,
                expected,
            } => {
                let current = self.current(l, &object, &id).await?;
                expect(current, expected, &object, &id)?;
                l.release(&object, &id);
                // No keys: whatever the base record held is free in this session.
                l.keys.insert((object.clone(), id.clone()), Vec::new());
                l.changed.entry(object).or_default().insert(id, None);
            }
            Write::Exists { object, id } => {
                if self.current(l, &object, &id).await?.is_none() {
                    return Err(StorageError::Missing { object, id });
                }
            }
        }
        Ok(())
    }
}

/// How many times a write set is staged again when another request of the same
/// session changed the layer meanwhile.
const STAGE_ATTEMPTS: u32 = 8;

impl<B: RecordStore> RecordStore for OverlayStore<B> {
    async fn get(&self, object: &str, id: &str) -> Result<Option<Record>, StorageError> {
        match self.snapshot().entry(object, id) {
            Some(r) => Ok(r.clone()),
            None => self.base.get(object, id).await,
        }
    }

    async fn list(&self, object: &str, q: &ListQuery) -> Result<(Vec<Record>, u64), StorageError> {
        let changed = self
            .snapshot()
            .changed
            .get(object)
            .cloned()
            .unwrap_or_default();
        if changed.is_empty() {
            return self.base.list(object, q).await;
        }
        let hit = |r: &Record| {
            q.filters
                .iter()
                .all(|f| matches(f, &field_value(r, &f.field)))
        };
        // The base's first offset + limit records, and enough more to stand in for
        // the ones the session changed.
        let wide = ListQuery {
            filters: q.filters.clone(),
            sort: q.sort.clone(),
            offset: 0,
            limit: q
                .offset
                .saturating_add(q.limit)
                .saturating_add(changed.len() as u64),
        };
        let (base_items, base_total) = self.base.list(object, &wide).await?;
        let mut hidden = 0u64;
        for id in changed.keys() {
            if self.base.get(object, id).await?.is_some_and(|r| hit(&r)) {
                hidden += 1;
            }
        }
        let mine: Vec<Record> = changed.into_values().flatten().filter(|r| hit(r)).collect();
        let total = base_total - hidden.min(base_total) + mine.len() as u64;
        let changed_ids: Vec<String> = mine.iter().map(|r| r.id.clone()).collect();
        let snapshot = self.snapshot();
        let mut merged: Vec<Record> = base_items
            .into_iter()
            .filter(|r| snapshot.entry(object, &r.id).is_none() && !changed_ids.contains(&r.id))
            .chain(mine)
            .collect();
        merged.sort_by(|a, b| order(&q.sort, a, b));
        let page = merged
            .into_iter()
            .skip(q.offset as usize)
            .take(q.limit as usize)
            .collect();
        Ok((page, total))
    }

    async fn apply(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        for _ in 0..STAGE_ATTEMPTS {
            let mut staged = self.snapshot();
            let seen = staged.generation;
            for w in writes.clone() {
                self.stage(&mut staged, w).await?;
            }
            let mut layer = self.layer.lock().unwrap_or_else(|e| e.into_inner());
            if layer.generation == seen {
                staged.generation = seen + 1;
                *layer = staged;
                return Ok(());
            }
        }
        Err(StorageError::Backend(
            "the preview session is changing too fast; try again".into(),
        ))
    }

    async fn reserve_numbers(
        &self,
        object: &str,
        field: &str,
        count: u32,
    ) -> Result<i64, StorageError> {
        let key = (object.to_owned(), field.to_owned());
        let known = self.snapshot().counters.get(&key).copied();
        // The session's numbers go on from the base's last one, which is only read.
        let start = match known {
            Some(n) => n,
            None => self.base.last_number(object, field).await?,
        };
        let mut layer = self.layer.lock().unwrap_or_else(|e| e.into_inner());
        let last = layer.counters.entry(key).or_insert(start);
        let first = *last + 1;
        *last += i64::from(count);
        Ok(first)
    }

    async fn unique_holder(
        &self,
        object: &str,
        key: &UniqueKey,
    ) -> Result<Option<String>, StorageError> {
        let l = self.snapshot();
        let slot = (object.to_owned(), key.field.clone(), key.value.clone());
        if let Some(holder) = l.unique.get(&slot) {
            return Ok(Some(holder.clone()));
        }
        Ok(self
            .base
            .unique_holder(object, key)
            .await?
            .filter(|h| l.entry(object, h).is_none()))
    }

    async fn last_number(&self, object: &str, field: &str) -> Result<i64, StorageError> {
        match self
            .snapshot()
            .counters
            .get(&(object.to_owned(), field.to_owned()))
        {
            Some(n) => Ok(*n),
            None => self.base.last_number(object, field).await,
        }
    }
}
