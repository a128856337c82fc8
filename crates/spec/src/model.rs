//! The spec's types. Maps are ordered (`BTreeMap`), so a spec serialises the same way
//! every time: hashes, diffs and "apply is deterministic" rest on that.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

fn is_false(b: &bool) -> bool {
    !*b
}

/// Translations of a label by language tag (`{"zh-CN": "客户"}`); the plain `label`
/// is what shows when the user's language has none.
pub type Labels = BTreeMap<String, String>;

/// The label to show in `lang`: its exact tag, then its primary language (`zh` for
/// `zh-CN`, and any `zh-*` for `zh`), else `fallback`.
pub fn localized<'a>(fallback: &'a str, labels: &'a Labels, lang: &str) -> &'a str {
    if let Some(t) = labels.get(lang) {
        return t;
    }
    let primary = lang.split('-').next().unwrap_or(lang);
    labels
        .iter()
        .find(|(tag, _)| tag.split('-').next() == Some(primary))
        .map(|(_, t)| t.as_str())
        .unwrap_or(fallback)
}

/// Numbers a string field on create: `prefix` then the sequence number padded with
/// zeros to `digits` (`SO-000001`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoNumber {
    #[serde(default)]
    pub prefix: String,
    pub digits: u8,
}

impl AutoNumber {
    pub fn format(&self, n: i64) -> String {
        format!("{}{:0width$}", self.prefix, n, width = self.digits as usize)
    }
}

/// The whole application: objects, pages, business roles and menus.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    #[serde(default)]
    pub objects: BTreeMap<String, ObjectDef>,
    #[serde(default)]
    pub pages: BTreeMap<String, PageDef>,
    #[serde(default)]
    pub roles: BTreeMap<String, RoleDef>,
    #[serde(default)]
    pub menus: Vec<MenuNode>,
}

/// A business object (e.g. `Customer`): its fields and, optionally, a state flow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectDef {
    pub label: String,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub fields: BTreeMap<String, FieldDef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_flow: Option<StateFlow>,
    /// Records cannot be updated or deleted once in a final state (a ledger).
    #[serde(default, skip_serializing_if = "is_false")]
    pub immutable: bool,
    /// The field a record is known by (in lists, pickers, references); default: the
    /// first required string field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_field: Option<String>,
}

impl ObjectDef {
    /// The field that names a record: `titleField`, else the first required string
    /// field (by name); `None` when there is neither (records are shown by id).
    pub fn title_field(&self) -> Option<&str> {
        if let Some(t) = &self.title_field {
            return Some(t);
        }
        self.fields
            .iter()
            .find(|(_, f)| f.required && f.ty == FieldType::String)
            .map(|(n, _)| n.as_str())
    }
}

/// The type of a field's values.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Text,
    Integer,
    Decimal,
    Boolean,
    Date,
    Datetime,
    Email,
    Phone,
    Url,
    Enum,
    Reference,
    Json,
}

impl FieldType {
    pub const ALL: [FieldType; 13] = [
        FieldType::String,
        FieldType::Text,
        FieldType::Integer,
        FieldType::Decimal,
        FieldType::Boolean,
        FieldType::Date,
        FieldType::Datetime,
        FieldType::Email,
        FieldType::Phone,
        FieldType::Url,
        FieldType::Enum,
        FieldType::Reference,
        FieldType::Json,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Decimal => "decimal",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::Enum => "enum",
            FieldType::Reference => "reference",
            FieldType::Json => "json",
        }
    }

    /// Whether values of this type are text (so length and pattern constraints apply).
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            FieldType::String
                | FieldType::Text
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
        )
    }

    /// Whether values are ordered numbers (so min and max apply).
    pub fn is_numeric(self) -> bool {
        matches!(self, FieldType::Integer | FieldType::Decimal)
    }

    /// Changing from `self` to `to` keeps every existing value valid (docs/patch-dsl.md's
    /// widening changes).
    pub fn widens_to(self, to: FieldType) -> bool {
        matches!(
            (self, to),
            (FieldType::Integer, FieldType::Decimal)
                | (FieldType::String, FieldType::Text)
                | (
                    FieldType::Email | FieldType::Phone | FieldType::Url | FieldType::Enum,
                    FieldType::String
                )
        )
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to referring records when the referenced record is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum OnDelete {
    Restrict,
    Cascade,
    SetNull,
}

/// A field and its constraints. Which constraints apply depends on the type; the
/// integrity check reports combinations that make no sense.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FieldDef {
    #[serde(rename = "type")]
    pub ty: FieldType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// Smallest allowed value (integer, decimal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<serde_json::Number>,
    /// Largest allowed value (integer, decimal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<serde_json::Number>,
    /// Digits after the decimal point (decimal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<i64>,
    /// A regular expression the whole value must match (text types).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Allowed values (enum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    /// How enum values read, per value and language (`{"won": {"en": "Won", "zh-CN":
    /// "赢单"}}`); a value without one shows as itself.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub value_labels: BTreeMap<String, Labels>,
    /// Numbered on create and read-only to users (string fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_number: Option<AutoNumber>,
    /// Referenced object (reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<OnDelete>,
}

impl FieldDef {
    /// A plain optional field of a type, without constraints.
    pub fn of(ty: FieldType) -> FieldDef {
        FieldDef {
            ty,
            label: None,
            labels: Labels::new(),
            description: None,
            required: false,
            unique: false,
            default: None,
            min: None,
            max: None,
            scale: None,
            min_length: None,
            max_length: None,
            pattern: None,
            values: None,
            value_labels: BTreeMap::new(),
            auto_number: None,
            object: None,
            on_delete: None,
        }
    }
}

