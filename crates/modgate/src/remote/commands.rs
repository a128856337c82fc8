//! What each `modgate remote` command asks the server, and how it reports the answer.

use super::client::{Client, DONE, REFUSED, RemoteError, Result};
use super::endpoints as ep;
use super::{ModuleCommand, Out, RemoteCommand, SpecCommand, pretty};
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;

pub async fn run(c: &Client, out: &Out, command: RemoteCommand) -> Result<u8> {
    match command {
        RemoteCommand::Spec {
            command: SpecCommand::Show,
        } => {
            let spec = c.get(&ep::SPEC, &[]).await?;
            if out.json {
                println!("{}", pretty(&spec));
            } else {
                println!("{}", pretty(ep::SPEC.read(&spec, "spec")));
            }
            Ok(DONE)
        }
        RemoteCommand::Module { command } => module(c, out, command).await,
    }
}

async fn module(c: &Client, out: &Out, command: ModuleCommand) -> Result<u8> {
    use ModuleCommand as M;
    match command {
        M::List => list(c, out).await,
        M::Create {
            name,
            description,
            model,
        } => {
            let body = ep::CREATE_MODULE.body(&[
                ("name", Some(json!(name))),
                ("description", description.map(Value::from)),
                ("modelId", model.map(Value::from)),
            ]);
            let m = c.post(&ep::CREATE_MODULE, &[], &body).await?;
            let r = |k| ep::CREATE_MODULE.read(&m, k);
            say(
                out,
                &m,
                format!(
                    "created module {} (id {}, slug {})",
                    text(r("name")),
                    text(r("id")),
                    text(r("slug"))
                ),
            );
            Ok(DONE)
        }
        M::Show { module } => show(c, out, &module).await,
        M::Generate {
            module,
            prompt,
            model,
        } => {
            let id = resolve(c, &module).await?;
            if !out.json {
                eprintln!("asking the model (this can take a while)…");
            }
            let body = ep::GENERATE.body(&[
                ("prompt", Some(json!(prompt))),
                ("modelId", model.map(Value::from)),
            ]);
            let g = c.post(&ep::GENERATE, &[&id], &body).await?;
            let r = |k| ep::GENERATE.read(&g, k);
            let v = r("version");
            let fallbacks = r("fallbacks")
                .as_array()
                .filter(|f| !f.is_empty())
                .map(|f| {
                    let names: Vec<&str> = f.iter().filter_map(Value::as_str).collect();
                    format!(" after {} failed", names.join(", "))
                })
                .unwrap_or_default();
            say(
                out,
                &g,
                format!(
                    "saved version {} of {module} ({}): written by {}{fallbacks} in {} attempt(s), {} tokens in, {} out{}",
                    v["number"],
                    text(&v["level"]),
                    text(r("answeredBy")),
                    r("attempts"),
                    r("inputTokens"),
                    r("outputTokens"),
                    cost(r("cost")),
                ),
            );
            Ok(DONE)
        }
        M::Save {
            module,
            file,
            message,
            base,
            confirm_l2,
        } => {
            let id = resolve(c, &module).await?;
            let patch = read_input(&file)?;
            let base = match base {
                Some(b) => b,
                None => current_version(c, &id).await?,
            };
            let body = ep::SAVE_VERSION.body(&[
                // As text: the server keeps the author's formatting.
                ("patch", Some(json!(patch))),
                ("message", Some(json!(message))),
                ("baseVersion", Some(json!(base))),
                ("confirmL2", Some(json!(confirm_l2))),
            ]);
            let v = c.post(&ep::SAVE_VERSION, &[&id], &body).await?;
            let r = |k| ep::SAVE_VERSION.read(&v, k);
            let valid = r("valid").as_bool().unwrap_or(false);
            say(
                out,
                &v,
                format!(
                    "saved version {} of {module} ({}, {})",
                    r("number"),
                    text(r("level")),
                    if valid { "valid" } else { "INVALID" }
                ),
            );
            if valid {
                return Ok(DONE);
            }
            eprintln!("the version is kept as a draft to edit; it cannot be submitted:");
            for e in r("report")["errors"].as_array().into_iter().flatten() {
                eprintln!(
                    "  - {} {}: {}",
                    text(&e["code"]),
                    text(&e["path"]),
                    text(&e["message"])
                );
            }
            Ok(REFUSED)
        }
        M::Test {
            module,
            version,
            junit,
        } => test(c, out, &module, version, junit.as_deref()).await,
        M::Submit {
            module,
            version,
            reviewers,
            note,
        } => {
            let id = resolve(c, &module).await?;
            let version = match version {
                Some(v) => v,
                None => current_version(c, &id).await?,
            };
            let body = ep::SUBMIT.body(&[
                ("version", Some(json!(version))),
                (
                    "reviewers",
                    (!reviewers.is_empty()).then(|| json!(reviewers)),
                ),
                ("note", note.map(Value::from)),
            ]);
            let r = c.post(&ep::SUBMIT, &[&id], &body).await?;
            say(
                out,
                &r,
                format!(
                    "submitted version {version} of {module} for review (review {})",
                    text(ep::SUBMIT.read(&r, "id"))
                ),
            );
            Ok(DONE)
        }
        M::Approve { module, note } => {
            let review = open_review(c, &module).await?;
            let body = ep::APPROVE.body(&[("note", note.map(Value::from))]);
            let r = c.post(&ep::APPROVE, &[&review], &body).await?;
            say(
                out,
                &r,
                format!(
                    "approved version {} of {module}",
                    ep::APPROVE.read(&r, "version")
                ),
            );
            Ok(DONE)
        }
        M::Reject { module, reason } => {
            let review = open_review(c, &module).await?;
            let body = ep::REJECT.body(&[("reason", Some(json!(reason)))]);
            let r = c.post(&ep::REJECT, &[&review], &body).await?;
            say(
                out,
                &r,
                format!(
                    "rejected version {} of {module}",
                    ep::REJECT.read(&r, "version")
                ),
            );
            Ok(DONE)
        }
        M::Publish {
            module,
            version,
            release,
        } => {
            let id = resolve(c, &module).await?;
            let version = match version {
                Some(v) => v,
                None => approved_version(c, &id, &module).await?,
            };
            let body = ep::PUBLISH.body(&[
                ("version", Some(json!(version))),
                ("release", release.map(Value::from)),
            ]);
            let p = c.post(&ep::PUBLISH, &[&id], &body).await?;
            published(out, &ep::PUBLISH, &p, "published");
            Ok(DONE)
        }
        M::Unpublish { module } => {
            let id = resolve(c, &module).await?;
            let p = c.post(&ep::UNPUBLISH, &[&id], &json!({})).await?;
            published(out, &ep::UNPUBLISH, &p, "unpublished");
            Ok(DONE)
        }
        M::Rollback { module, version } => {
            let id = resolve(c, &module).await?;
            let body = ep::ROLLBACK.body(&[("version", Some(json!(version)))]);
            let p = c.post(&ep::ROLLBACK, &[&id], &body).await?;
            published(out, &ep::ROLLBACK, &p, "rolled back to");
            Ok(DONE)
        }
        M::Export {
            module,
            version,
            output,
        } => {
            let id = resolve(c, &module).await?;
            let query: Vec<(&str, String)> = version
                .map(|v| ("version", v.to_string()))
                .into_iter()
                .collect();
            let bundle = c.text(&ep::EXPORT, &[&id], &query, None).await?;
            match output.filter(|p| p.as_os_str() != "-") {
                Some(p) => {
                    std::fs::write(&p, bundle.as_bytes()).map_err(|e| {
                        RemoteError::Usage(format!("cannot write {}: {e}", p.display()))
                    })?;
                    if !out.json {
                        eprintln!("wrote the bundle to {}", p.display());
                    }
                }
                None => {
                    let mut stdout = std::io::stdout();
                    let _ = stdout.write_all(bundle.as_bytes());
                    let _ = stdout.write_all(b"\n");
                }
            }
            Ok(DONE)
        }
        M::Import { file } => {
            let raw = read_input(&file)?;
            let bundle: Value = serde_json::from_str(&raw)
                .map_err(|e| RemoteError::Usage(format!("{} is not JSON: {e}", file.display())))?;
            let i = c.json(&ep::IMPORT, &[], &[], Some(&bundle)).await?;
            let r = |k| ep::IMPORT.read(&i, k);
            let what = if r("created").as_bool() == Some(true) {
                "a new module"
            } else {
                "a new version of the module imported before"
            };
            say(
                out,
                &i,
                format!(
                    "imported as {what}: {} version {} (id {}); test, review and publish it here",
                    text(r("moduleName")),
                    r("version")["number"],
                    text(r("moduleId"))
                ),
            );
            Ok(DONE)
        }
    }
}

