//! Gradient-noise measurement of a network at a checkpoint.
//!
//! Two ways to draw the minibatches ([`Sampling`]):
//! * **fixed** (the paper's protocol): the data set in its fixed order is cut into P = ⌊n/b⌋
//!   contiguous minibatches (a short final batch is left out);
//! * **random** (iteration-wise, as Panigrahi et al. 2019 and Xie et al. 2023 measure): K minibatches
//!   of b examples drawn uniformly with replacement; minibatch p of a checkpoint draws its examples
//!   from the stream (seed, checkpoint, p), so every pass sees the same minibatches.
//!
//! gₚ is the gradient of minibatch p, ḡ their mean and Uₚ = gₚ − ḡ. The gradients are computed
//! in parallel windows of minibatches and fed in minibatch order to the passes of [`NoiseMeter`]
//! (two, plus one per further covariance-spectrum pass; see [`crate::stats::gradient_noise`]): the
//! report is the same for any number of threads, and memory is O(parameters + coordinates × K),
//! never O(minibatches × parameters).

use rand::RngExt;
use rayon::prelude::*;

use super::mlp::{Loss, Workspace};
use super::model::Model;
use crate::rng;
pub use crate::stats::gradient_noise::{
    BlockStream, DEFAULT_BOOTSTRAP, DEFAULT_COORDINATES, DEFAULT_SPECTRUM_PASSES, LayerNoise,
    MeterOptions, NoiseMeter, NoiseReport, PerParameter, Sampling, StreamEstimate,
};

/// Which minibatch sets a checkpoint measures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SamplingPlan {
    /// The paper's fixed minibatches only.
    #[default]
    Fixed,
    /// K random minibatches only.
    Random,
    /// Both, at the same checkpoint.
    Both,
}

impl SamplingPlan {
    /// Whether the fixed minibatches are measured.
    pub fn fixed(self) -> bool {
        matches!(self, SamplingPlan::Fixed | SamplingPlan::Both)
    }
    /// Whether random minibatches are measured.
    pub fn random(self) -> bool {
        matches!(self, SamplingPlan::Random | SamplingPlan::Both)
    }
}

/// What a measurement computes beyond the paper's estimate (the `[noise]` keys of a training file).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoiseTests {
    /// Which minibatches.
    pub sampling: SamplingPlan,
    /// K, the number of random minibatches.
    pub minibatches: usize,
    /// Coordinates of the iteration-wise tests (0: none); capped at the network's parameters
    /// unless [`Self::coordinates_given`].
    pub coordinates: usize,
    /// Whether `coordinates` was set in the file (then more than the network has is an error).
    pub coordinates_given: bool,
    /// Bootstrap replicates of each power-law test.
    pub bootstrap: usize,
    /// Leading covariance eigenvalues (0: none).
    pub spectrum: usize,
    /// Subspace-iteration passes of the spectrum.
    pub spectrum_passes: usize,
}

/// Default K of random sampling.
pub const DEFAULT_MINIBATCHES: usize = 1000;

impl Default for NoiseTests {
    fn default() -> Self {
        NoiseTests {
            sampling: SamplingPlan::Fixed,
            minibatches: DEFAULT_MINIBATCHES,
            coordinates: DEFAULT_COORDINATES,
            coordinates_given: false,
            bootstrap: DEFAULT_BOOTSTRAP,
            spectrum: 0,
            spectrum_passes: DEFAULT_SPECTRUM_PASSES,
        }
    }
}

/// The examples of each minibatch of a measurement.
#[derive(Clone, Copy, Debug)]
enum Batches {
    /// Contiguous minibatch p = examples p·b … (p + 1)·b.
    Fixed,
    /// Minibatch p drawn with replacement from the stream (key, p).
    Random(u64),
}

