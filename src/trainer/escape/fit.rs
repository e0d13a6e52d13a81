//! The per-coordinate law of the gradient noise at θ₀, which the model noises are built from.
//!
//! U_p = g_p − ∇f(θ₀) for K minibatches of b examples drawn with replacement (minibatch p from the
//! stream (seed, p)), with the exact full-batch gradient ∇f(θ₀). Per coordinate j:
//! * the variance vⱼ = mean_p U²_pj (the Gaussian model of Xie et al.);
//! * the log-scale ℓⱼ = mean of ln|U_pj| over the non-zero values, and the share zⱼ of exact zeros
//!   (dead ReLUs). For X ~ SαS(c), E ln|X| = ln c + γ(1/α − 1) (γ Euler's constant; Zolotarev 1986,
//!   §3.6), so the scale given α is cⱼ(α) = exp(ℓⱼ − γ(1/α − 1))·(1 − zⱼ)^{1/α}: the last factor
//!   keeps the tail mass (1 − z)·K_α c^α of a law with an atom at zero. The logarithm has every
//!   moment for every α, so ℓⱼ is not dominated by the largest of the K values as vⱼ is.

use rand::RngExt;
use rayon::prelude::*;

use super::super::mlp::{Loss, Workspace};
use super::super::model::Model;
use crate::rng;

/// Euler–Mascheroni constant.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
const FIT_MINIBATCHES: u64 = rng::domain::ESCAPE_FIT_MINIBATCHES;
/// Minibatch gradients held at once (fixed, so the sums do not depend on the thread count).
const WINDOW: usize = 32;

/// The per-coordinate noise law at θ₀.
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseFit {
    /// Minibatches K.
    pub minibatches: usize,
    /// Minibatch size b.
    pub batch_size: usize,
    /// vⱼ.
    pub variance: Vec<f64>,
    /// ℓⱼ (−∞ for a coordinate that is always zero).
    pub log_scale: Vec<f64>,
    /// zⱼ.
    pub zero_share: Vec<f64>,
    /// The noise vectors U_p themselves (when kept: for the Gaussian with their covariance).
    pub samples: Vec<Vec<f32>>,
    /// Per coordinate: the sum of squared deviations of ln|U_pj| from ℓⱼ over the nonzero values,
    /// and their number (for the log-moment tail index of a layer).
    log_deviations: Vec<(f64, usize)>,
}

impl NoiseFit {
    /// Measures the law of `net`'s minibatch-gradient noise on (x, y) at its parameters, given the
    /// full-batch gradient `full`; `keep` keeps the K noise vectors (K·M values).
    #[allow(clippy::too_many_arguments)]
    pub fn measure(
        net: &Model,
        x: &[f32],
        y: &[u8],
        loss: Loss,
        full: &[f32],
        b: usize,
        minibatches: usize,
        seed: u64,
        keep: bool,
    ) -> Self {
        let m = net.n_params();
        let dim = net.input_len();
        let n = y.len();
        let (mut sq, mut logs, mut nonzero) = (vec![0.0; m], vec![0.0; m], vec![0usize; m]);
        let mut log_sq = vec![0.0; m];
        let mut samples = Vec::new();
        for w in (0..minibatches).step_by(WINDOW) {
            let grads: Vec<Vec<f32>> = (w..(w + WINDOW).min(minibatches))
                .into_par_iter()
                .map_init(
                    || (Workspace::default(), Vec::new(), Vec::new()),
                    |(ws, xb, yb), p| {
                        let mut r = rng::aux_stream(seed, FIT_MINIBATCHES, p as u64);
                        xb.clear();
                        yb.clear();
                        for _ in 0..b {
                            let i = r.random_range(0..n);
                            xb.extend_from_slice(&x[i * dim..(i + 1) * dim]);
                            yb.push(y[i]);
                        }
                        let mut g = vec![0f32; m];
                        net.loss_grad(xb, yb, loss, ws, &mut g, None);
                        g
                    },
                )
                .collect();
            for mut g in grads {
                for j in 0..m {
                    let u = f64::from(g[j]) - f64::from(full[j]);
                    sq[j] += u * u;
                    if u != 0.0 {
                        let l = u.abs().ln();
                        logs[j] += l;
                        log_sq[j] += l * l;
                        nonzero[j] += 1;
                    }
                }
                if keep {
                    g.iter_mut().zip(full).for_each(|(x, f)| *x -= f);
                    samples.push(g);
                }
            }
        }
        let k = minibatches as f64;
        NoiseFit {
            minibatches,
            batch_size: b,
            variance: sq.iter().map(|s| s / k).collect(),
            log_scale: logs
                .iter()
                .zip(&nonzero)
                .map(|(l, &c)| {
                    if c > 0 {
                        l / c as f64
                    } else {
                        f64::NEG_INFINITY
                    }
                })
                .collect(),
            zero_share: nonzero.iter().map(|&c| 1.0 - c as f64 / k).collect(),
            samples,
            log_deviations: (0..m)
                .map(|j| {
                    let n = nonzero[j];
                    let ss = if n > 0 {
                        (log_sq[j] - logs[j] * logs[j] / n as f64).max(0.0)
                    } else {
                        0.0
                    };
                    (ss, n)
                })
                .collect(),
        }
    }