async fn list(c: &Client, out: &Out) -> Result<u8> {
    let l = c.get(&ep::LIST_MODULES, &[]).await?;
    if out.json {
        println!("{}", pretty(&l));
        return Ok(DONE);
    }
    let e = &ep::LIST_MODULES;
    let rows: Vec<[String; 5]> = e
        .read(&l, "items")
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let live = &e.item(m, "publication");
            [
                text(e.item(m, "slug")).to_owned(),
                text(e.item(m, "status")).to_owned(),
                e.item(m, "currentVersion").to_string(),
                if live["status"] == "published" {
                    format!("v{} ({})", live["version"], text(&live["release"]))
                } else {
                    "-".into()
                },
                text(e.item(m, "name")).to_owned(),
            ]
        })
        .collect();
    print_table(["MODULE", "STATUS", "VERSION", "LIVE", "NAME"], &rows);
    Ok(DONE)
}

async fn show(c: &Client, out: &Out, module: &str) -> Result<u8> {
    let id = resolve(c, module).await?;
    let m = c.get(&ep::GET_MODULE, &[&id]).await?;
    let versions = c.get(&ep::LIST_VERSIONS, &[&id]).await?;
    if out.json {
        println!("{}", pretty(&json!({ "module": m, "versions": versions })));
        return Ok(DONE);
    }
    let r = |k| ep::GET_MODULE.read(&m, k);
    println!("{} ({})", text(r("name")), text(r("slug")));
    println!("  id:       {}", text(r("id")));
    println!("  status:   {}", text(r("status")));
    println!("  version:  {}", r("currentVersion"));
    let live = r("publication");
    if live["status"] == "published" {
        println!(
            "  live:     version {} ({})",
            live["version"],
            text(&live["release"])
        );
    }
    println!("  owner:    {}", text(r("owner")));
    if let Some(model) = r("modelName").as_str() {
        println!("  model:    {model}");
    }
    if let Some(d) = r("description").as_str().filter(|d| !d.is_empty()) {
        println!("  {d}");
    }
    let e = &ep::LIST_VERSIONS;
    let rows: Vec<[String; 5]> = e
        .read(&versions, "items")
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            [
                e.item(v, "number").to_string(),
                text(e.item(v, "level")).to_owned(),
                if e.item(v, "valid").as_bool() == Some(true) {
                    "valid".into()
                } else {
                    "invalid".into()
                },
                format!(
                    "{} by {}",
                    text(e.item(v, "source")),
                    text(e.item(v, "author"))
                ),
                text(e.item(v, "message")).to_owned(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        println!();
        print_table(["VERSION", "LEVEL", "CHECK", "SOURCE", "MESSAGE"], &rows);
    }
    Ok(DONE)
}

async fn test(
    c: &Client,
    out: &Out,
    module: &str,
    version: Option<i64>,
    junit: Option<&Path>,
) -> Result<u8> {
    let id = resolve(c, module).await?;
    let body = ep::START_RUN.body(&[("version", version.map(Value::from))]);
    let run = c.post(&ep::START_RUN, &[&id], &body).await?;
    let r = |k| ep::START_RUN.read(&run, k);
    if let Some(path) = junit {
        let xml = c
            .text(
                &ep::RUN_REPORT,
                &[text(r("id"))],
                &[("format", "junit".into())],
                None,
            )
            .await?;
        std::fs::write(path, xml)
            .map_err(|e| RemoteError::Usage(format!("cannot write {}: {e}", path.display())))?;
    }
    let coverage = r("moduleCoverage")
        .as_f64()
        .map(|c| format!(", module coverage {:.0}%", c * 100.0))
        .unwrap_or_default();
    let ready = r("ready").as_bool() == Some(true);
    say(
        out,
        &run,
        format!(
            "tested version {} of {module}: {} ({} passed, {} failed{coverage}); {}",
            r("version"),
            text(r("status")),
            r("passed"),
            r("failed"),
            if ready {
                "ready for review"
            } else {
                "NOT ready for review"
            }
        ),
    );
    if ready {
        return Ok(DONE);
    }
    let n = r("version").to_string();
    let readiness = c.get(&ep::READINESS, &[&id, &n]).await?;
    for reason in ep::READINESS
        .read(&readiness, "reasons")
        .as_array()
        .into_iter()
        .flatten()
    {
        eprintln!("  - {}", text(reason));
    }
    Ok(REFUSED)
}

/// The module's id from its id, slug or name, through whichever list the caller may
/// read: developers see every module; reviewers and publishers, the modules under
/// review and the published ones. Failing those, the key is taken as an id and the
/// server says whether it exists.
async fn resolve(c: &Client, key: &str) -> Result<String> {
    match c.get(&ep::LIST_MODULES, &[]).await {
        Ok(l) => {
            let e = &ep::LIST_MODULES;
            let items = e.read(&l, "items").as_array().cloned().unwrap_or_default();
            return items
                .iter()
                .find(|m| {
                    ["id", "slug"].iter().any(|k| e.item(m, k) == key)
                        || text(e.item(m, "name")).eq_ignore_ascii_case(key)
                })
                .map(|m| text(e.item(m, "id")).to_owned())
                .ok_or_else(|| {
                    RemoteError::Usage(format!("no module with id, slug or name '{key}'"))
                });
        }
        Err(RemoteError::Api { status: 403, .. }) => {}
        Err(e) => return Err(e),
    }
    for list in [&ep::LIST_REVIEWS, &ep::PUBLICATIONS] {
        let Ok(l) = c.get(list, &[]).await else {
            continue;
        };
        let found = list
            .read(&l, "items")
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| {
                list.item(i, "moduleId") == key
                    || text(list.item(i, "moduleName")).eq_ignore_ascii_case(key)
            });
        if let Some(i) = found {
            return Ok(text(list.item(i, "moduleId")).to_owned());
        }
    }
    Ok(key.to_owned())
}

