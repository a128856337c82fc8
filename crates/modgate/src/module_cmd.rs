//! `modgate module …`: module development from the command line, through the same
//! Patch Gateway the page and the API use.

use app::gateway::{self, Ask, Progress};
use app::{App, AppError, Config};
use clap::Subcommand;
use std::io::Write;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum ModuleCommand {
    /// Ask the module's model for a new version. Progress goes to stderr; the result
    /// (JSON) to stdout. Exit 0 saved, 1 no valid patch (nothing saved), 2 bad input.
    Generate {
        /// Module id or slug.
        module: String,
        /// What the module should do, in English or Chinese.
        prompt: String,
        /// The user the version is recorded for (needs modules.develop).
        #[arg(long = "as", default_value = "admin")]
        user: String,
        /// A model id for this request only.
        #[arg(long)]
        model: Option<String>,
    },
    /// Write a version as a bundle signed by this instance (docs/bundles.md).
    Export {
        /// Module id or slug.
        module: String,
        /// Default: the module's current version.
        #[arg(long)]
        version: Option<i64>,
        /// Where to write it; `-` or absent: standard output.
        #[arg(short, long)]
        output: Option<std::path::PathBuf>,
        #[arg(long = "as", default_value = "admin")]
        user: String,
    },
    /// Import a bundle signed by a trusted instance, as a draft version here.
    /// Exit 0 imported, 1 refused (untrusted, tampered, invalid), 2 bad input.
    Import {
        /// The bundle file; `-`: standard input.
        file: std::path::PathBuf,
        #[arg(long = "as", default_value = "admin")]
        user: String,
    },
}

pub async fn run(cfg: Config, command: ModuleCommand) -> anyhow::Result<ExitCode> {
    let (module, prompt, user, model) = match command {
        ModuleCommand::Generate {
            module,
            prompt,
            user,
            model,
        } => (module, prompt, user, model),
        ModuleCommand::Export {
            module,
            version,
            output,
            user,
        } => return export(cfg, &module, version, output.as_deref(), &user).await,
        ModuleCommand::Import { file, user } => return import(cfg, &file, &user).await,
    };
    let (app, _) = App::open_seeded(cfg).await?;
    let Some(by) = app::accounts::identity::cli_user(&app, &user)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    else {
        eprintln!("error: no active user named '{user}'");
        return Ok(ExitCode::from(2));
    };
    let id = match app::modules::find_by_id_or_slug(&app, &by, &module).await {
        Ok(m) => m.id,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit_code(&e));
        }
    };
    let mut progress = |p: Progress| {
        let mut err = std::io::stderr();
        let _ = match p {
            Progress::Attempt { attempt, model } => {
                writeln!(err, "\n-- attempt {attempt} ({model})")
            }
            Progress::Chunk { text } => write!(err, "{text}"),
            Progress::Validation {
                valid,
                level,
                errors,
                repairs,
                ..
            } => {
                let fixed = if repairs.is_empty() {
                    String::new()
                } else {
                    format!(" (fixed locally: {})", repairs.join(", "))
                };
                let head = writeln!(
                    err,
                    "\n-- {} {level}{fixed}",
                    if valid { "valid" } else { "invalid" }
                );
                head.and_then(|_| {
                    errors
                        .iter()
                        .try_for_each(|e| writeln!(err, "   {} {}: {}", e.code, e.path, e.message))
                })
            }
            Progress::Choosing { candidates, .. } => writeln!(
                err,
                "\n-- the reply holds {candidates} different valid documents: asking which"
            ),
            Progress::Repair { attempt } => {
                writeln!(err, "-- sending the report back (attempt {attempt})")
            }
            Progress::Retrying {
                wait_ms,
                kind,
                message,
                ..
            } => {
                writeln!(
                    err,
                    "-- {} ({message}); retrying in {wait_ms} ms",
                    kind.as_str()
                )
            }
            Progress::Fallback {
                from,
                to,
                kind,
                message,
                ..
            } => writeln!(
                err,
                "-- {from} failed ({}: {message}); asking {to}",
                kind.as_str()
            ),
            Progress::Reasoning { .. } => Ok(()),
        };
    };
    let cancel = llm::CancellationToken::new();
    let ask = Ask {
        module_id: &id,
        prompt: &prompt,
        model_id: model.as_deref(),
    };
    match gateway::generate(&app, &by, ask, &mut progress, &cancel).await {
        Ok(g) => {
            eprintln!();
            println!("{}", serde_json::to_string_pretty(&g)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("\nerror: {e}");
            Ok(exit_code(&e))
        }
    }
}

/// 1 when the generation ran and produced nothing to save (the model's answers, a
/// provider failure, a fault of ours); 2 when the command was asked something it
/// cannot do (a bad module, prompt, model or permission).
pub fn exit_code(e: &AppError) -> ExitCode {
    match e {
        AppError::NoAnswer(_)
        | AppError::Upstream(_)
        | AppError::Unavailable { .. }
        | AppError::Internal(_) => ExitCode::from(1),
        _ => ExitCode::from(2),
    }
}

async fn open_as(cfg: Config, user: &str) -> anyhow::Result<Option<(App, app::Caller)>> {
    let (app, _) = App::open_seeded(cfg).await?;
    match app::accounts::identity::cli_user(&app, user)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        Some(by) => Ok(Some((app, by))),
        None => {
            eprintln!("error: no active user named '{user}'");
            Ok(None)
        }
    }
}

async fn export(
    cfg: Config,
    module: &str,
    version: Option<i64>,
    output: Option<&std::path::Path>,
    user: &str,
) -> anyhow::Result<ExitCode> {
    let Some((app, by)) = open_as(cfg, user).await? else {
        return Ok(ExitCode::from(2));
    };
    let id = match app::modules::find_by_id_or_slug(&app, &by, module).await {
        Ok(m) => m.id,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit_code(&e));
        }
    };
    let bundle = match app::bundles::export(&app, &by, &id, version).await {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit_code(&e));
        }
    };
    let text = serde_json::to_string_pretty(&bundle)? + "\n";
    match output.filter(|p| p.as_os_str() != "-") {
        Some(p) => std::fs::write(p, text)?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn import(cfg: Config, file: &std::path::Path, user: &str) -> anyhow::Result<ExitCode> {
    let text = match crate::input::read(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return Ok(ExitCode::from(2));
        }
    };
    let bundle: serde_json::Value = match serde_json::from_str(&text) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {} is not JSON: {e}", file.display());
            return Ok(ExitCode::from(2));
        }
    };
    let Some((app, by)) = open_as(cfg, user).await? else {
        return Ok(ExitCode::from(2));
    };
    match app::bundles::import(&app, &by, &bundle).await {
        Ok(i) => {
            println!("{}", serde_json::to_string_pretty(&i)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            // A refusal of the bundle itself (untrusted, tampered, invalid) is 1.
            Ok(match e {
                AppError::Invalid(_) | AppError::Conflict(_) => ExitCode::from(1),
                e => exit_code(&e),
            })
        }
    }
}
