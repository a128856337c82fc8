//! Checking a patch document without storing anything: validation and dry run
//! against the live spec, or against a spec the caller brings.

use crate::error::{AppError, AppResult};
use crate::{App, Caller};
use access::Permission;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// The patch and the spec to check it against. `body` is a patch document (checked
/// against the live spec), or `{"patch", "spec"}` to check it against another spec.
fn patch_and_spec(app: &App, body: &[u8]) -> AppResult<(Vec<u8>, Arc<spec::Spec>)> {
    if body.is_empty() {
        return Err(AppError::bad_request(
            "send the patch document as the JSON request body",
        ));
    }
    if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body)
        && m.contains_key("patch")
        && !m.contains_key("dsl")
    {
        let patch = match &m["patch"] {
            Value::String(s) => s.clone().into_bytes(),
            v => serde_json::to_vec(v).map_err(anyhow::Error::from)?,
        };
        let spec =
            match m.get("spec") {
                Some(v) => Arc::new(spec::from_value(v).map_err(|e| {
                    AppError::invalid("spec", format!("not an application spec: {e}"))
                })?),
                None => app.live.get().spec.clone(),
            };
        return Ok((patch, spec));
    }
    Ok((body.to_vec(), app.live.get().spec.clone()))
}

/// The validation report of `body` (docs/patch-dsl.md): whether the patch is valid,
/// its level, errors, warnings and operations.
pub fn validate(app: &App, by: &Caller, body: &[u8]) -> AppResult<patch::Report> {
    by.require(Permission::ModulesDevelop)?;
    let (patch, spec) = patch_and_spec(app, body)?;
    Ok(patch::check(&spec, &patch).report)
}

/// A dry run: the report, what changes operation by operation, and the spec diff.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DryRunView {
    /// The validation report.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub report: patch::Report,
    /// What changes, operation by operation (empty when invalid).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub changes: Vec<patch::Change>,
    /// Unified diff of the pretty-printed spec (empty when invalid).
    pub diff: String,
}

pub fn dry_run(app: &App, by: &Caller, body: &[u8]) -> AppResult<DryRunView> {
    by.require(Permission::ModulesDevelop)?;
    let (patch, spec) = patch_and_spec(app, body)?;
    let d = patch::dry_run(&spec, &patch);
    Ok(DryRunView {
        report: d.report,
        changes: d.changes,
        diff: d.diff,
    })
}
