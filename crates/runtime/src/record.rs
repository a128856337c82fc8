use serde_json::{Map, Value, json};
use spec::ObjectDef;

/// A stored record: a document of field values plus the platform's system fields.
/// `data` may hold values of fields the live spec no longer has; they are kept (and
/// return when the field does) but never shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    pub object: String,
    /// Field values by name, including the state field.
    pub data: Map<String, Value>,
    /// Starts at 1; every write adds one.
    pub version: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
}

/// Unix milliseconds as RFC 3339 (UTC), as clients see the system times; empty for a
/// time out of range.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

impl Record {
    /// The record as clients see it under the live definition of its object: declared
    /// fields (missing ones as null), the state field, and the system fields.
    pub fn view(&self, def: &ObjectDef) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), json!(self.id));
        for name in def.fields.keys() {
            out.insert(
                name.clone(),
                self.data.get(name).cloned().unwrap_or(Value::Null),
            );
        }
        if let Some(flow) = &def.state_flow {
            let state = self
                .data
                .get(&flow.field)
                .cloned()
                .unwrap_or_else(|| json!(flow.initial));
            out.insert(flow.field.clone(), state);
        }
        out.insert("createdAt".into(), json!(rfc3339(self.created_at)));
        out.insert("updatedAt".into(), json!(rfc3339(self.updated_at)));
        out.insert("createdBy".into(), json!(self.created_by));
        out.insert("updatedBy".into(), json!(self.updated_by));
        out.insert("version".into(), json!(self.version));
        Value::Object(out)
    }

    /// The record's state, if its object has a flow (records made before the flow
    /// existed are in the initial state).
    pub fn state<'a>(&'a self, def: &'a ObjectDef) -> Option<&'a str> {
        let flow = def.state_flow.as_ref()?;
        Some(
            self.data
                .get(&flow.field)
                .and_then(Value::as_str)
                .unwrap_or(&flow.initial),
        )
    }
}
