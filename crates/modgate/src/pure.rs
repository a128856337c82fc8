//! Commands over specs and patches that touch no database: `spec …` and `patch …`.
//! Their output and exit codes are a contract for scripts and CI pipelines.

use clap::Subcommand;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum SpecCommand {
    /// Print the base CRM spec as JSON.
    Show,
    /// Check a spec file; print each violation. Exit 0 when there are none, 1 otherwise.
    Check {
        /// Spec file, or - for standard input.
        file: PathBuf,
    },
    /// Print the JSON Schema of the spec document.
    Schema,
    /// Compare the stored live spec (in the database) with what the base CRM and the
    /// published modules compose to. Exit 0 when they agree, 1 naming each difference.
    Verify,
    /// Record the live spec this release's base CRM and the published modules compose
    /// to (after an upgrade changed the base CRM); audited, needs nothing else.
    Upgrade,
    /// Print the JSON Schema of an object's records.
    RecordSchema {
        object: String,
        /// Spec file (default: the base CRM).
        #[arg(long)]
        spec: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum PatchCommand {
    /// Print the JSON Schema of the Patch DSL.
    Schema,
    /// Validate a patch. Exit 0 when valid (L1 or L2), 1 when invalid or L3, 2 when
    /// the input cannot be read.
    Validate {
        /// Patch file, or - for standard input.
        file: PathBuf,
        /// Spec to validate against (default: the base CRM).
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Print exactly the validation report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the spec that results from a patch (or the diff). Stores nothing.
    Apply {
        file: PathBuf,
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Print a unified diff of the spec instead of the spec.
        #[arg(long)]
        diff: bool,
    },
}

/// Input that could not be read: exit 2.
struct Unreadable(String);

fn read_input(path: &Path) -> Result<Vec<u8>, Unreadable> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| Unreadable(format!("cannot read standard input: {e}")))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| Unreadable(format!("cannot read {}: {e}", path.display())))
}

fn load_spec(path: Option<&Path>) -> Result<spec::Spec, Unreadable> {
    let Some(path) = path else {
        return Ok(spec::base_spec());
    };
    let bytes = read_input(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Unreadable(format!("{} is not UTF-8 text", path.display())))?;
    let s = spec::parse(&text)
        .map_err(|e| Unreadable(format!("{} is not a valid spec: {e}", path.display())))?;
    let violations = spec::check(&s);
    if !violations.is_empty() {
        let list: Vec<String> = violations
            .iter()
            .map(|v| format!("  {} {}: {}", v.code, v.path, v.message))
            .collect();
        return Err(Unreadable(format!(
            "{} does not pass its integrity check:\n{}",
            path.display(),
            list.join("\n")
        )));
    }
    Ok(s)
}

fn fail(e: Unreadable) -> ExitCode {
    eprintln!("error: {}", e.0);
    ExitCode::from(2)
}

fn pretty(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).expect("serialisable")
}

pub fn spec(cmd: SpecCommand) -> ExitCode {
    match cmd {
        SpecCommand::Show => {
            println!("{}", spec::base_spec().to_pretty_json());
            ExitCode::SUCCESS
        }
        SpecCommand::Schema => {
            println!("{}", pretty(&spec::spec_json_schema()));
            ExitCode::SUCCESS
        }
        SpecCommand::Check { file } => {
            let bytes = match read_input(&file) {
                Ok(b) => b,
                Err(e) => return fail(e),
            };
            let Ok(text) = String::from_utf8(bytes) else {
                return fail(Unreadable(format!("{} is not UTF-8 text", file.display())));
            };
            match spec::parse(&text) {
                Err(e) => {
                    println!(
                        "E_SCHEMA {}: {}",
                        if e.path.is_empty() { "/" } else { &e.path },
                        e.message
                    );
                    ExitCode::from(1)
                }
                Ok(s) => {
                    let violations = spec::check(&s);
                    for v in &violations {
                        println!("{} {}: {}", v.code, v.path, v.message);
                    }
                    if violations.is_empty() {
                        eprintln!(
                            "ok: {} objects, {} pages, {} roles",
                            s.objects.len(),
                            s.pages.len(),
                            s.roles.len()
                        );
                        ExitCode::SUCCESS
                    } else {
                        eprintln!("{} violation(s)", violations.len());
                        ExitCode::from(1)
                    }
                }
            }
        }
        SpecCommand::Verify | SpecCommand::Upgrade => {
            // Need the database; `cli` runs them before the pure commands.
            eprintln!(
                "error: spec verify and upgrade use the database and are run by the command line"
            );
            ExitCode::from(2)
        }
        SpecCommand::RecordSchema { object, spec: path } => {
            let s = match load_spec(path.as_deref()) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            match spec::record_schema(&s, &object) {
                Some(schema) => {
                    println!("{}", pretty(&schema));
                    ExitCode::SUCCESS
                }
                None => {
                    let hint =
                        spec::names::did_you_mean(&object, s.objects.keys().map(String::as_str));
                    eprintln!("error: no object '{object}' in the spec{hint}");
                    ExitCode::from(1)
                }
            }
        }
    }
}