/// Gradients of minibatches `range`, computed in parallel with dropout off.
#[allow(clippy::too_many_arguments)]
fn batch_grads(
    net: &Model,
    x: &[f32],
    y: &[u8],
    b: usize,
    batches: Batches,
    range: std::ops::Range<usize>,
    loss: Loss,
) -> Vec<Vec<f32>> {
    let dim = net.input_len();
    let n = y.len();
    range
        .into_par_iter()
        .map_init(
            || (Workspace::default(), Vec::new(), Vec::new()),
            |(ws, xb, yb), p| {
                let mut g = vec![0f32; net.n_params()];
                let (bx, by): (&[f32], &[u8]) = match batches {
                    Batches::Fixed => (&x[p * b * dim..(p + 1) * b * dim], &y[p * b..(p + 1) * b]),
                    Batches::Random(key) => {
                        let mut r = rng::aux_stream(key, rng::domain::RANDOM_MINIBATCHES, p as u64);
                        xb.clear();
                        yb.clear();
                        for _ in 0..b {
                            let i = r.random_range(0..n);
                            xb.extend_from_slice(&x[i * dim..(i + 1) * dim]);
                            yb.push(y[i]);
                        }
                        (xb.as_slice(), yb.as_slice())
                    }
                };
                net.loss_grad(bx, by, loss, ws, &mut g, None);
                g
            },
        )
        .collect()
}

/// Streams the `count` minibatch gradients through every pass of a meter.
#[allow(clippy::too_many_arguments)]
fn run_meter(
    net: &Model,
    x: &[f32],
    y: &[u8],
    b: usize,
    batches: Batches,
    count: usize,
    loss: Loss,
    opts: MeterOptions,
) -> Option<NoiseReport> {
    let mut meter = NoiseMeter::new(count, net.n_params(), opts).ok()?;
    let window = 2 * rayon::current_num_threads().max(1);
    let mut pass = 0;
    loop {
        if pass >= 2 && meter.spectrum_passes_left() == 0 {
            break;
        }
        for start in (0..count).step_by(window) {
            let range = start..(start + window).min(count);
            for g in batch_grads(net, x, y, b, batches, range, loss) {
                match pass {
                    0 => meter.add_mean(&g).ok()?,
                    1 => meter.add(&g).ok()?,
                    _ => meter.add_spectrum(&g).ok()?,
                }
            }
        }
        pass += 1;
    }
    meter.result().ok()
}

fn options(net: &Model, b: usize, subsample: usize, seed: u64, tests: &NoiseTests) -> MeterOptions {
    MeterOptions {
        layers: net.layer_ranges().iter().map(|r| r.len()).collect(),
        subsample,
        seed,
        batch_size: b,
        sampling: Sampling::Fixed,
        coordinates: tests.coordinates.min(net.n_params()),
        bootstrap: tests.bootstrap,
        spectrum: tests.spectrum,
        spectrum_passes: tests.spectrum_passes,
    }
}

/// Measures the gradient noise of `net` on (x, y) over the paper's fixed minibatches of `b`, with
/// the default tests. Returns `None` if there are fewer than 2 minibatches or a gradient is not
/// finite.
pub fn measure(
    net: &Model,
    x: &[f32],
    y: &[u8],
    b: usize,
    loss: Loss,
    subsample: usize,
    seed: u64,
) -> Option<NoiseReport> {
    measure_fixed(net, x, y, b, loss, subsample, seed, &NoiseTests::default())
}

/// [`measure`] with the given tests.
#[allow(clippy::too_many_arguments)]
pub fn measure_fixed(
    net: &Model,
    x: &[f32],
    y: &[u8],
    b: usize,
    loss: Loss,
    subsample: usize,
    seed: u64,
    tests: &NoiseTests,
) -> Option<NoiseReport> {
    let count = y.len() / b.max(1);
    let opts = options(net, b, subsample, seed, tests);
    run_meter(net, x, y, b, Batches::Fixed, count, loss, opts)
}

/// Measures the gradient noise over `tests.minibatches` random minibatches of `b` examples drawn
/// with replacement; `key` (a function of the run's seed and the checkpoint) names their stream.
#[allow(clippy::too_many_arguments)]
pub fn measure_random(
    net: &Model,
    x: &[f32],
    y: &[u8],
    b: usize,
    loss: Loss,
    subsample: usize,
    key: u64,
    tests: &NoiseTests,
) -> Option<NoiseReport> {
    if y.is_empty() {
        return None;
    }
    let opts = MeterOptions {
        sampling: Sampling::Random,
        ..options(net, b, subsample, key, tests)
    };
    run_meter(
        net,
        x,
        y,
        b,
        Batches::Random(key),
        tests.minibatches,
        loss,
        opts,
    )
}
