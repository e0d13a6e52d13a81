//! `levylab noise`: the trainer's full noise report for a P × M matrix of minibatch gradients that
//! a user dumped from any framework.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::io;
use crate::stats::coordinates::Check;
use crate::stats::gradient_noise::{
    DEFAULT_BOOTSTRAP, DEFAULT_COORDINATES, DEFAULT_SPECTRUM_PASSES, MeterOptions, NoiseReport,
    Sampling, StreamEstimate, analyze_matrix,
};

/// Arguments of `levylab noise`.
#[derive(Debug, Args)]
pub struct NoiseArgs {
    /// Minibatch gradients as a `.npy` array (float32/float64) of shape (P, M) — one row per
    /// minibatch, one column per parameter; trailing axes are flattened into M. Column means are
    /// subtracted (the paper's Uₚ = gₚ − ḡ).
    pub file: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Layer sizes in column order, each a count or a shape like 784x512; they must add up to M.
    #[arg(long, value_delimiter = ',')]
    pub layers: Vec<String>,
    /// Values in the uniform subsample for Hill and McCulloch.
    #[arg(long, default_value_t = 1_000_000)]
    pub subsample: usize,
    /// Seed of the subsample and of the Gaussian-null draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Columns (coordinates) tested iteration-wise — Anderson–Darling, a per-coordinate SαS fit
    /// and a power-law test, each on one column's P values; 0 turns these tests off.
    #[arg(long, default_value_t = DEFAULT_COORDINATES)]
    pub coordinates: usize,
    /// Bootstrap replicates of each power-law test.
    #[arg(long, default_value_t = DEFAULT_BOOTSTRAP)]
    pub bootstrap: usize,
    /// Leading eigenvalues of the noise covariance to compute (0: none).
    #[arg(long, default_value_t = 20)]
    pub spectrum: usize,
    /// Subspace-iteration passes over the rows for the spectrum.
    #[arg(long, default_value_t = DEFAULT_SPECTRUM_PASSES)]
    pub spectrum_passes: usize,
}

/// Parses one `--layers` entry: `N` or `AxBx…` (the product).
fn layer_size(text: &str) -> anyhow::Result<usize> {
    text.split(['x', 'X', '*'])
        .map(|f| {
            f.trim()
                .parse::<usize>()
                .ok()
                .filter(|&v| v > 0)
                .with_context(|| {
                    format!("--layers: {text:?} is not a size (a count or a shape like 784x512)")
                })
        })
        .try_fold(1usize, |a, d| {
            a.checked_mul(d?)
                .with_context(|| format!("--layers: {text:?} overflows"))
        })
}

pub(super) fn run(a: NoiseArgs) -> anyhow::Result<()> {
    let file = a.file.display().to_string();
    let layers = a
        .layers
        .iter()
        .map(|l| layer_size(l))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if !a
        .file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
    {
        anyhow::bail!("{file}: levylab noise reads a .npy array of shape (P, M)");
    }
    let bytes = std::fs::read(&a.file).with_context(|| format!("cannot read {file}"))?;
    let (values, shape) = io::read_npy_array(&a.file, &bytes)?;
    if shape.len() < 2 {
        anyhow::bail!(
            "{file}: need a 2-D array of shape (P minibatches, M parameters), got shape {shape:?}"
        );
    }
    let p = shape[0];
    let m = values.len() / p.max(1);
    if a.coordinates > m {
        anyhow::bail!(
            "{file}: --coordinates {} is more than the matrix's M = {m} columns",
            a.coordinates
        );
    }
    if a.spectrum_passes == 0 {
        anyhow::bail!("--spectrum-passes must be >= 1, got 0");
    }
    let opts = MeterOptions {
        layers,
        subsample: a.subsample,
        seed: a.seed,
        batch_size: 0,
        sampling: Sampling::Given,
        coordinates: a.coordinates.min(m),
        bootstrap: a.bootstrap,
        spectrum: a.spectrum,
        spectrum_passes: a.spectrum_passes,
    };
    let report = analyze_matrix(&values, p, opts).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&file, &report));
    }
    Ok(())
}

fn est(e: Option<StreamEstimate>) -> String {
    e.map_or("-".into(), |e| {
        format!("{:>7.4}  [{:.4}, {:.4}]", e.alpha, e.ci_low, e.ci_high)
    })
}

fn num(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or("-".into(), |x| format!("{x:>7.4}"))
}

/// The text report of `levylab noise`.
pub fn render(file: &str, r: &NoiseReport) -> String {
    let mut s = format!(
        "{file}: P = {} minibatches × M = {} parameters; exact zeros {:.3} %\n",
        r.batches,
        r.params,
        100.0 * r.zero_fraction
    );
    s += &format!("{:<34} {:>7}  95 % CI\n", "estimate", "alpha");
    s += &format!("{:<34} {}\n", "paper (pooled row-major)", est(r.paper));
    s += &format!(
        "{:<34} {}\n",
        "Gaussian null (same scales, layout)",
        num(r.gaussian_null)
    );
    s += &format!(
        "{:<34} {}\n",
        format!("standardized ({} coordinates)", r.standardized_params),
        est(r.standardized)
    );
    s += &format!(
        "{:<34} {}\n",
        format!("Hill, k = 1 % of {}", r.subsample),
        num(r.hill)
    );
    s += &format!("{:<34} {}\n", "McCulloch", num(r.mcculloch));
    if r.per_layer.len() > 1 {
        for l in &r.per_layer {
            s += &format!(
                "{:<34} {}\n",
                format!("layer {} ({} parameters)", l.layer, l.params),
                est(l.estimate)
            );
        }
    }
    match &r.per_parameter {
        Some(pp) => {
            s += &format!(
                "per parameter (K1 = {}, {} coordinates): 1/alpha quantiles q10 {:.3}  q25 {:.3}  median {:.3}  q75 {:.3}  q90 {:.3}; alpha from the median {}; 1/alpha <= 0 for {:.1} %\n",
                pp.k1,
                pp.count,
                pp.inverse_q10,
                pp.inverse_q25,
                pp.inverse_q50,
                pp.inverse_q75,
                pp.inverse_q90,
                pp.alpha_median.map_or("-".into(), |a| format!("{a:.3}")),
                100.0 * pp.nonpositive_fraction
            )
        }
        None => s += "per parameter: - (P has no divisor K1 with 2 <= K1 <= sqrt(P))\n",
    }
    s += &tests_text(r);
    let mut norms = r.noise_norms.clone();
    norms.sort_unstable_by(f64::total_cmp);
    if let (Some(lo), Some(hi)) = (norms.first(), norms.last()) {
        s += &format!(
            "noise norms ||U_p||: min {lo:.4e}  median {:.4e}  max {hi:.4e}\n",
            norms[norms.len() / 2]
        );
    }
    s
}

