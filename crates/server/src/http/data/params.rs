//! Query-string filters, sort and paging for data lists:
//! `?status=draft&amount.gte=10&tier.in=gold,silver&sort=-amount,name&page=2&perPage=20`.

use crate::error::ApiError;
use runtime::{Engine, FilterOp, ListQuery, MAX_PAGE, RecordStore, SortDir};
use serde_json::Value;

/// Parses raw query pairs into a list query for `object`, naming any bad parameter.
pub fn list_query<S: RecordStore>(
    e: &Engine<'_, S>,
    object: &str,
    pairs: &[(String, String)],
) -> Result<(ListQuery, u64, u64), ApiError> {
    let mut q = ListQuery::default();
    let mut page = 1u64;
    let mut per_page = 20u64;
    for (key, raw) in pairs {
        match key.as_str() {
            "page" => {
                page = raw.parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
                    ApiError::bad_request(format!("page: '{raw}' is not a page number"))
                })?
            }
            "perPage" => {
                per_page = raw
                    .parse()
                    .ok()
                    .filter(|p| (1..=MAX_PAGE).contains(p))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "perPage: must be between 1 and {}",
                            MAX_PAGE
                        ))
                    })?
            }
            "sort" => {
                for part in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let (field, dir) = match part.strip_prefix('-') {
                        Some(f) => (f, SortDir::Desc),
                        None => (part, SortDir::Asc),
                    };
                    q.sort.push(e.sort(object, field, dir)?);
                }
            }
            _ => {
                let (field, op) = match key.rsplit_once('.') {
                    Some((f, op)) => {
                        let op = FilterOp::parse(op).ok_or_else(|| {
                            ApiError::bad_request(format!("{key}: unknown operator '{op}'; use eq ne lt lte gt gte contains in"))
                        })?;
                        (f, op)
                    }
                    None => (key.as_str(), FilterOp::Eq),
                };
                let value = if op == FilterOp::In {
                    Value::Array(
                        raw.split(',')
                            .map(|v| Value::String(v.trim().to_owned()))
                            .collect(),
                    )
                } else if raw == "null" {
                    Value::Null
                } else {
                    Value::String(raw.clone())
                };
                q.filters.push(e.filter(object, field, op, value)?);
            }
        }
    }
    q.offset = (page - 1).saturating_mul(per_page);
    q.limit = per_page;
    Ok((q, page, per_page))
}
