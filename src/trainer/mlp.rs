//! The paper's fully connected network: linear layers (bias-free by default) with ReLU between them,
//! trained in f32 with hand-written forward and backward passes on [`super::gemm`].

use rand::RngExt;

use super::gemm::{add_bias, bias_grad, relu_mask, sgd_step, sgemm};
use crate::rng;

/// Training loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// Softmax cross-entropy, mean over the batch (the default).
    #[default]
    CrossEntropy,
    /// One-vs-all linear hinge: mean over batch × classes of max(0, 1 − t_c·o_c), t = ±1.
    Hinge,
}

impl Loss {
    /// Name as in config files.
    pub fn name(self) -> &'static str {
        match self {
            Loss::CrossEntropy => "cross-entropy",
            Loss::Hinge => "hinge",
        }
    }
}

/// A fully connected ReLU network. `depth` = number of linear layers: sizes = [input, width, …, classes].
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    sizes: Vec<usize>,
    params: Vec<f32>,
    bias: bool,
    /// (weight offset, bias offset) per layer in `params`.
    offsets: Vec<(usize, usize)>,
}

/// Reusable buffers for one batch size.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    acts: Vec<Vec<f32>>,
    deltas: Vec<Vec<f32>>,
}

impl Mlp {
    /// A network with the given layer sizes, initialized like PyTorch's `nn.Linear`
    /// (U(−1/√fan_in, 1/√fan_in)) from stream `seed`.
    pub fn new(sizes: &[usize], bias: bool, seed: u64) -> Self {
        let mut offsets = Vec::new();
        let mut total = 0;
        for w in sizes.windows(2) {
            let wo = total;
            total += w[0] * w[1];
            let bo = total;
            if bias {
                total += w[1];
            }
            offsets.push((wo, bo));
        }
        let mut params = vec![0f32; total];
        let mut r = rng::aux_stream(seed, rng::domain::MLP_INIT, 0);
        for (l, w) in sizes.windows(2).enumerate() {
            let bound = 1.0 / (w[0] as f32).sqrt();
            let (wo, bo) = offsets[l];
            for p in &mut params[wo..wo + w[0] * w[1]] {
                *p = (r.random::<f32>() * 2.0 - 1.0) * bound;
            }
            if bias {
                for p in &mut params[bo..bo + w[1]] {
                    *p = (r.random::<f32>() * 2.0 - 1.0) * bound;
                }
            }
        }
        Mlp {
            sizes: sizes.to_vec(),
            params,
            bias,
            offsets,
        }
    }

