//! The noise report of a P × M matrix of minibatch gradients, streamed in two passes over its rows
//! so that memory is O(M), not O(P·M).
//!
//! Rows gₚ (p = 1…P) are the gradients of P minibatches; ḡ is their mean and the noise is
//! Uₚ = gₚ − ḡ (the paper's protocol, Şimşekli, Sagun & Gürbüzbalaban 2019). The rows are fed twice,
//! in the same order: [`NoiseMeter::add_mean`] for every row (pass 1), then [`NoiseMeter::add`] for
//! every row (pass 2), then [`NoiseMeter::result`].
//!
//! Pass 1 accumulates ḡ and, for every coordinate j, a **scale** sⱼ: the geometric mean of the
//! non-zero consecutive differences |gₚⱼ − gₚ₋₁,ⱼ|.
//!
//! Pass 2 streams Uₚ row by row (p-major, each row in coordinate order) into
//! * the paper's pooled block-sum estimator over all N = P·M coordinates (95 % interval from the
//!   spread of the K2 per-block estimates of 1/α);
//! * the same estimator per layer (N = P·M_layer);
//! * the **standardized** estimate: the pooled estimator on Uₚⱼ/sⱼ (constant coordinates left out);
//! * per-parameter estimates across minibatches (N = P per coordinate, K1 = largest divisor of P ≤ √P);
//! * the fraction of exact zeros, the noise norms ‖Uₚ‖, and a uniform subsample for Hill and
//!   McCulloch (each coordinate kept with probability min(1, n_sub/N), decided by a hash of its
//!   position, so the subsample does not depend on the order of work).
//!
//! Both passes run in parallel over fixed tiles of coordinates, and each block-sum stream closes
//! its complete blocks in parallel (a block's sums are always accumulated in coordinate order):
//! the report is bit for bit the same for any number of threads.
//!
//! The **Gaussian null** is the pooled estimator on Zₚⱼ·sⱼ with Z i.i.d. N(0, 1): Gaussian noise
//! with the measured per-coordinate scales in the same layout.
//!
//! # Why this scale
//! The two diagnostics answer one question: is the pooled estimate low because each coordinate is
//! heavy-tailed, or because coordinates of different scales are pooled (a Gaussian scale mixture
//! also reads as α̂ < 2)? Both need a per-coordinate scale that is not itself heavy-tailed. The
//! sample standard deviation is: for α-stable noise it is dominated by the largest of the P values,
//! so its Gaussian null inherits the heavy tail and the standardized values are bounded by √(P − 1).
//! The geometric mean of |differences| has bounded influence (one value changes ln sⱼ by at most
//! its own ln|d|/(P − 1)), every moment of ln|d| is finite for every α, and differences cancel the
//! column mean exactly (ḡ is itself heavy-tailed for α < 2, so a scale around the mean is not
//! location-free). It needs one pass and O(M) memory, where an exact median absolute deviation
//! needs all P·M values. Measured calibration (tests/it/noise_calibration.rs and the table in the
//! README): at P = 600 the null reads ≥ 1.97 on equal-scale SαS and the paper's value on a Gaussian
//! scale mixture; the standardized estimate reads α within 0.02 with or without mixed scales.
//!
//! # References
//! Mohammadi, Mohammadpour & Ogata (2015), Metrika 78 (block-sum estimator); Şimşekli, Sagun &
//! Gürbüzbalaban (2019), ICML (the protocol).

use rand::distr::Distribution;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::coordinates::{Check, CoordinateReport, CoordinateSample};
use super::spectrum::{Spectrum, SpectrumMeter};
use super::tail_index::largest_divisor_below_sqrt;
use super::{HillK, hill, mcculloch};
use crate::rng;

