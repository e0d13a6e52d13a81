//! `levylab estimate`: tail-index estimates of samples in a file.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::io::{self, Column};
use crate::stats::StatsError;
use crate::stats::tail_index::{self, Details, HillK, Method, Options, TailEstimate};

/// Which estimator(s) to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// The paper's block-sum estimator.
    Paper,
    /// Hill's estimator.
    Hill,
    /// McCulloch's quantile estimator.
    Mcculloch,
    /// All three.
    All,
}

/// Arguments of `levylab estimate`.
#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// Samples: `.npy` (float32/float64, any shape, row-major) or text (one value per line, or CSV).
    pub file: PathBuf,
    /// Estimator to run.
    #[arg(long, value_enum, default_value_t = Which::All)]
    pub estimator: Which,
    /// Print JSON (one entry per estimator) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// CSV column to read: zero-based index, or a header name.
    #[arg(long)]
    pub column: Option<Column>,
    /// Block length K1 of the paper's estimator (default: largest divisor of N ≤ √N; a given K1
    /// truncates the input to K1·⌊N/K1⌋ samples).
    #[arg(long)]
    pub k1: Option<usize>,
    /// Hill: fixed number k of upper order statistics.
    #[arg(long, conflicts_with_all = ["hill_fraction", "hill_grid"])]
    pub hill_k: Option<usize>,
    /// Hill: k as a fraction of N [default: 0.01].
    #[arg(long, conflicts_with = "hill_grid")]
    pub hill_fraction: Option<f64>,
    /// Hill: choose k on a log grid where the Hill plot is most stable.
    #[arg(long)]
    pub hill_grid: bool,
    /// Bootstrap replicates for the confidence intervals (0 turns them off).
    #[arg(long, default_value_t = 200)]
    pub bootstrap: usize,
    /// Confidence level of the intervals.
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Seed of the bootstrap resampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

pub(super) fn run(a: EstimateArgs) -> anyhow::Result<()> {
    if !(a.level > 0.0 && a.level < 1.0) {
        anyhow::bail!("--level must be in (0, 1), got {}", a.level);
    }
    let xs = io::read_samples(&a.file, a.column.as_ref())?;
    let hill_k = match (a.hill_k, a.hill_fraction, a.hill_grid) {
        (Some(k), _, _) => HillK::Fixed(k),
        (_, Some(f), _) => HillK::Fraction(f),
        (_, _, true) => HillK::Grid,
        _ => HillK::default(),
    };
    let opts = Options {
        k1: a.k1,
        hill_k,
        bootstrap: a.bootstrap,
        level: a.level,
        seed: a.seed,
    };
    let methods: &[Method] = match a.estimator {
        Which::Paper => &[Method::Paper],
        Which::Hill => &[Method::Hill],
        Which::Mcculloch => &[Method::McCulloch],
        Which::All => &[Method::Paper, Method::Hill, Method::McCulloch],
    };
    let file = a.file.display().to_string();
    // Every estimator that can be computed is reported; the others with their reason. The command
    // fails only when none can be computed.
    let results = tail_index::estimate_each(&xs, methods, &opts);
    if let Some(why) = tail_index::none_computed(&results) {
        anyhow::bail!("{file}: {why}");
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&tail_index::report_json(&results))?
        );
    } else {
        print!("{}", table(&file, xs.len(), &results, a.level));
    }
    Ok(())
}

fn table(
    file: &str,
    n: usize,
    results: &[(Method, Result<TailEstimate, StatsError>)],
    level: f64,
) -> String {
    let mut s = String::new();
    let zeros = results
        .iter()
        .find_map(|(_, r)| r.as_ref().ok().map(|e| e.zero_fraction));
    s += &format!(
        "{file}: N = {n}, exact zeros = {}\n",
        zeros.map_or("-".into(), |z| format!("{:.3} %", 100.0 * z))
    );
    s += &format!(
        "{:<10} {:>8}  {:<20} {}\n",
        "estimator",
        "alpha",
        format!("{:.0} % CI", 100.0 * level),
        "details"
    );
    for (m, r) in results {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                s += &format!(
                    "{:<10} {:>8}  {:<20} not computed: {e}\n",
                    m.name(),
                    "-",
                    "-"
                );
                continue;
            }
        };
        let ci = match (r.ci_low, r.ci_high) {
            (Some(l), Some(h)) => format!("[{l:.4}, {h:.4}]"),
            _ => "-".to_string(),
        };
        let details = match &r.details {
            Details::Paper { k1, k2, n_used } => {
                format!("K1 = {k1}, K2 = {k2}, samples used = {n_used}")
            }
            Details::Hill { k } => format!("k = {k}"),
            Details::McCulloch {
                beta,
                scale,
                location,
                ..
            } => {
                format!("beta = {beta:.4}, scale = {scale:.4}, location (S1) = {location:.4}")
            }
        };
        s += &format!(
            "{:<10} {:>8.4}  {:<20} {}\n",
            r.estimator, r.alpha, ci, details
        );
    }
    s
}
