//! List queries: filters, sort and paging, with typed comparisons so that a store
//! compares decimals as numbers and dates as dates.

use crate::record::Record;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::cmp::Ordering;

/// How a field's values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueKind {
    Text,
    Integer,
    Decimal,
    Bool,
    /// `YYYY-MM-DD`: text order is date order.
    Date,
    /// RFC 3339 with offsets: compared as instants.
    Datetime,
    /// System times, stored as unix milliseconds.
    Millis,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    /// Case-insensitive substring (text only).
    Contains,
    /// One of a list.
    In,
}

impl FilterOp {
    pub fn parse(s: &str) -> Option<FilterOp> {
        Some(match s {
            "eq" => FilterOp::Eq,
            "ne" => FilterOp::Ne,
            "lt" => FilterOp::Lt,
            "lte" => FilterOp::Lte,
            "gt" => FilterOp::Gt,
            "gte" => FilterOp::Gte,
            "contains" => FilterOp::Contains,
            "in" => FilterOp::In,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub field: String,
    pub kind: ValueKind,
    pub op: FilterOp,
    /// Already normalised to the field's canonical form; an array for `in`.
    pub value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDir {
    Asc,
    Desc,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    pub field: String,
    pub kind: ValueKind,
    pub dir: SortDir,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filters: Vec<Filter>,
    pub sort: Vec<Sort>,
    pub offset: u64,
    pub limit: u64,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            filters: Vec::new(),
            sort: Vec::new(),
            offset: 0,
            limit: 50,
        }
    }
}

/// A record's value for a field, system fields included.
pub fn field_value(r: &Record, field: &str) -> Value {
    match field {
        "id" => json!(r.id),
        "createdAt" => json!(r.created_at),
        "updatedAt" => json!(r.updated_at),
        "createdBy" => json!(r.created_by),
        "updatedBy" => json!(r.updated_by),
        "version" => json!(r.version),
        f => r.data.get(f).cloned().unwrap_or(Value::Null),
    }
}

fn decimal(v: &Value) -> Option<Decimal> {
    spec::value::decimal_of(v)
}

fn instant(v: &Value) -> Option<i128> {
    let s = v.as_str()?;
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

/// Orders two non-null values of a kind; `None` when they do not compare.
pub fn compare(kind: ValueKind, a: &Value, b: &Value) -> Option<Ordering> {
    match kind {
        ValueKind::Text | ValueKind::Date => Some(a.as_str()?.cmp(b.as_str()?)),
        ValueKind::Integer | ValueKind::Millis => Some(a.as_i64()?.cmp(&b.as_i64()?)),
        ValueKind::Decimal => Some(decimal(a)?.cmp(&decimal(b)?)),
        ValueKind::Bool => Some(a.as_bool()?.cmp(&b.as_bool()?)),
        ValueKind::Datetime => Some(instant(a)?.cmp(&instant(b)?)),
        ValueKind::Json => (a == b).then_some(Ordering::Equal),
    }
}

/// Whether a record's value passes a filter.
pub fn matches(f: &Filter, v: &Value) -> bool {
    if v.is_null() {
        return match f.op {
            FilterOp::Eq => f.value.is_null(),
            FilterOp::Ne => !f.value.is_null(),
            _ => false,
        };
    }
    let ord = || compare(f.kind, v, &f.value);
    match f.op {
        FilterOp::Eq => ord() == Some(Ordering::Equal),
        FilterOp::Ne => ord() != Some(Ordering::Equal),
        FilterOp::Lt => ord() == Some(Ordering::Less),
        FilterOp::Lte => matches!(ord(), Some(Ordering::Less | Ordering::Equal)),
        FilterOp::Gt => ord() == Some(Ordering::Greater),
        FilterOp::Gte => matches!(ord(), Some(Ordering::Greater | Ordering::Equal)),
        FilterOp::Contains => match (v.as_str(), f.value.as_str()) {
            (Some(hay), Some(needle)) => hay.to_lowercase().contains(&needle.to_lowercase()),
            _ => false,
        },
        FilterOp::In => f.value.as_array().is_some_and(|vs| {
            vs.iter()
                .any(|x| compare(f.kind, v, x) == Some(Ordering::Equal))
        }),
    }
}

/// Orders records by the sort keys (nulls last), then by id for a stable order.
pub fn order(sort: &[Sort], a: &Record, b: &Record) -> Ordering {
    for s in sort {
        let (x, y) = (field_value(a, &s.field), field_value(b, &s.field));
        let o = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => {
                let o = compare(s.kind, &x, &y).unwrap_or(Ordering::Equal);
                if s.dir == SortDir::Desc {
                    o.reverse()
                } else {
                    o
                }
            }
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.id.cmp(&b.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_compare_as_numbers_and_datetimes_as_instants() {
        assert_eq!(
            compare(ValueKind::Decimal, &json!("9.50"), &json!("10.00")),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare(ValueKind::Decimal, &json!("2.5"), &json!(2.50)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare(
                ValueKind::Datetime,
                &json!("2026-01-01T08:00:00+08:00"),
                &json!("2026-01-01T00:00:00Z")
            ),
            Some(Ordering::Equal)
        );
        let f = Filter {
            field: "name".into(),
            kind: ValueKind::Text,
            op: FilterOp::Contains,
            value: json!("ACME"),
        };
        assert!(matches(&f, &json!("Acme Ltd")));
        let f = Filter {
            field: "tier".into(),
            kind: ValueKind::Text,
            op: FilterOp::In,
            value: json!(["gold", "silver"]),
        };
        assert!(
            matches(&f, &json!("gold"))
                && !matches(&f, &json!("bronze"))
                && !matches(&f, &Value::Null)
        );
    }
}