const EPS: f64 = f64::EPSILON;
const Z95: f64 = 1.959_963_984_540_054;
/// Coordinates per parallel tile (fixed, so results do not depend on the thread count).
const TILE: usize = 4096;

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
        self.push_with_log(x, (x.abs() + EPS).ln());
    }

    /// Adds the next sample with its ln(|x| + ε) already computed.
    #[inline]
    fn push_with_log(&mut self, x: f64, log_x: f64) {
        self.n += 1;
        self.zeros += usize::from(x == 0.0);
        self.block += x;
        self.block_log_x += log_x;
        self.in_block += 1;
        if self.in_block == self.k1 {
            self.close_block(self.block, self.block_log_x);
            self.block = 0.0;
            self.block_log_x = 0.0;
            self.in_block = 0;
        }
    }

    #[inline]
    fn close_block(&mut self, sum: f64, sum_log: f64) {
        let e = ((sum.abs() + EPS).ln() - sum_log / self.k1 as f64) / self.ln_k1;
        self.sum_e += e;
        self.sum_e2 += e * e;
        self.k2 += 1;
    }

    /// Adds the samples `xs` in order, with `log_x[i]` = ln(|xs[i]| + ε): the same result, bit for
    /// bit, as pushing them one by one, with the complete blocks summed in parallel.
    pub fn push_run(&mut self, xs: &[f64], log_x: &[f64]) {
        debug_assert_eq!(xs.len(), log_x.len());
        let mut i = 0;
        if self.in_block > 0 {
            let head = (self.k1 - self.in_block).min(xs.len());
            for j in 0..head {
                self.push_with_log(xs[j], log_x[j]);
            }
            i = head;
        }
        let full = (xs.len() - i) / self.k1;
        let end = i + full * self.k1;
        if full > 0 {
            let k1 = self.k1;
            let parts: Vec<(f64, f64, usize)> = xs[i..end]
                .par_chunks_exact(k1)
                .zip(log_x[i..end].par_chunks_exact(k1))
                .with_min_len(16)
                .map(|(bx, bl)| {
                    let (mut sum, mut sum_log, mut zeros) = (0.0, 0.0, 0usize);
                    for (x, l) in bx.iter().zip(bl) {
                        sum += x;
                        sum_log += l;
                        zeros += usize::from(*x == 0.0);
                    }
                    (sum, sum_log, zeros)
                })
                .collect();
            for (sum, sum_log, zeros) in parts {
                self.close_block(sum, sum_log);
                self.zeros += zeros;
            }
            self.n += full * k1;
        }
        for j in end..xs.len() {
            self.push_with_log(xs[j], log_x[j]);
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

/// Distribution of the per-parameter estimates across coordinates, each from the P values of one
/// coordinate (blocks of K1 minibatches). With few minibatches (K1 = 2 at P = 14) the estimate of
/// 1/α of many coordinates is ≤ 0, where no α can be read; so the quantiles are those of 1/α̂,
/// and α is read from their median.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PerParameter {
    /// Block length over minibatches.
    pub k1: usize,
    /// Coordinates with a finite estimate (constant coordinates have none).
    pub count: usize,
    /// Share of those whose estimate of 1/α is ≤ 0.
    pub nonpositive_fraction: f64,
    /// Quantiles of 1/α̂ across coordinates: 10, 25, 50, 75, 90 %.
    pub inverse_q10: f64,
    /// 25 %.
    pub inverse_q25: f64,
    /// Median of 1/α̂.
    pub inverse_q50: f64,
    /// 75 %.
    pub inverse_q75: f64,
    /// 90 %.
    pub inverse_q90: f64,
    /// 1/(median of 1/α̂), the median of α̂ where it is defined; None when that median is ≤ 0.
    pub alpha_median: Option<f64>,
}

/// Everything measured on one P × M gradient matrix.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct NoiseReport {
    /// Minibatches P.
    pub batches: usize,
    /// Minibatch size b (0 when unknown, e.g. a matrix read from a file).
    pub batch_size: usize,
    /// Parameters M.
    pub params: usize,
    /// The paper's pooled estimate over all P·M coordinates.
    pub paper: Option<StreamEstimate>,
    /// The same estimator on Gaussian noise with the measured per-coordinate scales and the same
    /// layout: ≈ 2 when all coordinates share one scale, equal to `paper` when the pooled heavy tail
    /// is only a mixture of Gaussian scales.
    pub gaussian_null: Option<f64>,
    /// The pooled estimator on Uₚⱼ/sⱼ (constant coordinates left out): the scale mixture removed.
    /// ≈ α when each coordinate is α-stable (whatever the scales), ≈ 2 for a Gaussian scale mixture.
    pub standardized: Option<StreamEstimate>,
    /// Coordinates in the standardized estimate (those that are not constant over the minibatches).
    pub standardized_params: usize,
    /// Hill (k = 1 % of the subsample) on |U|.
    pub hill: Option<f64>,
    /// McCulloch on the subsample.
    pub mcculloch: Option<f64>,
    /// Values in the Hill/McCulloch subsample (about `MeterOptions::subsample`).
    pub subsample: usize,
    /// Fraction of exact zeros in U.
    pub zero_fraction: f64,
    /// Per-layer pooled estimates.
    pub per_layer: Vec<LayerNoise>,
    /// Per-parameter estimates across minibatches.
    pub per_parameter: Option<PerParameter>,
    /// ‖Uₚ‖₂ for each minibatch.
    pub noise_norms: Vec<f64>,
    /// How the minibatches were drawn.
    pub sampling: Sampling,
    /// Iteration-wise tests on a subsample of coordinates (Gaussianity, per-coordinate α, power
    /// law) and their dimension-wise counterparts ([`crate::stats::coordinates`]).
    #[serde(flatten)]
    pub tests: CoordinateReport,
    /// The leading eigenvalues of the noise covariance ([`crate::stats::spectrum`]); absent when
    /// not asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spectrum: Option<Check<Spectrum>>,
}