async fn current_version(c: &Client, id: &str) -> Result<i64> {
    let m = c.get(&ep::GET_MODULE, &[id]).await?;
    Ok(ep::GET_MODULE
        .read(&m, "currentVersion")
        .as_i64()
        .unwrap_or(0))
}

/// The module's reviews, newest first.
async fn reviews(c: &Client, id: &str) -> Result<Vec<Value>> {
    let l = c.get(&ep::MODULE_REVIEWS, &[id]).await?;
    Ok(ep::MODULE_REVIEWS
        .read(&l, "items")
        .as_array()
        .cloned()
        .unwrap_or_default())
}

fn status_of(r: &Value) -> &str {
    text(ep::MODULE_REVIEWS.item(r, "status"))
}

/// The id of the module's review waiting for a decision.
async fn open_review(c: &Client, module: &str) -> Result<String> {
    let id = resolve(c, module).await?;
    let all = reviews(c, &id).await?;
    match all
        .iter()
        .find(|r| matches!(status_of(r), "pending" | "reviewing"))
    {
        Some(r) => Ok(text(ep::MODULE_REVIEWS.item(r, "id")).to_owned()),
        None => Err(RemoteError::Refused(match all.first() {
            Some(r) => format!(
                "{module} has no review waiting for a decision (the latest, of version {}, is {})",
                ep::MODULE_REVIEWS.item(r, "version"),
                status_of(r)
            ),
            None => format!("{module} has never been submitted for review"),
        })),
    }
}

