//! The Patch DSL (docs/patch-dsl.md): a module's content is one patch document — ordered
//! operations on the application spec. This crate parses patches, validates them
//! against a spec (error codes, security levels), applies them atomically, and
//! describes the result (change list, unified diff). Pure: no I/O.
//!
//! Validation and execution are one pass over the operations on a copy of the spec,
//! so the spec a caller receives is exactly the one the report describes, and a patch
//! with any error yields no spec at all.

pub mod answer;
mod diff;
mod document;
mod engine;
mod level;
mod limits;
mod report;

pub use diff::{Change, ChangeAction, unified_diff};
pub use document::{
    DSL_VERSION, MenuValue, OpKind, Operation, PatchDocument, Scope, Target, patch_json_schema,
};
pub use level::Level;
pub use limits::{MAX_BYTES, MAX_DEPTH, MAX_OPERATIONS};
pub use report::{Issue, OpSummary, Report};
pub use spec::Code;

use spec::Spec;

/// The outcome of validating (and so applying) a patch against a spec.
#[derive(Debug, Clone)]
pub struct Validation {
    pub report: Report,
    /// The spec after the patch; present only when the patch is valid.
    pub spec: Option<Spec>,
    /// What the patch changes, operation by operation; empty when invalid.
    pub changes: Vec<Change>,
}

/// A dry run: the validation plus a unified diff of the pretty-printed specs.
#[derive(Debug, Clone)]
pub struct DryRun {
    pub report: Report,
    pub spec: Option<Spec>,
    pub changes: Vec<Change>,
    /// Empty when the patch is invalid.
    pub diff: String,
}

/// Parses a patch document from raw bytes, enforcing the limits first so hostile
/// input costs little. On failure, the report says why (`E_LIMIT`, `E_SCHEMA`,
/// `E_DSL_VERSION`).
pub fn parse(bytes: &[u8]) -> Result<PatchDocument, Report> {
    document::parse(bytes)
}

/// Validates a parsed document against `spec`.
pub fn validate(spec: &Spec, doc: &PatchDocument) -> Validation {
    engine::run(spec, doc)
}

/// Parses and validates raw bytes.
pub fn check(spec: &Spec, bytes: &[u8]) -> Validation {
    match parse(bytes) {
        Ok(doc) => validate(spec, &doc),
        Err(report) => Validation {
            report,
            spec: None,
            changes: Vec::new(),
        },
    }
}

/// Parses, validates and diffs raw bytes; nothing is changed.
pub fn dry_run(spec: &Spec, bytes: &[u8]) -> DryRun {
    let v = check(spec, bytes);
    let diff = match &v.spec {
        Some(after) => unified_diff(spec, after),
        None => String::new(),
    };
    DryRun {
        report: v.report,
        spec: v.spec,
        changes: v.changes,
        diff,
    }
}

/// Applies a document to `spec`: the new spec, or the report of why not.
/// Used to compose the live spec from published patches.
pub fn apply(spec: &Spec, doc: &PatchDocument) -> Result<Spec, Report> {
    let v = validate(spec, doc);
    v.spec.ok_or(v.report)
}

/// Why the live spec could not be composed: which patch (by position) failed, and why.
#[derive(Debug, Clone)]
pub struct ComposeError {
    pub index: usize,
    pub title: String,
    pub report: Report,
}

impl std::fmt::Display for ComposeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first = self
            .report
            .errors
            .first()
            .map(|e| format!("{} {}", e.code, e.message))
            .unwrap_or_default();
        write!(
            f,
            "patch {} ('{}') no longer applies: {first}",
            self.index, self.title
        )
    }
}

impl std::error::Error for ComposeError {}

/// The live spec (docs/module-development.md): `base` plus the patches of all published modules, in
/// publish order. Each patch is validated against the spec built so far; the first
/// that does not apply stops the composition (publishing refuses such a change).
pub fn compose<'a>(
    base: &Spec,
    patches: impl IntoIterator<Item = &'a PatchDocument>,
) -> Result<Spec, ComposeError> {
    let mut spec = base.clone();
    for (index, doc) in patches.into_iter().enumerate() {
        let v = validate(&spec, doc);
        match v.spec {
            Some(next) => spec = next,
            None => {
                return Err(ComposeError {
                    index,
                    title: doc.title.clone(),
                    report: v.report,
                });
            }
        }
    }
    Ok(spec)
}
