//! The application layer's one error type. Each variant says what kind of refusal it
//! is, never how a transport shows it: the server maps it to a status and a JSON or
//! HTML body in one place, the command line to an exit code.

use llm::LlmError;
use serde::Serialize;
use serde_json::{Map, Value};
use store::StoreError;

/// A problem with one input field. `rule` names the broken rule where the records
/// engine knows it (`required`, `min`, `unique` …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub message: String,
}

/// A refusal with a stable code, a message for people, the fields at fault (if any)
/// and structured details, such as the current state of what conflicts.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Stable and machine-readable: `validation`, `conflict`, `confirmation_required` …
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<FieldError>,
    pub details: Map<String, Value>,
}

impl Problem {
    pub fn new(code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            code,
            message: message.into(),
            fields: Vec::new(),
            details: Map::new(),
        }
    }

    pub fn field(mut self, field: &str, message: impl Into<String>) -> Problem {
        self.fields.push(FieldError {
            field: field.to_owned(),
            rule: None,
            message: message.into(),
        });
        self
    }

    pub fn detail(mut self, key: &str, value: impl Serialize) -> Problem {
        self.details.insert(
            key.to_owned(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// What was asked for does not exist.
    #[error("{message}")]
    NotFound { message: String },
    /// The request is malformed before any rule applies (an unreadable parameter).
    #[error("{message}")]
    BadRequest { message: String },
    /// Input that breaks a rule, field by field where it can say.
    #[error("{}", .0.message)]
    Invalid(Box<Problem>),
    /// The current state does not allow it; the details describe that state.
    #[error("{}", .0.message)]
    Conflict(Box<Problem>),
    /// The caller may not do this, and why.
    #[error("{reason}")]
    Forbidden { code: &'static str, reason: String },
    /// The credentials do not hold.
    #[error("{message}")]
    Unauthenticated { message: String },
    /// Too many attempts; try again after the given time.
    #[error("{message}")]
    Throttled {
        message: String,
        retry_after_secs: i64,
    },
    /// The caller's copy is stale: the thing is now at `current_version`.
    #[error("{message}")]
    PreconditionFailed {
        message: String,
        current_version: i64,
    },
    /// The model gave no usable answer within its bounds (attempts, tokens), or the
    /// built-in engine did not understand the request. Nothing was saved.
    #[error("{}", .0.message)]
    NoAnswer(Box<Problem>),
    /// A model provider failed; the error says how (`timeout`, `auth`, `rate_limited` …).
    #[error("the model call failed: {0}")]
    Upstream(LlmError),
    /// Something the service needs is not reachable now.
    #[error("{message}")]
    Unavailable { message: String },
    /// A fault of ours or of the database; logged, never shown in detail.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// `"{what} not found"`.
    pub fn not_found(what: impl std::fmt::Display) -> AppError {
        AppError::NotFound {
            message: format!("{what} not found"),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::BadRequest {
            message: message.into(),
        }
    }

    /// One field breaks a rule: code `validation`, message `field: message`.
    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        let message = message.into();
        AppError::Invalid(Box::new(
            Problem::new("validation", format!("{field}: {message}")).field(field, message),
        ))
    }

    /// A conflict with the current state, code `conflict`.
    pub fn conflict(message: impl Into<String>) -> AppError {
        AppError::Conflict(Box::new(Problem::new("conflict", message)))
    }

    /// The stable code of this error, as clients see it.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound { .. } => "not_found",
            AppError::BadRequest { .. } => "bad_request",
            AppError::Invalid(p) | AppError::Conflict(p) | AppError::NoAnswer(p) => p.code,
            AppError::Forbidden { code, .. } => code,
            AppError::Unauthenticated { .. } => "invalid_credentials",
            AppError::Throttled { .. } => "too_many_attempts",
            AppError::PreconditionFailed { .. } => "precondition_failed",
            AppError::Upstream(_) => "model_error",
            AppError::Unavailable { .. } => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// The fields at fault, for a form to show beside its inputs.
    pub fn fields(&self) -> &[FieldError] {
        match self {
            AppError::Invalid(p) | AppError::Conflict(p) => &p.fields,
            _ => &[],
        }
    }

    /// Whether the caller can do something about it (as opposed to a fault of ours
    /// or of a provider).
    pub fn is_callers(&self) -> bool {
        !matches!(
            self,
            AppError::Internal(_)
                | AppError::Upstream(_)
                | AppError::Unavailable { .. }
                | AppError::NoAnswer(_)
        )
    }

    /// Structured details for clients: the fields (when there are any) and the rest.
    pub fn details(&self) -> Map<String, Value> {
        let mut out = Map::new();
        match self {
            AppError::Invalid(p) | AppError::Conflict(p) | AppError::NoAnswer(p) => {
                if !p.fields.is_empty() {
                    out.insert(
                        "fields".into(),
                        serde_json::to_value(&p.fields).unwrap_or(Value::Null),
                    );
                }
                out.extend(p.details.clone());
            }
            AppError::Throttled {
                retry_after_secs, ..
            } => {
                out.insert("retryAfterSeconds".into(), (*retry_after_secs).into());
            }
            AppError::PreconditionFailed {
                current_version, ..
            } => {
                out.insert("currentVersion".into(), (*current_version).into());
            }
            AppError::Upstream(e) => {
                out.insert(
                    "kind".into(),
                    serde_json::to_value(e.kind).unwrap_or(Value::Null),
                );
                out.insert(
                    "status".into(),
                    e.status.map(Value::from).unwrap_or(Value::Null),
                );
            }
            _ => {}
        }
        out
    }
}

/// Field problems collected so a form can show them all at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            rule: None,
            message: message.into(),
        });
    }

    /// `Ok` when nothing was added, else one `validation` error naming every field.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let summary = self
            .0
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        let mut p = Problem::new("validation", summary);
        p.fields = self.0;
        Err(AppError::Invalid(Box::new(p)))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => AppError::conflict(format!("{what} already exists")),
            StoreError::NotFound(what) => AppError::not_found(what),
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

