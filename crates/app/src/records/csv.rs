//! CSV export and import of an object's records (docs/data.md, "CSV").
//!
//! Export streams what a list query selects, page by page, with each reference's
//! title beside its id. Import reads a CSV stream row by row, validates every row
//! through the records engine, and writes all rows in one transaction — or none when
//! any row fails, reporting each failure by row, column and rule. Memory holds one
//! batch of rows and the first errors, whatever the size of the file.

use super::Records;
use crate::error::{AppError, AppResult};
use futures_util::StreamExt;
use runtime::{FilterOp, ListQuery, Record, RuntimeError, Sort, SortDir, ValueKind};
use serde::Serialize;
use serde_json::{Map, Value};
use spec::{FieldType, ObjectDef};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tokio::io::AsyncRead;

/// Rows validated and written together; references by title are resolved per batch.
const BATCH: usize = 500;
/// Errors listed in a report; the count goes on.
const MAX_ERRORS: usize = 200;
/// Imports at least this large refresh the planner's statistics.
const ANALYZE_AFTER: u64 = 5_000;
/// Records read per page while exporting.
const EXPORT_PAGE: u64 = 500;

/// One problem with one cell (or a whole row) of an import.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RowError {
    /// The line of the file, the header being line 1.
    pub row: u64,
    /// The column's header as written in the file (empty for the whole row).
    pub column: String,
    /// The rule that failed: `required`, `unique`, `reference`, `type`, …
    pub rule: String,
    pub message: String,
}

/// What an import did, or would do.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub object: String,
    pub dry_run: bool,
    /// Data rows read (the header not counted).
    pub rows: u64,
    /// Records written: all rows, or 0 when any failed or on a dry run.
    pub created: u64,
    /// Rows with at least one error.
    pub failed_rows: u64,
    /// The first errors (at most 200), in file order.
    pub errors: Vec<RowError>,
    /// Columns the import does not write: system fields, the state, automatic
    /// numbers, and title columns beside ids (as an export writes them).
    pub ignored_columns: Vec<String>,
}

/// What a header column feeds.
#[derive(Debug, Clone)]
enum Column {
    Field(String),
    /// `customer.title`: the reference given by its target's title.
    Title(String),
    Ignored,
}

fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// The export's header: id, each field (references followed by their title), the
/// state, then the system fields.
fn export_columns(def: &ObjectDef) -> Vec<(String, Option<String>)> {
    let mut cols = vec![("id".to_owned(), None)];
    for (name, f) in &def.fields {
        cols.push((name.clone(), None));
        if f.ty == FieldType::Reference {
            cols.push((format!("{name}.title"), f.object.clone()));
        }
    }
    if let Some(flow) = &def.state_flow {
        cols.push((flow.field.clone(), None));
    }
    for s in [
        "createdAt",
        "updatedAt",
        "createdBy",
        "updatedBy",
        "version",
    ] {
        cols.push((s.to_owned(), None));
    }
    cols
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

impl Records {
    /// Writes the records `query` selects as CSV, a chunk per page, to `out`; stops
    /// early when `out` says the reader went away. Checks read permission first.
    pub async fn export_csv(
        &self,
        object: &str,
        query: ListQuery,
        out: tokio::sync::mpsc::Sender<Vec<u8>>,
    ) -> AppResult<()> {
        let def = self.engine().object(object)?.clone();
        self.require(object, runtime::Action::Read)?;
        let cols = export_columns(&def);
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(cols.iter().map(|(c, _)| c.as_str()))
            .map_err(anyhow::Error::from)?;
        if out
            .send(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
            .await
            .is_err()
        {
            return Ok(());
        }
        // Without a sort of its own, an export pages by id (no offsets to skip).
        let keyset = query.sort.is_empty();
        let mut q = query;
        q.limit = EXPORT_PAGE;
        if keyset {
            q.sort = vec![Sort {
                field: "id".into(),
                kind: ValueKind::Text,
                dir: SortDir::Asc,
            }];
        }
        let base_filters = q.filters.clone();
        let mut last: Option<String> = None;
        loop {
            if keyset {
                q.filters = base_filters.clone();
                if let Some(id) = &last {
                    q.filters.push(self.filter(
                        object,
                        "id",
                        FilterOp::Gt,
                        Value::String(id.clone()),
                    )?);
                }
            }
            let page = self.list(object, &q).await?;
            if page.items.is_empty() {
                return Ok(());
            }
            let titles = self.reference_titles(object, &page.items).await?;
            let mut w = csv::Writer::from_writer(Vec::with_capacity(page.items.len() * 200));
            for r in &page.items {
                let view = self.view(r);
                let row = cols.iter().map(|(c, target)| match target {
                    Some(_) => {
                        let field = c.trim_end_matches(".title");
                        view.get(field)
                            .and_then(Value::as_str)
                            .and_then(|id| titles.get(id).cloned())
                            .unwrap_or_default()
                    }
                    None => cell(view.get(c.as_str())),
                });
                w.write_record(row).map_err(anyhow::Error::from)?;
            }
            if out
                .send(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
                .await
                .is_err()
            {
                return Ok(());
            }
            let n = page.items.len() as u64;
            last = page.items.last().map(|r| r.id.clone());
            if n < EXPORT_PAGE {
                return Ok(());
            }
            if !keyset {
                q.offset += n;
            }
        }
    }

    /// Imports CSV rows as new records of `object` (see the module comment).
    pub async fn import_csv<R>(
        &self,
        object: &str,
        input: R,
        dry_run: bool,
    ) -> AppResult<ImportReport>
    where
        R: AsyncRead + Unpin + Send,
    {
        self.require_live("a CSV import")?;
        let engine = self.engine();
        let def = engine.object(object)?.clone();
        self.require(object, runtime::Action::Create)?;
        let mut reader = csv_async::AsyncReaderBuilder::new()
            .flexible(true)
            .create_reader(input);
        let header = reader
            .headers()
            .await
            .map_err(|e| AppError::bad_request(format!("the CSV header cannot be read: {e}")))?
            .clone();
        let (columns, ignored) = map_header(&def, object, &header)?;
        let mut report = ImportReport {
            object: object.to_owned(),
            dry_run,
            rows: 0,
            created: 0,
            failed_rows: 0,
            errors: Vec::new(),
            ignored_columns: ignored,
        };
        let mut tx = self.db.begin().await?;
        let mut batch: Vec<(u64, csv_async::StringRecord)> = Vec::with_capacity(BATCH);
        let mut rows = reader.records();
        let mut line = 1u64;
        loop {
            let next = rows.next().await;
            let end = next.is_none();
            if let Some(next) = next {
                line += 1;
                match next {
                    Ok(r) => batch.push((line, r)),
                    Err(e) if matches!(e.kind(), csv_async::ErrorKind::Io(_)) => {
                        return Err(AppError::bad_request(format!(
                            "the CSV could not be read: {e}"
                        )));
                    }
                    Err(e) => {
                        report.rows += 1;
                        report.failed_rows += 1;
                        fail(
                            &mut report,
                            line,
                            "",
                            "csv",
                            format!("the row cannot be read: {e}"),
                        );
                        continue;
                    }
                }
            }
            if batch.len() == BATCH || end {
                let at = Batch {
                    def: &def,
                    object,
                    header: &header,
                    columns: &columns,
                };
                self.import_batch(&mut tx, at, &mut batch, &mut report)
                    .await?;
            }
            if end {
                break;
            }
        }
        if report.failed_rows == 0 && !dry_run {
            let mut e = self
                .by
                .audit("record.import", store::audit::Outcome::Success);
            e.resource_type = Some("object".into());
            e.resource_id = Some(object.to_owned());
            e.details = serde_json::json!({ "created": report.rows });
            store::audit::append(&mut tx, e).await?;
            tx.commit().await?;
            report.created = report.rows;
            crate::telemetry::records_written(object, "create", report.created as usize);
            // A large import changes the table's statistics; without fresh ones
            // PostgreSQL plans the next queries for the old, smaller table.
            if report.created >= ANALYZE_AFTER
                && let Err(e) = store::records::analyze(&self.db).await
            {
                tracing::warn!(error = %e, "could not refresh statistics after an import");
            }
        } else {
            drop(tx); // rolls back
        }
        Ok(report)
    }

    async fn import_batch(
        &self,
        tx: &mut store::Tx,
        at: Batch<'_>,
        batch: &mut Vec<(u64, csv_async::StringRecord)>,
        report: &mut ImportReport,
    ) -> AppResult<()> {
        let Batch {
            def,
            object,
            header,
            columns,
        } = at;
        if batch.is_empty() {
            return Ok(());
        }
        report.rows += batch.len() as u64;
        let refs = self.resolve_references(def, columns, batch).await?;
        let engine = self.engine();
        let mut ready: Vec<(u64, Record)> = Vec::with_capacity(batch.len());
        for (line, row) in batch.drain(..) {
            let mut input = Map::new();
            let mut errs: Vec<(String, String, String)> = Vec::new();
            for (i, col) in columns.iter().enumerate() {
                let raw = row.get(i).unwrap_or_default();
                let head = header.get(i).unwrap_or_default().to_owned();
                match col {
                    Column::Ignored => {}
                    // An empty cell is no value: defaults apply, required fields fail.
                    Column::Field(_) if is_blank(raw) => {}
                    Column::Field(name) => match typed(name, &def.fields[name], raw, &refs) {
                        Ok(v) => {
                            input.insert(name.clone(), v);
                        }
                        Err((rule, msg)) => errs.push((head, rule, msg)),
                    },
                    Column::Title(name) => {
                        // A title stands in when the id column is absent or empty.
                        let id_given = columns.iter().enumerate().any(|(j, c)| {
                            matches!(c, Column::Field(n) if n == name)
                                && !is_blank(row.get(j).unwrap_or_default())
                        });
                        if id_given || is_blank(raw) {
                            continue;
                        }
                        let f = &def.fields[name];
                        let target = f.object.as_deref().unwrap_or_default();
                        match refs.reference(name, target, raw.trim(), false) {
                            Ok(v) => {
                                input.insert(name.clone(), v);
                            }
                            Err((rule, msg)) => errs.push((head, rule, msg)),
                        }
                    }
                }
            }
            if errs.is_empty() {
                match engine.prepare_create(&self.actor, object, &input) {
                    Ok((record, _)) => ready.push((line, record)),
                    Err(RuntimeError::Validation(fes)) => {
                        for fe in fes {
                            errs.push((header_of(header, columns, &fe.field), fe.rule, fe.message));
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if !errs.is_empty() {
                report.failed_rows += 1;
                for (column, rule, message) in errs {
                    fail(report, line, &column, &rule, message);
                }
            }
        }
        if report.failed_rows > 0 {
            // Nothing will be written: validating the rest is all that is left to do.
            return Ok(());
        }
        let (lines, mut records): (Vec<u64>, Vec<Record>) = ready.into_iter().unzip();
        let conflicts = self.insert_prepared(tx, def, object, &mut records).await?;
        if !conflicts.is_empty() {
            let line_of: HashMap<&str, u64> = records
                .iter()
                .zip(&lines)
                .map(|(r, l)| (r.id.as_str(), *l))
                .collect();
            let mut failed = BTreeSet::new();
            let mut listed: Vec<(u64, String)> = conflicts
                .iter()
                .map(|(id, field)| {
                    (
                        line_of.get(id.as_str()).copied().unwrap_or_default(),
                        field.clone(),
                    )
                })
                .collect();
            listed.sort();
            for (line, field) in listed {
                failed.insert(line);
                fail(
                    report,
                    line,
                    &header_of(header, columns, &field),
                    "unique",
                    format!("another {object} record (or an earlier row) already has this {field}"),
                );
            }
            report.failed_rows += failed.len() as u64;
        }
        Ok(())
    }

    /// The ids given in reference columns that exist and the caller may read, and
    /// the titles given in title columns, resolved to one id or the number of
    /// records sharing the title.
    async fn resolve_references(
        &self,
        def: &ObjectDef,
        columns: &[Column],
        batch: &[(u64, csv_async::StringRecord)],
    ) -> AppResult<Resolved> {
        let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut titles: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (i, col) in columns.iter().enumerate() {
            let (Column::Field(name) | Column::Title(name)) = col else {
                continue;
            };
            let f = &def.fields[name];
            let Some(target) = f.object.as_ref().filter(|_| f.ty == FieldType::Reference) else {
                continue;
            };
            for (_, row) in batch {
                let v = row.get(i).unwrap_or_default().trim();
                if v.is_empty() {
                    continue;
                }
                // A reference column may hold an id or a title; a title column, titles.
                if matches!(col, Column::Field(_)) {
                    ids.entry(target.clone()).or_default().insert(v.to_owned());
                }
                titles.entry(name.clone()).or_default().insert(v.to_owned());
            }
        }
        let mut out = Resolved::default();
        for (target, wanted) in ids {
            for id in self.titles(&target, wanted).await?.into_keys() {
                out.by_id.insert((target.clone(), id));
            }
        }
        for (field, wanted) in titles {
            let target = def.fields[&field].object.clone().unwrap_or_default();
            let Some(title_field) = self
                .spec()
                .objects
                .get(&target)
                .and_then(|d| d.title_field())
            else {
                continue;
            };
            if !self.allowed(&target, runtime::Action::Read) {
                continue;
            }
            let values: Vec<Value> = wanted.iter().cloned().map(Value::String).collect();
            let q = ListQuery {
                limit: (values.len() as u64) * 2 + 10,
                filters: vec![self.filter(
                    &target,
                    title_field,
                    FilterOp::In,
                    Value::Array(values),
                )?],
                ..ListQuery::default()
            };
            let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for r in self.list(&target, &q).await?.items {
                found
                    .entry(self.title_of(&target, &r))
                    .or_default()
                    .push(r.id);
            }
            for (title, ids) in found {
                let v = if ids.len() == 1 {
                    Ok(ids[0].clone())
                } else {
                    Err(ids.len())
                };
                out.by_title.insert((field.clone(), title), v);
            }
        }
        Ok(out)
    }
}

/// What every batch of one import shares.
#[derive(Clone, Copy)]
struct Batch<'a> {
    def: &'a ObjectDef,
    object: &'a str,
    header: &'a csv_async::StringRecord,
    columns: &'a [Column],
}

impl Resolved {
    /// A reference cell: the id of a record the importer can read (when ids are
    /// accepted), else a title that names exactly one such record.
    fn reference(
        &self,
        field: &str,
        target: &str,
        s: &str,
        ids: bool,
    ) -> Result<Value, (String, String)> {
        if ids && self.by_id.contains(&(target.to_owned(), s.to_owned())) {
            return Ok(Value::String(s.to_owned()));
        }
        match self.by_title.get(&(field.to_owned(), s.to_owned())) {
            Some(Ok(id)) => Ok(Value::String(id.clone())),
            Some(Err(n)) => Err((
                "reference".into(),
                format!("{n} {target} records are titled '{s}'; give the id instead"),
            )),
            None => Err((
                "reference".into(),
                format!("there is no {target} with the id or title '{s}' that you can see"),
            )),
        }
    }
}

#[derive(Default)]
struct Resolved {
    /// (target object, id) of referenced records that exist and may be read.
    by_id: BTreeSet<(String, String)>,
    /// (reference field, title) → the one id, or how many records share the title.
    by_title: BTreeMap<(String, String), Result<String, usize>>,
}

fn fail(report: &mut ImportReport, row: u64, column: &str, rule: &str, message: String) {
    if report.errors.len() < MAX_ERRORS {
        report.errors.push(RowError {
            row,
            column: column.to_owned(),
            rule: rule.to_owned(),
            message,
        });
    }
}

/// The header a field was read from (its name when no column fed it).
fn header_of(header: &csv_async::StringRecord, columns: &[Column], field: &str) -> String {
    columns
        .iter()
        .position(|c| matches!(c, Column::Field(n) if n == field))
        .and_then(|i| header.get(i))
        .unwrap_or(field)
        .to_owned()
}

/// Maps each header to a field by name or by label (in any language, any case).
fn map_header(
    def: &ObjectDef,
    object: &str,
    header: &csv_async::StringRecord,
) -> AppResult<(Vec<Column>, Vec<String>)> {
    let mut columns = Vec::new();
    let mut ignored = Vec::new();
    let mut unknown = Vec::new();
    let mut seen = BTreeSet::new();
    let by_label = |h: &str| -> Option<String> {
        let h = h.to_lowercase();
        def.fields.iter().find_map(|(n, f)| {
            let mut labels = f.labels.values().chain(f.label.iter());
            labels.any(|l| l.to_lowercase() == h).then(|| n.clone())
        })
    };
    let state = def.state_flow.as_ref().map(|f| f.field.as_str());
    for h in header.iter() {
        let h = h.trim().trim_start_matches('\u{feff}');
        let col = if let Some(base) = h.strip_suffix(".title") {
            match def.fields.get(base) {
                Some(f) if f.ty == FieldType::Reference => Column::Title(base.to_owned()),
                _ => {
                    unknown.push(h.to_owned());
                    continue;
                }
            }
        } else if spec::names::is_system_field(h) || Some(h) == state {
            Column::Ignored
        } else if let Some(name) = def
            .fields
            .get_key_value(h)
            .map(|(n, _)| n.clone())
            .or_else(|| by_label(h))
        {
            if def.fields[&name].auto_number.is_some() {
                Column::Ignored
            } else {
                Column::Field(name)
            }
        } else {
            unknown.push(h.to_owned());
            continue;
        };
        if let Column::Field(n) = &col
            && !seen.insert(n.clone())
        {
            return Err(AppError::bad_request(format!(
                "two columns of the header feed the field '{n}'"
            )));
        }
        if matches!(col, Column::Ignored) {
            ignored.push(h.to_owned());
        }
        columns.push(col);
    }
    if !unknown.is_empty() {
        let known: Vec<&str> = def.fields.keys().map(String::as_str).collect();
        return Err(AppError::bad_request(format!(
            "{object} has no field for the column(s) {}; its fields are {}",
            unknown.join(", "),
            known.join(", ")
        )));
    }
    Ok((columns, ignored))
}

/// A cell as the JSON value its field takes; `Err((rule, message))` when it cannot be.
fn typed(
    name: &str,
    f: &spec::FieldDef,
    raw: &str,
    refs: &Resolved,
) -> Result<Value, (String, String)> {
    let s = raw.trim();
    let bad = |what: &str| Err(("type".to_owned(), format!("'{s}' is not {what}")));
    match f.ty {
        FieldType::Integer => match s.parse::<i64>() {
            Ok(n) => Ok(Value::from(n)),
            Err(_) => bad("a whole number"),
        },
        FieldType::Boolean => match s.to_lowercase().as_str() {
            "true" | "yes" | "1" | "是" => Ok(Value::Bool(true)),
            "false" | "no" | "0" | "否" => Ok(Value::Bool(false)),
            _ => bad("true or false"),
        },
        FieldType::Json => {
            serde_json::from_str(s).map_err(|e| ("type".to_owned(), format!("not JSON: {e}")))
        }
        FieldType::Enum => {
            // A value may be given by its label too.
            let values = f.values.clone().unwrap_or_default();
            if values.iter().any(|v| v == s) {
                return Ok(Value::String(s.to_owned()));
            }
            let lower = s.to_lowercase();
            f.value_labels
                .iter()
                .find(|(_, ls)| ls.values().any(|l| l.to_lowercase() == lower))
                .map(|(v, _)| Value::String(v.clone()))
                .ok_or_else(|| {
                    (
                        "values".to_owned(),
                        format!("'{s}' is not one of {}", values.join(", ")),
                    )
                })
        }
        FieldType::Reference => {
            refs.reference(name, f.object.as_deref().unwrap_or_default(), s, true)
        }
        _ => Ok(Value::String(raw.to_owned())),
    }
}
