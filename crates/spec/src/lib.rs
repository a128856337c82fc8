//! The application spec (docs/spec.md): the one JSON document that describes the running
//! CRM — objects and their fields, state flows, pages, business roles and menus.
//!
//! This crate is pure: it parses and checks specs, describes their records as JSON
//! Schema, and ships the base CRM. It knows nothing of HTTP or storage.

mod base;
mod code;
mod differences;
mod integrity;
mod model;
pub mod names;
mod record_schema;
pub mod value;

pub use base::{BASE_OBJECTS, base_spec, base_spec_json};
pub use code::Code;
pub use differences::{Difference, Side, differences};
pub use integrity::{Violation, check};
pub use model::*;
pub use record_schema::record_schema;

/// Parses a spec from JSON text; unknown keys are rejected with a message naming them
/// and the path where they occur.
pub fn parse(json: &str) -> Result<Spec, ParseError> {
    let de = &mut serde_json::Deserializer::from_str(json);
    let spec = serde_path_to_error::deserialize(&mut *de).map_err(ParseError::from_path_error)?;
    de.end().map_err(|e| ParseError {
        path: String::new(),
        message: e.to_string(),
    })?;
    Ok(spec)
}

/// Parses a spec from an already-parsed JSON value.
pub fn from_value(value: &serde_json::Value) -> Result<Spec, ParseError> {
    serde_path_to_error::deserialize(value).map_err(ParseError::from_path_error)
}

/// Turns serde_path_to_error's path into a JSON pointer.
pub fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        let part = match seg {
            Segment::Seq { index } => index.to_string(),
            Segment::Map { key } => key.replace('~', "~0").replace('/', "~1"),
            Segment::Enum { variant } => variant.clone(),
            Segment::Unknown => continue,
        };
        out.push('/');
        out.push_str(&part);
    }
    out
}

/// A spec that could not be read, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// JSON pointer to where parsing failed (best effort).
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    fn from_path_error<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> Self {
        ParseError {
            path: json_pointer(e.path()),
            message: e.inner().to_string(),
        }
    }
}

/// The JSON Schema of the spec document, generated from the Rust types.
pub fn spec_json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Spec)).expect("schemas serialise")
}
