//! From a JSON value to the shape of a patch document: a document inside a string or
//! a wrapper object, a bare list of operations, known keys misspelled, scopes in the
//! plural, an object named in another case. What is JSON but no patch at all (a JSON
//! Patch, a whole spec, prose) is said to be exactly that.

use super::{NotAPatch, Repair, lenient};
use crate::DSL_VERSION;
use serde_json::{Map, Value};
use spec::Spec;
use std::collections::BTreeSet;

/// Keys a model wraps the document in.
const WRAPPERS: &[&str] = &[
    "patch", "result", "document", "doc", "answer", "data", "output", "response", "json",
];

/// Names models use for `operations`.
const OPERATIONS_ALIASES: &[&str] = &["operation", "ops", "changes", "patches", "steps"];

/// Names models use for an operation's `op`.
const OP_ALIASES: &[&str] = &["operation", "action", "kind", "type"];

pub fn to_document(
    spec: &Spec,
    request: &str,
    value: Value,
    fixes: &mut BTreeSet<Repair>,
) -> Result<Value, NotAPatch> {
    let value = unwrap(value, request, fixes, 0)?;
    let Value::Object(mut doc) = value else {
        return Err(NotAPatch::Other);
    };
    if !doc.contains_key("dsl") {
        doc.insert("dsl".into(), Value::String(DSL_VERSION.into()));
        fixes.insert(Repair::DslVersion);
    }
    if !doc.contains_key("title") {
        doc.insert("title".into(), Value::String(title_from(request)));
        fixes.insert(Repair::Title);
    }
    if let Some(Value::Array(ops)) = doc.get_mut("operations") {
        for op in ops.iter_mut() {
            if let Value::Object(op) = op {
                operation_keys(op, fixes);
            }
        }
        object_names(spec, ops, fixes);
    }
    Ok(Value::Object(doc))
}

/// The document itself: out of a string or a wrapper, a list of operations wrapped.
fn unwrap(
    value: Value,
    request: &str,
    fixes: &mut BTreeSet<Repair>,
    depth: u8,
) -> Result<Value, NotAPatch> {
    if depth > 3 {
        return Err(NotAPatch::Other);
    }
    match value {
        Value::String(s) => {
            let t = s.trim();
            if !(t.starts_with('{') || t.starts_with('[')) {
                return Err(NotAPatch::Prose);
            }
            let (text, more) = lenient::strict(t).map_err(|_| NotAPatch::Prose)?;
            let inner: Value = serde_json::from_str(&text).map_err(|_| NotAPatch::Prose)?;
            fixes.extend(more);
            fixes.insert(Repair::DocumentInString);
            unwrap(inner, request, fixes, depth + 1)
        }
        Value::Array(items) => {
            let objects: Vec<&Map<String, Value>> =
                items.iter().filter_map(Value::as_object).collect();
            if objects.is_empty() || objects.len() != items.len() {
                return Err(NotAPatch::Other);
            }
            if objects
                .iter()
                .all(|o| o.get("path").is_some_and(Value::is_string) && o.contains_key("op"))
                && !objects.iter().any(|o| o.contains_key("scope"))
            {
                return Err(NotAPatch::JsonPatch);
            }
            if objects.iter().all(|o| {
                o.keys()
                    .any(|k| matches!(k.to_lowercase().as_str(), "scope" | "target"))
            }) {
                fixes.insert(Repair::BareOperations);
                let mut doc = Map::new();
                doc.insert("dsl".into(), Value::String(DSL_VERSION.into()));
                doc.insert("title".into(), Value::String(title_from(request)));
                doc.insert("operations".into(), Value::Array(items));
                return Ok(Value::Object(doc));
            }
            Err(NotAPatch::Other)
        }
        Value::Object(mut o) => {
            if o.contains_key("operations") {
                return Ok(Value::Object(o));
            }
            if let Some(alias) = OPERATIONS_ALIASES
                .iter()
                .find(|a| o.get(**a).is_some_and(Value::is_array))
            {
                let ops = o.remove(*alias).unwrap_or_default();
                o.insert("operations".into(), ops);
                fixes.insert(Repair::KeyNames);
                return Ok(Value::Object(o));
            }
            let wrapper = o
                .iter()
                .find(|(k, v)| {
                    WRAPPERS.contains(&k.to_lowercase().as_str())
                        && (v.is_object() || v.is_array() || v.is_string())
                })
                .map(|(k, _)| k.clone());
            let single = (o.len() == 1)
                .then(|| o.keys().next().cloned())
                .flatten()
                .filter(|k| o[k].is_object());
            if let Some(key) = wrapper.or(single) {
                let inner = o.remove(&key).unwrap_or_default();
                let mut inner_fixes = fixes.clone();
                inner_fixes.insert(Repair::Wrapper);
                match unwrap(inner, request, &mut inner_fixes, depth + 1) {
                    Ok(doc) => {
                        *fixes = inner_fixes;
                        return Ok(doc);
                    }
                    Err(e @ (NotAPatch::JsonPatch | NotAPatch::WholeSpec)) => return Err(e),
                    Err(_) => {
                        o.insert(key, Value::Null);
                    }
                }
            }
            if ["objects", "pages", "roles", "menus"]
                .iter()
                .any(|k| o.contains_key(*k))
            {
                return Err(NotAPatch::WholeSpec);
            }
            if !o.is_empty() && o.values().all(|v| v.is_string() || v.is_null()) {
                return Err(NotAPatch::Prose);
            }
            Err(NotAPatch::Other)
        }
        _ => Err(NotAPatch::Other),
    }
}

