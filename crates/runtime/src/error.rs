use serde::Serialize;
use std::fmt;

/// One field's problem, as the data API and the test scenarios report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    /// `required`, `type`, `min`, `max`, `scale`, `minLength`, `maxLength`, `pattern`,
    /// `values`, `format`, `unique`, `reference`, `unknown`, `readOnly`.
    pub rule: String,
    pub message: String,
}

/// Why an engine operation did not happen. Nothing was changed in any case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeError {
    UnknownObject {
        object: String,
        hint: String,
    },
    NotFound {
        object: String,
        id: String,
    },
    Forbidden {
        action: String,
        object: String,
    },
    /// Input that breaks the spec, field by field.
    Validation(Vec<FieldError>),
    /// The record changed since the caller read it.
    VersionConflict {
        object: String,
        id: String,
        current: i64,
    },
    /// The transition does not start from the record's state (or does not exist).
    InvalidTransition {
        object: String,
        id: String,
        transition: String,
        state: String,
        message: String,
    },
    /// The record is locked (immutable object, past its initial state).
    Immutable {
        object: String,
        id: String,
    },
    /// Deleting is restricted by records that reference this one.
    Restricted {
        object: String,
        id: String,
        by_object: String,
        by_field: String,
        count: usize,
    },
    /// The store failed; the message is for the log, not for clients.
    Storage(String),
}

impl RuntimeError {
    /// Stable code for clients and scenarios.
    pub fn code(&self) -> &'static str {
        match self {
            RuntimeError::UnknownObject { .. } | RuntimeError::NotFound { .. } => "not_found",
            RuntimeError::Forbidden { .. } => "forbidden",
            RuntimeError::Validation(_) => "validation",
            RuntimeError::VersionConflict { .. } => "version_conflict",
            RuntimeError::InvalidTransition { .. } => "invalid_transition",
            RuntimeError::Immutable { .. } => "immutable",
            RuntimeError::Restricted { .. } => "restricted",
            RuntimeError::Storage(_) => "internal",
        }
    }

    pub(crate) fn field(field: &str, rule: &str, message: impl Into<String>) -> RuntimeError {
        RuntimeError::Validation(vec![FieldError {
            field: field.to_owned(),
            rule: rule.to_owned(),
            message: message.into(),
        }])
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::UnknownObject { object, hint } => {
                write!(f, "there is no object '{object}'{hint}")
            }
            RuntimeError::NotFound { object, id } => write!(f, "{object} {id} not found"),
            RuntimeError::Forbidden { action, object } => {
                write!(f, "you may not {action} {object} records")
            }
            RuntimeError::Validation(errs) => {
                let parts: Vec<String> = errs
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect();
                write!(f, "{}", parts.join("; "))
            }
            RuntimeError::VersionConflict {
                object,
                id,
                current,
            } => {
                write!(
                    f,
                    "{object} {id} was changed by someone else (now version {current}); reload and try again"
                )
            }
            RuntimeError::InvalidTransition { message, .. } => f.write_str(message),
            RuntimeError::Immutable { object, id } => {
                write!(
                    f,
                    "{object} {id} can no longer be changed or deleted; correct it with a transition (e.g. a reversal)"
                )
            }
            RuntimeError::Restricted {
                object,
                id,
                by_object,
                by_field,
                count,
            } => {
                write!(
                    f,
                    "{object} {id} is referenced by {count} {by_object} record(s) (field {by_field}); delete or change those first"
                )
            }
            RuntimeError::Storage(m) => write!(f, "storage failure: {m}"),
        }
    }
}

impl std::error::Error for RuntimeError {}
