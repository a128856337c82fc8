//! `modgate remote …`: the module lifecycle driven against a running server over its
//! API, for CI pipelines (docs/ci.md). Exit codes: 0 done, 1 refused by the lifecycle
//! (gate not met, four-eyes, conflict; the reasons printed), 2 usage, network or
//! server error.

mod client;
mod commands;
mod endpoints;

use clap::{Args, Subcommand};
use client::{Client, RemoteError};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct RemoteArgs {
    /// The server's address, e.g. https://modgate.example.com.
    #[arg(long, env = "MODGATE_URL", global = true)]
    url: Option<String>,
    /// A personal API token (Account → API tokens). Prefer the environment variable:
    /// a flag shows in the process list.
    #[arg(long, env = "MODGATE_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// Print the server's answers as JSON (errors too, on stdout) instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Seconds to wait for one answer (a generation can take minutes).
    #[arg(long, default_value_t = 900, global = true)]
    timeout: u64,
    #[command(subcommand)]
    command: RemoteCommand,
}

#[derive(Subcommand, Debug)]
pub enum RemoteCommand {
    /// AI modules through their lifecycle.
    Module {
        #[command(subcommand)]
        command: ModuleCommand,
    },
    /// The live spec.
    Spec {
        #[command(subcommand)]
        command: SpecCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum SpecCommand {
    /// Print the live spec (JSON); with --json, with its version and hash.
    Show,
}

/// MODULE is the module's id, slug or name.
#[derive(Subcommand, Debug)]
pub enum ModuleCommand {
    /// The modules, most recently changed first.
    List,
    /// Create a module (no version yet).
    Create {
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// The model that writes it (id); default: the default model.
        #[arg(long)]
        model: Option<String>,
    },
    /// A module with its versions.
    Show { module: String },
    /// Ask the module's model for a new version. Exit 1 when it wrote no valid patch.
    Generate {
        module: String,
        /// What the module should do, in English or Chinese.
        prompt: String,
        /// A model id for this request only.
        #[arg(long)]
        model: Option<String>,
    },
    /// Save a patch document as a new version. Exit 1 when it is saved invalid.
    Save {
        module: String,
        /// The patch document (JSON); `-`: standard input.
        file: PathBuf,
        #[arg(long, short)]
        message: String,
        /// The version the edit started from; default: the module's current one.
        #[arg(long)]
        base: Option<i64>,
        /// Confirm an L2 patch (one that can reject, hide or expose existing data).
        #[arg(long)]
        confirm_l2: bool,
    },
    /// Run the CRM suite and the version's scenarios. Exit 1 when the version does not
    /// meet the gate, with the reasons.
    Test {
        module: String,
        /// Default: the current version.
        #[arg(long)]
        version: Option<i64>,
        /// Write the report as JUnit XML to this file.
        #[arg(long)]
        junit: Option<PathBuf>,
    },
    /// Submit a version for review. Exit 1 when it is not ready, with every reason.
    Submit {
        module: String,
        /// Default: the current version.
        #[arg(long)]
        version: Option<i64>,
        /// A reviewer's username; repeat for several. Default: any reviewer.
        #[arg(long = "reviewer")]
        reviewers: Vec<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Approve the module's open review (not your own work: four-eyes).
    Approve {
        module: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Reject the module's open review.
    Reject {
        module: String,
        #[arg(long)]
        reason: String,
    },
    /// Publish an approved version (上架). Default: the newest approved one.
    Publish {
        module: String,
        #[arg(long)]
        version: Option<i64>,
        /// The release name (semver); default: the next patch (L1) or minor (L2).
        #[arg(long)]
        release: Option<String>,
    },
    /// Take the module out of the live spec (下架).
    Unpublish { module: String },
    /// Publish again a version published before.
    Rollback {
        module: String,
        #[arg(long)]
        version: i64,
    },
    /// Write a version as a bundle signed by the server's instance.
    Export {
        module: String,
        /// Default: the current version.
        #[arg(long)]
        version: Option<i64>,
        /// Where to write it; absent or `-`: standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Import a bundle signed by an instance the server trusts, as a draft version.
    Import {
        /// The bundle file; `-`: standard input.
        file: PathBuf,
    },
}

/// Where a command's results go: text for people, or the server's JSON.
pub struct Out {
    pub json: bool,
}

pub async fn run(args: RemoteArgs) -> ExitCode {
    let out = Out { json: args.json };
    let result = match connect(&args) {
        Ok(client) => commands::run(&client, &out, args.command).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if out.json {
                println!("{}", pretty(&e.json()));
            }
            let mut lines = e.lines().into_iter();
            if let Some(first) = lines.next() {
                eprintln!("error: {first}");
            }
            for l in lines {
                eprintln!("{l}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

fn connect(args: &RemoteArgs) -> Result<Client, RemoteError> {
    let url = args
        .url
        .as_deref()
        .ok_or_else(|| RemoteError::Usage("no server: pass --url or set MODGATE_URL".into()))?;
    Client::new(
        url,
        args.token.as_deref().unwrap_or_default(),
        Duration::from_secs(args.timeout.max(1)),
    )
}

pub fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}
