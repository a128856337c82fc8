//! A refused form shown again: the application error's fields beside their inputs,
//! its message on top, and the status it would have had as an API answer.

use app::AppError;
use axum::http::StatusCode;
use std::collections::BTreeMap;

/// What a form shows of a refusal.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// Input name → message.
    pub errors: BTreeMap<String, String>,
    pub message: String,
    pub status: StatusCode,
}

impl Refusal {
    /// `inputs` renames the API's field names to the form's input names where they
    /// differ (`displayName` → `display_name`).
    pub fn of(e: &AppError, inputs: &[(&str, &str)]) -> Refusal {
        let errors = e
            .fields()
            .iter()
            .map(|f| {
                let input = inputs
                    .iter()
                    .find(|(api, _)| *api == f.field)
                    .map(|(_, form)| (*form).to_owned())
                    .unwrap_or_else(|| f.field.clone());
                (input, f.message.clone())
            })
            .collect();
        Refusal {
            errors,
            message: e.to_string(),
            status: crate::error::status_of(e),
        }
    }

    /// The same refusal with `input` marked too (for refusals without fields, such
    /// as a conflict the person can fix in one place).
    pub fn at(mut self, input: &str) -> Refusal {
        self.errors
            .entry(input.to_owned())
            .or_insert_with(|| self.message.clone());
        self
    }
}