    /// The log-moment tail index of the coordinates in `range`: for X ~ SαS(c),
    /// Var ln|X| = (π²/6)(1/α² + 1/2) whatever c (Zolotarev 1986, §3.6), so the within-coordinate
    /// variance s² of ln|U| pooled over the range (each coordinate centred on its own mean, so
    /// different scales do not mix) gives α = (6s²/π² − 1/2)^{−1/2}, clamped to [0.1, 2]. None
    /// when no coordinate has two nonzero values.
    pub fn log_moment_alpha(&self, range: std::ops::Range<usize>) -> Option<f64> {
        pooled_log_moment_alpha(&self.log_deviations[range])
    }

    /// The per-coordinate SαS scales cⱼ(α).
    pub fn stable_scales(&self, alpha: f64) -> Vec<f64> {
        self.log_scale
            .iter()
            .zip(&self.zero_share)
            .map(|(&l, &z)| stable_scale(l, z, alpha))
            .collect()
    }

    /// The per-coordinate standard deviations of the Gaussian with the scales of the log-law,
    /// √2·cⱼ(2) (equal to √vⱼ in expectation when the noise is Gaussian).
    pub fn gaussian_scale_std(&self) -> Vec<f64> {
        self.stable_scales(2.0)
            .iter()
            .map(|c| std::f64::consts::SQRT_2 * c)
            .collect()
    }
}

/// The log-moment α of coordinates given as (sum of squared deviations of ln|U| from its mean,
/// number of values) each: see [`NoiseFit::log_moment_alpha`].
pub fn pooled_log_moment_alpha(deviations: &[(f64, usize)]) -> Option<f64> {
    let (ss, dof) = deviations
        .iter()
        .filter(|&&(_, n)| n >= 2)
        .fold((0.0, 0usize), |(s, d), &(ss, n)| (s + ss, d + n - 1));
    if dof == 0 {
        return None;
    }
    let s2 = ss / dof as f64;
    let inv_sq = 6.0 * s2 / (std::f64::consts::PI * std::f64::consts::PI) - 0.5;
    Some(if inv_sq <= 0.25 {
        2.0
    } else {
        (1.0 / inv_sq.sqrt()).clamp(0.1, 2.0)
    })
}

/// cⱼ(α) = exp(ℓ − γ(1/α − 1))·(1 − z)^{1/α} (0 for a coordinate that is always zero).
pub fn stable_scale(log_scale: f64, zero_share: f64, alpha: f64) -> f64 {
    if log_scale == f64::NEG_INFINITY {
        return 0.0;
    }
    (log_scale - EULER_GAMMA * (1.0 / alpha - 1.0)).exp() * (1.0 - zero_share).powf(1.0 / alpha)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise::{Param, Stable};

    #[test]
    fn log_scale_reads_the_stable_scale_back() {
        // ℓ from 4·10⁵ draws of SαS(c) for three α: the SE of a mean of ln|X| is sd(ln|X|)/√n,
        // sd(ln|X|) = π·√(1/α² + 1/2)/√6·… < 2 for α ≥ 1, so 5 SE < 0.016 in ln c.
        for (alpha, c) in [(1.0, 0.3), (1.5, 2.0), (2.0, 0.7)] {
            let law = Stable::new(alpha, 0.0, c, 0.0, Param::S1).unwrap();
            let xs = crate::noise::draw(&law, 400_000, 11);
            let l = xs.iter().map(|x| x.abs().ln()).sum::<f64>() / xs.len() as f64;
            let got = stable_scale(l, 0.0, alpha);
            assert!((got / c).ln().abs() < 0.016, "alpha {alpha}: {got} vs {c}");
        }
    }

    #[test]
    fn log_moment_alpha_reads_the_tail_index_through_mixed_scales() {
        // 400 coordinates × K = 200 draws of SαS(cⱼ), cⱼ spread over three decades: the pooled
        // within-coordinate variance of ln|X| has ≈ 8·10⁴ degrees of freedom, so α̂ has a
        // delta-method SE ≈ 0.01 at α = 1.5 (dα/ds² ≈ −1, relative SE of s² ≈ 0.6 %); asserted
        // within 0.05. A pooled estimate that mixed the scales would read far below α.
        for (k, alpha) in [1.2, 1.5, 1.8, 2.0].into_iter().enumerate() {
            let devs: Vec<(f64, usize)> = (0..400)
                .map(|j| {
                    let c = 10f64.powf(3.0 * j as f64 / 400.0 - 1.5);
                    let law = Stable::new(alpha, 0.0, c, 0.0, Param::S1).unwrap();
                    let logs: Vec<f64> = crate::noise::draw(&law, 200, 1000 * k as u64 + j)
                        .iter()
                        .map(|x| x.abs().ln())
                        .collect();
                    let mean = logs.iter().sum::<f64>() / logs.len() as f64;
                    (logs.iter().map(|l| (l - mean).powi(2)).sum(), logs.len())
                })
                .collect();
            let got = pooled_log_moment_alpha(&devs).unwrap();
            assert!((got - alpha).abs() < 0.05, "alpha {alpha}: {got}");
        }
        // Nothing is read without data.
        assert!(pooled_log_moment_alpha(&[]).is_none());
    }
}
