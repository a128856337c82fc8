//! The audit log: browse, filter, export, and verify the hash chain. Verification
//! for people browsing resumes from the newest checkpoint; a full walk checks every
//! row again.

use crate::error::{AppError, AppResult};
use crate::time::{parse_time, rfc3339};
use crate::{App, Caller};
use access::Permission;
use serde::{Deserialize, Serialize};
use store::audit::{Checkpoint, Entry, Filter, Outcome, Verification};

/// A filter as a person or client gives it, before parsing.
#[derive(Debug, Default, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct Query {
    /// Action or action prefix: `auth` matches `auth.login` and `auth.logout`.
    pub action: Option<String>,
    pub actor: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    /// `success` or `failure`.
    #[cfg_attr(feature = "openapi", param(pattern = "^(success|failure)?$"))]
    pub outcome: Option<String>,
    /// Start of the time range (RFC 3339, or `YYYY-MM-DDTHH:MM` in UTC), inclusive;
    /// empty for none.
    pub from: Option<String>,
    /// End of the time range, exclusive.
    pub to: Option<String>,
}

/// Which page of a list, as given.
#[derive(Debug, Default, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct Paging {
    /// 1-based page number.
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    pub page: Option<i64>,
    /// Entries per page (1–500, default 50).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 500))]
    pub per_page: Option<i64>,
}

/// The file format of an export, as given.
#[derive(Debug, Default, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct Format {
    /// `jsonl` (default) or `csv`.
    #[cfg_attr(feature = "openapi", param(pattern = "^(jsonl|csv)?$"))]
    pub format: Option<String>,
}

impl Query {
    pub fn filter(&self) -> AppResult<Filter> {
        let outcome = match self.outcome.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("success") => Some(Outcome::Success),
            Some("failure") => Some(Outcome::Failure),
            Some(o) => {
                return Err(AppError::bad_request(format!(
                    "outcome: '{o}' is not 'success' or 'failure'"
                )));
            }
        };
        let time = |field: &str, v: &Option<String>| {
            parse_time(field, v.as_deref().unwrap_or("")).map_err(AppError::bad_request)
        };
        Ok(Filter {
            action: self.action.clone(),
            actor: self.actor.clone(),
            resource_type: self.resource_type.clone(),
            resource_id: self.resource_id.clone(),
            outcome,
            from: time("from", &self.from)?,
            to: time("to", &self.to)?,
        })
    }

    /// The filter part as a query string, to carry into pager and export links.
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

impl Paging {
    /// `(page, per_page)`, validated.
    pub fn parse(&self) -> AppResult<(i64, i64)> {
        let page = self.page.unwrap_or(1);
        let per = self.per_page.unwrap_or(50);
        if page < 1 {
            return Err(AppError::bad_request("page: must be 1 or more"));
        }
        if !(1..=500).contains(&per) {
            return Err(AppError::bad_request("perPage: must be between 1 and 500"));
        }
        Ok((page, per))
    }
}

