//! `modgate module …`: module development from the command line, through the same
//! Patch Gateway the page and the API use.

use access::Permission;
use clap::Subcommand;
use server::Config;
use server::ai::gateway::{self, Ask, Progress};
use server::auth::CurrentUser;
use server::auth::current::AuthVia;
use server::http::extract::RequestMeta;
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
}

pub async fn run(cfg: Config, command: ModuleCommand) -> anyhow::Result<ExitCode> {
    let ModuleCommand::Generate {
        module,
        prompt,
        user,
        model,
    } = command;
    let (state, _) = server::startup::open_state(cfg).await?;
    let Some((u, _)) = store::users::credentials(&state.db, &user).await? else {
        eprintln!("error: no user named '{user}'");
        return Ok(ExitCode::from(2));
    };
    let actor = CurrentUser {
        permissions: u
            .roles
            .iter()
            .flat_map(|r| r.permissions().iter().copied())
            .collect(),
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        roles: u.roles,
        business_roles: u.business_roles,
        via: AuthVia::Bearer {
            token_id: "cli".into(),
        },
    };
    if !u.active || !actor.can(Permission::ModulesDevelop) {
        eprintln!(
            "error: '{user}' may not develop modules (needs an active account with modules.develop)"
        );
        return Ok(ExitCode::from(2));
    }
    let id = match store::modules::get(&state.db, &module).await? {
        Some(m) => m.id,
        None => match store::modules::list(&state.db)
            .await?
            .into_iter()
            .find(|m| m.slug == module)
        {
            Some(m) => m.id,
            None => {
                eprintln!("error: no module with id or slug '{module}'");
                return Ok(ExitCode::from(2));
            }
        },
    };
    let meta = RequestMeta {
        client_addr: Some("cli".into()),
        ..RequestMeta::default()
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
                ..
            } => {
                let head = writeln!(
                    err,
                    "\n-- {} {level}",
                    if valid { "valid" } else { "invalid" }
                );
                head.and_then(|_| {
                    errors
                        .iter()
                        .try_for_each(|e| writeln!(err, "   {} {}: {}", e.code, e.path, e.message))
                })
            }
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
            Progress::Reasoning { .. } => Ok(()),
        };
    };
    let cancel = llm::CancellationToken::new();
    let ask = Ask {
        module_id: &id,
        prompt: &prompt,
        model_id: model.as_deref(),
    };
    match gateway::generate(&state, &actor, &meta, ask, &mut progress, &cancel).await {
        Ok(g) => {
            eprintln!();
            println!("{}", serde_json::to_string_pretty(&g)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("\nerror: {}", e.message);
            Ok(
                if e.status.is_client_error()
                    && e.code != "generation_failed"
                    && e.code != "not_understood"
                {
                    ExitCode::from(2)
                } else {
                    ExitCode::from(1)
                },
            )
        }
    }
}