/// The states a record moves through and the transitions between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateFlow {
    /// The field that holds the state (managed by the flow, not declared as a field).
    pub field: String,
    /// The state of a new record.
    pub initial: String,
    pub states: BTreeMap<String, StateDef>,
    #[serde(default)]
    pub transitions: BTreeMap<String, TransitionDef>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    /// A final state ends the flow: no transition leaves it.
    #[serde(default, rename = "final", skip_serializing_if = "is_false")]
    pub is_final: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    /// States the transition may start from.
    pub from: Vec<String>,
    pub to: String,
}

/// A page of the CRM UI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum PageDef {
    List(ListPage),
    Form(SectionedPage),
    Detail(SectionedPage),
}

impl PageDef {
    pub fn object(&self) -> &str {
        match self {
            PageDef::List(p) => &p.object,
            PageDef::Form(p) | PageDef::Detail(p) => &p.object,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            PageDef::List(_) => "list",
            PageDef::Form(_) => "form",
            PageDef::Detail(_) => "detail",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPage {
    pub object: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    pub columns: Vec<String>,
    /// Fields offered as filters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<SortSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SortSpec {
    pub field: String,
    #[serde(default)]
    pub direction: SortDirection,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

/// A form or detail page: fields grouped in sections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SectionedPage {
    pub object: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    pub fields: Vec<String>,
}

/// A business role and what it may do per object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleDef {
    pub label: String,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub grants: BTreeMap<String, Vec<Grant>>,
}

/// One permission on an object: `read create update delete transition:<name>
/// transition:*`, or the wildcard `*` (which the patch validator refuses).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grant {
    Read,
    Create,
    Update,
    Delete,
    Transition(String),
    AnyTransition,
    All,
}

impl Grant {
    pub fn parse(s: &str) -> Option<Grant> {
        Some(match s {
            "read" => Grant::Read,
            "create" => Grant::Create,
            "update" => Grant::Update,
            "delete" => Grant::Delete,
            "transition:*" => Grant::AnyTransition,
            "*" => Grant::All,
            other => Grant::Transition(
                other
                    .strip_prefix("transition:")
                    .filter(|t| !t.is_empty())?
                    .to_owned(),
            ),
        })
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grant::Read => f.write_str("read"),
            Grant::Create => f.write_str("create"),
            Grant::Update => f.write_str("update"),
            Grant::Delete => f.write_str("delete"),
            Grant::Transition(t) => write!(f, "transition:{t}"),
            Grant::AnyTransition => f.write_str("transition:*"),
            Grant::All => f.write_str("*"),
        }
    }
}

impl Serialize for Grant {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Grant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Grant::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown grant '{s}'; expected read, create, update, delete, transition:<name> or transition:*"
            ))
        })
    }
}

impl JsonSchema for Grant {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Grant".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "read, create, update, delete, transition:<name>, transition:* (or * — refused by the patch validator)",
            "pattern": "^(read|create|update|delete|transition:\\*|transition:[a-z][A-Za-z0-9]*|\\*)$"
        })
    }
}

/// A menu entry of the CRM navigation; either opens a page or groups children.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MenuNode {
    pub id: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<MenuNode>,
}

impl Spec {
    /// Finds a menu node anywhere in the tree.
    pub fn find_menu(&self, id: &str) -> Option<&MenuNode> {
        fn walk<'a>(nodes: &'a [MenuNode], id: &str) -> Option<&'a MenuNode> {
            nodes.iter().find_map(|n| {
                if n.id == id {
                    Some(n)
                } else {
                    walk(&n.children, id)
                }
            })
        }
        walk(&self.menus, id)
    }

    pub fn find_menu_mut(&mut self, id: &str) -> Option<&mut MenuNode> {
        fn walk<'a>(nodes: &'a mut [MenuNode], id: &str) -> Option<&'a mut MenuNode> {
            for n in nodes {
                if n.id == id {
                    return Some(n);
                }
                if let Some(found) = walk(&mut n.children, id) {
                    return Some(found);
                }
            }
            None
        }
        walk(&mut self.menus, id)
    }

    /// The id of the node's parent (`None` for a top-level node or an unknown id).
    pub fn menu_parent(&self, id: &str) -> Option<String> {
        fn walk(nodes: &[MenuNode], id: &str, parent: Option<&str>) -> Option<Option<String>> {
            for n in nodes {
                if n.id == id {
                    return Some(parent.map(str::to_owned));
                }
                if let Some(p) = walk(&n.children, id, Some(&n.id)) {
                    return Some(p);
                }
            }
            None
        }
        walk(&self.menus, id, None).flatten()
    }

    /// Removes a menu node (and its children) wherever it is; returns it.
    pub fn remove_menu(&mut self, id: &str) -> Option<MenuNode> {
        fn walk(nodes: &mut Vec<MenuNode>, id: &str) -> Option<MenuNode> {
            if let Some(i) = nodes.iter().position(|n| n.id == id) {
                return Some(nodes.remove(i));
            }
            nodes.iter_mut().find_map(|n| walk(&mut n.children, id))
        }
        walk(&mut self.menus, id)
    }

    /// Every menu id, depth first.
    pub fn menu_ids(&self) -> Vec<String> {
        fn walk(nodes: &[MenuNode], out: &mut Vec<String>) {
            for n in nodes {
                out.push(n.id.clone());
                walk(&n.children, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.menus, &mut out);
        out
    }

    /// The pretty JSON text of the spec (the form diffs are made of).
    pub fn to_pretty_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("specs serialise")
    }
}
