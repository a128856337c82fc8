use crate::level::Level;
use serde::{Deserialize, Serialize};
use spec::Code;

/// One error or warning. Warnings use codes of their own (`W_…`), errors the stable
/// `E_…` codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub code: String,
    /// Index of the operation, or `null` for the document as a whole.
    pub op: Option<usize>,
    /// JSON pointer into the patch document (or, for problems of the resulting spec,
    /// into the spec, prefixed `/spec`).
    pub path: String,
    pub level: Level,
    pub message: String,
}

impl Issue {
    pub fn error(
        code: Code,
        op: Option<usize>,
        path: impl Into<String>,
        level: Level,
        message: impl Into<String>,
    ) -> Issue {
        Issue {
            code: code.as_str().to_owned(),
            op,
            path: path.into(),
            level,
            message: message.into(),
        }
    }
}

/// What one operation does, and how risky it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpSummary {
    pub op: usize,
    pub level: Level,
    pub summary: String,
}

/// The validation report (docs/patch-dsl.md), exactly as `modgate patch validate --json` and
/// `POST /api/patch/validate` return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub valid: bool,
    pub level: Level,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
    pub operations: Vec<OpSummary>,
}

impl Report {
    /// A report for a document that failed before its operations could be read.
    pub fn rejected(errors: Vec<Issue>) -> Report {
        let level = errors.iter().map(|e| e.level).max().unwrap_or_default();
        Report {
            valid: false,
            level,
            errors,
            warnings: Vec::new(),
            operations: Vec::new(),
        }
    }

    /// Whether any error has this code.
    pub fn has(&self, code: Code) -> bool {
        self.errors.iter().any(|e| e.code == code.as_str())
    }
}
