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
    /// Writes `insert`'s set with the next number of each of its numbered fields; a
    /// number some record already holds (written before the field was numbered) is
    /// skipped, [`NUMBER_ATTEMPTS`] times at most. Here the numbers are reserved
    /// before the write, so a failed write leaves a gap; a store that can take them
    /// inside the write's transaction overrides it (one commit instead of two).
    async fn insert_numbered(&self, insert: NumberedInsert) -> Result<Record, StorageError> {
        number_then_write(self, insert).await
    }
    /// The id of the record of `object` that holds a unique value, if one does: what a
    /// store layered on this one checks its own writes against.
    async fn unique_holder(
        &self,
        object: &str,
        key: &UniqueKey,
    ) -> Result<Option<String>, StorageError>;
    /// The last number handed out for an object's numbered field (0 before the first),
    /// read without taking one.
    async fn last_number(&self, object: &str, field: &str) -> Result<i64, StorageError>;
}

/// A borrowed store is a store: an overlay can sit on one it does not own.
impl<S: RecordStore> RecordStore for &S {
    async fn get(&self, object: &str, id: &str) -> Result<Option<Record>, StorageError> {
        (**self).get(object, id).await
    }
    async fn list(
        &self,
        object: &str,
        query: &ListQuery,
    ) -> Result<(Vec<Record>, u64), StorageError> {
        (**self).list(object, query).await
    }
    async fn get_stored(
        &self,
        object: &str,
        id: &str,
    ) -> Result<Option<StoredRecord>, StorageError> {
        (**self).get_stored(object, id).await
    }
    async fn list_stored(
        &self,
        object: &str,
        query: &ListQuery,
    ) -> Result<(Vec<StoredRecord>, u64), StorageError> {
        (**self).list_stored(object, query).await
    }
    async fn apply(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        (**self).apply(writes).await
    }
    async fn reserve_numbers(
        &self,
        object: &str,
        field: &str,
        count: u32,
    ) -> Result<i64, StorageError> {
        (**self).reserve_numbers(object, field, count).await
    }
    async fn insert_numbered(&self, insert: NumberedInsert) -> Result<Record, StorageError> {
        (**self).insert_numbered(insert).await
    }
    async fn unique_holder(
        &self,
        object: &str,
        key: &UniqueKey,
    ) -> Result<Option<String>, StorageError> {
        (**self).unique_holder(object, key).await
    }
    async fn last_number(&self, object: &str, field: &str) -> Result<i64, StorageError> {
        (**self).last_number(object, field).await
    }
}

/// [`RecordStore::insert_numbered`] with the numbers reserved ahead of the write.
pub async fn number_then_write<S: RecordStore + ?Sized>(
    store: &S,
    insert: NumberedInsert,
) -> Result<Record, StorageError> {
    let mut attempt = 1;
    loop {
        let mut numbers = Vec::with_capacity(insert.numbered.len());
        for (field, _) in &insert.numbered {
            numbers.push(
                store
                    .reserve_numbers(&insert.record.object, field, 1)
                    .await?,
            );
        }
        let (set, record) = insert.with_numbers(&numbers);
        match store.apply(set).await {
            Err(e) if attempt < NUMBER_ATTEMPTS && insert.clashes(&e) => attempt += 1,
            Err(e) => return Err(e),
            Ok(()) => return Ok(record),
        }
    }
}

/// How many numbers a create tries before it reports the clash.
pub const NUMBER_ATTEMPTS: u32 = 6;

/// A new record (with the writes that go with it) whose numbered fields get their
/// numbers as it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberedInsert {
    /// Preconditions written with it (its references exist).
    pub writes: Vec<Write>,
    /// The record without its numbers.
    pub record: Record,
    /// The unique values of its other fields.
    pub unique: Vec<UniqueKey>,
    /// Its numbered fields, each with its format.
    pub numbered: Vec<(String, spec::AutoNumber)>,
}

impl NumberedInsert {
    /// The write set with `numbers` (one per numbered field, in order), and the
    /// record it writes.
    pub fn with_numbers(&self, numbers: &[i64]) -> (Vec<Write>, Record) {
        let mut record = self.record.clone();
        let mut unique = self.unique.clone();
        for ((field, format), n) in self.numbered.iter().zip(numbers) {
            let value = format.format(*n);
            record
                .data
                .insert(field.clone(), serde_json::Value::String(value.clone()));
            unique.push(UniqueKey {
                field: field.clone(),
                value,
            });
        }
        let mut set = self.writes.clone();
        set.push(Write::Insert {
            record: record.clone(),
            unique,
        });
        (set, record)
    }

    /// Whether `e` is a number already held, so the next one should be tried.
    pub fn clashes(&self, e: &StorageError) -> bool {
        matches!(e, StorageError::Unique { field, .. }
            if self.numbered.iter().any(|(f, _)| f == field))
    }
}
