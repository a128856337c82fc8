//! Running a version's tests (the CRM suite and the version's own scenarios, over
//! the live spec with the version's patch applied) and keeping the result; whether a
//! version is ready to be submitted.

use crate::error::{AppError, AppResult};
use crate::modules::lifecycle::{self, Action, Facts, VersionFacts};
use crate::time::rfc3339;
use crate::{App, Caller, modules};
use access::Permission;
use patch::Level;
use serde::Serialize;
use serde_json::{Value, json};
use store::audit::{self, Outcome};
use store::test_runs::ScenarioRow;
use store::{new_id, now_ms};

pub use store::test_runs::{RunStatus, TestRun};

/// A run as clients list it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    pub id: String,
    pub module_id: String,
    pub version: i64,
    /// `passed`, `failed` or `error`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub status: RunStatus,
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
            status: r.status,
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

/// A module's runs, newest first.
pub async fn list(app: &App, by: &Caller, module_id: &str) -> AppResult<Vec<TestRun>> {
    by.require(Permission::ModulesTest)?;
    modules::get(app, by, module_id).await?;
    Ok(store::test_runs::list(&app.db, module_id).await?)
}

/// One run with its report.
pub async fn get(app: &App, by: &Caller, run_id: &str) -> AppResult<TestRun> {
    by.require(Permission::ModulesTest)?;
    store::test_runs::get(&app.db, run_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("test run {run_id}")))
}

/// Runs the CRM suite and the version's own scenarios over the live spec + the
/// version's patch, and stores the run.
pub async fn run(
    app: &App,
    by: &Caller,
    module_id: &str,
    version: Option<i64>,
    on_result: &mut (dyn FnMut(&scenario::ScenarioResult) + Send),
) -> AppResult<(TestRun, Value)> {
    let m = modules::get(app, by, module_id).await?;
    let n = version.unwrap_or(m.current_version);
    let v = match n {
        0 => None,
        n => Some(
            store::modules::version(&app.db, module_id, n)
                .await?
                .ok_or_else(|| {
                    AppError::invalid("version", format!("module has no version {n}"))
                })?,
        ),
    };
    lifecycle::next(
        m.status,
        Action::Test,
        Facts::plain(
            by.can(Action::Test.permission()),
            v.as_ref().map(|v| VersionFacts {
                number: v.number,
                valid: v.valid,
                level: v.level,
            }),
        ),
    )?;
    let Some(v) = v else {
        return Err(AppError::Internal(anyhow::anyhow!(
            "the lifecycle let a test without a version through"
        )));
    };
    let doc = patch::parse(v.patch.as_bytes())
        .map_err(|_| AppError::invalid("version", "the stored patch cannot be read"))?;
    let suite = scenario::crm_suite()
        .map_err(|e| anyhow::anyhow!("the embedded CRM suite is malformed: {e}"))?;
    let base = crate::live::for_module(app, module_id).await?;
    let started = now_ms();
    let clock = std::time::Instant::now();
    let outcome =
        scenario::run_suite_with(&base, Some(&doc), suite, app.config.test_gate, on_result).await;
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
            let report = serde_json::to_value(&r).map_err(anyhow::Error::from)?;
            let run = TestRun {
                id: new_id(),
                module_id: module_id.to_owned(),
                version: n,
                status: if r.failed == 0 {
                    RunStatus::Passed
                } else {
                    RunStatus::Failed
                },
                started_at: started,
                finished_at: now_ms(),
                duration_ms: duration,
                passed: r.passed as i64,
                failed: r.failed as i64,
                module_coverage: r.coverage.module,
                spec_coverage: Some(r.coverage.spec),
                ready: r.gate.ready,
                report: report.to_string(),
                started_by: by.username.clone(),
            };
            (run, report, rows)
        }
        // A module's malformed scenarios or a patch that no longer applies to the live
        // spec: a run that could not happen, recorded as such.
        Err(e) => {
            let report = json!({ "error": e.to_string(), "passed": 0, "failed": 0, "scenarios": [],
                "gate": { "ready": false, "threshold": app.config.test_gate, "reasons": [e.to_string()] } });
            let run = TestRun {
                id: new_id(),
                module_id: module_id.to_owned(),
                version: n,
                status: RunStatus::Error,
                started_at: started,
                finished_at: now_ms(),
                duration_ms: duration,
                passed: 0,
                failed: 0,
                module_coverage: None,
                spec_coverage: None,
                ready: false,
                report: report.to_string(),
                started_by: by.username.clone(),
            };
            (run, report, Vec::new())
        }
    };
    let mut tx = app.db.begin().await?;
    store::test_runs::insert(&mut tx, &run, &rows).await?;
    let outcome = if run.status == RunStatus::Passed {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let mut e = by.audit("module.test", outcome);
    e.resource_type = Some("module".into());
    e.resource_id = Some(module_id.to_owned());
    e.details = json!({ "run": run.id, "version": n, "status": run.status, "passed": run.passed, "failed": run.failed,
        "moduleCoverage": run.module_coverage, "ready": run.ready, "durationMs": run.duration_ms });
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok((run, report))
}

