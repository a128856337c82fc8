//! The evaluation bench without I/O (docs/model-operations.md): a corpus of
//! requests with acceptance checks, the partial match of expected operations, and
//! the totals an administrator compares models on. Running a corpus through the
//! gateway is the application layer's part.

pub mod corpus;
pub mod matching;
pub mod summary;

pub use corpus::{Case, Corpus, CorpusError, Expect, shipped};
pub use matching::{matches, unmatched};
pub use summary::{CaseOutcome, CaseResult, Summary};
