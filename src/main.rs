//! The `levylab` binary: parse arguments, run, map errors to exit code 2.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    restore_default_sigpipe();
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

/// Rust ignores SIGPIPE, so printing into a closed pipe (`levylab run F | head`) would panic. Like
/// other command-line tools, levylab ends quietly instead: the default action of SIGPIPE.
#[cfg(unix)]
fn restore_default_sigpipe() {
    // SAFETY: called first thing in main, before any thread exists; setting a signal's disposition
    // to SIG_DFL has no other effect on the process.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_default_sigpipe() {}
