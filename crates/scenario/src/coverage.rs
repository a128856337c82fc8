//! Coverage items of a spec: what scenarios can exercise. Each item has a
//! fingerprint of the definition behind it, so the items a patch adds or changes are
//! those of the candidate spec whose (id, fingerprint) the base spec lacks.

use serde_json::{Value, json};
use spec::Spec;
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Item {
    /// `object`, `field`, `constraint`, `state`, `transition`, `page`, `grant`, `menu`.
    pub kind: &'static str,
    pub id: String,
    pub fingerprint: String,
}

fn item(kind: &'static str, id: String, def: &Value) -> Item {
    Item {
        kind,
        id,
        fingerprint: def.to_string(),
    }
}

/// The constraint rules a field carries, named as the runtime reports them.
pub fn constraint_rules(def: &Value) -> Vec<&'static str> {
    let mut out = Vec::new();
    if def["required"] == true {
        out.push("required");
    }
    if def["unique"] == true {
        out.push("unique");
    }
    for (key, rule) in [
        ("min", "min"),
        ("max", "max"),
        ("minLength", "minLength"),
        ("maxLength", "maxLength"),
        ("pattern", "pattern"),
    ] {
        if !def[key].is_null() {
            out.push(rule);
        }
    }
    match def["type"].as_str() {
        Some("enum") => out.push("values"),
        Some("reference") => out.push("reference"),
        _ => {}
    }
    out
}

pub const OPERATIONS: [&str; 5] = ["create", "read", "update", "delete", "list"];

/// Every coverage item of `spec`.
pub fn items(spec: &Spec) -> Vec<Item> {
    let v = serde_json::to_value(spec).unwrap_or(Value::Null);
    let mut out = Vec::new();
    for (name, obj) in v["objects"].as_object().into_iter().flatten() {
        let shape =
            json!({ "fields": obj["fields"].as_object().map(|f| f.keys().collect::<Vec<_>>()) });
        for op in OPERATIONS {
            out.push(item("object", format!("{name}.{op}"), &shape));
        }
        for (field, def) in obj["fields"].as_object().into_iter().flatten() {
            out.push(item("field", format!("{name}.{field}.write"), def));
            out.push(item("field", format!("{name}.{field}.read"), def));
            for rule in constraint_rules(def) {
                let d = json!({ "rule": rule, "def": def });
                out.push(item(
                    "constraint",
                    format!("{name}.{field}.{rule}.pass"),
                    &d,
                ));
                out.push(item(
                    "constraint",
                    format!("{name}.{field}.{rule}.fail"),
                    &d,
                ));
            }
        }
        if let Some(flow) = obj["stateFlow"].as_object() {
            for (state, def) in flow
                .get("states")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                out.push(item("state", format!("{name}.{state}"), def));
            }
            for (t, def) in flow
                .get("transitions")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                out.push(item("transition", format!("{name}.{t}"), def));
            }
        }
    }
    for (id, page) in v["pages"].as_object().into_iter().flatten() {
        out.push(item("page", id.clone(), page));
    }
    for (role, def) in v["roles"].as_object().into_iter().flatten() {
        for (object, actions) in def["grants"].as_object().into_iter().flatten() {
            for a in actions
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                out.push(item(
                    "grant",
                    format!("{role}.{object}.{a}.allowed"),
                    actions,
                ));
            }
            out.push(item("grant", format!("{role}.{object}.denied"), actions));
        }
    }
    fn menus(nodes: &Value, out: &mut Vec<Item>) {
        for n in nodes.as_array().into_iter().flatten() {
            if let Some(id) = n["id"].as_str()
                && !n["page"].is_null()
            {
                out.push(item("menu", id.to_owned(), n));
            }
            menus(&n["children"], out);
        }
    }
    menus(&v["menus"], &mut out);
    out
}

/// The items of `candidate` that `base` lacks or defines differently.
pub fn changed(base: &Spec, candidate: &Spec) -> BTreeSet<(String, String)> {
    let before: BTreeSet<(String, String)> = items(base)
        .into_iter()
        .map(|i| (format!("{}:{}", i.kind, i.id), i.fingerprint))
        .collect();
    items(candidate)
        .into_iter()
        .map(|i| (format!("{}:{}", i.kind, i.id), i.fingerprint))
        .filter(|k| !before.contains(k))
        .collect()
}