    /// Layer sizes.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }
    /// Number of parameters M.
    pub fn n_params(&self) -> usize {
        self.params.len()
    }
    /// The flat parameter vector (layer by layer: W (out × in, row-major), then b).
    pub fn params(&self) -> &[f32] {
        &self.params
    }
    /// Mutable parameters.
    pub fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }
    /// Parameter ranges of each layer (weights and bias) in the flat vector.
    pub fn layer_ranges(&self) -> Vec<std::ops::Range<usize>> {
        (0..self.offsets.len())
            .map(|l| {
                let start = self.offsets[l].0;
                let end = start
                    + self.sizes[l] * self.sizes[l + 1]
                    + if self.bias { self.sizes[l + 1] } else { 0 };
                start..end
            })
            .collect()
    }

    /// Forward pass on a batch (b × input, row-major); leaves activations in `ws`; returns the logits.
    fn forward<'w>(&self, x: &[f32], b: usize, ws: &'w mut Workspace) -> &'w [f32] {
        let layers = self.sizes.len() - 1;
        ws.acts.resize(layers + 1, Vec::new());
        ws.acts[0].clear();
        ws.acts[0].extend_from_slice(&x[..b * self.sizes[0]]);
        for l in 0..layers {
            let (din, dout) = (self.sizes[l], self.sizes[l + 1]);
            let (wo, bo) = self.offsets[l];
            let (prev, next) = ws.acts.split_at_mut(l + 1);
            let z = &mut next[0];
            z.resize(b * dout, 0.0);
            sgemm(
                b,
                din,
                dout,
                1.0,
                &prev[l],
                false,
                &self.params[wo..wo + din * dout],
                true,
                0.0,
                z,
            );
            if self.bias {
                add_bias(z, &self.params[bo..bo + dout]);
            }
            if l + 1 < layers {
                z.iter_mut().for_each(|v| *v = v.max(0.0));
            }
        }
        &ws.acts[layers]
    }

    /// Loss and number of correct predictions on a batch, and its gradient (mean over the batch)
    /// written into `grad` (length M).
    pub fn loss_grad(
        &self,
        x: &[f32],
        y: &[u8],
        loss: Loss,
        ws: &mut Workspace,
        grad: &mut [f32],
    ) -> (f64, usize) {
        let b = y.len();
        let layers = self.sizes.len() - 1;
        let classes = self.sizes[layers];
        self.forward(x, b, ws);
        ws.deltas.resize(layers, Vec::new());
        let (value, correct) = {
            let logits = &ws.acts[layers];
            let d = &mut ws.deltas[layers - 1];
            d.resize(b * classes, 0.0);
            output_delta(logits, y, classes, loss, d)
        };
        for l in (0..layers).rev() {
            let (din, dout) = (self.sizes[l], self.sizes[l + 1]);
            let (wo, bo) = self.offsets[l];
            sgemm(
                dout,
                b,
                din,
                1.0,
                &ws.deltas[l],
                true,
                &ws.acts[l],
                false,
                0.0,
                &mut grad[wo..wo + din * dout],
            );
            if self.bias {
                bias_grad(&ws.deltas[l], &mut grad[bo..bo + dout], dout);
            }
            if l > 0 {
                let (lower, upper) = ws.deltas.split_at_mut(l);
                let dh = &mut lower[l - 1];
                dh.resize(b * din, 0.0);
                sgemm(
                    b,
                    dout,
                    din,
                    1.0,
                    &upper[0],
                    false,
                    &self.params[wo..wo + din * dout],
                    false,
                    0.0,
                    dh,
                );
                // ReLU derivative: acts[l] = ReLU(z_l) > 0 exactly where z_l > 0.
                relu_mask(dh, &ws.acts[l]);
            }
        }
        (value, correct)
    }

    /// Mean loss and accuracy over a data set (evaluated in chunks of 512).
    pub fn evaluate(&self, x: &[f32], y: &[u8], loss: Loss) -> (f64, f64) {
        let mut ws = Workspace::default();
        let (mut total, mut correct) = (0.0, 0usize);
        let classes = *self.sizes.last().unwrap_or(&1);
        let mut scratch = Vec::new();
        for (xc, yc) in x.chunks(512 * self.sizes[0]).zip(y.chunks(512)) {
            let logits = self.forward(xc, yc.len(), &mut ws).to_vec();
            scratch.resize(logits.len(), 0.0);
            let (v, c) = output_delta(&logits, yc, classes, loss, &mut scratch);
            total += v * yc.len() as f64;
            correct += c;
        }
        (
            total / y.len().max(1) as f64,
            correct as f64 / y.len().max(1) as f64,
        )
    }

    /// `params ← params − lr·grad`.
    pub fn step(&mut self, grad: &[f32], lr: f32) {
        sgd_step(&mut self.params, grad, lr);
    }
}

