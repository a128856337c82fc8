//! The storage seam: the engine hands a store a set of writes with their
//! preconditions; the store applies all of them atomically, or none.

use crate::query::ListQuery;
use crate::record::{Record, StoredRecord};

/// A value that must be unique among an object's records for a field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UniqueKey {
    pub field: String,
    /// The value in canonical form (e.g. lower-cased e-mail).
    pub value: String,
}

/// One change in an atomic write set.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// A new record; `unique` are its unique values.
    Insert {
        record: Record,
        unique: Vec<UniqueKey>,
    },
    /// A new version of a record; fails unless the stored version is `expected`.
    /// `unique` replaces the record's unique values.
    Update {
        record: Record,
        expected: i64,
        unique: Vec<UniqueKey>,
    },
    /// Removes a record (and its unique values) if it is still at `expected`.
    Delete {
        object: String,
        id: String,
        expected: i64,
    },
    /// Fails the set unless the record still exists (a reference target).
    Exists { object: String, id: String },
}

/// Why a write set was refused, or the store failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// Another record of the object already holds this unique value.
    Unique {
        object: String,
        field: String,
    },
    /// A record was not at the expected version (or is gone).
    Version {
        object: String,
        id: String,
        current: Option<i64>,
    },
    /// A record that must exist does not.
    Missing {
        object: String,
        id: String,
    },
    Backend(String),
}

/// Where records live. Implementations: [`crate::MemoryStore`] (test sandboxes) and
/// the database store.
#[allow(async_fn_in_trait)]
pub trait RecordStore {
    async fn get(&self, object: &str, id: &str) -> Result<Option<Record>, StorageError>;
    /// Records of `object` matching the query's filters, sorted and paged, and how
    /// many match in all.
    async fn list(
        &self,
        object: &str,
        query: &ListQuery,
    ) -> Result<(Vec<Record>, u64), StorageError>;
    /// [`RecordStore::get`] with the values left as stored text (reads that only show
    /// the record). A store that keeps text overrides it to skip the parse.
    async fn get_stored(
        &self,
        object: &str,
        id: &str,
    ) -> Result<Option<StoredRecord>, StorageError> {
        Ok(self.get(object, id).await?.as_ref().map(StoredRecord::from))
    }
    /// [`RecordStore::list`] with the values left as stored text.
    async fn list_stored(
        &self,
        object: &str,
        query: &ListQuery,
    ) -> Result<(Vec<StoredRecord>, u64), StorageError> {
        let (items, total) = self.list(object, query).await?;
        Ok((items.iter().map(StoredRecord::from).collect(), total))
    }
    async fn apply(&self, writes: Vec<Write>) -> Result<(), StorageError>;
    /// Hands out `count` consecutive numbers of an object's numbered field and returns
    /// the first. Numbers are never handed out twice, even to concurrent callers on
    /// other replicas; one lost with a failed write leaves a gap.
    async fn reserve_numbers(
        &self,
        object: &str,
        field: &str,
        count: u32,
    ) -> Result<i64, StorageError>;
}
