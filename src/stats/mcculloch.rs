//! McCulloch's quantile estimator of (α, β, σ, μ) of a stable law.
//!
//! # Formula
//! ```text
//! ν_α = (x₀.₉₅ − x₀.₀₅) / (x₀.₇₅ − x₀.₂₅),   ν_β = (x₀.₉₅ + x₀.₀₅ − 2x₀.₅₀) / (x₀.₉₅ − x₀.₀₅)
//! (α̂, β̂) solve ν_α(α, β) = ν̂_α, ν_β(α, β) = ν̂_β;   σ̂ = (x₀.₇₅ − x₀.₂₅) / φ₃(α̂, β̂)
//! μ̂₀ = x₀.₅₀ − σ̂·m₀(α̂, β̂) (S0; m₀ = median of the standard S0 law),  μ̂₁ = μ̂₀ − β̂σ̂ tan(πα̂/2)
//! ```
//! McCulloch published ν_α, ν_β, φ₃ and m₀ as printed tables; levylab computes its own from the
//! stable CDF ([`crate::noise::cdf`]) once per process on a grid α ∈ [0.6, 2] (step 0.05) ×
//! β ∈ [0, 1] (step 0.1), and inverts them with bilinear interpolation. The method is defined for
//! α ≥ 0.6: heavier tails are reported as α̂ = 0.6. Sample ν̂_α below the Gaussian value 2.439 gives α̂ = 2.
//!
//! # References
//! McCulloch (1986), "Simple consistent estimators of stable distribution parameters",
//! Communications in Statistics — Simulation and Computation 15(4).

use std::f64::consts::PI;
use std::sync::OnceLock;

use rayon::prelude::*;

use super::StatsError;
use crate::noise::cdf::standard_quantile_s0;

const A_MIN: f64 = 0.6;
const A_STEP: f64 = 0.05;
const NA: usize = 29; // 0.6, 0.65, …, 2.0
const B_STEP: f64 = 0.1;
const NB: usize = 11; // 0, 0.1, …, 1.0
const PROBS: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

#[derive(Debug)]
struct Table {
    nu_a: Vec<f64>,   // [ia * NB + ib]
    nu_b: Vec<f64>,   // for β ≥ 0
    phi3: Vec<f64>,   // q75 − q25 of the standard law
    median: Vec<f64>, // median of the standard S0 law
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let cells: Vec<[f64; 5]> = (0..NA * NB)
            .into_par_iter()
            .map(|c| {
                let (a, b) = grid_point(c / NB, c % NB);
                PROBS.map(|p| standard_quantile_s0(p, a, b))
            })
            .collect();
        let nu_a = cells
            .iter()
            .map(|q| (q[4] - q[0]) / (q[3] - q[1]))
            .collect();
        let nu_b = cells
            .iter()
            .map(|q| (q[4] + q[0] - 2.0 * q[2]) / (q[4] - q[0]))
            .collect();
        let phi3 = cells.iter().map(|q| q[3] - q[1]).collect();
        let median = cells.iter().map(|q| q[2]).collect();
        Table {
            nu_a,
            nu_b,
            phi3,
            median,
        }
    })
}

fn grid_point(ia: usize, ib: usize) -> (f64, f64) {
    (A_MIN + A_STEP * ia as f64, B_STEP * ib as f64)
}

/// Bilinear interpolation of a table at (α, β ≥ 0).
fn interp(t: &[f64], alpha: f64, beta: f64) -> f64 {
    let fa = ((alpha - A_MIN) / A_STEP).clamp(0.0, (NA - 1) as f64);
    let fb = (beta / B_STEP).clamp(0.0, (NB - 1) as f64);
    let (ia, ib) = ((fa as usize).min(NA - 2), (fb as usize).min(NB - 2));
    let (u, v) = (fa - ia as f64, fb - ib as f64);
    let at = |i: usize, j: usize| t[i * NB + j];
    (1.0 - u) * ((1.0 - v) * at(ia, ib) + v * at(ia, ib + 1))
        + u * ((1.0 - v) * at(ia + 1, ib) + v * at(ia + 1, ib + 1))
}

