//! A basic create/read scenario for what a request adds, so a module written by the
//! offline engine comes with a test of its own (docs/testing.md format). Where no valid
//! sample value can be made with confidence (a field with a pattern), no scenario is
//! written rather than a wrong one.

use serde_json::{Map, Value, json};
use spec::{FieldDef, FieldType, Spec};

/// A sample value for a field, or `None` when none can be made safely.
fn sample(def: &FieldDef) -> Option<Value> {
    // A numbered field is the platform's to fill.
    if def.pattern.is_some() || def.auto_number.is_some() {
        return None;
    }
    let num = |fallback: i64| -> Value {
        let lo = def.min.as_ref().and_then(|n| n.as_f64());
        let hi = def.max.as_ref().and_then(|n| n.as_f64());
        let mut v = fallback as f64;
        if let Some(l) = lo {
            v = v.max(l);
        }
        if let Some(h) = hi {
            v = v.min(h);
        }
        if v.fract() == 0.0 {
            json!(v as i64)
        } else {
            json!(v)
        }
    };
    Some(match def.ty {
        FieldType::String | FieldType::Text => {
            let mut s = "Sample value".to_owned();
            if let Some(max) = def.max_length {
                s.truncate(max.max(1) as usize);
            }
            while def.min_length.is_some_and(|m| (s.len() as i64) < m) {
                s.push('x');
            }
            json!(s)
        }
        FieldType::Integer => num(7),
        FieldType::Decimal => match num(7) {
            Value::Number(n) => json!(n.to_string()),
            other => other,
        },
        FieldType::Boolean => json!(true),
        FieldType::Date => json!("2026-01-15"),
        FieldType::Datetime => json!("2026-01-15T09:00:00Z"),
        FieldType::Email => json!("sample@example.test"),
        FieldType::Phone => json!("+86 21 5555 0100"),
        FieldType::Url => json!("https://example.test/sample"),
        FieldType::Enum => json!(def.values.as_ref()?.first()?),
        FieldType::Json => json!({ "sample": true }),
        FieldType::Reference => return None,
    })
}

/// Steps that create a valid record of `object` (creating what it must reference
/// first), returning the steps and the alias of the record. `with` sets extra fields.
fn create_steps(
    spec: &Spec,
    object: &str,
    alias: &str,
    with: &Map<String, Value>,
    depth: usize,
) -> Option<Vec<Value>> {
    if depth > 4 {
        return None;
    }
    let def = spec.objects.get(object)?;
    let mut steps = Vec::new();
    let mut data = Map::new();
    for (name, f) in &def.fields {
        if with.contains_key(name) || !f.required || f.default.is_some() || f.auto_number.is_some()
        {
            continue;
        }
        if f.ty == FieldType::Reference {
            let target = f.object.as_deref()?;
            let dep = format!("{alias}_{name}");
            steps.extend(create_steps(spec, target, &dep, &Map::new(), depth + 1)?);
            data.insert(name.clone(), json!(format!("${{{dep}.id}}")));
        } else {
            data.insert(name.clone(), sample(f)?);
        }
    }
    data.extend(with.clone());
    steps.push(json!({ "create": object, "as": alias, "data": data }));
    Some(steps)
}

/// A create/read scenario for a new field.
pub fn for_field(spec: &Spec, object: &str, field: &str) -> Option<Value> {
    let def = spec.objects.get(object)?.fields.get(field)?;
    let value = match def.ty {
        FieldType::Reference => return None,
        _ => sample(def)?,
    };
    let mut with = Map::new();
    with.insert(field.to_owned(), value.clone());
    let mut steps = create_steps(spec, object, "record", &with, 0)?;
    if let Some(last) = steps.last_mut() {
        last["expect"] = json!({ field: value });
    }
    steps.push(json!({ "read": "record", "expect": { field: value } }));
    Some(
        json!({ "name": format!("{object}.{field} is written and read back"), "object": object, "steps": steps }),
    )
}

/// A create/read scenario for a new object, with every field it can fill.
pub fn for_object(spec: &Spec, object: &str) -> Option<Value> {
    let def = spec.objects.get(object)?;
    let mut with = Map::new();
    for (name, f) in &def.fields {
        if f.ty != FieldType::Reference
            && let Some(v) = sample(f)
        {
            with.insert(name.clone(), v);
        }
    }
    let mut steps = create_steps(spec, object, "record", &with, 0)?;
    let expect: Map<String, Value> = with.clone();
    steps.push(json!({ "read": "record", "expect": expect }));
    Some(
        json!({ "name": format!("{object} records are created and read back"), "object": object, "steps": steps }),
    )
}
