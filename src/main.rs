//! The `levylab` binary: parse arguments, run, map errors to exit code 2.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match levylab::cli::run(levylab::cli::Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("levylab: {err:#}");
            ExitCode::from(2)
        }
    }
}
