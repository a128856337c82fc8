//! The records engine: create, read, update, delete, list and transition records of a
//! spec's objects — validated against the spec, permission-checked against its roles,
//! with references, uniqueness, state flows, immutability and optimistic concurrency.
//!
//! Storage is a trait ([`RecordStore`]): the engine computes each change as a set of
//! writes with their preconditions (versions, unique keys, references that must still
//! exist), and the store applies the set atomically or not at all. [`MemoryStore`] is
//! the in-memory store used as the sandbox of test runs; the database store lives in
//! the `store` crate.

mod actor;
#[cfg(feature = "conformance")]
pub mod conformance;
mod engine;
mod error;
mod input;
mod memory;
mod overlay;
mod query;
mod record;
mod storage;

pub use actor::{Action, Actor, allowed};
pub use engine::{Engine, MAX_PAGE, Page, StoredPage};
pub use error::{FieldError, RuntimeError};
pub use memory::MemoryStore;
pub use overlay::{Layer, OverlayStore, SharedLayer};
pub use query::{Filter, FilterOp, ListQuery, Sort, SortDir, ValueKind};
pub use record::{Record, StoredRecord, rfc3339};
pub use storage::{
    NUMBER_ATTEMPTS, NumberedInsert, RecordStore, StorageError, UniqueKey, Write, number_then_write,
};