/// How the rows of a measurement were drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sampling {
    /// The paper's: the P = ⌊n/b⌋ fixed contiguous minibatches of the data in its order.
    Fixed,
    /// K minibatches of b examples drawn with replacement, from a stream of (seed, checkpoint).
    Random,
    /// A matrix of minibatch gradients given by the user.
    #[default]
    Given,
}

impl Sampling {
    /// The name used in files and tables.
    pub fn name(self) -> &'static str {
        match self {
            Sampling::Fixed => "fixed",
            Sampling::Random => "random",
            Sampling::Given => "given",
        }
    }
}

/// Errors of the noise meter: misuse of the two-pass protocol or a matrix that cannot be measured.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GradientNoiseError {
    /// Fewer than two minibatches.
    #[error("need at least 2 minibatches (rows), got {0}")]
    TooFewBatches(usize),
    /// No parameters.
    #[error("need at least 1 parameter (column), got 0")]
    NoParams,
    /// Layer sizes that do not add up to the number of parameters.
    #[error("layer sizes add up to {sum}, but a row has {params} parameters")]
    Layers {
        /// Sum of the layer sizes.
        sum: usize,
        /// Parameters M.
        params: usize,
    },
    /// A row of the wrong length.
    #[error("row {row} has {got} values, expected {expected}")]
    RowLength {
        /// 0-based row.
        row: usize,
        /// Its length.
        got: usize,
        /// M.
        expected: usize,
    },
    /// A NaN or infinite gradient value.
    #[error("row {row}, column {column}: gradient value is not finite ({value})")]
    NonFinite {
        /// 0-based row.
        row: usize,
        /// 0-based column.
        column: usize,
        /// The value.
        value: f64,
    },
    /// Rows fed out of protocol order.
    #[error("{0}")]
    Protocol(&'static str),
}

/// Options of a measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct MeterOptions {
    /// Layer sizes (in coordinate order; empty = one layer of all M parameters).
    pub layers: Vec<usize>,
    /// Expected size of the uniform subsample for Hill and McCulloch.
    pub subsample: usize,
    /// Seed of the subsample and of the Gaussian-null draws.
    pub seed: u64,
    /// Minibatch size, reported only.
    pub batch_size: usize,
    /// How the rows were drawn, reported only.
    pub sampling: Sampling,
    /// Coordinates for the iteration-wise tests (0: none).
    pub coordinates: usize,
    /// Bootstrap replicates of each power-law test.
    pub bootstrap: usize,
    /// Leading covariance eigenvalues to compute (0: none).
    pub spectrum: usize,
    /// Subspace-iteration passes for them (the first runs with pass 2; each further one is a
    /// stream of the rows through [`NoiseMeter::add_spectrum`]).
    pub spectrum_passes: usize,
}

/// Default number of coordinates of the iteration-wise tests.
pub const DEFAULT_COORDINATES: usize = 2000;
/// Default bootstrap replicates of a power-law test.
pub const DEFAULT_BOOTSTRAP: usize = 100;
/// Default subspace-iteration passes of the spectrum.
pub const DEFAULT_SPECTRUM_PASSES: usize = 4;

impl Default for MeterOptions {
    fn default() -> Self {
        MeterOptions {
            layers: Vec::new(),
            subsample: 1_000_000,
            seed: 0,
            batch_size: 0,
            sampling: Sampling::Given,
            coordinates: DEFAULT_COORDINATES,
            bootstrap: DEFAULT_BOOTSTRAP,
            spectrum: 0,
            spectrum_passes: DEFAULT_SPECTRUM_PASSES,
        }
    }
}

/// The two-pass streaming noise meter (see the module documentation).
#[derive(Clone, Debug)]
pub struct NoiseMeter {
    /// P, once known: given to [`NoiseMeter::new`], or counted by pass 1 of [`NoiseMeter::open`].
    p: usize,
    p_known: bool,
    m: usize,
    opts: MeterOptions,
    ranges: Vec<std::ops::Range<usize>>,
    // Pass 1.
    rows_mean: usize,
    sum: Vec<f64>,
    prev: Vec<f64>,
    log_diff: Vec<f64>,
    nonzero_diff: Vec<u32>,
    // Pass 2.
    rows: usize,
    gbar: Vec<f64>,
    inv_scale: Vec<f64>,
    live: Vec<usize>,
    pooled: Option<BlockStream>,
    standardized: Option<BlockStream>,
    layers: Vec<Option<BlockStream>>,
    kp: usize,
    pblock: Vec<f64>,
    plogx: Vec<f64>,
    plogy: Vec<f64>,
    zeros: usize,
    norms: Vec<f64>,
    subsample: Vec<f64>,
    keep_key: u64,
    keep_below: Option<u64>,
    // Row buffers: U, ln(|U| + ε), and the same for the standardized coordinates.
    u: Vec<f64>,
    log_u: Vec<f64>,
    su: Vec<f64>,
    log_su: Vec<f64>,
    // Iteration-wise tests and the covariance spectrum.
    coords: Option<CoordinateSample>,
    spectrum: Option<SpectrumMeter>,
    spectrum_rows: usize,
}

