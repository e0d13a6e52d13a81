//! Gradient-noise measurement at a checkpoint (the paper's protocol), streamed in passes so memory
//! is O(parameters), not O(minibatches × parameters).
//!
//! The data set (in its fixed order) is cut into P = ⌊n/b⌋ contiguous minibatches; gₚ is the gradient
//! of minibatch p, ḡ = mean of the gₚ (the full gradient of those n' = P·b examples) and Uₚ = gₚ − ḡ.
//! Pass 1 computes ḡ; pass 2 recomputes each gₚ and streams Uₚ, row by row (p-major, each row in
//! parameter order = layer by layer), into:
//! * the paper's pooled block-sum estimator over all N = P·M coordinates, with a 95 % interval from the
//!   spread of the K2 per-block estimates of 1/α (normal approximation over independent blocks);
//! * the same estimator per layer (N = P·M_layer);
//! * per-parameter estimates across minibatches (N = P per coordinate; K1 = largest divisor of P ≤ √P,
//!   none if P has no divisor ≥ 2 below √P), reported as quantiles of the M values;
//! * the fraction of exact zeros, the noise norms ‖Uₚ‖, per-coordinate variances;
//! * a uniform reservoir subsample (≤ `subsample` values) for Hill and McCulloch.
//!
//! Pass 3 recomputes the gradients and runs the pooled estimator on Uₚⱼ/σⱼ (σⱼ² the per-coordinate
//! variance from pass 2): the same question with the scale mixture removed.
//! Pass 4 (no gradients) draws Gaussian noise with the same per-coordinate variances, N and layout and
//! runs the pooled estimator on it: the Gaussian-null value, ≈ 2 if the layout itself creates no
//! artifact, lower when the scale mixture alone mimics a heavy tail (see `stats::block_sum`).

use rand::RngExt;
use rand::distr::Distribution;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::mlp::{Loss, Mlp, Workspace};
use crate::rng;
use crate::stats::tail_index::largest_divisor_below_sqrt;
use crate::stats::{HillK, hill, mcculloch};

const EPS: f64 = f64::EPSILON;
const Z95: f64 = 1.959_963_984_540_054;

/// The paper's block-sum estimator fed one sample at a time.
#[derive(Clone, Debug)]
pub struct BlockStream {
    k1: usize,
    ln_k1: f64,
    block: f64,
    block_log_x: f64,
    in_block: usize,
    n: usize,
    zeros: usize,
    sum_e: f64,
    sum_e2: f64,
    k2: usize,
}

/// Result of a streamed block-sum estimate.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct StreamEstimate {
    /// α̂.
    pub alpha: f64,
    /// 95 % interval (normal over the K2 per-block estimates of 1/α).
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
    /// Samples.
    pub n: usize,
    /// Block length.
    pub k1: usize,
    /// Blocks.
    pub k2: usize,
    /// Fraction of exact zeros.
    pub zero_fraction: f64,
}

impl BlockStream {
    /// A stream for exactly `n` samples with the default block length (largest divisor of n ≤ √n).
    /// `None` if that is below 2.
    pub fn new(n: usize) -> Option<Self> {
        let k1 = largest_divisor_below_sqrt(n);
        (k1 >= 2).then(|| BlockStream {
            k1,
            ln_k1: (k1 as f64).ln(),
            block: 0.0,
            block_log_x: 0.0,
            in_block: 0,
            n: 0,
            zeros: 0,
            sum_e: 0.0,
            sum_e2: 0.0,
            k2: 0,
        })
    }

    /// Adds the next sample.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        self.zeros += usize::from(x == 0.0);
        self.block += x;
        self.block_log_x += (x.abs() + EPS).ln();
        self.in_block += 1;
        if self.in_block == self.k1 {
            let e =
                ((self.block.abs() + EPS).ln() - self.block_log_x / self.k1 as f64) / self.ln_k1;
            self.sum_e += e;
            self.sum_e2 += e * e;
            self.k2 += 1;
            self.block = 0.0;
            self.block_log_x = 0.0;
            self.in_block = 0;
        }
    }

    /// The estimate: 1/α̂ is the mean of the per-block values (equal to the paper's formula when K1·K2 = N).
    pub fn finish(&self) -> StreamEstimate {
        let k2 = self.k2.max(1) as f64;
        let m = self.sum_e / k2;
        let var = ((self.sum_e2 / k2 - m * m) * k2 / (k2 - 1.0).max(1.0)).max(0.0);
        let se = (var / k2).sqrt();
        let hi_inv = m + Z95 * se;
        let lo_inv = m - Z95 * se;
        StreamEstimate {
            alpha: 1.0 / m,
            ci_low: 1.0 / hi_inv,
            ci_high: if lo_inv > 0.0 {
                1.0 / lo_inv
            } else {
                f64::INFINITY
            },
            n: self.n,
            k1: self.k1,
            k2: self.k2,
            zero_fraction: self.zeros as f64 / self.n.max(1) as f64,
        }
    }
}

