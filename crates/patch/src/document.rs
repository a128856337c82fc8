//! The patch document and its parsing at the edge: raw bytes become a typed document
//! once, or a report of exactly what is wrong and where.

use crate::level::Level;
use crate::limits::{self, MAX_BYTES, MAX_DEPTH, MAX_OPERATIONS};
use crate::report::{Issue, Report};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spec::Code;

/// The DSL version this crate speaks.
pub const DSL_VERSION: &str = "modgate.patch/v1";

/// A module's content: ordered operations on the spec, and the module's own test
/// scenarios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchDocument {
    /// Always `modgate.patch/v1`.
    pub dsl: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Applied in order; all or none.
    pub operations: Vec<Operation>,
    /// The module's test scenarios (docs/testing.md), run with the CRM suite.
    #[serde(default)]
    pub tests: Vec<Value>,
}

/// Which part of the spec an operation changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Object,
    State,
    Page,
    Permission,
    Menu,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Object => "object",
            Scope::State => "state",
            Scope::Page => "page",
            Scope::Permission => "permission",
            Scope::Menu => "menu",
        }
    }
}

/// What an operation does to its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    /// Creates the target; it must not exist.
    Add,
    /// Deletes the target; it must exist. For grants: the listed grants, or all.
    Remove,
    /// JSON Merge Patch (RFC 7396) onto the existing value.
    Update,
    /// Replaces the whole value.
    Replace,
    /// A permutation of the existing items.
    Reorder,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Remove => "remove",
            OpKind::Update => "update",
            OpKind::Replace => "replace",
            OpKind::Reorder => "reorder",
        }
    }
}

/// What an operation addresses. Which keys make sense depends on the scope:
/// object `{object}` · `{object, field}`; state `{object}` · `{object, state}` ·
/// `{object, transition}`; page `{page}` · `{page, list}`; permission `{role}` ·
/// `{role, object}`; menu `{menu}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// `columns` or `sections`, for `reorder` on a page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<String>,
}

/// One change to the spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub scope: Scope,
    pub op: OpKind,
    pub target: Target,
    /// The definition to add or replace with, the merge patch for `update`, the
    /// ordered ids for `reorder`, the grants for permission operations. Absent for
    /// `remove` (except to remove only some grants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "value_schema")]
    pub value: Option<Value>,
}

/// The value of a menu `add` or `replace`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MenuValue {
    pub label: String,
    #[serde(default, skip_serializing_if = "spec::Labels::is_empty")]
    pub labels: spec::Labels,
    /// Id of the parent item; top level when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Id of the page the item opens; a group when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
}

fn value_schema(g: &mut SchemaGenerator) -> Schema {
    let choices = [
        g.subschema_for::<spec::ObjectDef>(),
        g.subschema_for::<spec::FieldDef>(),
        g.subschema_for::<spec::StateFlow>(),
        g.subschema_for::<spec::StateDef>(),
        g.subschema_for::<spec::TransitionDef>(),
        g.subschema_for::<spec::PageDef>(),
        g.subschema_for::<spec::RoleDef>(),
        g.subschema_for::<Vec<spec::Grant>>(),
        g.subschema_for::<MenuValue>(),
        g.subschema_for::<Vec<String>>(),
        json_schema!({ "type": "object", "description": "a JSON Merge Patch (RFC 7396), for update" }),
    ];
    json_schema!({
        "description": "Depends on scope, op and target: an object, field, state flow, state, transition, page, role or menu definition; a merge patch for update; grants for permission; ordered ids for reorder.",
        "anyOf": choices,
    })
}

/// The JSON Schema of the patch document, generated from these types.
pub fn patch_json_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(PatchDocument)).expect("schemas serialise")
}

fn schema_error(op: Option<usize>, path: impl Into<String>, message: impl Into<String>) -> Issue {
    Issue::error(Code::Schema, op, path, Level::L1, message)
}

fn limit_error(path: &str, message: String) -> Issue {
    Issue::error(Code::Limit, None, path, Level::L3, message)
}

/// The document apart from its operations, read first.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    #[allow(dead_code)]
    dsl: String,
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    tests: Vec<Value>,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<PatchDocument, Report> {
    if bytes.len() > MAX_BYTES {
        return Err(Report::rejected(vec![limit_error(
            "",
            format!(
                "the patch is {} bytes; the limit is {MAX_BYTES} (1 MiB)",
                bytes.len()
            ),
        )]));
    }
    if limits::depth(bytes) > MAX_DEPTH {
        return Err(Report::rejected(vec![limit_error(
            "",
            format!("the patch nests deeper than {MAX_DEPTH} levels"),
        )]));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        Report::rejected(vec![schema_error(
            None,
            "",
            format!("the patch is not valid JSON: {e}"),
        )])
    })?;
    let Value::Object(mut map) = value else {
        return Err(Report::rejected(vec![schema_error(
            None,
            "",
            "the patch must be a JSON object",
        )]));
    };
    match map.get("dsl") {
        Some(Value::String(v)) if v == DSL_VERSION => {}
        Some(Value::String(v)) => {
            return Err(Report::rejected(vec![Issue::error(
                Code::DslVersion,
                None,
                "/dsl",
                Level::L1,
                format!("unsupported DSL version '{v}'; this server speaks '{DSL_VERSION}'"),
            )]));
        }
        _ => {
            return Err(Report::rejected(vec![Issue::error(
                Code::DslVersion,
                None,
                "/dsl",
                Level::L1,
                format!("the patch must say \"dsl\": \"{DSL_VERSION}\""),
            )]));
        }
    }
    let ops = match map.remove("operations") {
        Some(Value::Array(ops)) => ops,
        Some(_) => {
            return Err(Report::rejected(vec![schema_error(
                None,
                "/operations",
                "operations must be an array",
            )]));
        }
        None => {
            return Err(Report::rejected(vec![schema_error(
                None,
                "/operations",
                "the patch needs 'operations'",
            )]));
        }
    };
    if ops.len() > MAX_OPERATIONS {
        return Err(Report::rejected(vec![limit_error(
            "/operations",
            format!(
                "the patch has {} operations; the limit is {MAX_OPERATIONS}",
                ops.len()
            ),
        )]));
    }
    let mut errors = Vec::new();
    let head: Option<Head> = match serde_path_to_error::deserialize(Value::Object(map)) {
        Ok(h) => Some(h),
        Err(e) => {
            errors.push(schema_error(
                None,
                spec::json_pointer(e.path()),
                e.inner().to_string(),
            ));
            None
        }
    };
    if let Some(h) = &head {
        let n = h.title.trim().chars().count();
        if n == 0 || n > 200 {
            errors.push(schema_error(
                None,
                "/title",
                "title must be 1 to 200 characters",
            ));
        }
    }
    let mut operations = Vec::with_capacity(ops.len());
    for (i, op) in ops.into_iter().enumerate() {
        match serde_path_to_error::deserialize::<_, Operation>(op) {
            Ok(o) => operations.push(o),
            Err(e) => errors.push(schema_error(
                Some(i),
                format!("/operations/{i}{}", spec::json_pointer(e.path())),
                format!("operation {i}: {}", e.inner()),
            )),
        }
    }
    match (head, errors.is_empty()) {
        (Some(h), true) => Ok(PatchDocument {
            dsl: DSL_VERSION.to_owned(),
            title: h.title,
            description: h.description,
            operations,
            tests: h.tests,
        }),
        _ => Err(Report::rejected(errors)),
    }
}
