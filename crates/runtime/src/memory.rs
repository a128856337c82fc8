//! An in-memory record store: the isolated sandbox each test scenario runs in.

use crate::query::{ListQuery, field_value, matches, order};
use crate::record::Record;
use crate::storage::{RecordStore, StorageError, UniqueKey, Write};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

#[derive(Debug, Clone, Default)]
struct Inner {
    /// object → id → record
    records: HashMap<String, BTreeMap<String, Record>>,
    /// (object, field, value) → id
    unique: HashMap<(String, String, String), String>,
    /// (object, id) → its unique keys
    keys: HashMap<(String, String), Vec<UniqueKey>>,
    /// (object, field) → the last number handed out
    counters: HashMap<(String, String), i64>,
}

impl Inner {
    fn release(&mut self, object: &str, id: &str) {
        if let Some(keys) = self.keys.remove(&(object.to_owned(), id.to_owned())) {
            for k in keys {
                self.unique.remove(&(object.to_owned(), k.field, k.value));
            }
        }
    }

    fn claim(&mut self, object: &str, id: &str, keys: Vec<UniqueKey>) -> Result<(), StorageError> {
        for k in &keys {
            let slot = (object.to_owned(), k.field.clone(), k.value.clone());
            match self.unique.get(&slot) {
                Some(owner) if owner != id => {
                    return Err(StorageError::Unique {
                        object: object.to_owned(),
                        field: k.field.clone(),
                    });
                }
                _ => {
                    self.unique.insert(slot, id.to_owned());
                }
            }
        }
        self.keys.insert((object.to_owned(), id.to_owned()), keys);
        Ok(())
    }

    fn current(&self, object: &str, id: &str) -> Option<i64> {
        self.records
            .get(object)
            .and_then(|m| m.get(id))
            .map(|r| r.version)
    }

    fn apply(&mut self, w: Write) -> Result<(), StorageError> {
        match w {
            Write::Insert { record, unique } => {
                self.claim(&record.object, &record.id, unique)?;
                self.records
                    .entry(record.object.clone())
                    .or_default()
                    .insert(record.id.clone(), record);
            }
            Write::Update {
                record,
                expected,
                unique,
            } => {
                let current = self.current(&record.object, &record.id);
                if current != Some(expected) {
                    return Err(StorageError::Version {
                        object: record.object,
                        id: record.id,
                        current,
                    });
                }
                self.release(&record.object, &record.id);
                self.claim(&record.object, &record.id, unique)?;
                self.records
                    .entry(record.object.clone())
                    .or_default()
                    .insert(record.id.clone(), record);
            }
            Write::Delete {
                object,
                id,
                expected,
            } => {
                let current = self.current(&object, &id);
                if current != Some(expected) {
                    return Err(StorageError::Version {
                        object,
                        id,
                        current,
                    });
                }
                self.release(&object, &id);
                self.records.get_mut(&object).map(|m| m.remove(&id));
            }
            Write::Exists { object, id } => {
                if self.current(&object, &id).is_none() {
                    return Err(StorageError::Missing { object, id });
                }
            }
        }
        Ok(())
    }
}

/// Records in memory, fresh and empty for each sandbox.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Every stored record of an object, hidden values included (for tests).
    pub fn raw(&self, object: &str) -> Vec<Record> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .records
            .get(object)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
}

impl RecordStore for MemoryStore {
    async fn get(&self, object: &str, id: &str) -> Result<Option<Record>, StorageError> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        Ok(inner.records.get(object).and_then(|m| m.get(id)).cloned())
    }

    async fn list(&self, object: &str, q: &ListQuery) -> Result<(Vec<Record>, u64), StorageError> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut hits: Vec<&Record> = inner
            .records
            .get(object)
            .map(|m| {
                m.values()
                    .filter(|r| {
                        q.filters
                            .iter()
                            .all(|f| matches(f, &field_value(r, &f.field)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        hits.sort_by(|a, b| order(&q.sort, a, b));
        let total = hits.len() as u64;
        let page = hits
            .into_iter()
            .skip(q.offset as usize)
            .take(q.limit as usize)
            .cloned()
            .collect();
        Ok((page, total))
    }

    async fn apply(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // Stage on a copy so that a failing write leaves nothing half-applied.
        let mut staged = inner.clone();
        for w in writes {
            staged.apply(w)?;
        }
        *inner = staged;
        Ok(())
    }

    async fn reserve_numbers(
        &self,
        object: &str,
        field: &str,
        count: u32,
    ) -> Result<i64, StorageError> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let last = inner
            .counters
            .entry((object.to_owned(), field.to_owned()))
            .or_default();
        let first = *last + 1;
        *last += i64::from(count);
        Ok(first)
    }

    async fn unique_holder(
        &self,
        object: &str,
        key: &UniqueKey,
    ) -> Result<Option<String>, StorageError> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        Ok(inner
            .unique
            .get(&(object.to_owned(), key.field.clone(), key.value.clone()))
            .cloned())
    }

    async fn last_number(&self, object: &str, field: &str) -> Result<i64, StorageError> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        Ok(inner
            .counters
            .get(&(object.to_owned(), field.to_owned()))
            .copied()
            .unwrap_or(0))
    }
}