async fn approved_version(c: &Client, id: &str, module: &str) -> Result<i64> {
    reviews(c, id)
        .await?
        .iter()
        .find(|r| status_of(r) == "approved")
        .and_then(|r| ep::MODULE_REVIEWS.item(r, "version").as_i64())
        .ok_or_else(|| RemoteError::Refused(format!("{module} has no approved version to publish")))
}

fn published(out: &Out, e: &ep::Endpoint, p: &Value, did: &str) {
    let publication = e.read(p, "publication");
    say(
        out,
        p,
        format!(
            "{did} {} version {} (release {}); the live spec is now version {}",
            text(&publication["moduleName"]),
            publication["version"],
            text(&publication["release"]),
            e.read(p, "specVersion")
        ),
    );
}

/// The answer as JSON, or the sentence for people.
fn say(out: &Out, answer: &Value, sentence: String) {
    if out.json {
        println!("{}", pretty(answer));
    } else {
        println!("{sentence}");
    }
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn cost(c: &Value) -> String {
    let parts: Vec<String> = c
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, amount)| amount.as_f64().is_some_and(|a| a > 0.0))
        .map(|(currency, amount)| format!("{amount} {currency}"))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(", cost {}", parts.join(" + "))
    }
}

fn read_input(path: &Path) -> Result<String> {
    crate::input::read(path)
        .map_err(|e| RemoteError::Usage(format!("cannot read {}: {e}", path.display())))
}

fn print_table<const N: usize>(head: [&str; N], rows: &[[String; N]]) {
    let mut widths = head.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(head.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
