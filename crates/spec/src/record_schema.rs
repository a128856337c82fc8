//! The JSON Schema (draft 2020-12) of an object's records as the API returns them:
//! declared fields, the state field and the system fields.

use crate::{FieldDef, FieldType, Spec};
use serde_json::{Map, Value, json};

fn field_schema(f: &FieldDef) -> Value {
    let mut s = match f.ty {
        FieldType::String | FieldType::Text => json!({ "type": "string" }),
        FieldType::Email => json!({ "type": "string", "format": "email" }),
        FieldType::Phone => json!({ "type": "string" }),
        FieldType::Url => json!({ "type": "string", "format": "uri" }),
        FieldType::Integer => json!({ "type": "integer" }),
        // Decimals travel as strings so that no digit is lost to floating point.
        FieldType::Decimal => {
            let frac = match f.scale {
                Some(0) => String::new(),
                Some(n) => format!("(\\.[0-9]{{1,{n}}})?"),
                None => "(\\.[0-9]+)?".to_owned(),
            };
            json!({ "type": "string", "pattern": format!("^-?[0-9]+{frac}$") })
        }
        FieldType::Boolean => json!({ "type": "boolean" }),
        FieldType::Date => json!({ "type": "string", "format": "date" }),
        FieldType::Datetime => json!({ "type": "string", "format": "date-time" }),
        FieldType::Enum => {
            json!({ "type": "string", "enum": f.values.clone().unwrap_or_default() })
        }
        FieldType::Reference => {
            json!({ "type": "string", "description": format!("id of a {}", f.object.as_deref().unwrap_or("record")) })
        }
        FieldType::Json => json!({}),
    };
    if let Value::Object(m) = &mut s {
        if f.ty.is_textual() {
            if let Some(n) = f.min_length {
                m.insert("minLength".into(), json!(n));
            }
            if let Some(n) = f.max_length {
                m.insert("maxLength".into(), json!(n));
            }
            if let Some(p) = &f.pattern {
                m.insert("pattern".into(), json!(format!("^(?:{p})$")));
            }
        }
        if f.ty == FieldType::Integer {
            if let Some(n) = &f.min {
                m.insert("minimum".into(), Value::Number(n.clone()));
            }
            if let Some(n) = &f.max {
                m.insert("maximum".into(), Value::Number(n.clone()));
            }
        }
        if let Some(l) = &f.label {
            m.insert("title".into(), json!(l));
        }
    }
    if f.required || f.ty == FieldType::Json {
        s
    } else {
        json!({ "anyOf": [s, { "type": "null" }] })
    }
}

/// The record schema of `object`, or `None` when the spec has no such object.
pub fn record_schema(spec: &Spec, object: &str) -> Option<Value> {
    let obj = spec.objects.get(object)?;
    let mut props = Map::new();
    let mut required: Vec<Value> = Vec::new();
    for (name, f) in &obj.fields {
        props.insert(name.clone(), field_schema(f));
        if f.required {
            required.push(json!(name));
        }
    }
    if let Some(flow) = &obj.state_flow {
        props.insert(
            flow.field.clone(),
            json!({ "type": "string", "enum": flow.states.keys().collect::<Vec<_>>() }),
        );
        required.push(json!(flow.field));
    }
    props.insert("id".into(), json!({ "type": "string", "minLength": 1 }));
    props.insert(
        "createdAt".into(),
        json!({ "type": "string", "format": "date-time" }),
    );
    props.insert(
        "updatedAt".into(),
        json!({ "type": "string", "format": "date-time" }),
    );
    props.insert("createdBy".into(), json!({ "type": ["string", "null"] }));
    props.insert("updatedBy".into(), json!({ "type": ["string", "null"] }));
    props.insert("version".into(), json!({ "type": "integer", "minimum": 1 }));
    for s in crate::names::SYSTEM_FIELDS {
        required.push(json!(s));
    }
    Some(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("urn:modgate:record:{object}"),
        "title": obj.label,
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": false,
    }))
}