impl NoiseMeter {
    /// A meter for `batches` rows of `params` coordinates.
    pub fn new(
        batches: usize,
        params: usize,
        opts: MeterOptions,
    ) -> Result<Self, GradientNoiseError> {
        if batches < 2 {
            return Err(GradientNoiseError::TooFewBatches(batches));
        }
        Self::build(Some(batches), params, opts)
    }

    /// A meter for rows of `params` coordinates whose number P is not known in advance: it is the
    /// number of rows pass 1 ([`Self::add_mean`]) saw when pass 2 ([`Self::add`]) begins. The
    /// report is the same as that of [`Self::new`] with that P.
    pub fn open(params: usize, opts: MeterOptions) -> Result<Self, GradientNoiseError> {
        Self::build(None, params, opts)
    }

    fn build(
        batches: Option<usize>,
        params: usize,
        opts: MeterOptions,
    ) -> Result<Self, GradientNoiseError> {
        if params == 0 {
            return Err(GradientNoiseError::NoParams);
        }
        let sizes = if opts.layers.is_empty() {
            vec![params]
        } else {
            opts.layers.clone()
        };
        let sum: usize = sizes.iter().sum();
        if sum != params {
            return Err(GradientNoiseError::Layers { sum, params });
        }
        let mut ranges = Vec::with_capacity(sizes.len());
        let mut start = 0;
        for s in sizes {
            ranges.push(start..start + s);
            start += s;
        }
        let mut meter = NoiseMeter {
            p: 0,
            p_known: false,
            m: params,
            ranges,
            rows_mean: 0,
            sum: vec![0.0; params],
            prev: vec![0.0; params],
            log_diff: vec![0.0; params],
            nonzero_diff: vec![0; params],
            rows: 0,
            gbar: Vec::new(),
            inv_scale: Vec::new(),
            live: Vec::new(),
            pooled: None,
            standardized: None,
            layers: Vec::new(),
            kp: 0,
            pblock: vec![0.0; params],
            plogx: vec![0.0; params],
            plogy: vec![0.0; params],
            zeros: 0,
            norms: Vec::new(),
            subsample: Vec::new(),
            keep_key: rng::mix64(opts.seed ^ rng::domain::NOISE_METER_KEEP),
            keep_below: None,
            u: Vec::new(),
            log_u: Vec::new(),
            su: Vec::new(),
            log_su: Vec::new(),
            coords: None,
            spectrum: None,
            spectrum_rows: 0,
            opts,
        };
        if meter.opts.coordinates > 0 {
            meter.coords = Some(CoordinateSample::choose(
                &meter.ranges,
                meter.opts.coordinates,
                meter.opts.seed,
            ));
        }
        if let Some(p) = batches {
            meter.set_batches(p);
        }
        Ok(meter)
    }

    /// Fixes P and what depends on it: the per-parameter block length and the subsample rate.
    fn set_batches(&mut self, batches: usize) {
        self.p = batches;
        self.p_known = true;
        self.kp = largest_divisor_below_sqrt(batches);
        let n = batches.saturating_mul(self.m);
        let cap = self.opts.subsample.max(1);
        // Keep each coordinate with probability cap/N (all of them when N ≤ cap).
        self.keep_below = (n > cap).then(|| ((cap as f64 / n as f64) * 2f64.powi(64)) as u64);
        self.norms = Vec::with_capacity(batches);
    }

    /// Minibatches P (for an open meter, 0 until pass 2 begins).
    pub fn batches(&self) -> usize {
        self.p
    }

    /// Parameters M.
    pub fn params(&self) -> usize {
        self.m
    }

    fn check_row<T: Copy + Into<f64> + Sync>(
        &self,
        row: usize,
        g: &[T],
    ) -> Result<(), GradientNoiseError> {
        if g.len() != self.m {
            return Err(GradientNoiseError::RowLength {
                row,
                got: g.len(),
                expected: self.m,
            });
        }
        let bad = g
            .par_chunks(TILE)
            .enumerate()
            .find_first(|(_, c)| c.iter().any(|&v| !v.into().is_finite()));
        if let Some((t, c)) = bad {
            let (i, v) = c
                .iter()
                .map(|&v| v.into())
                .enumerate()
                .find(|(_, v): &(usize, f64)| !v.is_finite())
                .unwrap_or((0, f64::NAN));
            return Err(GradientNoiseError::NonFinite {
                row,
                column: t * TILE + i,
                value: v,
            });
        }
        Ok(())
    }