fn why<T>(c: &Check<T>) -> String {
    match c {
        Check::Done(_) => String::new(),
        Check::Skipped { skipped } => format!("- ({skipped})"),
    }
}

/// The lines of the iteration-wise tests and the spectrum (shared with `levylab train`'s report).
pub fn tests_text(r: &NoiseReport) -> String {
    let mut s = String::new();
    match &r.tests.gaussianity {
        Check::Done(g) => {
            s += &format!(
                "Gaussianity ({}, {} coordinates x K = {}): rejected at 5 % after {} {:.1} % (uncorrected {:.1} %); {} constant",
                g.test,
                g.coordinates,
                g.minibatches,
                g.correction,
                100.0 * g.rejected_fraction,
                100.0 * g.rejected_fraction_uncorrected,
                g.constant
            );
            if let Check::Done(d) = &g.dimension_wise {
                s += &format!(
                    "; dimension-wise (pooled, n = {}): A2 = {:.3}, p = {:.3e}",
                    d.n, d.statistic, d.p_value
                );
            }
            s += "\n";
        }
        c => s += &format!("Gaussianity: {}\n", why(c)),
    }
    match &r.tests.per_coordinate_alpha {
        Check::Done(a) => {
            let q = a.quantiles;
            s += &format!(
                "per-coordinate alpha ({}, {} coordinates x K = {}): q10 {:.3}  q25 {:.3}  median {:.3}  q75 {:.3}  q90 {:.3}; alpha = 2 for {:.1} %; sampling SD at this K {:.3} (bias {:+.3})\n",
                a.estimator,
                a.coordinates,
                a.minibatches,
                q.q10,
                q.q25,
                q.q50,
                q.q75,
                q.q90,
                100.0 * a.at_two_fraction,
                a.sampling_sd,
                a.sampling_bias
            );
        }
        c => s += &format!("per-coordinate alpha: {}\n", why(c)),
    }
    match &r.tests.power_law {
        Check::Done(p) => {
            match &p.dimension_wise {
                Check::Done(t) => {
                    s += &format!(
                        "power law, dimension-wise (pooled, n = {}): tail index {:.3} above x_min {:.3e} ({} points), p = {:.2} ({} bootstraps); vs log-normal R = {:+.2} (p = {:.3})\n",
                        t.fit.n,
                        t.tail_index,
                        t.fit.x_min,
                        t.fit.tail,
                        t.p_value,
                        p.bootstrap,
                        t.lr_lognormal,
                        t.lr_p_value
                    )
                }
                c => s += &format!("power law, dimension-wise: {}\n", why(c)),
            }
            match &p.iteration_wise {
                Check::Done(t) => {
                    s += &format!(
                        "power law, iteration-wise ({} coordinates): ruled out (p <= 0.1) for {:.1} %, median p {:.2}, median tail index {:.3}; Vuong favours power law {:.1} %, log-normal {:.1} %\n",
                        t.coordinates,
                        100.0 * t.ruled_out_fraction,
                        t.p_value_quantiles.q50,
                        t.tail_index_quantiles.q50,
                        100.0 * t.favours_power_law,
                        100.0 * t.favours_lognormal
                    )
                }
                c => s += &format!("power law, iteration-wise: {}\n", why(c)),
            }
        }
        c => s += &format!("power law: {}\n", why(c)),
    }
    match &r.spectrum {
        None => {}
        Some(Check::Done(sp)) => {
            let top: Vec<String> = sp
                .eigenvalues
                .iter()
                .take(5)
                .map(|v| format!("{v:.3e}"))
                .collect();
            let share: f64 = sp.eigenvalues.iter().sum::<f64>() / sp.trace;
            s += &format!(
                "covariance spectrum ({} passes, {} of {} converged): top {}; {:.1} % of the trace {:.3e}",
                sp.passes,
                sp.converged,
                sp.eigenvalues.len(),
                top.join(" "),
                100.0 * share,
                sp.trace
            );
            match sp.power_law {
                Some(f) => {
                    s += &format!(
                        "; lambda_k ~ k^-{:.3} (SE {:.3}, k = {}..{})\n",
                        f.exponent, f.exponent_se, f.from, f.to
                    )
                }
                None => s += "; too few converged values for a power-law fit\n",
            }
        }
        Some(c) => s += &format!("covariance spectrum: {}\n", why(c)),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::layer_size;

    #[test]
    fn layer_sizes_are_counts_or_shapes() {
        assert_eq!(layer_size("784x512").unwrap(), 401_408);
        assert_eq!(layer_size("10").unwrap(), 10);
        assert!(layer_size("0x3").is_err());
        assert!(layer_size("ax3").is_err());
    }
}
