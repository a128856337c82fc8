//! Test scenarios (docs/testing.md): the format, the runner, coverage and reports. The
//! runner works in memory only — each scenario gets a fresh `MemoryStore` — so it
//! needs no database and runs anywhere, in parallel.

pub mod coverage;
pub mod format;
pub mod report;
pub mod run;
mod suite;

pub use format::{FormatError, Scenario, parse};
pub use report::{Gate, Report, SuiteError, junit, run_suite, run_suite_with};
pub use run::ScenarioResult;
pub use suite::crm_suite;