/// One layer's estimate.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LayerNoise {
    /// 1-based layer number.
    pub layer: usize,
    /// Parameters in the layer.
    pub params: usize,
    /// The pooled estimate over this layer's coordinates (None if N has no usable block length).
    pub estimate: Option<StreamEstimate>,
}

/// Distribution of per-parameter α̂ across coordinates.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PerParameter {
    /// Block length over minibatches.
    pub k1: usize,
    /// Coordinates with a finite estimate (all-zero coordinates have none).
    pub count: usize,
    /// Quantiles of α̂ across coordinates: 10, 25, 50, 75, 90 %.
    pub q10: f64,
    /// 25 %.
    pub q25: f64,
    /// Median.
    pub q50: f64,
    /// 75 %.
    pub q75: f64,
    /// 90 %.
    pub q90: f64,
}

/// Everything measured at one checkpoint on one data set.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct NoiseReport {
    /// Minibatches P.
    pub batches: usize,
    /// Minibatch size b.
    pub batch_size: usize,
    /// Parameters M.
    pub params: usize,
    /// The paper's pooled estimate over all P·M coordinates.
    pub paper: Option<StreamEstimate>,
    /// The same estimator on Gaussian noise with the same per-coordinate variances and layout.
    pub gaussian_null: Option<f64>,
    /// The pooled estimator on per-coordinate standardized noise Uₚⱼ/σⱼ (coordinates with σⱼ = 0
    /// left out): the scale mixture removed. Its own Gaussian null is 2 by construction, so values
    /// well below 2 mean heavy tails within coordinates, values near 2 mean the pooled estimate's
    /// heavy tail came from mixing scales.
    pub standardized: Option<StreamEstimate>,
    /// Hill (k = 1 % of the subsample) on |U|.
    pub hill: Option<f64>,
    /// McCulloch on the subsample.
    pub mcculloch: Option<f64>,
    /// Values in the Hill/McCulloch subsample.
    pub subsample: usize,
    /// Fraction of exact zeros in U.
    pub zero_fraction: f64,
    /// Per-layer pooled estimates.
    pub per_layer: Vec<LayerNoise>,
    /// Per-parameter estimates across minibatches.
    pub per_parameter: Option<PerParameter>,
    /// ‖Uₚ‖₂ for each minibatch.
    pub noise_norms: Vec<f64>,
}

/// Gradients of minibatches `range` of (x, y) (contiguous, size b), computed in parallel.
fn batch_grads(
    net: &Mlp,
    x: &[f32],
    y: &[u8],
    b: usize,
    range: std::ops::Range<usize>,
    loss: Loss,
) -> Vec<Vec<f32>> {
    let dim = net.sizes()[0];
    range
        .into_par_iter()
        .map_init(Workspace::default, |ws, p| {
            let mut g = vec![0f32; net.n_params()];
            net.loss_grad(
                &x[p * b * dim..(p + 1) * b * dim],
                &y[p * b..(p + 1) * b],
                loss,
                ws,
                &mut g,
            );
            g
        })
        .collect()
}