impl From<runtime::RuntimeError> for AppError {
    fn from(e: runtime::RuntimeError) -> Self {
        use runtime::RuntimeError as R;
        let message = e.to_string();
        let code = e.code();
        match e {
            R::UnknownObject { .. } | R::NotFound { .. } => AppError::NotFound { message },
            R::Forbidden { .. } => AppError::Forbidden {
                code: "forbidden",
                reason: message,
            },
            R::Validation(fields) => {
                let mut p = Problem::new(code, message);
                p.fields = fields
                    .into_iter()
                    .map(|f| FieldError {
                        field: f.field,
                        rule: Some(f.rule),
                        message: f.message,
                    })
                    .collect();
                AppError::Invalid(Box::new(p))
            }
            R::VersionConflict { current, .. } => AppError::Conflict(Box::new(
                Problem::new(code, message).detail("currentVersion", current),
            )),
            R::InvalidTransition {
                state, transition, ..
            } => AppError::Conflict(Box::new(
                Problem::new(code, message)
                    .detail("state", state)
                    .detail("transition", transition),
            )),
            R::Immutable { .. } => AppError::Conflict(Box::new(Problem::new(code, message))),
            R::Restricted {
                by_object,
                by_field,
                count,
                ..
            } => AppError::Conflict(Box::new(
                Problem::new(code, message)
                    .detail("referencedBy", by_object)
                    .detail("field", by_field)
                    .detail("count", count),
            )),
            R::Storage(m) => AppError::Internal(anyhow::anyhow!("record storage: {m}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_become_one_validation_error_naming_each_field() {
        let mut e = FieldErrors::default();
        e.add("username", "too short");
        e.add("password", "too short");
        let err = e.into_result().unwrap_err();
        assert_eq!(err.code(), "validation");
        assert_eq!(err.fields().len(), 2);
        assert_eq!(err.to_string(), "username: too short; password: too short");
        assert_eq!(err.details()["fields"][1]["field"], "password");
        assert!(FieldErrors::default().into_result().is_ok());
    }

    #[test]
    fn store_and_engine_errors_keep_their_meaning() {
        let e: AppError = StoreError::Conflict("a user named 'x'".into()).into();
        assert_eq!(
            (e.code(), e.to_string().as_str()),
            ("conflict", "a user named 'x' already exists")
        );
        let e: AppError = runtime::RuntimeError::VersionConflict {
            object: "Order".into(),
            id: "1".into(),
            current: 4,
        }
        .into();
        assert_eq!(e.code(), "version_conflict");
        assert_eq!(e.details()["currentVersion"], 4);
        let e: AppError = runtime::RuntimeError::Storage("disk".into()).into();
        assert!(!e.is_callers());
    }
}
