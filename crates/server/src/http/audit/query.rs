//! The audit filter as it arrives in a query string, parsed once for API and page.

use crate::error::ApiError;
use serde::Deserialize;
use store::audit::{Filter, Outcome};
use utoipa::IntoParams;

#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Action or action prefix: `auth` matches `auth.login` and `auth.logout`.
    pub action: Option<String>,
    pub actor: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<String>,
    /// Start of the time range (RFC 3339, or `YYYY-MM-DDTHH:MM` in UTC), inclusive.
    pub from: Option<String>,
    /// End of the time range, exclusive.
    pub to: Option<String>,
    /// 1-based page number.
    pub page: Option<i64>,
    /// Entries per page (1–500, default 50).
    pub per_page: Option<i64>,
    /// Export format: `jsonl` or `csv`.
    pub format: Option<String>,
}

/// Parses a time as RFC 3339 or as an HTML `datetime-local` value taken as UTC.
pub fn parse_time(field: &str, s: &str) -> Result<Option<i64>, ApiError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    use time::format_description::well_known::Rfc3339;
    let parsed = time::OffsetDateTime::parse(s, &Rfc3339).ok().or_else(|| {
        let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
        let fmt_s =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        time::PrimitiveDateTime::parse(s, &fmt)
            .or_else(|_| time::PrimitiveDateTime::parse(s, &fmt_s))
            .ok()
            .map(|t| t.assume_utc())
    });
    match parsed {
        Some(t) => Ok(Some((t.unix_timestamp_nanos() / 1_000_000) as i64)),
        None => Err(ApiError::bad_request(format!(
            "{field}: '{s}' is not a time (use RFC 3339, e.g. 2026-11-25T08:00:00Z)"
        ))),
    }
}

impl AuditQuery {
    pub fn filter(&self) -> Result<Filter, ApiError> {
        let outcome = match self.outcome.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("success") => Some(Outcome::Success),
            Some("failure") => Some(Outcome::Failure),
            Some(o) => {
                return Err(ApiError::bad_request(format!(
                    "outcome: '{o}' is not 'success' or 'failure'"
                )));
            }
        };
        Ok(Filter {
            action: self.action.clone(),
            actor: self.actor.clone(),
            resource_type: self.resource_type.clone(),
            resource_id: self.resource_id.clone(),
            outcome,
            from: parse_time("from", self.from.as_deref().unwrap_or(""))?,
            to: parse_time("to", self.to.as_deref().unwrap_or(""))?,
        })
    }

    /// `(page, per_page)`, validated.
    pub fn paging(&self) -> Result<(i64, i64), ApiError> {
        let page = self.page.unwrap_or(1);
        let per = self.per_page.unwrap_or(50);
        if page < 1 {
            return Err(ApiError::bad_request("page: must be 1 or more"));
        }
        if !(1..=500).contains(&per) {
            return Err(ApiError::bad_request("perPage: must be between 1 and 500"));
        }
        Ok((page, per))
    }

    /// The filter part of the query string, to carry into pager and export links.
    pub fn filter_query(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("action", &self.action),
            ("actor", &self.actor),
            ("resourceType", &self.resource_type),
            ("resourceId", &self.resource_id),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().filter(|s| !s.is_empty()).map(|v| (k, v)))
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_both_ways_and_reject_garbage() {
        assert_eq!(
            parse_time("from", "1970-01-01T00:00:01Z").unwrap(),
            Some(1000)
        );
        assert_eq!(
            parse_time("from", "1970-01-01T00:01").unwrap(),
            Some(60_000)
        );
        assert_eq!(parse_time("from", "").unwrap(), None);
        let e = parse_time("to", "yesterday").unwrap_err();
        assert!(e.message.starts_with("to:"));
    }

    #[test]
    fn bad_outcome_and_paging_are_400() {
        let q = AuditQuery {
            outcome: Some("maybe".into()),
            ..Default::default()
        };
        assert_eq!(q.filter().unwrap_err().status.as_u16(), 400);
        let q = AuditQuery {
            per_page: Some(0),
            ..Default::default()
        };
        assert!(q.paging().is_err());
    }
}