    /// Pass 1: the next minibatch gradient (rows in order, all P of them before any [`Self::add`]).
    pub fn add_mean<T: Copy + Into<f64> + Sync>(
        &mut self,
        g: &[T],
    ) -> Result<(), GradientNoiseError> {
        if self.p_known && self.rows_mean == self.p {
            return Err(GradientNoiseError::Protocol(
                "add_mean called more often than there are minibatches",
            ));
        }
        self.check_row(self.rows_mean, g)?;
        let first = self.rows_mean == 0;
        self.sum
            .par_chunks_mut(TILE)
            .zip(self.prev.par_chunks_mut(TILE))
            .zip(self.log_diff.par_chunks_mut(TILE))
            .zip(self.nonzero_diff.par_chunks_mut(TILE))
            .zip(g.par_chunks(TILE))
            .for_each(|((((sum, prev), log_diff), nonzero), g)| {
                for j in 0..g.len() {
                    let v: f64 = g[j].into();
                    sum[j] += v;
                    if !first {
                        let d = (v - prev[j]).abs();
                        if d > 0.0 {
                            log_diff[j] += d.ln();
                            nonzero[j] += 1;
                        }
                    }
                    prev[j] = v;
                }
            });
        if let Some(c) = self.coords.as_mut() {
            c.push_row(g);
        }
        self.rows_mean += 1;
        if self.p_known && self.rows_mean == self.p {
            self.start_pass_two();
        }
        Ok(())
    }

    fn start_pass_two(&mut self) {
        let p = self.p as f64;
        self.gbar = self.sum.iter().map(|s| s / p).collect();
        self.inv_scale = self
            .log_diff
            .iter()
            .zip(&self.nonzero_diff)
            .map(|(l, &c)| {
                if c == 0 {
                    0.0
                } else {
                    (-l / f64::from(c)).exp()
                }
            })
            .collect();
        self.live = (0..self.m).filter(|&j| self.inv_scale[j] > 0.0).collect();
        self.pooled = BlockStream::new(self.p * self.m);
        self.standardized = BlockStream::new(self.p * self.live.len());
        self.u = vec![0.0; self.m];
        self.log_u = vec![0.0; self.m];
        self.su = vec![0.0; self.live.len()];
        self.log_su = vec![0.0; self.live.len()];
        self.layers = self
            .ranges
            .iter()
            .map(|r| BlockStream::new(self.p * r.len()))
            .collect();
        if self.opts.spectrum > 0 {
            self.spectrum = Some(SpectrumMeter::new(
                self.m,
                self.opts.spectrum,
                self.opts.spectrum_passes,
                self.opts.seed,
            ));
        }
        // Pass-1 buffers are no longer needed.
        self.sum = Vec::new();
        self.prev = Vec::new();
        self.log_diff = Vec::new();
        self.nonzero_diff = Vec::new();
    }

    /// Pass 2: the same minibatch gradient again, in the same order as in pass 1.
    pub fn add<T: Copy + Into<f64> + Sync>(&mut self, g: &[T]) -> Result<(), GradientNoiseError> {
        if !self.p_known {
            // An open meter: pass 1 is over, and P is the number of rows it saw.
            if self.rows_mean < 2 {
                return Err(GradientNoiseError::TooFewBatches(self.rows_mean));
            }
            self.set_batches(self.rows_mean);
            self.start_pass_two();
        }
        if self.rows_mean < self.p {
            return Err(GradientNoiseError::Protocol(
                "add called before add_mean saw every minibatch",
            ));
        }
        if self.rows == self.p {
            return Err(GradientNoiseError::Protocol(
                "add called more often than there are minibatches",
            ));
        }
        self.check_row(self.rows, g)?;
        let per_param = self.kp >= 2;
        let close_block = per_param && (self.rows + 1).is_multiple_of(self.kp);
        let row_start = self.rows * self.m;
        let (key, keep_below) = (self.keep_key, self.keep_below);
        let gbar = &self.gbar;
        // Column-local work in parallel over fixed tiles; per-tile partial sums combined in order.
        let tiles: Vec<(f64, usize, Vec<f64>)> = self
            .u
            .par_chunks_mut(TILE)
            .zip(self.log_u.par_chunks_mut(TILE))
            .zip(self.pblock.par_chunks_mut(TILE))
            .zip(self.plogx.par_chunks_mut(TILE))
            .zip(self.plogy.par_chunks_mut(TILE))
            .enumerate()
            .map(|(t, ((((u, log_u), pb), px), py))| {
                let base = t * TILE;
                let (mut sq, mut zeros, mut kept) = (0.0, 0usize, Vec::new());
                for i in 0..u.len() {
                    let j = base + i;
                    let v = g[j].into() - gbar[j];
                    let lv = (v.abs() + EPS).ln();
                    u[i] = v;
                    log_u[i] = lv;
                    sq += v * v;
                    zeros += usize::from(v == 0.0);
                    if per_param {
                        pb[i] += v;
                        px[i] += lv;
                        if close_block {
                            py[i] += (pb[i].abs() + EPS).ln();
                            pb[i] = 0.0;
                        }
                    }
                    let keep =
                        keep_below.is_none_or(|b| rng::mix64(key ^ (row_start + j) as u64) < b);
                    if keep {
                        kept.push(v);
                    }
                }
                (sq, zeros, kept)
            })
            .collect();
        let mut sq = 0.0;
        for (s, z, kept) in tiles {
            sq += s;
            self.zeros += z;
            self.subsample.extend(kept);
        }
        {
            let (u, w, live) = (&self.u, &self.inv_scale, &self.live);
            self.su
                .par_chunks_mut(TILE)
                .zip(self.log_su.par_chunks_mut(TILE))
                .enumerate()
                .for_each(|(t, (su, lsu))| {
                    for i in 0..su.len() {
                        let j = live[t * TILE + i];
                        let v = u[j] * w[j];
                        su[i] = v;
                        lsu[i] = (v.abs() + EPS).ln();
                    }
                });
        }
        if let Some(s) = self.pooled.as_mut() {
            s.push_run(&self.u, &self.log_u);
        }
        for (range, s) in self.ranges.iter().zip(self.layers.iter_mut()) {
            if let Some(s) = s.as_mut() {
                s.push_run(&self.u[range.clone()], &self.log_u[range.clone()]);
            }
        }
        if let Some(s) = self.standardized.as_mut() {
            s.push_run(&self.su, &self.log_su);
        }
        self.norms.push(sq.sqrt());
        self.rows += 1;
        if let Some(sp) = self.spectrum.as_mut() {
            sp.add(&self.u);
            if self.rows == self.p {
                sp.end_pass();
            }
        }
        Ok(())
    }