/// Loss value, correct count, and ∂loss/∂logits (already divided by the batch size).
pub(super) fn output_delta(
    logits: &[f32],
    y: &[u8],
    classes: usize,
    loss: Loss,
    d: &mut [f32],
) -> (f64, usize) {
    let b = y.len();
    let mut value = 0.0f64;
    let mut correct = 0;
    for (i, (row, drow)) in logits
        .chunks_exact(classes)
        .zip(d.chunks_exact_mut(classes))
        .enumerate()
    {
        let t = y[i] as usize;
        let arg = row
            .iter()
            .enumerate()
            .fold(0, |best, (j, v)| if *v > row[best] { j } else { best });
        correct += usize::from(arg == t);
        match loss {
            Loss::CrossEntropy => {
                let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let s: f32 = row.iter().map(|v| (v - m).exp()).sum();
                value += ((s.ln() + m - row[t]) as f64).max(0.0);
                for (j, (dv, v)) in drow.iter_mut().zip(row).enumerate() {
                    let p = (v - m).exp() / s;
                    *dv = (p - f32::from(j == t)) / b as f32;
                }
            }
            Loss::Hinge => {
                let scale = 1.0 / (b * classes) as f32;
                for (j, (dv, v)) in drow.iter_mut().zip(row).enumerate() {
                    let tj = if j == t { 1.0 } else { -1.0 };
                    let margin = 1.0 - tj * v;
                    if margin > 0.0 {
                        value += margin as f64 / classes as f64;
                        *dv = -tj * scale;
                    } else {
                        *dv = 0.0;
                    }
                }
            }
        }
    }
    (value / b as f64, correct)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Analytic gradient against central differences of the loss. f32 arithmetic: with h = 1e-2 the
    /// truncation error is O(h²·|∂³L|) ≈ 1e-4 and round-off ≈ ε_f32·|L|/h ≈ 1e-5, so the tolerance is
    /// 2e-3 absolute + 2 % relative. Points within h of a ReLU kink or hinge corner are skipped.
    #[test]
    fn gradient_matches_finite_differences() {
        for (loss, bias) in [
            (Loss::CrossEntropy, false),
            (Loss::CrossEntropy, true),
            (Loss::Hinge, false),
            (Loss::Hinge, true),
        ] {
            let mut net = Mlp::new(&[5, 7, 6, 3], bias, 3);
            let b = 4;
            let mut r = rng::stream(9, 0);
            let x: Vec<f32> = (0..b * 5).map(|_| r.random::<f32>() * 2.0 - 1.0).collect();
            let y = vec![0u8, 2, 1, 2];
            let mut ws = Workspace::default();
            let mut g = vec![0f32; net.n_params()];
            net.loss_grad(&x, &y, loss, &mut ws, &mut g);
            let h = 1e-2f32;
            let mut checked = 0;
            for i in 0..net.n_params() {
                let orig = net.params[i];
                net.params[i] = orig + h;
                let (lp, _) = net.loss_grad(&x, &y, loss, &mut ws, &mut vec![0f32; g.len()]);
                net.params[i] = orig - h;
                let (lm, _) = net.loss_grad(&x, &y, loss, &mut ws, &mut vec![0f32; g.len()]);
                net.params[i] = orig;
                let fd = ((lp - lm) / (2.0 * h as f64)) as f32;
                // A kink inside [−h, h] shows up as a mismatch of the one-sided slopes: skip those.
                let (l0, _) = net.loss_grad(&x, &y, loss, &mut ws, &mut vec![0f32; g.len()]);
                let right = ((lp - l0) / h as f64) as f32;
                let left = ((l0 - lm) / h as f64) as f32;
                if (right - left).abs() > 0.05 * (right.abs() + left.abs()) + 1e-3 {
                    continue;
                }
                checked += 1;
                assert!(
                    (g[i] - fd).abs() <= 2e-3 + 0.02 * fd.abs(),
                    "{loss:?} bias={bias} param {i}: {} vs {fd}",
                    g[i]
                );
            }
            assert!(
                checked > net.n_params() / 2,
                "{loss:?}: only {checked} smooth coordinates"
            );
        }
    }

    #[test]
    fn layout_and_training_reduce_the_loss() {
        let net = Mlp::new(&[64, 32, 10], false, 0);
        assert_eq!(net.n_params(), 64 * 32 + 32 * 10);
        assert_eq!(net.layer_ranges(), vec![0..2048, 2048..2368]);
        let nb = Mlp::new(&[4, 3, 2], true, 0);
        assert_eq!(nb.layer_ranges(), vec![0..15, 15..23]);
    }
}
