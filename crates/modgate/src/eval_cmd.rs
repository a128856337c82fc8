//! `modgate eval`: a model's evaluation from the command line, through the same
//! gateway and bench the models page uses.

use crate::module_cmd::exit_code;
use app::eval::{self, EvalEvent};
use app::{App, Config};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub async fn run(
    cfg: Config,
    model: &str,
    corpus: Option<&Path>,
    json: bool,
    user: &str,
) -> anyhow::Result<ExitCode> {
    let corpus = match corpus {
        None => ::eval::shipped(),
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", path.display());
                    return Ok(ExitCode::from(2));
                }
            };
            match ::eval::Corpus::parse(&path.display().to_string(), &text) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
    };
    let (app, _) = App::open_seeded(cfg).await?;
    let Some(by) = app::accounts::identity::cli_user(&app, user)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    else {
        eprintln!("error: no active user named '{user}'");
        return Ok(ExitCode::from(2));
    };
    let model = match eval::find_model(&app, model).await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let mut progress = |e: EvalEvent| {
        let mut err = std::io::stderr();
        let _ = match e {
            EvalEvent::Started {
                model,
                corpus,
                requests,
            } => writeln!(err, "evaluating {model} on {corpus} ({requests} requests)"),
            EvalEvent::Case { index, result } => writeln!(
                err,
                "[{:>3}] {:<20} {}",
                index + 1,
                result.outcome.as_str(),
                result.id
            ),
        };
    };
    let cancel = llm::CancellationToken::new();
    let run = match eval::run(&app, &by, &model.id, &corpus, &mut progress, &cancel).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit_code(&e));
        }
    };
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&run)?)?;
    } else {
        write!(out, "{}", table(&run))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The run as a table: one line per request, then the totals.
fn table(run: &eval::EvalRunView) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<4} {:<24} {:<4} {:<19} {:>8} {:>8} {:>8}  detail",
        "#", "id", "lang", "outcome", "attempts", "tokens", "ms"
    );
    for (i, r) in run.results.iter().enumerate() {
        let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
        let num = |k: &str| r[k].as_u64().unwrap_or(0);
        // The first line says what failed; the offline engine's refusal goes on to
        // list what it understands, which belongs to the JSON output.
        let detail: String = text("detail")
            .lines()
            .next()
            .unwrap_or_default()
            .chars()
            .take(70)
            .collect();
        let _ = writeln!(
            s,
            "{:<4} {:<24} {:<4} {:<19} {:>8} {:>8} {:>8}  {detail}",
            i + 1,
            text("id"),
            text("language"),
            text("outcome"),
            num("attempts"),
            num("tokensIn") + num("tokensOut"),
            num("latencyMs"),
        );
    }
    let t = &run.summary;
    let n = |k: &str| t[k].as_u64().unwrap_or(0);
    let cost = t["cost"]
        .as_object()
        .map(|c| {
            c.iter()
                .map(|(cur, a)| {
                    let micros = (a.as_f64().unwrap_or(0.0) * 1e6).round() as i64;
                    format!("{} {cur}", llm::price::format_micros(micros))
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "-".into());
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "model {}  corpus {}  run {}",
        run.model_name, run.corpus, run.id
    );
    let _ = writeln!(
        s,
        "accepted {}/{} ({:.0}%)  valid, not accepted {}  failed {}",
        n("accepted"),
        n("requests"),
        t["score"].as_f64().unwrap_or(0.0) * 100.0,
        n("validNotAccepted"),
        n("failed")
    );
    if let Some(langs) = t["acceptedByLanguage"].as_object() {
        let parts: Vec<String> = langs
            .iter()
            .map(|(l, v)| format!("{l} {}/{}", v[0], v[1]))
            .collect();
        let _ = writeln!(s, "by language: {}", parts.join("  "));
    }
    let _ = writeln!(
        s,
        "attempts {}  tokens {} in / {} out  cost {cost}  latency p50 {} ms  p95 {} ms",
        n("attempts"),
        n("tokensIn"),
        n("tokensOut"),
        n("latencyP50Ms"),
        n("latencyP95Ms")
    );
    s
}