/// The human-readable form of a report.
fn summary(r: &patch::Report) -> String {
    let mut out = String::new();
    let verdict = if r.valid { "VALID" } else { "INVALID" };
    out.push_str(&format!(
        "{verdict}  level {}  ({} operation(s))\n",
        r.level,
        r.operations.len()
    ));
    for o in &r.operations {
        out.push_str(&format!("  op {:<3} {}  {}\n", o.op, o.level, o.summary));
    }
    if !r.errors.is_empty() {
        out.push_str("errors:\n");
        for e in &r.errors {
            let op =
                e.op.map(|i| format!("op {i}"))
                    .unwrap_or_else(|| "document".into());
            out.push_str(&format!(
                "  {} [{}] {op} at {}: {}\n",
                e.code, e.level, e.path, e.message
            ));
        }
    }
    if !r.warnings.is_empty() {
        out.push_str("warnings:\n");
        for w in &r.warnings {
            let op =
                w.op.map(|i| format!("op {i}"))
                    .unwrap_or_else(|| "document".into());
            out.push_str(&format!("  {} {op}: {}\n", w.code, w.message));
        }
    }
    out
}

pub fn patch(cmd: PatchCommand) -> ExitCode {
    match cmd {
        PatchCommand::Schema => {
            println!("{}", pretty(&patch::patch_json_schema()));
            ExitCode::SUCCESS
        }
        PatchCommand::Validate {
            file,
            spec: spec_path,
            json,
        } => {
            let (base, bytes) =
                match load_spec(spec_path.as_deref()).and_then(|s| Ok((s, read_input(&file)?))) {
                    Ok(x) => x,
                    Err(e) => return fail(e),
                };
            let v = patch::check(&base, &bytes);
            if json {
                println!("{}", pretty(&v.report));
            } else {
                print!("{}", summary(&v.report));
            }
            if v.report.valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        PatchCommand::Apply {
            file,
            spec: spec_path,
            diff,
        } => {
            let (base, bytes) =
                match load_spec(spec_path.as_deref()).and_then(|s| Ok((s, read_input(&file)?))) {
                    Ok(x) => x,
                    Err(e) => return fail(e),
                };
            let d = patch::dry_run(&base, &bytes);
            match &d.spec {
                Some(after) if d.report.valid => {
                    if diff {
                        print!("{}", d.diff);
                    } else {
                        println!("{}", after.to_pretty_json());
                    }
                    ExitCode::SUCCESS
                }
                _ => {
                    eprintln!("{}", pretty(&d.report));
                    ExitCode::from(1)
                }
            }
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum TestCommand {
    /// Run the CRM suite (plus the patch's own tests) over the spec + patch, in memory.
    /// Exit 0 when every scenario passes, 1 on failures, 2 when the input is bad.
    Run {
        /// A module's patch: its changes are applied and its `tests` run too.
        #[arg(long)]
        patch: Option<PathBuf>,
        /// Spec to start from (default: the base CRM).
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Print the full report as JSON.
        #[arg(long)]
        json: bool,
        /// Also write a JUnit XML report to this file.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Module coverage the gate asks for (0 to 1).
        #[arg(long, default_value_t = 0.8)]
        gate: f64,
    },
}

pub async fn test(cmd: TestCommand) -> ExitCode {
    let TestCommand::Run {
        patch,
        spec,
        json,
        junit,
        gate,
    } = cmd;
    let base = match load_spec(spec.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let doc = match patch.as_deref().map(read_input).transpose() {
        Ok(Some(bytes)) => match patch::parse(&bytes) {
            Ok(d) => Some(d),
            Err(r) => {
                let why: Vec<String> = r
                    .errors
                    .iter()
                    .map(|e| format!("{} {}", e.code, e.message))
                    .collect();
                return fail(Unreadable(format!(
                    "the patch cannot be read: {}",
                    why.join("; ")
                )));
            }
        },
        Ok(None) => None,
        Err(e) => return fail(e),
    };
    if !(0.0..=1.0).contains(&gate) {
        return fail(Unreadable("--gate must be between 0 and 1".into()));
    }
    let suite = match scenario::crm_suite() {
        Ok(s) => s,
        Err(e) => return fail(Unreadable(e.to_string())),
    };
    let report = match scenario::run_suite(&base, doc.as_ref(), suite, gate).await {
        Ok(r) => r,
        Err(e) => return fail(Unreadable(e.to_string())),
    };
    if let Some(path) = junit
        && let Err(e) = std::fs::write(&path, report.junit())
    {
        return fail(Unreadable(format!("cannot write {}: {e}", path.display())));
    }
    if json {
        println!("{}", pretty(&report));
    } else {
        for s in &report.scenarios {
            let mark = if s.status == "passed" { "ok  " } else { "FAIL" };
            println!("{mark} {} ({})", s.name, s.object);
            if let Some(e) = &s.error {
                println!("     {e}");
            }
        }
        let pct = |x: f64| format!("{:.1}%", x * 100.0);
        println!(
            "\n{} passed, {} failed; spec coverage {}; module coverage {}",
            report.passed,
            report.failed,
            pct(report.coverage.spec),
            report
                .coverage
                .module
                .map(pct)
                .unwrap_or_else(|| "n/a".into())
        );
        println!(
            "ready to submit: {}, because {}",
            if report.gate.ready { "yes" } else { "no" },
            report.gate.reasons.join("; ")
        );
    }
    if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