/// Whether a version may be submitted for review now, and why (not).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    pub version: i64,
    pub ready: bool,
    /// What the latest run found, then what is missing, as sentences.
    pub reasons: Vec<String>,
    /// Each unmet condition, for programs (what a refused submit lists).
    pub unmet: Vec<Unmet>,
    pub run_id: Option<String>,
}

/// One condition a version does not meet to be submitted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Unmet {
    /// `not_current`, `invalid`, `blocked`, `l2_unconfirmed`, `untested`, `test_error`,
    /// `tests_failed` or `coverage`.
    pub reason: String,
    pub message: String,
    /// The coverage the gate needs and the latest run has (`coverage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub need: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub have: Option<f64>,
    /// Failed scenarios (`tests_failed`); the module's current version (`not_current`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
}

impl Unmet {
    pub fn new(reason: &str, message: String) -> Unmet {
        Unmet {
            reason: reason.to_owned(),
            message,
            need: None,
            have: None,
            count: None,
        }
    }
}

/// What keeps version `v` from review, judged on its latest test run (returned too).
/// The one readiness rule: the testing page shows it and submitting enforces it.
pub async fn unmet(
    app: &App,
    module_id: &str,
    v: &modules::VersionView,
) -> AppResult<(Vec<Unmet>, Option<TestRun>)> {
    let n = v.number;
    let mut out = Vec::new();
    if !v.valid {
        out.push(Unmet::new("invalid", format!("version {n} is invalid")));
    } else if v.level == Level::L3 {
        out.push(Unmet::new(
            "blocked",
            format!("version {n} is L3 (blocked)"),
        ));
    }
    if v.needs_confirmation {
        out.push(Unmet::new(
            "l2_unconfirmed",
            format!("version {n} is L2 and a person has not confirmed it"),
        ));
    }
    let run = store::test_runs::latest_for_version(&app.db, module_id, n).await?;
    match &run {
        None => out.push(Unmet::new(
            "untested",
            format!("version {n} has not been tested"),
        )),
        Some(r) if r.status == RunStatus::Error => out.push(Unmet::new(
            "test_error",
            format!("the latest test run of version {n} could not run"),
        )),
        Some(r) => {
            if r.failed > 0 {
                out.push(Unmet {
                    count: Some(r.failed),
                    ..Unmet::new(
                        "tests_failed",
                        format!("{} scenario(s) failed in the latest test run", r.failed),
                    )
                });
            }
            let gate = app.config.test_gate;
            if let Some(m) = r.module_coverage
                && m + 1e-9 < gate
            {
                out.push(Unmet {
                    need: Some(gate),
                    have: Some(m),
                    ..Unmet::new(
                        "coverage",
                        format!(
                            "module coverage {:.0}% is below the gate of {:.0}%",
                            m * 100.0,
                            gate * 100.0
                        ),
                    )
                });
            }
        }
    }
    Ok((out, run))
}

pub async fn readiness(app: &App, by: &Caller, module_id: &str, n: i64) -> AppResult<Readiness> {
    by.require(Permission::ModulesTest)?;
    let v = modules::VersionView::from(modules::version(app, by, module_id, n).await?);
    let (unmet, run) = unmet(app, module_id, &v).await?;
    let mut reasons: Vec<String> = Vec::new();
    if let Some(r) = &run {
        let report: Value = serde_json::from_str(&r.report).unwrap_or(Value::Null);
        for reason in report["gate"]["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            reasons.push(format!("latest test run: {reason}"));
        }
    }
    reasons.extend(unmet.iter().map(|u| u.message.clone()));
    Ok(Readiness {
        version: n,
        ready: unmet.is_empty(),
        reasons,
        unmet,
        run_id: run.map(|r| r.id),
    })
}
