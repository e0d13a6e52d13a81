//! Gradient-noise measurement of a network at a checkpoint (the paper's protocol).
//!
//! The data set (in its fixed order) is cut into P = ⌊n/b⌋ contiguous minibatches (a short final
//! batch is left out of the measurement); gₚ is the gradient of minibatch p, ḡ = mean of the gₚ and
//! Uₚ = gₚ − ḡ. The gradients are computed twice, in parallel windows of minibatches, and fed in
//! minibatch order to the two passes of [`NoiseMeter`] (see [`crate::stats::gradient_noise`] for
//! what each pass measures): the report is the same for any number of threads, and memory is
//! O(parameters), not O(minibatches × parameters).

use rayon::prelude::*;

use super::mlp::{Loss, Workspace};
use super::model::Model;
pub use crate::stats::gradient_noise::{
    BlockStream, LayerNoise, MeterOptions, NoiseMeter, NoiseReport, PerParameter, StreamEstimate,
};

/// Gradients of minibatches `range` of (x, y) (contiguous, size b), computed in parallel with
/// dropout off.
fn batch_grads(
    net: &Model,
    x: &[f32],
    y: &[u8],
    b: usize,
    range: std::ops::Range<usize>,
    loss: Loss,
) -> Vec<Vec<f32>> {
    let dim = net.input_len();
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
                None,
            );
            g
        })
        .collect()
}

/// Measures the gradient noise of `net` on (x, y) with minibatches of `b`. Returns `None` if there
/// are fewer than 2 minibatches or a gradient is not finite.
pub fn measure(
    net: &Model,
    x: &[f32],
    y: &[u8],
    b: usize,
    loss: Loss,
    subsample: usize,
    seed: u64,
) -> Option<NoiseReport> {
    let p_count = y.len() / b.max(1);
    let opts = MeterOptions {
        layers: net.layer_ranges().iter().map(|r| r.len()).collect(),
        subsample,
        seed,
        batch_size: b,
    };
    let mut meter = NoiseMeter::new(p_count, net.n_params(), opts).ok()?;
    let window = 2 * rayon::current_num_threads().max(1);
    for pass in 0..2 {
        for start in (0..p_count).step_by(window) {
            for g in batch_grads(net, x, y, b, start..(start + window).min(p_count), loss) {
                if pass == 0 {
                    meter.add_mean(&g).ok()?;
                } else {
                    meter.add(&g).ok()?;
                }
            }
        }
    }
    meter.result().ok()
}
