//! `levylab sample`: draws from S_α(σ, β, μ).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::io;
use crate::noise::{Param, Stable};

/// Arguments of `levylab sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Stability index α ∈ (0, 2].
    #[arg(long, allow_hyphen_values = true)]
    pub alpha: f64,
    /// Skewness β ∈ [−1, 1].
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub beta: f64,
    /// Scale σ > 0.
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub scale: f64,
    /// Location μ.
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub loc: f64,
    /// Parametrization of μ: s1 (Samorodnitsky–Taqqu, scipy's default) or s0 (Nolan).
    #[arg(long, default_value = "s1")]
    pub param: Param,
    /// Number of samples.
    #[arg(short = 'n', long = "count")]
    pub n: usize,
    /// Seed of the random streams.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output file; `.npy` writes float64 NumPy, anything else one value per line. Default: stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub(super) fn run(a: SampleArgs) -> anyhow::Result<()> {
    let law = Stable::new(a.alpha, a.beta, a.scale, a.loc, a.param)?;
    let xs = crate::noise::draw(&law, a.n, a.seed);
    match &a.out {
        Some(path) => {
            let bytes = if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
            {
                io::write_npy_f64(&xs)
            } else {
                io::format_text(&xs).into_bytes()
            };
            io::write_atomic(path, &bytes)?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            match out
                .write_all(io::format_text(&xs).as_bytes())
                .and_then(|_| out.flush())
            {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                r => r.context("cannot write to stdout")?,
            }
        }
    }
    Ok(())
}
