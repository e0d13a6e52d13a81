//! The `levylab` command line: argument types, subcommands, and the only code that prints.

mod estimate;
mod sample;

use clap::{Parser, Subcommand};

pub use estimate::EstimateArgs;
pub use sample::{SampleArgs, draw};

/// levylab: Gaussian vs α-stable noise — exit times of Lévy-driven SDEs and the tail index of SGD
/// gradient noise.
#[derive(Debug, Parser)]
#[command(name = "levylab", version, about, propagate_version = true)]
pub struct Args {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Draw samples of an α-stable law S_α(σ, β, μ).
    Sample(SampleArgs),
    /// Estimate the tail index α of samples in a file (text, CSV column or .npy).
    Estimate(EstimateArgs),
}

/// Runs a parsed command line.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Sample(a) => sample::run(a),
        Command::Estimate(a) => estimate::run(a),
    }
}
