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
    let mut out = String::with_capacity(24);
    push_rfc3339(&mut out, ms);
    out
}

fn push_digit(out: &mut String, d: i64) {
    out.push(char::from(b'0' + d as u8));
}

/// Two digits, zero-padded (`n` in 0..100).
fn push_2(out: &mut String, n: i64) {
    push_digit(out, n / 10);
    push_digit(out, n % 10);
}

/// [`rfc3339`] written into `out`: every record view writes two, so the civil date is
/// computed here (Hinnant's days-to-civil) instead of through a formatter and its
/// own string. The same text as `time`'s RFC 3339 (a test compares them): the
/// fraction without trailing zeros, none at all for a whole second, nothing for a
/// year outside 0000–9999.
pub fn push_rfc3339(out: &mut String, ms: i64) {
    let (secs, milli) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return;
    }
    let (h, m, sec) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Digit by digit: `write!` with padding costs more than the rest of a record view.
    push_2(out, year / 100);
    push_2(out, year % 100);
    out.push('-');
    push_2(out, month);
    out.push('-');
    push_2(out, day);
    out.push('T');
    push_2(out, h);
    out.push(':');
    push_2(out, m);
    out.push(':');
    push_2(out, sec);
    match milli {
        0 => {}
        _ if milli % 100 == 0 => {
            out.push('.');
            push_digit(out, milli / 100);
        }
        _ if milli % 10 == 0 => {
            out.push('.');
            push_2(out, milli / 10);
        }
        _ => {
            out.push('.');
            push_digit(out, milli / 100);
            push_2(out, milli % 100);
        }
    }
    out.push('Z');
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

/// A record as the store holds it, its field values still the stored JSON text. A
/// read that only shows records (by id, a list page) writes its view from this text
/// without parsing the values into a tree and serialising them again.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub id: String,
    pub object: String,
    /// The field values as a JSON object, as stored.
    pub data: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
}

impl From<&Record> for StoredRecord {
    fn from(r: &Record) -> StoredRecord {
        StoredRecord {
            id: r.id.clone(),
            object: r.object.clone(),
            data: Value::Object(r.data.clone()).to_string(),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            created_by: r.created_by.clone(),
            updated_by: r.updated_by.clone(),
        }
    }
}

impl StoredRecord {
    /// The record with its values parsed; `None` when the stored text is not a JSON
    /// object.
    pub fn parse(self) -> Option<Record> {
        let data = match serde_json::from_str(&self.data) {
            Ok(Value::Object(m)) => m,
            _ => return None,
        };
        Some(Record {
            id: self.id,
            object: self.object,
            data,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            created_by: self.created_by,
            updated_by: self.updated_by,
        })
    }

    /// [`Record::view`] as JSON text: the same document, key for key, with each
    /// value copied from the stored text. `None` when the stored text is not a JSON
    /// object.
    pub fn view_json(&self, def: &ObjectDef) -> Option<String> {
        // Keys borrowed from the text, values left raw: no value is parsed into a tree.
        // Keys with escapes cannot be borrowed; such a document takes the long way.
        let values: RawFields<'_> = match serde_json::from_str(&self.data) {
            Ok(v) => v,
            Err(_) => {
                let r = self.clone().parse()?;
                return Some(r.view(def).to_string());
            }
        };
        let mut out = String::with_capacity(self.data.len() + 256);
        out.push_str("{\"id\":");
        push_json_str(&mut out, &self.id);
        let flow = def.state_flow.as_ref();
        let push_value = |out: &mut String, name: &str| {
            match values.get(name) {
                Some(raw) => out.push_str(raw.get()),
                // Records made before the flow existed are in its initial state.
                None => match flow.filter(|f| f.field == name) {
                    Some(f) => push_json_str(out, &f.initial),
                    None => out.push_str("null"),
                },
            }
        };
        for name in def.fields.keys() {
            out.push(',');
            push_json_str(&mut out, name);
            out.push(':');
            push_value(&mut out, name);
        }
        if let Some(f) = flow.filter(|f| !def.fields.contains_key(&f.field)) {
            out.push(',');
            push_json_str(&mut out, &f.field);
            out.push(':');
            push_value(&mut out, &f.field);
        }
        out.push_str(",\"createdAt\":\"");
        push_rfc3339(&mut out, self.created_at);
        out.push_str("\",\"updatedAt\":\"");
        push_rfc3339(&mut out, self.updated_at);
        out.push('"');
        out.push_str(",\"createdBy\":");
        push_opt_str(&mut out, self.created_by.as_deref());
        out.push_str(",\"updatedBy\":");
        push_opt_str(&mut out, self.updated_by.as_deref());
        out.push_str(",\"version\":");
        out.push_str(itoa::Buffer::new().format(self.version));
        out.push('}');
        Some(out)
    }
}

fn push_json_str(out: &mut String, s: &str) {
    // Field names, ids and user names rarely need escaping: those are copied as they
    // are, without the allocation a serialiser's own buffer costs.
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.reserve(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
        return;
    }
    // Serialising a &str into a String cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

fn push_opt_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_json_str(out, s),
        None => out.push_str("null"),
    }
}

/// A stored document's top-level keys and raw values, in order, borrowed from the text.
/// A record has a dozen fields: a scan beats hashing them.
struct RawFields<'a>(Vec<(&'a str, &'a serde_json::value::RawValue)>);

impl<'a> RawFields<'a> {
    /// The value of `name`; the last one when the text repeats a key, as a parse keeps.
    fn get(&self, name: &str) -> Option<&'a serde_json::value::RawValue> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    }
}

impl<'de> serde::Deserialize<'de> for RawFields<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = RawFields<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawFields<'de>, A::Error> {
                let mut out = Vec::with_capacity(16);
                while let Some(entry) =
                    map.next_entry::<&'de str, &'de serde_json::value::RawValue>()?
                {
                    out.push(entry);
                }
                Ok(RawFields(out))
            }
        }
        d.deserialize_map(Fields)
    }
}
