//! `modgate`: the server and its command line. This file parses arguments and sets
//! up logging; the work happens in the library crates.

mod cli;
mod eval_cmd;
mod input;
mod module_cmd;

// The request path allocates many small, short-lived values; mimalloc handles that
// pattern markedly better than glibc's allocator (see the closing note's profile).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
mod pure;
mod remote;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(cli::run(args))
}