/// An operation's keys and names as the DSL spells them.
fn operation_keys(op: &mut Map<String, Value>, fixes: &mut BTreeSet<Repair>) {
    for key in ["scope", "op", "target", "value"] {
        if op.contains_key(key) {
            continue;
        }
        let found = op
            .keys()
            .find(|k| k.eq_ignore_ascii_case(key))
            .or_else(|| {
                (key == "op")
                    .then(|| {
                        op.keys()
                            .find(|k| OP_ALIASES.contains(&k.to_lowercase().as_str()))
                    })
                    .flatten()
            })
            .cloned();
        if let Some(k) = found {
            let v = op.remove(&k).unwrap_or_default();
            op.insert(key.into(), v);
            fixes.insert(Repair::KeyNames);
        }
    }
    if let Some(Value::String(scope)) = op.get_mut("scope") {
        let lower = scope.to_lowercase();
        let singular = lower.strip_suffix('s').unwrap_or(&lower).to_owned();
        let known = ["object", "state", "page", "permission", "menu"];
        if !known.contains(&scope.as_str()) && known.contains(&singular.as_str()) {
            *scope = singular;
            fixes.insert(Repair::ScopeNames);
        }
    }
    if let Some(Value::String(kind)) = op.get_mut("op") {
        let lower = kind.to_lowercase();
        if *kind != lower
            && ["add", "remove", "update", "replace", "reorder"].contains(&lower.as_str())
        {
            *kind = lower;
            fixes.insert(Repair::KeyNames);
        }
    }
    if let Some(Value::Object(target)) = op.get_mut("target") {
        let keys: Vec<String> = target.keys().cloned().collect();
        for k in keys {
            let lower = k.to_lowercase();
            if lower != k && !target.contains_key(&lower) {
                let v = target.remove(&k).unwrap_or_default();
                target.insert(lower, v);
                fixes.insert(Repair::KeyNames);
            }
        }
    }
}

/// An object named in another case than the spec's, when exactly one object matches
/// and the patch does not add one by that name.
fn object_names(spec: &Spec, ops: &mut [Value], fixes: &mut BTreeSet<Repair>) {
    let added: BTreeSet<String> = ops
        .iter()
        .filter(|op| {
            op["scope"] == "object" && op["op"] == "add" && op["target"].get("field").is_none()
        })
        .filter_map(|op| op["target"]["object"].as_str().map(str::to_owned))
        .collect();
    for op in ops.iter_mut() {
        let Some(Value::String(name)) = op.get_mut("target").and_then(|t| t.get_mut("object"))
        else {
            continue;
        };
        if spec.objects.contains_key(name.as_str()) || added.contains(name.as_str()) {
            continue;
        }
        let mut matches = spec.objects.keys().filter(|k| k.eq_ignore_ascii_case(name));
        if let (Some(only), None) = (matches.next(), matches.next()) {
            *name = only.clone();
            fixes.insert(Repair::ObjectNameCase);
        }
    }
}

/// A title from the request: its first line, at most 80 characters.
fn title_from(request: &str) -> String {
    let line = request
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("AI change");
    let t: String = line.trim().chars().take(80).collect();
    if t.is_empty() { "AI change".into() } else { t }
}
