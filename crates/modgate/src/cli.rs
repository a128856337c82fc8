use anyhow::Context;
use app::accounts::users::{self, CreateInput};
use app::audit::{self, Walk};
use app::config::LogFormat;
use app::{App, AppError, Caller, Config};
use clap::{Args, Parser, Subcommand};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "modgate", version, about = "Governed AI-written CRM modules")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data lives; shared by every command that touches the database.
#[derive(Args, Debug)]
pub struct Global {
    /// Config file (default: ./modgate.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Directory for the SQLite database and the instance secret.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (SQLite in the data dir, or PostgreSQL when DATABASE_URL is set).
    Serve {
        /// Address to listen on.
        #[arg(long)]
        bind: Option<std::net::SocketAddr>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage platform users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Inspect the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Fill the CRM with demo data (customers with orders) through the records engine.
    SeedDemo {
        #[arg(long, default_value_t = 100)]
        customers: u64,
        #[arg(long, default_value_t = 4)]
        orders_per_customer: u64,
    },
    /// AI modules: generate a version through the Patch Gateway.
    Module {
        #[command(subcommand)]
        command: crate::module_cmd::ModuleCommand,
    },
    /// Evaluate a model: run a corpus of requests through the gateway and print how
    /// many answers were accepted, with attempts, tokens, cost and latency. The run is
    /// stored for the models page. Exit 0 when the run completed, 1 when it could not
    /// run (a spent budget, a provider failure), 2 for a bad model or corpus.
    Eval {
        /// The model's name, id, or provider model id when only one model has it
        /// (`builtin`).
        #[arg(long)]
        model: String,
        /// A corpus file (YAML); default: the shipped corpus over the base CRM.
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Print the run as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// The user the run is recorded for (needs models.manage).
        #[arg(long = "as", default_value = "admin")]
        user: String,
    },
    /// Drive the module lifecycle on a running server over its API, for CI
    /// (MODGATE_URL, MODGATE_TOKEN). Exit 0 done, 1 refused by the lifecycle (the
    /// reasons printed), 2 usage, network or server error.
    Remote(crate::remote::RemoteArgs),
    /// Test scenarios: run the CRM suite (and a patch's tests) in memory.
    Test {
        #[command(subcommand)]
        command: crate::pure::TestCommand,
    },
    /// The application spec: show, check, schemas.
    Spec {
        #[command(subcommand)]
        command: crate::pure::SpecCommand,
    },
    /// Patch DSL documents: schema, validate, apply (nothing is stored).
    Patch {
        #[command(subcommand)]
        command: crate::pure::PatchCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user. Without --password-stdin a random password is printed once.
    Add {
        #[arg(long)]
        username: String,
        /// Platform role (admin, developer, reviewer, publisher); repeat for several.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Business role for CRM data (e.g. sales); repeat for several.
        #[arg(long = "business-role")]
        business_roles: Vec<String>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the hash chain: exit 0 when it holds, 1 naming the first broken row.
    Verify,
}

fn load_config(global: &Global) -> anyhow::Result<Config> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let (mut cfg, warnings) = Config::load(global.config.as_deref(), &env)?;
    if let Some(d) = &global.data_dir {
        cfg.data_dir = d.clone();
    }
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(cfg)
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MODGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

pub async fn run(cli: Cli) -> ExitCode {
    match dispatch(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    // Spec and patch commands are pure: no config, no database (but `spec verify`,
    // which compares the stored live spec).
    let command = match cli.command {
        Command::Spec {
            command: crate::pure::SpecCommand::Verify,
        } => {
            let cfg = load_config(&cli.global)?;
            return spec_verify(cfg).await;
        }
        Command::Spec {
            command: crate::pure::SpecCommand::Upgrade,
        } => {
            let cfg = load_config(&cli.global)?;
            return spec_upgrade(cfg).await;
        }
        Command::Spec { command } => return Ok(crate::pure::spec(command)),
        Command::Patch { command } => return Ok(crate::pure::patch(command)),
        Command::Test { command } => return Ok(crate::pure::test(command).await),
        Command::Remote(args) => return Ok(crate::remote::run(args).await),
        other => other,
    };
    let mut cfg = load_config(&cli.global)?;
    match command {
        Command::Serve { bind } => {
            if let Some(b) = bind {
                cfg.bind = b;
            }
            init_tracing(cfg.log_format);
            serve(cfg).await
        }
        Command::Module { command } => crate::module_cmd::run(cfg, command).await,
        Command::Eval {
            model,
            corpus,
            json,
            user,
        } => crate::eval_cmd::run(cfg, &model, corpus.as_deref(), json, &user).await,
        Command::Migrate => {
            app::open_database(&cfg).await?;
            println!(
                "migrations applied to {}",
                cfg.effective_database_url().redacted()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    roles,
                    business_roles,
                    display_name,
                    email,
                    password_stdin,
                },
        } => {
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("cannot read the password from stdin")?;
                Some(s.lines().next().unwrap_or_default().to_owned())
            } else {
                None
            };
            user_add(
                cfg,
                username,
                roles,
                business_roles,
                display_name,
                email,
                password,
            )
            .await
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let app = App::open(cfg).await?;
            let v = audit::verify(&app, &Caller::cli_operator(), Walk::Full)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            match (v.broken_at, v.reason) {
                (Some(seq), Some(why)) => {
                    println!(
                        "audit chain BROKEN at row {seq}: {why} ({} rows before it verified)",
                        v.rows_checked
                    );
                    Ok(ExitCode::from(1))
                }
                _ => {
                    println!("audit chain intact: {} rows verified", v.rows_checked);
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        Command::SeedDemo {
            customers,
            orders_per_customer,
        } => {
            let app = App::open(cfg).await?;
            let (c, o) = app::seed::demo(&app, customers, orders_per_customer).await?;
            println!("created {c} customers and {o} orders");
            Ok(ExitCode::SUCCESS)
        }
        Command::Spec { .. }
        | Command::Patch { .. }
        | Command::Test { .. }
        | Command::Remote(_) => {
            unreachable!("handled above")
        }
    }
}

async fn serve(cfg: Config) -> anyhow::Result<ExitCode> {
    let (app, seeded) = server::Application::build(cfg).await?;
    if let Some(p) = &seeded.generated_admin_password {
        // Printed once, to the console only (never to the log).
        println!(
            "\n  Created the first administrator.\n    username: admin\n    password: {p}\n  Change it after logging in; it will not be shown again.\n"
        );
    }
    let addr = app.local_addr();
    tracing::info!(%addr, "Modgate listening on http://{addr}");
    app.run(server::startup::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// `modgate spec verify`: whether the stored live spec is what the base CRM and the
/// published modules compose to. Exit 0 when it is, 1 naming the differences.
async fn spec_verify(cfg: Config) -> anyhow::Result<ExitCode> {
    let db = app::open_database(&cfg).await?;
    let drift = app::live::verify(&db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    db.close().await;
    println!("{}", drift.message());
    Ok(if drift.holds() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `modgate spec upgrade`: records the live spec this release composes to, numbering
/// fields that became numbered; prints what it did.
async fn spec_upgrade(cfg: Config) -> anyhow::Result<ExitCode> {
    let (app, _) = App::open_seeded(cfg).await?;
    let by = app::Caller::cli_operator();
    let r = app::publishing::upgrade_base(&app, &by)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if r.changed {
        println!("the live spec is now version {} (was {})", r.to, r.from);
    } else {
        println!(
            "the live spec (version {}) is already what this release composes to",
            r.to
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The command-line flag a field of the user form arrives in.
fn flag_of(field: &str) -> &str {
    match field {
        "username" => "--username",
        "roles" => "--role",
        "businessRoles" => "--business-role",
        "email" => "--email",
        "displayName" => "--display-name",
        other => other,
    }
}

async fn user_add(
    cfg: Config,
    username: String,
    roles: Vec<String>,
    business_roles: Vec<String>,
    display_name: Option<String>,
    email: Option<String>,
    password: Option<String>,
) -> anyhow::Result<ExitCode> {
    let (password, generated) = match password {
        Some(p) => (p, false),
        None => (app::seed::random_password(), true),
    };
    let (app, _) = App::open_seeded(cfg).await?;
    let input = CreateInput {
        username,
        password: password.clone(),
        display_name,
        email,
        roles,
        business_roles,
    };
    match users::create(&app, &Caller::cli_operator(), input).await {
        Ok(user) => {
            println!("created user {} ({})", user.username, user.id);
            if generated {
                println!("password: {password}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(AppError::Invalid(p)) => {
            for f in &p.fields {
                eprintln!("error: {}: {}", flag_of(&f.field), f.message);
            }
            Ok(ExitCode::from(2))
        }
        Err(e @ AppError::Conflict(_)) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}
