use crate::error::ApiError;
use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult};
use access::{Access, Permission};
use app::test_runs::{RunStatus, RunView};
use axum::extract::{Query, State};
use axum::http::Method;
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde_json::Value as Json;

pub fn routes() -> Routes {
    Routes::default().page(
        Method::GET,
        "/admin/ai-modules/test",
        Access::Permission(Permission::ModulesTest),
        page,
    )
}

pub fn junit_of(report: &Json) -> String {
    scenario::junit(report)
}

/// Pass rate and coverage across runs (oldest left), as an inline SVG. Only numbers go
/// into it, so it is safe to embed as is.
pub fn trend_svg(runs: &[RunView]) -> String {
    let runs: Vec<&RunView> = runs
        .iter()
        .rev()
        .filter(|r| r.status != RunStatus::Error)
        .collect();
    let (w, h, pad) = (640.0_f64, 160.0_f64, 24.0_f64);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"trend\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"pass rate and coverage across runs\">\
         <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>"
    );
    for pct in [0.0, 0.5, 1.0] {
        let y = h - pad - pct * (h - 2.0 * pad);
        svg.push_str(&format!(
            "<line x1=\"{pad}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#dde2e8\"/><text x=\"2\" y=\"{:.1}\" font-size=\"10\" fill=\"#5d6878\">{:.0}%</text>",
            w - pad,
            y + 3.0,
            pct * 100.0
        ));
    }
    if runs.is_empty() {
        svg.push_str("</svg>");
        return svg;
    }
    let x = |i: usize| {
        if runs.len() == 1 {
            w / 2.0
        } else {
            pad + i as f64 * (w - 2.0 * pad) / (runs.len() - 1) as f64
        }
    };
    let y = |v: f64| h - pad - v.clamp(0.0, 1.0) * (h - 2.0 * pad);
    let series = |f: &dyn Fn(&RunView) -> f64| -> String {
        runs.iter()
            .enumerate()
            .map(|(i, r)| format!("{:.1},{:.1}", x(i), y(f(r))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let pass = |r: &RunView| {
        let n = (r.passed + r.failed).max(1) as f64;
        r.passed as f64 / n
    };
    let cov = |r: &RunView| r.module_coverage.or(r.spec_coverage).unwrap_or(0.0);
    svg.push_str(&format!(
        "<polyline fill=\"none\" stroke=\"#1e7b3c\" stroke-width=\"2\" points=\"{}\"/>",
        series(&pass)
    ));
    svg.push_str(&format!("<polyline fill=\"none\" stroke=\"#2f5bd3\" stroke-width=\"2\" stroke-dasharray=\"5 3\" points=\"{}\"/>", series(&cov)));
    for (i, r) in runs.iter().enumerate() {
        svg.push_str(&format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#1e7b3c\"><title>v{} pass {:.0}%</title></circle>", x(i), y(pass(r)), r.version, pass(r) * 100.0));
    }
    svg.push_str("</svg>");
    svg
}

fn coverage_groups(report: &Json) -> Json {
    let items = report["coverage"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let uncovered_module: Vec<&Json> = items
        .iter()
        .filter(|i| i["module"] == true && i["covered"] == false)
        .collect();
    let uncovered_spec: Vec<&Json> = items.iter().filter(|i| i["covered"] == false).collect();
    serde_json::json!({ "module": uncovered_module, "spec": uncovered_spec })
}

/// The report as a standalone HTML document (the export).
pub fn standalone_html(module: &str, run: &RunView, report: &Json) -> String {
    crate::views::render_string(
        "test_runs/export.html",
        context! { module => module, run => Serde(run), report => Serde(report), uncovered => Serde(coverage_groups(report)) },
    )
}

#[derive(serde::Deserialize, Default)]
struct Q {
    module: Option<String>,
    run: Option<String>,
}

async fn page(State(state): State<AppState>, page: Page, Query(q): Query<Q>) -> PageResult {
    let modules = app::modules::list(&state.app, &page.user).await?;
    let module = match q
        .module
        .as_deref()
        .or(modules.first().map(|m| m.id.as_str()))
    {
        Some(id) => modules.iter().find(|m| m.id == id).cloned(),
        None => None,
    };
    if q.module.is_some() && module.is_none() {
        return Err(ApiError::not_found(format!("module {}", q.module.unwrap_or_default())).into());
    }
    let (mut runs, mut versions): (Vec<RunView>, Vec<Json>) = (Vec::new(), Vec::new());
    let mut shown: Option<(RunView, Json)> = None;
    if let Some(m) = &module {
        let stored = app::test_runs::list(&state.app, &page.user, &m.id).await?;
        runs = stored.iter().map(RunView::from).collect();
        let pick = match &q.run {
            Some(id) => stored.iter().find(|r| &r.id == id),
            None => stored.first(),
        };
        if let Some(r) = pick {
            shown = Some((
                RunView::from(r),
                serde_json::from_str(&r.report).unwrap_or(Json::Null),
            ));
        }
        versions = app::modules::versions(&state.app, &page.user, &m.id)
            .await?
            .into_iter()
            .map(|v| serde_json::json!({ "number": v.number, "valid": v.valid, "level": v.level, "message": v.message }))
            .collect();
    }
    let svg = trend_svg(&runs);
    let (run, report) = match shown {
        Some((r, rep)) => (Some(r), rep),
        None => (None, Json::Null),
    };
    let uncovered = coverage_groups(&report);
    Ok(page.render(
        "test_runs/page.html",
        context! {
            modules => Serde(&modules), module => Serde(&module), versions => Serde(&versions),
            runs => Serde(&runs), run => Serde(&run), report => Serde(&report),
            uncovered => Serde(&uncovered), trend => Value::from_safe_string(svg),
            gate => state.app.config.test_gate,
        },
    ))
}
