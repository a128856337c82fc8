use access::PlatformRole;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use server::Config;
use server::config::LogFormat;
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
    // Spec and patch commands are pure: no config, no database.
    let command = match cli.command {
        Command::Spec { command } => return Ok(crate::pure::spec(command)),
        Command::Patch { command } => return Ok(crate::pure::patch(command)),
        Command::Test { command } => return Ok(crate::pure::test(command).await),
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
        Command::Migrate => {
            server::startup::open_database(&cfg).await?;
            println!(
                "migrations applied to {}",
                server::startup::redact_url(&cfg.effective_database_url())
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
                &cfg,
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
            let db = server::startup::open_database(&cfg).await?;
            let v = store::audit::verify(&db).await?;
            match v.first_broken {
                None => {
                    println!("audit chain intact: {} rows verified", v.rows_checked);
                    Ok(ExitCode::SUCCESS)
                }
                Some((seq, why)) => {
                    println!(
                        "audit chain BROKEN at row {seq}: {why} ({} rows before it verified)",
                        v.rows_checked
                    );
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::SeedDemo {
            customers,
            orders_per_customer,
        } => {
            let db = server::startup::open_database(&cfg).await?;
            let live = server::live::LiveSpec::load(&db).await?.get();
            let (c, o) = seed_demo(&db, &live.spec, customers, orders_per_customer).await?;
            store::records::analyze(&db).await?;
            println!("created {c} customers and {o} orders");
            Ok(ExitCode::SUCCESS)
        }
        Command::Spec { .. } | Command::Patch { .. } | Command::Test { .. } => {
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

async fn user_add(
    cfg: &Config,
    username: String,
    roles: Vec<String>,
    business_roles: Vec<String>,
    display_name: Option<String>,
    email: Option<String>,
    password: Option<String>,
) -> anyhow::Result<ExitCode> {
    use server::http::users::service;
    let fail = |field: &str, m: String| -> anyhow::Result<ExitCode> {
        eprintln!("error: {field}: {m}");
        Ok(ExitCode::from(2))
    };
    let username = match service::parse_username(&username) {
        Ok(u) => u,
        Err(m) => return fail("--username", m),
    };
    let roles: Vec<PlatformRole> = match service::parse_roles(&roles) {
        Ok(r) => r,
        Err(m) => return fail("--role", m),
    };
    let business_roles = match service::parse_business_roles(&business_roles) {
        Ok(r) => r,
        Err(m) => return fail("--business-role", m),
    };
    let email = match service::parse_email(email.as_deref().unwrap_or("")) {
        Ok(e) => e,
        Err(m) => return fail("--email", m),
    };
    let display_name =
        match service::parse_display_name(display_name.as_deref().unwrap_or(""), &username) {
            Ok(d) => d,
            Err(m) => return fail("--display-name", m),
        };
    let (password, generated) = match password {
        Some(p) => (p, false),
        None => (server::auth::secrets::random_token()[..20].to_owned(), true),
    };
    if let Err(m) = server::auth::password::check_policy(&password) {
        return fail("password", m);
    }
    let db = server::startup::open_database(cfg).await?;
    server::seed::run(&db, cfg.admin_password.as_ref().map(|s| s.expose())).await?;
    let new = store::users::NewUser {
        username: username.clone(),
        display_name,
        email,
        password_hash: server::auth::password::hash(&password).await?,
        roles,
        business_roles,
    };
    let mut tx = db.begin().await?;
    let user = match store::users::insert(&mut tx, &new).await {
        Ok(u) => u,
        Err(store::StoreError::Conflict(_)) => {
            eprintln!("error: a user named '{username}' already exists");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.into()),
    };
    let mut e = store::audit::NewEntry::new("user.create", store::audit::Outcome::Success);
    e.actor = Some("cli".into());
    e.resource_type = Some("user".into());
    e.resource_id = Some(user.id.clone());
    e.details = serde_json::json!({ "username": user.username, "roles": user.roles, "businessRoles": user.business_roles });
    store::audit::append(&mut tx, e).await?;
    tx.commit().await?;
    println!("created user {} ({})", user.username, user.id);
    if generated {
        println!("password: {password}");
    }
    Ok(ExitCode::SUCCESS)
}

const CURRENCIES: [&str; 3] = ["CNY", "USD", "EUR"];

async fn seed_demo(
    db: &store::Db,
    spec: &spec::Spec,
    customers: u64,
    per: u64,
) -> anyhow::Result<(u64, u64)> {
    let e = runtime::Engine::new(spec, db);
    let actor = runtime::Actor::admin("seed");
    let tiers = ["bronze", "silver", "gold"];
    let mut orders = 0;
    for i in 0..customers {
        let data = serde_json::json!({
            "name": format!("Customer {i}"),
            "email": format!("customer{i}@demo.test"),
            "company": format!("Company {}", i % 997),
            "tier": tiers[(i % 3) as usize],
            "creditLimit": format!("{}.00", 1000 + (i % 50) * 100),
        });
        let c = e
            .create(&actor, "Customer", data.as_object().expect("an object"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for j in 0..per {
            let data = serde_json::json!({
                "customer": c.id,
                "amount": format!("{}.{:02}", 10 + (i * 7 + j * 13) % 5000, (i + j) % 100),
                "currency": CURRENCIES[(j % 3) as usize],
                "orderDate": format!("2026-{:02}-{:02}", 1 + (j % 12), 1 + (i % 28)),
            });
            e.create(&actor, "Order", data.as_object().expect("an object"))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            orders += 1;
        }
    }
    Ok((customers, orders))
}
