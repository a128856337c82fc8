//! A suite run: the scenarios' results, coverage of the candidate spec and of what
//! the module changes, the submit gate, and the report formats.

use crate::coverage;
use crate::format::{self, FormatError, Scenario};
use crate::run::{ScenarioResult, page_hits, run_scenario};
use serde::Serialize;
use spec::Spec;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

#[derive(Debug, Clone, Serialize)]
pub struct ItemResult {
    pub kind: &'static str,
    pub id: String,
    pub covered: bool,
    /// Scenarios that exercised it.
    pub by: Vec<String>,
    /// Whether the module's patch adds or changes it.
    pub module: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    /// Covered module items / module items; `null` when the module changes nothing.
    pub module: Option<f64>,
    pub spec: f64,
    pub items: Vec<ItemResult>,
}

/// "Ready to submit: yes/no, because …".
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub ready: bool,
    pub threshold: f64,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub passed: usize,
    pub failed: usize,
    pub scenarios: Vec<ScenarioResult>,
    pub coverage: Coverage,
    pub gate: Gate,
}

/// Why a suite could not run at all.
#[derive(Debug, Clone)]
pub enum SuiteError {
    /// The patch does not apply to the spec; its report says why.
    Patch(patch::Report),
    /// A scenario (of the suite or the patch's `tests`) is malformed.
    Format(FormatError),
}

impl std::fmt::Display for SuiteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SuiteError::Patch(r) => write!(
                f,
                "the patch does not apply: {}",
                r.errors
                    .iter()
                    .map(|e| format!("{} {}", e.code, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            SuiteError::Format(e) => write!(f, "{e}"),
        }
    }
}

/// Runs `suite` plus the patch's own `tests` over `base` + `patch`, all scenarios in
/// parallel, each in its own sandbox.
pub async fn run_suite(
    base: &Spec,
    patch: Option<&patch::PatchDocument>,
    suite: Vec<Scenario>,
    threshold: f64,
) -> Result<Report, SuiteError> {
    run_suite_with(base, patch, suite, threshold, &mut |_| {}).await
}

/// [`run_suite`], reporting each scenario's result as it is collected.
pub async fn run_suite_with(
    base: &Spec,
    patch: Option<&patch::PatchDocument>,
    suite: Vec<Scenario>,
    threshold: f64,
    on_result: &mut (dyn FnMut(&ScenarioResult) + Send),
) -> Result<Report, SuiteError> {
    let candidate = match patch {
        Some(doc) => patch::apply(base, doc).map_err(SuiteError::Patch)?,
        None => base.clone(),
    };
    let mut all = suite;
    if let Some(doc) = patch {
        for t in &doc.tests {
            all.push(format::from_value("module", t).map_err(SuiteError::Format)?);
        }
    }
    let spec = Arc::new(candidate);
    let results = run_all(&spec, all, on_result, |spec, s| async move {
        run_scenario(&spec, &s).await
    })
    .await;
    let module_keys: BTreeSet<String> = match patch {
        Some(_) => coverage::changed(base, &spec)
            .into_iter()
            .map(|(k, _)| k)
            .collect(),
        None => BTreeSet::new(),
    };
    let coverage = coverage_of(&spec, &results, &module_keys);
    let failed = results.iter().filter(|r| r.status == "failed").count();
    let gate = gate(&results, &coverage, threshold);
    Ok(Report {
        passed: results.len() - failed,
        failed,
        scenarios: results,
        coverage,
        gate,
    })
}

/// Runs every scenario as its own task and collects the results in order. A
/// scenario whose task panics (a bug of ours, never the module's fault) ends as a
/// failed scenario saying so; the others run and report as usual.
async fn run_all<F, Fut>(
    spec: &Arc<Spec>,
    scenarios: Vec<Scenario>,
    on_result: &mut (dyn FnMut(&ScenarioResult) + Send),
    run: F,
) -> Vec<ScenarioResult>
where
    F: Fn(Arc<Spec>, Scenario) -> Fut,
    Fut: std::future::Future<Output = ScenarioResult> + Send + 'static,
{
    let tasks: Vec<_> = scenarios
        .into_iter()
        .map(|s| {
            let who = (s.name.clone(), s.object.clone(), s.source.clone());
            (who, tokio::spawn(run(spec.clone(), s)))
        })
        .collect();
    let mut results = Vec::new();
    for ((name, object, source), task) in tasks {
        let r = match task.await {
            Ok(r) => r,
            Err(e) => {
                let why = if e.is_panic() {
                    let payload = e.into_panic();
                    payload
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "no message".to_owned())
                } else {
                    "it was cancelled".to_owned()
                };
                ScenarioResult {
                    name,
                    object,
                    source,
                    status: "failed",
                    steps: Vec::new(),
                    error: Some(format!(
                        "the scenario stopped unexpectedly ({why}); this is a fault of the test runner, not of the module"
                    )),
                    hits: BTreeSet::new(),
                }
            }
        };
        on_result(&r);
        results.push(r);
    }
    results
}