    /// Streams of the rows still needed by the covariance spectrum after pass 2 (0 when none was
    /// asked for, or when it is complete).
    pub fn spectrum_passes_left(&self) -> usize {
        self.spectrum.as_ref().map_or(0, SpectrumMeter::passes_left)
    }

    /// Pass 3 and later: the same minibatch gradients again, in the same order, once per
    /// remaining spectrum pass ([`Self::spectrum_passes_left`]).
    pub fn add_spectrum<T: Copy + Into<f64> + Sync>(
        &mut self,
        g: &[T],
    ) -> Result<(), GradientNoiseError> {
        if !self.p_known || self.rows < self.p || self.spectrum_passes_left() == 0 {
            return Err(GradientNoiseError::Protocol(
                "add_spectrum called before pass 2 ended or after the spectrum was complete",
            ));
        }
        self.check_row(self.spectrum_rows, g)?;
        let gbar = &self.gbar;
        self.u
            .par_chunks_mut(TILE)
            .zip(g.par_chunks(TILE))
            .enumerate()
            .for_each(|(t, (u, g))| {
                for i in 0..u.len() {
                    u[i] = g[i].into() - gbar[t * TILE + i];
                }
            });
        self.spectrum_rows += 1;
        if let Some(sp) = self.spectrum.as_mut() {
            sp.add(&self.u);
            if self.spectrum_rows == self.p {
                sp.end_pass();
                self.spectrum_rows = 0;
            }
        }
        Ok(())
    }

