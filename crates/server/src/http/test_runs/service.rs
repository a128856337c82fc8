//! Running a version's tests and keeping the result.

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::http::extract::RequestMeta;
use crate::http::modules::service as modules;
use crate::http::users::api::rfc3339;
use crate::state::AppState;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};
use store::audit::{self, Outcome};
use store::test_runs::{ScenarioRow, TestRun};
use store::{new_id, now_ms};

/// A run as the API lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    pub id: String,
    pub module_id: String,
    pub version: i64,
    /// `passed`, `failed` or `error`.
    pub status: String,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: i64,
    pub passed: i64,
    pub failed: i64,
    pub module_coverage: Option<f64>,
    pub spec_coverage: Option<f64>,
    pub ready: bool,
    pub started_by: String,
}

impl From<&TestRun> for RunView {
    fn from(r: &TestRun) -> Self {
        RunView {
            id: r.id.clone(),
            module_id: r.module_id.clone(),
            version: r.version,
            status: r.status.clone(),
            started_at: rfc3339(r.started_at),
            finished_at: rfc3339(r.finished_at),
            duration_ms: r.duration_ms,
            passed: r.passed,
            failed: r.failed,
            module_coverage: r.module_coverage,
            spec_coverage: r.spec_coverage,
            ready: r.ready,
            started_by: r.started_by.clone(),
        }
    }
}

/// Runs the CRM suite and the version's own scenarios over the live spec + the
/// version's patch, and stores the run.
pub async fn run(
    state: &AppState,
    actor: &CurrentUser,
    meta: &RequestMeta,
    module_id: &str,
    version: Option<i64>,
    on_result: &mut (dyn FnMut(&scenario::ScenarioResult) + Send),
) -> Result<(TestRun, Value), ApiError> {
    let m = modules::get(state, module_id).await?;
    let n = version.unwrap_or(m.current_version);
    if n == 0 {
        return Err(ApiError::conflict(
            "the module has no version yet; save or generate one first",
        ));
    }
    let v = store::modules::version(&state.db, module_id, n)
        .await?
        .ok_or_else(|| ApiError::invalid("version", format!("module has no version {n}")))?;
    if !v.valid {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_version",
            format!(
                "version {n} is invalid and cannot be tested; fix the patch and save a new version"
            ),
        ));
    }
    let doc = patch::parse(v.patch.as_bytes())
        .map_err(|_| ApiError::invalid("version", "the stored patch cannot be read"))?;
    let suite = scenario::crm_suite().map_err(|e| {
        tracing::error!(error = %e, "the embedded CRM suite is malformed");
        ApiError::internal()
    })?;
    let base = state.live.get().spec.clone();
    let started = now_ms();
    let clock = std::time::Instant::now();
    let outcome =
        scenario::run_suite_with(&base, Some(&doc), suite, state.config.test_gate, on_result).await;
    let duration = clock.elapsed().as_millis() as i64;
    let (run, report, rows) = match outcome {
        Ok(r) => {
            let rows: Vec<ScenarioRow> = r
                .scenarios
                .iter()
                .map(|s| ScenarioRow {
                    scenario: s.name.clone(),
                    object: s.object.clone(),
                    source: s.source.clone(),
                    status: s.status.to_owned(),
                    error: s.error.clone(),
                })
                .collect();
            let report = serde_json::to_value(&r).expect("report serialises");
            let run = TestRun {
                id: new_id(),
                module_id: module_id.to_owned(),
                version: n,
                status: if r.failed == 0 { "passed" } else { "failed" }.into(),
                started_at: started,
                finished_at: now_ms(),
                duration_ms: duration,
                passed: r.passed as i64,
                failed: r.failed as i64,
                module_coverage: r.coverage.module,
                spec_coverage: Some(r.coverage.spec),
                ready: r.gate.ready,
                report: report.to_string(),
                started_by: actor.username.clone(),
            };
            (run, report, rows)
        }
        // A module's malformed scenarios or a patch that no longer applies to the live
        // spec: a run that could not happen, recorded as such.
        Err(e) => {
            let report = json!({ "error": e.to_string(), "passed": 0, "failed": 0, "scenarios": [],
                "gate": { "ready": false, "threshold": state.config.test_gate, "reasons": [e.to_string()] } });
            let run = TestRun {
                id: new_id(),
                module_id: module_id.to_owned(),
                version: n,
                status: "error".into(),
                started_at: started,
                finished_at: now_ms(),
                duration_ms: duration,
                passed: 0,
                failed: 0,
                module_coverage: None,
                spec_coverage: None,
                ready: false,
                report: report.to_string(),
                started_by: actor.username.clone(),
            };
            (run, report, Vec::new())
        }
    };
    let mut tx = state.db.begin().await?;
    store::test_runs::insert(&mut tx, &run, &rows).await?;
    let outcome = if run.status == "passed" {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let mut e = meta.audit(Some(&actor.username), "module.test", outcome);
    e.resource_type = Some("module".into());
    e.resource_id = Some(module_id.to_owned());
    e.details = json!({ "run": run.id, "version": n, "status": run.status, "passed": run.passed, "failed": run.failed,
        "moduleCoverage": run.module_coverage, "ready": run.ready, "durationMs": run.duration_ms });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok((run, report))
}

/// Whether a version may be submitted for review now, and why (not).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    pub version: i64,
    pub ready: bool,
    pub reasons: Vec<String>,
    pub run_id: Option<String>,
}

pub async fn readiness(state: &AppState, module_id: &str, n: i64) -> Result<Readiness, ApiError> {
    let v = modules::version_view(state, module_id, n).await?;
    let mut reasons = Vec::new();
    if !v.valid {
        reasons.push(format!("version {n} is invalid"));
    } else if v.level == "L3" {
        reasons.push(format!("version {n} is L3 (blocked)"));
    }
    if v.needs_confirmation {
        reasons.push(format!(
            "version {n} is L2 and a person has not confirmed it"
        ));
    }
    let run = store::test_runs::latest_for_version(&state.db, module_id, n).await?;
    let mut ready = reasons.is_empty();
    match &run {
        None => {
            ready = false;
            reasons.push(format!("version {n} has not been tested"));
        }
        Some(r) => {
            let report: Value = serde_json::from_str(&r.report).unwrap_or(Value::Null);
            for reason in report["gate"]["reasons"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                reasons.push(format!("latest test run: {reason}"));
            }
            ready = ready && r.ready;
        }
    }
    Ok(Readiness {
        version: n,
        ready,
        reasons,
        run_id: run.map(|r| r.id),
    })
}