fn coverage_of(spec: &Spec, results: &[ScenarioResult], module: &BTreeSet<String>) -> Coverage {
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in results {
        let mut hits = r.hits.clone();
        hits.extend(page_hits(spec, &r.hits));
        // A menu item is exercised when its page is.
        fn menu_hits(nodes: &[spec::MenuNode], hits: &mut BTreeSet<String>) {
            for n in nodes {
                if let Some(p) = &n.page
                    && hits.contains(&format!("page:{p}"))
                {
                    hits.insert(format!("menu:{}", n.id));
                }
                menu_hits(&n.children, hits);
            }
        }
        menu_hits(&spec.menus, &mut hits);
        for h in hits {
            by.entry(h).or_default().push(r.name.clone());
        }
    }
    let items: Vec<ItemResult> = coverage::items(spec)
        .into_iter()
        .map(|i| {
            let key = format!("{}:{}", i.kind, i.id);
            let users = by.get(&key).cloned().unwrap_or_default();
            ItemResult {
                kind: i.kind,
                covered: !users.is_empty(),
                by: users,
                module: module.contains(&key),
                id: i.id,
            }
        })
        .collect();
    let ratio = |it: &mut dyn Iterator<Item = &ItemResult>| {
        let (mut n, mut c) = (0usize, 0usize);
        for i in it {
            n += 1;
            c += i.covered as usize;
        }
        (n > 0).then(|| c as f64 / n as f64)
    };
    let spec_ratio = ratio(&mut items.iter()).unwrap_or(1.0);
    let module_ratio = ratio(&mut items.iter().filter(|i| i.module));
    Coverage {
        module: module_ratio,
        spec: spec_ratio,
        items,
    }
}

fn gate(results: &[ScenarioResult], c: &Coverage, threshold: f64) -> Gate {
    let mut reasons = Vec::new();
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.status == "failed")
        .map(|r| r.name.as_str())
        .collect();
    if !failed.is_empty() {
        reasons.push(format!(
            "{} scenario{} failed: {}",
            failed.len(),
            if failed.len() == 1 { "" } else { "s" },
            failed.join(", ")
        ));
    }
    match c.module {
        Some(m) if m + 1e-9 < threshold => {
            let missing: Vec<String> = c
                .items
                .iter()
                .filter(|i| i.module && !i.covered)
                .map(|i| format!("{} {}", i.kind, i.id))
                .collect();
            reasons.push(format!(
                "module coverage {:.0}% is below the gate of {:.0}%; not covered: {}",
                m * 100.0,
                threshold * 100.0,
                missing.join(", ")
            ));
        }
        Some(m) => reasons.push(format!(
            "module coverage {:.0}% meets the gate of {:.0}%",
            m * 100.0,
            threshold * 100.0
        )),
        None => reasons.push("the patch changes nothing that scenarios can cover".into()),
    }
    if failed.is_empty() {
        reasons.insert(0, format!("all {} scenarios passed", results.len()));
    }
    let ready = failed.is_empty() && c.module.is_none_or(|m| m + 1e-9 >= threshold);
    Gate {
        ready,
        threshold,
        reasons,
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML from a report in its JSON form (as stored): one testcase per scenario.
pub fn junit(report: &serde_json::Value) -> String {
    let scenarios = report["scenarios"].as_array().cloned().unwrap_or_default();
    let failed = scenarios.iter().filter(|s| s["status"] != "passed").count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"{n}\" failures=\"{failed}\">\n<testsuite name=\"modgate\" tests=\"{n}\" failures=\"{failed}\">\n",
        n = scenarios.len()
    );
    let text = |v: &serde_json::Value| xml_escape(v.as_str().unwrap_or_default());
    for s in &scenarios {
        out.push_str(&format!(
            "  <testcase classname=\"{}\" name=\"{}\"",
            text(&s["object"]),
            text(&s["name"])
        ));
        if s["status"] == "passed" {
            out.push_str("/>\n");
            continue;
        }
        let steps: Vec<String> = s["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|st| {
                format!(
                    "{} {} {}",
                    st["index"],
                    st["status"].as_str().unwrap_or(""),
                    st["step"].as_str().unwrap_or("")
                )
            })
            .collect();
        out.push_str(&format!(
            ">\n    <failure message=\"{}\">{}</failure>\n  </testcase>\n",
            text(&s["error"]),
            xml_escape(&steps.join("\n"))
        ));
    }
    out.push_str("</testsuite>\n</testsuites>\n");
    out
}

impl Report {
    /// JUnit XML: one testcase per scenario.
    pub fn junit(&self) -> String {
        junit(&serde_json::to_value(self).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(name: &str) -> Scenario {
        Scenario {
            name: name.into(),
            object: "Customer".into(),
            steps: Vec::new(),
            source: "test".into(),
        }
    }

    #[tokio::test]
    async fn a_panicking_scenario_fails_alone_and_the_run_goes_on() {
        let spec = Arc::new(spec::base_spec());
        let mut streamed = Vec::new();
        let results = run_all(
            &spec,
            vec![scenario("first"), scenario("boom"), scenario("last")],
            &mut |r| streamed.push((r.name.clone(), r.status)),
            |spec, s| async move {
                if s.name == "boom" {
                    panic!("an engine bug");
                }
                run_scenario(&spec, &s).await
            },
        )
        .await;
        let statuses: Vec<_> = results
            .iter()
            .map(|r| (r.name.as_str(), r.status))
            .collect();
        assert_eq!(
            statuses,
            vec![("first", "passed"), ("boom", "failed"), ("last", "passed")]
        );
        let error = results[1].error.as_deref().unwrap();
        assert!(error.contains("an engine bug"), "{error}");
        assert_eq!(streamed.len(), 3, "every result reaches the stream");
    }
}