    /// The report, once both passes saw every minibatch.
    pub fn result(self) -> Result<NoiseReport, GradientNoiseError> {
        if !self.p_known || self.rows < self.p {
            return Err(GradientNoiseError::Protocol(
                "result asked before add saw every minibatch",
            ));
        }
        if self.spectrum_passes_left() > 0 {
            return Err(GradientNoiseError::Protocol(
                "result asked before add_spectrum streamed every spectrum pass",
            ));
        }
        let (p, m) = (self.p, self.m);
        // The Gaussian null: Z·sⱼ in the same layout (constant coordinates stay exact zeros). Row p
        // draws from its own stream, so rows are generated in parallel and fed in order.
        let null = BlockStream::new(p * m).map(|mut s| {
            let window = 2 * rayon::current_num_threads().max(1);
            let seed = self.opts.seed;
            let inv_scale = &self.inv_scale;
            for start in (0..p).step_by(window) {
                let rows: Vec<(Vec<f64>, Vec<f64>)> = (start..(start + window).min(p))
                    .into_par_iter()
                    .map(|row| {
                        let mut r =
                            rng::aux_stream(seed, rng::domain::NOISE_METER_ROWS, row as u64);
                        let xs: Vec<f64> = inv_scale
                            .iter()
                            .map(|&w| {
                                if w > 0.0 {
                                    let z: f64 = StandardNormal.sample(&mut r);
                                    z / w
                                } else {
                                    0.0
                                }
                            })
                            .collect();
                        let logs = xs.iter().map(|x| (x.abs() + EPS).ln()).collect();
                        (xs, logs)
                    })
                    .collect();
                for (xs, logs) in rows {
                    s.push_run(&xs, &logs);
                }
            }
            s.finish().alpha
        });
        let per_parameter = (self.kp >= 2).then(|| {
            let k2 = (p / self.kp) as f64;
            let lp = (self.kp as f64).ln();
            let mut inv: Vec<f64> = (0..m)
                .filter(|&j| self.inv_scale[j] > 0.0)
                .map(|j| (self.plogy[j] / k2 - self.plogx[j] / p as f64) / lp)
                .filter(|v| v.is_finite())
                .collect();
            inv.sort_unstable_by(f64::total_cmp);
            let q = |f: f64| {
                if inv.is_empty() {
                    f64::NAN
                } else {
                    inv[((inv.len() - 1) as f64 * f).round() as usize]
                }
            };
            let nonpositive = inv.iter().filter(|&&v| v <= 0.0).count();
            PerParameter {
                k1: self.kp,
                count: inv.len(),
                nonpositive_fraction: nonpositive as f64 / inv.len().max(1) as f64,
                inverse_q10: q(0.1),
                inverse_q25: q(0.25),
                inverse_q50: q(0.5),
                inverse_q75: q(0.75),
                inverse_q90: q(0.9),
                alpha_median: (q(0.5) > 0.0).then(|| 1.0 / q(0.5)),
            }
        });
        let hill_a = hill(&self.subsample, &HillK::Fraction(0.01))
            .ok()
            .map(|h| h.alpha);
        let mc = mcculloch::fit(&self.subsample).ok().map(|e| e.alpha);
        let tests = match &self.coords {
            Some(c) => c.analyze(&self.subsample, self.opts.bootstrap, self.opts.seed),
            None => CoordinateReport::skipped("not asked for (coordinates = 0)"),
        };
        let spectrum = self.spectrum.as_ref().map(|s| {
            s.result()
                .map_or_else(|| Check::skipped("incomplete"), Check::Done)
        });
        Ok(NoiseReport {
            batches: p,
            batch_size: self.opts.batch_size,
            params: m,
            paper: self.pooled.map(|s| s.finish()),
            gaussian_null: null,
            standardized: self.standardized.map(|s| s.finish()),
            standardized_params: self.live.len(),
            hill: hill_a,
            mcculloch: mc,
            subsample: self.subsample.len(),
            zero_fraction: self.zeros as f64 / (p * m) as f64,
            per_layer: self
                .ranges
                .iter()
                .zip(self.layers)
                .enumerate()
                .map(|(l, (rg, s))| LayerNoise {
                    layer: l + 1,
                    params: rg.len(),
                    estimate: s.map(|s| s.finish()),
                })
                .collect(),
            per_parameter,
            noise_norms: self.norms,
            sampling: self.opts.sampling,
            tests,
            spectrum,
        })
    }
}

