//! The `levylab` command line: argument types, subcommands, and the only code that prints.

mod escape;
mod estimate;
mod figures;
mod gradient_noise;
mod run;
mod sample;
mod train;

use clap::{Parser, Subcommand};

pub use escape::EscapeArgs;
pub use estimate::EstimateArgs;
pub use figures::{FiguresArgs, NAMES as FIGURE_NAMES};
pub use gradient_noise::NoiseArgs;
pub use run::{Interrupted, MergeArgs, RunArgs, TheoryArgs, ValidateArgs};
pub use sample::SampleArgs;
pub use train::TrainArgs;

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
    /// Run a scenario file: simulate every point, compare with theory, write results.
    Run(RunArgs),
    /// Combine the shards of a split run (`run --shard K/N`) into the whole run's results.
    Merge(MergeArgs),
    /// Check scenario files without running them (exit 0 only if all are valid).
    Validate(ValidateArgs),
    /// Print a scenario's theory predictions without simulating.
    Theory(TheoryArgs),
    /// Train networks by SGD and measure the tail index of their gradient noise.
    Train(TrainArgs),
    /// Train to a minimum, then measure how SGD leaves it beside Gaussian and α-stable model
    /// noises and their escape laws (a training file with an `[escape]` section).
    Escape(EscapeArgs),
    /// Regenerate the paper's figures and the exit-time comparisons as PNGs.
    Figures(FiguresArgs),
    /// Draw samples of an α-stable law S_α(σ, β, μ).
    Sample(SampleArgs),
    /// Estimate the tail index α of samples in a file (text, CSV column or .npy).
    Estimate(EstimateArgs),
    /// The gradient-noise report (paper estimate, Gaussian null, standardized, Hill, McCulloch,
    /// per layer) of a P × M matrix of minibatch gradients in a .npy file.
    Noise(NoiseArgs),
}

/// Runs a parsed command line.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Run(a) => run::run(a),
        Command::Merge(a) => run::merge(a),
        Command::Validate(a) => run::validate(a),
        Command::Theory(a) => run::theory(a),
        Command::Train(a) => train::run(a),
        Command::Escape(a) => escape::run(a),
        Command::Figures(a) => figures::run(a),
        Command::Sample(a) => sample::run(a),
        Command::Estimate(a) => estimate::run(a),
        Command::Noise(a) => gradient_noise::run(a),
    }
}
