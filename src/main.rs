//! The `levylab` binary: parse arguments, run, map errors to exit code 2.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match levylab::cli::run(levylab::cli::Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("levylab: {err:#}");
            // An interrupted run saved its results; 130 = 128 + SIGINT, as shells report Ctrl-C.
            if err.is::<levylab::cli::Interrupted>() {
                ExitCode::from(130)
            } else {
                ExitCode::from(2)
            }
        }
    }
}
