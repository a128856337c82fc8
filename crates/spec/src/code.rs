use serde::{Deserialize, Serialize};
use std::fmt;

/// The stable error codes of docs/patch-dsl.md. Spec integrity violations use the same
/// vocabulary, so a patch that breaks the spec reports what it broke in these terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Code {
    #[serde(rename = "E_SCHEMA")]
    Schema,
    #[serde(rename = "E_DSL_VERSION")]
    DslVersion,
    #[serde(rename = "E_UNKNOWN_OBJECT")]
    UnknownObject,
    #[serde(rename = "E_UNKNOWN_FIELD")]
    UnknownField,
    #[serde(rename = "E_UNKNOWN_STATE")]
    UnknownState,
    #[serde(rename = "E_UNKNOWN_TRANSITION")]
    UnknownTransition,
    #[serde(rename = "E_UNKNOWN_PAGE")]
    UnknownPage,
    #[serde(rename = "E_UNKNOWN_ROLE")]
    UnknownRole,
    #[serde(rename = "E_UNKNOWN_MENU")]
    UnknownMenu,
    #[serde(rename = "E_ALREADY_EXISTS")]
    AlreadyExists,
    #[serde(rename = "E_OP_NOT_ALLOWED")]
    OpNotAllowed,
    #[serde(rename = "E_INVALID_NAME")]
    InvalidName,
    #[serde(rename = "E_FIELD_TYPE")]
    FieldType,
    #[serde(rename = "E_TYPE_CHANGE")]
    TypeChange,
    #[serde(rename = "E_REORDER")]
    Reorder,
    #[serde(rename = "E_REFERENCE")]
    Reference,
    #[serde(rename = "E_SYSTEM_FIELD")]
    SystemField,
    #[serde(rename = "E_PERMISSION_ESCALATION")]
    PermissionEscalation,
    #[serde(rename = "E_PROTECTED")]
    Protected,
    #[serde(rename = "E_LIMIT")]
    Limit,
}

impl Code {
    pub const ALL: [Code; 20] = [
        Code::Schema,
        Code::DslVersion,
        Code::UnknownObject,
        Code::UnknownField,
        Code::UnknownState,
        Code::UnknownTransition,
        Code::UnknownPage,
        Code::UnknownRole,
        Code::UnknownMenu,
        Code::AlreadyExists,
        Code::OpNotAllowed,
        Code::InvalidName,
        Code::FieldType,
        Code::TypeChange,
        Code::Reorder,
        Code::Reference,
        Code::SystemField,
        Code::PermissionEscalation,
        Code::Protected,
        Code::Limit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Schema => "E_SCHEMA",
            Code::DslVersion => "E_DSL_VERSION",
            Code::UnknownObject => "E_UNKNOWN_OBJECT",
            Code::UnknownField => "E_UNKNOWN_FIELD",
            Code::UnknownState => "E_UNKNOWN_STATE",
            Code::UnknownTransition => "E_UNKNOWN_TRANSITION",
            Code::UnknownPage => "E_UNKNOWN_PAGE",
            Code::UnknownRole => "E_UNKNOWN_ROLE",
            Code::UnknownMenu => "E_UNKNOWN_MENU",
            Code::AlreadyExists => "E_ALREADY_EXISTS",
            Code::OpNotAllowed => "E_OP_NOT_ALLOWED",
            Code::InvalidName => "E_INVALID_NAME",
            Code::FieldType => "E_FIELD_TYPE",
            Code::TypeChange => "E_TYPE_CHANGE",
            Code::Reorder => "E_REORDER",
            Code::Reference => "E_REFERENCE",
            Code::SystemField => "E_SYSTEM_FIELD",
            Code::PermissionEscalation => "E_PERMISSION_ESCALATION",
            Code::Protected => "E_PROTECTED",
            Code::Limit => "E_LIMIT",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
