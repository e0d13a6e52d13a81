//! `levylab figures`: the arguments, and one line per figure drawn (the gallery itself is
//! [`crate::figures::gallery`]).

use std::path::PathBuf;

use clap::Args;

pub use crate::figures::gallery::NAMES;

/// Arguments of `levylab figures`.
#[derive(Debug, Args)]
pub struct FiguresArgs {
    /// Output directory.
    #[arg(long, default_value = "figures")]
    pub out: PathBuf,
    /// Only this figure (one of the names in figures/README.md).
    #[arg(long)]
    pub only: Option<String>,
    /// Fewer paths, iterations and sweep points (about 2 minutes for all figures instead of 15).
    #[arg(long)]
    pub quick: bool,
}

pub(super) fn run(a: FiguresArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    crate::figures::gallery::draw(&a.out, a.only.as_deref(), a.quick, &mut |name, secs| {
        println!(
            "{secs:>6.1} s  {}",
            a.out.join(format!("{name}.png")).display()
        )
    })?;
    println!(
        "figures written to {} in {:.1} s",
        a.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