/// One audit entry as clients see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EntryView {
    pub seq: i64,
    /// RFC 3339.
    pub at: String,
    pub actor: Option<String>,
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub outcome: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<Entry> for EntryView {
    fn from(e: Entry) -> Self {
        EntryView {
            seq: e.seq,
            at: rfc3339(e.at),
            actor: e.actor,
            action: e.action,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            outcome: e.outcome,
            details: serde_json::from_str(&e.details)
                .unwrap_or(serde_json::Value::String(e.details)),
            request_id: e.request_id,
            client_addr: e.client_addr,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// One page of entries, newest first.
#[derive(Debug, Clone)]
pub struct Page {
    pub entries: Vec<Entry>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

pub async fn list(app: &App, by: &Caller, q: &Query, paging: &Paging) -> AppResult<Page> {
    by.require(Permission::AuditRead)?;
    let filter = q.filter()?;
    let (page, per_page) = paging.parse()?;
    let (entries, total) =
        // A page past the end is empty, however far: the offset saturates, never overflows.
        store::audit::list(&app.db, &filter, (page - 1).saturating_mul(per_page), per_page).await?;
    Ok(Page {
        entries,
        total,
        page,
        per_page,
    })
}

/// Most rows one export returns; narrow the filter for more.
pub const EXPORT_LIMIT: i64 = 100_000;

/// The file formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// JSON Lines: one entry per line.
    Jsonl,
    Csv,
}

impl ExportFormat {
    pub fn parse(s: Option<&str>) -> AppResult<ExportFormat> {
        match s.unwrap_or("jsonl") {
            "jsonl" | "" => Ok(ExportFormat::Jsonl),
            "csv" => Ok(ExportFormat::Csv),
            other => Err(AppError::bad_request(format!(
                "format: '{other}' is not 'jsonl' or 'csv'"
            ))),
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "application/x-ndjson",
            ExportFormat::Csv => "text/csv; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Csv => "csv",
        }
    }
}

/// All matching entries (newest first, up to [`EXPORT_LIMIT`]) as one document.
pub async fn export(
    app: &App,
    by: &Caller,
    q: &Query,
    format: &Format,
) -> AppResult<(ExportFormat, String)> {
    by.require(Permission::AuditRead)?;
    let filter = q.filter()?;
    let format = ExportFormat::parse(format.format.as_deref())?;
    let mut rows = Vec::new();
    let batch = 1000;
    while (rows.len() as i64) < EXPORT_LIMIT {
        let (page, _) = store::audit::list(&app.db, &filter, rows.len() as i64, batch).await?;
        let done = (page.len() as i64) < batch;
        rows.extend(page);
        if done {
            break;
        }
    }
    let views: Vec<EntryView> = rows.into_iter().map(Into::into).collect();
    let body = match format {
        ExportFormat::Jsonl => {
            let mut out = String::new();
            for v in &views {
                out.push_str(&serde_json::to_string(v).map_err(anyhow::Error::from)?);
                out.push('\n');
            }
            out
        }
        ExportFormat::Csv => csv_of(&views).map_err(AppError::Internal)?,
    };
    Ok((format, body))
}

fn csv_of(views: &[EntryView]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "seq",
        "at",
        "actor",
        "action",
        "resource_type",
        "resource_id",
        "outcome",
        "details",
        "request_id",
        "client_addr",
        "prev_hash",
        "hash",
    ])?;
    for v in views {
        w.write_record([
            v.seq.to_string(),
            v.at.clone(),
            v.actor.clone().unwrap_or_default(),
            v.action.clone(),
            v.resource_type.clone().unwrap_or_default(),
            v.resource_id.clone().unwrap_or_default(),
            v.outcome.clone(),
            v.details.to_string(),
            v.request_id.clone().unwrap_or_default(),
            v.client_addr.clone().unwrap_or_default(),
            v.prev_hash.clone(),
            v.hash.clone(),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))?;
    Ok(String::from_utf8(bytes)?)
}

/// Whether the chain holds, and how far that was checked.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChainStatus {
    pub ok: bool,
    /// Rows walked by this verification.
    pub rows_checked: i64,
    /// The walk began after this row: 0 for a full walk, else the checkpoint's row.
    pub checked_from: i64,
    /// The first row that does not hold.
    pub broken_at: Option<i64>,
    pub reason: Option<String>,
    /// The row up to which the chain is now known to hold, and when that was first
    /// established.
    pub checkpoint: Option<CheckpointView>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CheckpointView {
    pub seq: i64,
    pub hash: String,
    /// RFC 3339.
    pub verified_at: String,
}

impl From<Checkpoint> for CheckpointView {
    fn from(c: Checkpoint) -> Self {
        CheckpointView {
            seq: c.seq,
            hash: c.hash,
            verified_at: rfc3339(c.verified_at),
        }
    }
}

/// How much of the chain to walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// Every row from the first.
    Full,
    /// From the newest checkpoint on (every row when there is none yet).
    FromCheckpoint,
}

/// Verifies the chain; when it holds, the last row becomes the new checkpoint.
pub async fn verify(app: &App, by: &Caller, walk: Walk) -> AppResult<ChainStatus> {
    by.require(Permission::AuditRead)?;
    let from = match walk {
        Walk::Full => None,
        Walk::FromCheckpoint => store::audit::latest_checkpoint(&app.db).await?,
    };
    let v: Verification = store::audit::verify_from(&app.db, from.as_ref()).await?;
    if v.first_broken.is_none()
        && let Some((seq, hash)) = &v.last_good
        && from.as_ref().is_none_or(|c| c.seq < *seq)
    {
        store::audit::save_checkpoint(&app.db, *seq, hash).await?;
    }
    let checkpoint = match v.first_broken {
        None => store::audit::latest_checkpoint(&app.db).await?,
        Some(_) => from,
    };
    let (broken_at, reason) = match v.first_broken {
        Some((s, r)) => (Some(s), Some(r)),
        None => (None, None),
    };
    Ok(ChainStatus {
        ok: broken_at.is_none(),
        rows_checked: v.rows_checked,
        checked_from: v.started_after,
        broken_at,
        reason,
        checkpoint: checkpoint.map(Into::into),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_outcome_times_and_paging_are_bad_requests() {
        let q = Query {
            outcome: Some("maybe".into()),
            ..Default::default()
        };
        assert_eq!(q.filter().unwrap_err().code(), "bad_request");
        let q = Query {
            to: Some("yesterday".into()),
            ..Default::default()
        };
        assert!(q.filter().unwrap_err().to_string().starts_with("to:"));
        let p = Paging {
            per_page: Some(0),
            ..Default::default()
        };
        assert!(p.parse().is_err());
        assert!(ExportFormat::parse(Some("xml")).is_err());
        assert_eq!(ExportFormat::parse(None).unwrap(), ExportFormat::Jsonl);
    }

    #[test]
    fn the_filter_survives_into_links() {
        let q = Query {
            action: Some("auth".into()),
            outcome: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(q.filter_query(), "action=auth");
    }
}