/// Measures the gradient noise of `net` on (x, y) with minibatches of `b`. Returns `None` if there
/// are fewer than 2 minibatches.
pub fn measure(
    net: &Mlp,
    x: &[f32],
    y: &[u8],
    b: usize,
    loss: Loss,
    subsample: usize,
    seed: u64,
) -> Option<NoiseReport> {
    let p_count = y.len() / b;
    if p_count < 2 {
        return None;
    }
    let m = net.n_params();
    let window = 2 * rayon::current_num_threads().max(1);
    // Pass 1: ḡ.
    let mut gbar = vec![0f64; m];
    for start in (0..p_count).step_by(window) {
        for g in batch_grads(net, x, y, b, start..(start + window).min(p_count), loss) {
            for (a, v) in gbar.iter_mut().zip(&g) {
                *a += *v as f64;
            }
        }
    }
    gbar.iter_mut().for_each(|v| *v /= p_count as f64);

    // Pass 2: stream U_p = g_p − ḡ.
    let n = p_count * m;
    let mut pooled = BlockStream::new(n);
    let ranges = net.layer_ranges();
    let mut layers: Vec<Option<BlockStream>> = ranges
        .iter()
        .map(|r| BlockStream::new(p_count * r.len()))
        .collect();
    let kp = largest_divisor_below_sqrt(p_count);
    let per_param = kp >= 2;
    let (mut pblock, mut plogx, mut plogy) = if per_param {
        (vec![0f64; m], vec![0f64; m], vec![0f64; m])
    } else {
        (vec![], vec![], vec![])
    };
    let mut var = vec![0f64; m];
    let mut norms = Vec::with_capacity(p_count);
    let mut zeros = 0usize;
    let cap = subsample.min(n).max(1);
    let mut reservoir: Vec<f64> = Vec::with_capacity(cap);
    let mut r = rng::aux_stream(seed, 0x4E01, 0);
    let mut seen = 0usize;
    for start in (0..p_count).step_by(window) {
        let grads = batch_grads(net, x, y, b, start..(start + window).min(p_count), loss);
        for (off, g) in grads.iter().enumerate() {
            let p = start + off;
            let mut sq = 0.0;
            for (j, (gv, gb)) in g.iter().zip(&gbar).enumerate() {
                let u = *gv as f64 - gb;
                sq += u * u;
                var[j] += u * u;
                zeros += usize::from(u == 0.0);
                if let Some(s) = pooled.as_mut() {
                    s.push(u);
                }
                if per_param {
                    pblock[j] += u;
                    plogx[j] += (u.abs() + EPS).ln();
                    if (p + 1) % kp == 0 {
                        plogy[j] += (pblock[j].abs() + EPS).ln();
                        pblock[j] = 0.0;
                    }
                }
                // Reservoir sampling (Algorithm R): a uniform subsample of fixed size.
                if reservoir.len() < cap {
                    reservoir.push(u);
                } else {
                    let k = r.random_range(0..=seen);
                    if k < cap {
                        reservoir[k] = u;
                    }
                }
                seen += 1;
            }
            for (l, range) in ranges.iter().enumerate() {
                if let Some(s) = layers[l].as_mut() {
                    for j in range.clone() {
                        s.push(g[j] as f64 - gbar[j]);
                    }
                }
            }
            norms.push(sq.sqrt());
        }
    }
    var.iter_mut().for_each(|v| *v /= p_count as f64);

    // Pass 3: standardized noise U_pj/σ_j, same order, zero-variance coordinates skipped.
    let live: Vec<usize> = (0..m).filter(|&j| var[j] > 0.0).collect();
    let inv_sd: Vec<f64> = var
        .iter()
        .map(|v| if *v > 0.0 { 1.0 / v.sqrt() } else { 0.0 })
        .collect();
    let standardized = BlockStream::new(p_count * live.len()).map(|mut s| {
        for start in (0..p_count).step_by(window) {
            for g in batch_grads(net, x, y, b, start..(start + window).min(p_count), loss) {
                for &j in &live {
                    s.push((g[j] as f64 - gbar[j]) * inv_sd[j]);
                }
            }
        }
        s.finish()
    });

    // Pass 4 (no gradients): the Gaussian null with the same per-coordinate variances and layout.
    let null = BlockStream::new(n).map(|mut s| {
        let mut r = rng::aux_stream(seed, 0x4E11, 0);
        for _ in 0..p_count {
            for v in &var {
                let z: f64 = StandardNormal.sample(&mut r);
                s.push(v.sqrt() * z);
            }
        }
        s.finish().alpha
    });

    let per_parameter = per_param.then(|| {
        let k2 = (p_count / kp) as f64;
        let lp = (kp as f64).ln();
        let mut a: Vec<f64> = (0..m)
            .filter(|&j| var[j] > 0.0)
            .map(|j| 1.0 / ((plogy[j] / k2 - plogx[j] / p_count as f64) / lp))
            .filter(|v| v.is_finite())
            .collect();
        a.sort_unstable_by(f64::total_cmp);
        let q = |f: f64| {
            if a.is_empty() {
                f64::NAN
            } else {
                a[((a.len() - 1) as f64 * f).round() as usize]
            }
        };
        PerParameter {
            k1: kp,
            count: a.len(),
            q10: q(0.1),
            q25: q(0.25),
            q50: q(0.5),
            q75: q(0.75),
            q90: q(0.9),
        }
    });
    let hill_a = hill(&reservoir, &HillK::Fraction(0.01))
        .ok()
        .map(|h| h.alpha);
    let mc = mcculloch::fit(&reservoir).ok().map(|e| e.alpha);
    Some(NoiseReport {
        batches: p_count,
        batch_size: b,
        params: m,
        paper: pooled.map(|s| s.finish()),
        gaussian_null: null,
        standardized,
        hill: hill_a,
        mcculloch: mc,
        subsample: reservoir.len(),
        zero_fraction: zeros as f64 / n as f64,
        per_layer: ranges
            .iter()
            .zip(layers)
            .enumerate()
            .map(|(l, (rg, s))| LayerNoise {
                layer: l + 1,
                params: rg.len(),
                estimate: s.map(|s| s.finish()),
            })
            .collect(),
        per_parameter,
        noise_norms: norms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::block_sum;

    #[test]
    fn streamed_estimate_equals_the_batch_formula() {
        let mut r = rng::stream(5, 0);
        let xs: Vec<f64> = (0..10_000).map(|_| r.random::<f64>() - 0.5).collect();
        let mut s = BlockStream::new(xs.len()).unwrap();
        xs.iter().for_each(|&x| s.push(x));
        let e = s.finish();
        let want = block_sum(&xs, None).unwrap();
        assert_eq!((e.k1, e.k2), (want.k1, want.k2));
        assert!((e.alpha - want.alpha).abs() < 1e-10 * want.alpha);
        assert!(e.ci_low < e.alpha && e.alpha < e.ci_high);
    }
}
