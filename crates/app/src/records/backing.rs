//! Where a [`super::Records`] reads and writes: the database, or a preview's overlay
//! over it. One enum rather than a generic parameter, so every use case and route
//! that works on records works on a preview too, with the database's fast paths
//! kept for the live one.

use runtime::{
    ListQuery, NumberedInsert, OverlayStore, Record, RecordStore, StorageError, StoredRecord,
    UniqueKey, Write,
};
use store::Db;

pub enum Backing {
    Live(Db),
    /// A preview session's writes over the database, which it only reads.
    Preview(OverlayStore<Db>),
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Backing::Live($s) => $e,
            Backing::Preview($s) => $e,
        }
    };
}

impl RecordStore for Backing {
    async fn get(&self, object: &str, id: &str) -> Result<Option<Record>, StorageError> {
        each!(self, s => s.get(object, id).await)
    }
    async fn list(&self, object: &str, q: &ListQuery) -> Result<(Vec<Record>, u64), StorageError> {
        each!(self, s => s.list(object, q).await)
    }
    async fn get_stored(
        &self,
        object: &str,
        id: &str,
    ) -> Result<Option<StoredRecord>, StorageError> {
        each!(self, s => s.get_stored(object, id).await)
    }
    async fn list_stored(
        &self,
        object: &str,
        q: &ListQuery,
    ) -> Result<(Vec<StoredRecord>, u64), StorageError> {
        each!(self, s => s.list_stored(object, q).await)
    }
    async fn apply(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        each!(self, s => s.apply(writes).await)
    }
    async fn reserve_numbers(
        &self,
        object: &str,
        field: &str,
        count: u32,
    ) -> Result<i64, StorageError> {
        each!(self, s => s.reserve_numbers(object, field, count).await)
    }
    async fn insert_numbered(&self, insert: NumberedInsert) -> Result<Record, StorageError> {
        each!(self, s => s.insert_numbered(insert).await)
    }
    async fn unique_holder(
        &self,
        object: &str,
        key: &UniqueKey,
    ) -> Result<Option<String>, StorageError> {
        each!(self, s => s.unique_holder(object, key).await)
    }
    async fn last_number(&self, object: &str, field: &str) -> Result<i64, StorageError> {
        each!(self, s => s.last_number(object, field).await)
    }
}