/// The noise report of an explicit row-major P × M matrix of minibatch gradients (rows =
/// minibatches; column means are subtracted as in the paper).
pub fn analyze_matrix<T: Copy + Into<f64> + Sync>(
    values: &[T],
    batches: usize,
    opts: MeterOptions,
) -> Result<NoiseReport, GradientNoiseError> {
    if batches == 0 {
        return Err(GradientNoiseError::TooFewBatches(0));
    }
    let params = values.len() / batches;
    if params * batches != values.len() {
        return Err(GradientNoiseError::RowLength {
            row: 0,
            got: values.len(),
            expected: params * batches,
        });
    }
    let mut meter = NoiseMeter::new(batches, params, opts)?;
    for row in values.chunks_exact(params) {
        meter.add_mean(row)?;
    }
    for row in values.chunks_exact(params) {
        meter.add(row)?;
    }
    while meter.spectrum_passes_left() > 0 {
        for row in values.chunks_exact(params) {
            meter.add_spectrum(row)?;
        }
    }
    meter.result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::block_sum;
    use rand::RngExt;

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

    #[test]
    fn protocol_misuse_and_bad_rows_are_refused() {
        let opts = MeterOptions::default;
        assert_eq!(
            NoiseMeter::new(1, 3, opts()).unwrap_err(),
            GradientNoiseError::TooFewBatches(1)
        );
        let layered = MeterOptions {
            layers: vec![2, 2],
            ..opts()
        };
        assert_eq!(
            NoiseMeter::new(4, 3, layered).unwrap_err(),
            GradientNoiseError::Layers { sum: 4, params: 3 }
        );
        let mut m = NoiseMeter::new(2, 3, opts()).unwrap();
        assert!(matches!(
            m.add(&[1.0, 2.0, 3.0]),
            Err(GradientNoiseError::Protocol(_))
        ));
        assert!(matches!(
            m.add_mean(&[1.0, 2.0]),
            Err(GradientNoiseError::RowLength { row: 0, got: 2, .. })
        ));
        assert!(matches!(
            m.add_mean(&[1.0, f64::NAN, 3.0]),
            Err(GradientNoiseError::NonFinite {
                row: 0,
                column: 1,
                ..
            })
        ));
        m.add_mean(&[1.0, 2.0, 3.0]).unwrap();
        m.add_mean(&[1.0, 2.5, 3.0]).unwrap();
        assert!(matches!(
            m.add_mean(&[1.0, 2.0, 3.0]),
            Err(GradientNoiseError::Protocol(_))
        ));
        m.add(&[1.0, 2.0, 3.0]).unwrap();
        let early = m.clone().result();
        assert!(matches!(early, Err(GradientNoiseError::Protocol(_))));
        m.add(&[1.0, 2.5, 3.0]).unwrap();
        let r = m.result().unwrap();
        // Columns 0 and 2 are constant: left out of the standardized estimate.
        assert_eq!(r.standardized_params, 1);
    }

    #[test]
    fn scale_is_the_geometric_mean_of_consecutive_differences() {
        // Column 0: differences 1, 4 → scale 2; column 1: constant → no scale.
        let mut m = NoiseMeter::new(3, 2, MeterOptions::default()).unwrap();
        for row in [[0.0, 5.0], [1.0, 5.0], [-3.0, 5.0]] {
            m.add_mean(&row).unwrap();
        }
        assert!((m.inv_scale[0] - 0.5).abs() < 1e-15);
        assert_eq!(m.inv_scale[1], 0.0);
        assert!((m.gbar[0] + 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn runs_of_samples_equal_one_by_one_pushes_bit_for_bit() {
        let mut r = rng::stream(3, 0);
        let xs: Vec<f64> = (0..50_000)
            .map(|i| {
                if i % 97 == 0 {
                    0.0
                } else {
                    r.random::<f64>() - 0.5
                }
            })
            .collect();
        let logs: Vec<f64> = xs.iter().map(|x| (x.abs() + EPS).ln()).collect();
        let mut one = BlockStream::new(xs.len()).unwrap();
        xs.iter().for_each(|&x| one.push(x));
        let mut runs = BlockStream::new(xs.len()).unwrap();
        // Runs of awkward lengths, so that blocks straddle run boundaries.
        let mut at = 0;
        for len in [1, 7, 223, 5000, 17, 44_752] {
            runs.push_run(&xs[at..at + len], &logs[at..at + len]);
            at += len;
        }
        assert_eq!(at, xs.len());
        let (a, b) = (one.finish(), runs.finish());
        assert_eq!(a.alpha.to_bits(), b.alpha.to_bits());
        assert_eq!(
            (a.ci_low.to_bits(), a.k2, a.zero_fraction),
            (b.ci_low.to_bits(), b.k2, b.zero_fraction)
        );
    }

    #[test]
    fn the_report_does_not_depend_on_the_thread_count() {
        let mut r = rng::stream(8, 0);
        let (p, m) = (36, 9000);
        let x: Vec<f64> = (0..p * m)
            .map(|_| (r.random::<f64>() - 0.5).powi(3))
            .collect();
        let opts = || MeterOptions {
            layers: vec![4000, 5000],
            subsample: 50_000,
            seed: 4,
            spectrum: 4,
            ..MeterOptions::default()
        };
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| analyze_matrix(&x, p, opts()).unwrap())
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert!(
            a.subsample > 40_000 && a.subsample < 60_000,
            "{}",
            a.subsample
        );
    }

    #[test]
    fn an_open_meter_counts_p_and_reports_what_a_sized_one_does() {
        let mut r = rng::stream(9, 0);
        let (p, m) = (20, 700);
        let x: Vec<f32> = (0..p * m)
            .map(|_| (r.random::<f32>() - 0.5).powi(3))
            .collect();
        let opts = || MeterOptions {
            layers: vec![300, 400],
            subsample: 5000,
            seed: 2,
            ..MeterOptions::default()
        };
        let mut sized = NoiseMeter::new(p, m, opts()).unwrap();
        let mut open = NoiseMeter::open(m, opts()).unwrap();
        for meter in [&mut sized, &mut open] {
            for row in x.chunks(m) {
                meter.add_mean(row).unwrap();
            }
            for row in x.chunks(m) {
                meter.add(row).unwrap();
            }
        }
        assert_eq!(open.batches(), p);
        assert_eq!(
            format!("{:?}", sized.result()),
            format!("{:?}", open.result())
        );
        // One row is not a measurement; a result before pass 2 is refused.
        let mut one = NoiseMeter::open(m, opts()).unwrap();
        one.add_mean(&x[..m]).unwrap();
        assert!(matches!(
            one.add(&x[..m]),
            Err(GradientNoiseError::TooFewBatches(1))
        ));
        let mut early = NoiseMeter::open(m, opts()).unwrap();
        early.add_mean(&x[..m]).unwrap();
        assert!(early.result().is_err());
    }
}