/// Inverse of a function tabulated at increasing abscissae `xs` (values `ys` monotone) at `y`.
fn inverse_linear(xs: impl Fn(usize) -> f64, ys: &[f64], y: f64) -> f64 {
    let n = ys.len();
    let increasing = ys[n - 1] > ys[0];
    let below = |v: f64| if increasing { v <= y } else { v >= y };
    if !below(ys[0]) {
        return xs(0);
    }
    for i in 0..n - 1 {
        if below(ys[i]) && !below(ys[i + 1]) {
            let f = (y - ys[i]) / (ys[i + 1] - ys[i]);
            return xs(i) + f * (xs(i + 1) - xs(i));
        }
    }
    xs(n - 1)
}

/// The fitted stable law.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct McCullochEstimate {
    /// α̂ ∈ [0.6, 2].
    pub alpha: f64,
    /// β̂ ∈ [−1, 1] (0 when α̂ = 2, where β is not identified).
    pub beta: f64,
    /// σ̂.
    pub scale: f64,
    /// μ̂ in S1 (unstable near α = 1 when β ≠ 0, as S1 itself).
    pub location: f64,
    /// μ̂ in S0.
    pub location_s0: f64,
}

/// Type-7 sample quantiles (linear interpolation between order statistics) at `PROBS`.
fn sample_quantiles(xs: &[f64]) -> [f64; 5] {
    let mut v = xs.to_vec();
    let n = v.len();
    PROBS.map(|p| {
        let pos = p * (n - 1) as f64;
        let i = pos.floor() as usize;
        let f = pos - i as f64;
        let (_, lo, rest) = v.select_nth_unstable_by(i, f64::total_cmp);
        let lo = *lo;
        if f == 0.0 || rest.is_empty() {
            lo
        } else {
            let hi = rest.iter().copied().fold(f64::INFINITY, f64::min);
            lo + f * (hi - lo)
        }
    })
}

/// McCulloch's estimator. # Errors
/// `TooFewSamples` if N < 20, `NonFinite` on NaN or ±∞, `Degenerate` if the quartiles coincide.
pub fn fit(xs: &[f64]) -> Result<McCullochEstimate, StatsError> {
    if xs.len() < 20 {
        return Err(StatsError::TooFewSamples {
            needed: 20,
            got: xs.len(),
        });
    }
    if let Some(i) = xs.iter().position(|x| !x.is_finite()) {
        return Err(StatsError::NonFinite {
            index: i,
            value: xs[i],
        });
    }
    let q = sample_quantiles(xs);
    let (iqr, spread) = (q[3] - q[1], q[4] - q[0]);
    if !(iqr > 0.0 && spread > 0.0) {
        return Err(StatsError::Degenerate("the sample quartiles coincide"));
    }
    let nu_a = spread / iqr;
    let nu_b = (q[4] + q[0] - 2.0 * q[2]) / spread;
    let t = table();
    let sign = if nu_b < 0.0 { -1.0 } else { 1.0 };
    let nu_b_abs = nu_b.abs();
    let alpha_at = |i: usize| A_MIN + A_STEP * i as f64;
    let beta_at = |j: usize| B_STEP * j as f64;

    let (mut alpha, mut beta) = (2.0, 0.0);
    for _ in 0..100 {
        let col: Vec<f64> = (0..NA)
            .map(|i| interp(&t.nu_a, alpha_at(i), beta))
            .collect();
        let a_new = inverse_linear(alpha_at, &col, nu_a).clamp(A_MIN, 2.0);
        let row: Vec<f64> = (0..NB)
            .map(|j| interp(&t.nu_b, a_new, beta_at(j)))
            .collect();
        let b_new = if a_new >= 2.0 {
            0.0
        } else {
            inverse_linear(beta_at, &row, nu_b_abs).clamp(0.0, 1.0)
        };
        let done = (a_new - alpha).abs() < 1e-12 && (b_new - beta).abs() < 1e-12;
        alpha = a_new;
        beta = b_new;
        if done {
            break;
        }
    }
    // Tables are for β ≥ 0; the law with −β is the mirror image: median m₀(α, −β) = −m₀(α, β).
    let scale = iqr / interp(&t.phi3, alpha, beta);
    let location_s0 = q[2] - sign * scale * interp(&t.median, alpha, beta);
    let beta = sign * beta;
    let location = if alpha >= 2.0 || (alpha - 1.0).abs() < 1e-12 {
        location_s0
            - if alpha < 2.0 {
                2.0 / PI * beta * scale * scale.ln()
            } else {
                0.0
            }
    } else {
        location_s0 - beta * scale * (PI * alpha / 2.0).tan()
    };
    Ok(McCullochEstimate {
        alpha,
        beta,
        scale,
        location,
        location_s0,
    })
}
