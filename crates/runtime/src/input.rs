//! Input from clients becomes a checked, normalised set of field values once.

use crate::error::FieldError;
use crate::storage::UniqueKey;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use spec::names::{did_you_mean, is_system_field};
use spec::{FieldDef, FieldType, ObjectDef};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Create,
    Update,
}

/// Checked input: values to set (`Null` removes a value) and the references to verify.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    pub values: Map<String, Value>,
    /// (field, target object, target id)
    pub references: Vec<(String, String, String)>,
}

fn fe(field: &str, rule: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        rule: rule.to_owned(),
        message: message.into(),
    }
}

/// A value in its canonical stored form: decimals as strings with the field's scale.
pub(crate) fn normalise(f: &FieldDef, v: &Value) -> Value {
    if f.ty == FieldType::Decimal
        && let Some(d) = spec::value::decimal_of(v)
    {
        let d: Decimal = match f.scale {
            Some(s) => {
                let mut d = d;
                d.rescale(s as u32);
                d
            }
            None => d.normalize(),
        };
        return json!(d.to_string());
    }
    v.clone()
}

pub(crate) fn check(
    object: &str,
    def: &ObjectDef,
    input: &Map<String, Value>,
    mode: Mode,
) -> Result<Checked, Vec<FieldError>> {
    let mut errs = Vec::new();
    let mut out = Checked::default();
    let state_field = def.state_flow.as_ref().map(|f| f.field.as_str());
    for (name, v) in input {
        if is_system_field(name) {
            errs.push(fe(
                name,
                "readOnly",
                format!("'{name}' is managed by the platform"),
            ));
            continue;
        }
        if Some(name.as_str()) == state_field {
            errs.push(fe(
                name,
                "readOnly",
                format!("'{name}' changes only through transitions"),
            ));
            continue;
        }
        let Some(f) = def.fields.get(name) else {
            let hint = did_you_mean(name, def.fields.keys().map(String::as_str));
            errs.push(fe(
                name,
                "unknown",
                format!("{object} has no field '{name}'{hint}"),
            ));
            continue;
        };
        if f.auto_number.is_some() {
            errs.push(fe(
                name,
                "readOnly",
                format!("'{name}' is numbered automatically"),
            ));
            continue;
        }
        if v.is_null() {
            if f.required {
                errs.push(fe(name, "required", "is required"));
            } else {
                out.values.insert(name.clone(), Value::Null);
            }
            continue;
        }
        if let Err(e) = spec::value::check(f, v) {
            errs.push(fe(name, e.rule, e.message));
            continue;
        }
        if f.ty == FieldType::Reference {
            let target = f.object.clone().unwrap_or_default();
            out.references.push((
                name.clone(),
                target,
                v.as_str().unwrap_or_default().to_owned(),
            ));
        }
        out.values.insert(name.clone(), normalise(f, v));
    }
    if mode == Mode::Create {
        for (name, f) in &def.fields {
            if input.contains_key(name) || f.auto_number.is_some() {
                continue;
            }
            match &f.default {
                Some(d) if !d.is_null() => {
                    out.values.insert(name.clone(), normalise(f, d));
                }
                _ if f.required => errs.push(fe(name, "required", "is required")),
                _ => {}
            }
        }
    }
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

/// The unique values of a record's data under its object's definition.
pub(crate) fn unique_keys(def: &ObjectDef, data: &Map<String, Value>) -> Vec<UniqueKey> {
    def.fields
        .iter()
        .filter(|(_, f)| f.unique || f.auto_number.is_some())
        .filter_map(|(name, f)| {
            let v = data.get(name).filter(|v| !v.is_null())?;
            let text = match v {
                Value::String(s) if f.ty == FieldType::Email => s.to_lowercase(),
                Value::String(s) => s.clone(),
                other => normalise(f, other).to_string(),
            };
            Some(UniqueKey {
                field: name.clone(),
                value: text,
            })
        })
        .collect()
}

/// Required fields of the live definition that a record lacks (e.g. a field made
/// required after the record was written): reported on its next update.
pub(crate) fn missing_required(def: &ObjectDef, data: &Map<String, Value>) -> Vec<FieldError> {
    def.fields
        .iter()
        .filter(|(name, f)| f.required && data.get(*name).is_none_or(Value::is_null))
        .map(|(name, _)| fe(name, "required", "is required"))
        .collect()
}
