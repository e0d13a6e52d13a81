//! Convolutional networks: Conv2d, ReLU, MaxPool2d, Dropout and Linear layers, trained in f32 with
//! hand-written forward and backward passes, and the AlexNet of Şimşekli, Sagun & Gürbüzbalaban
//! (2019) for one-channel images.
//!
//! **Layout.** Activations are stored channels-last (an example is height × width × channels,
//! row-major), so the patch of a convolution at one output position is a run of whole pixel
//! vectors. A convolution is computed as one GEMM per (sub-)batch: the im2col matrix holds one row
//! per output position of every example (`B·H_out·W_out` rows of `k·k·C_in` values), and
//! `Z = col · Wᵀ` with the kernel stored as `C_out × (k·k·C_in)` — PyTorch's
//! `(C_out, C_in, k, k)` with the input channel moved last. Backward: `∂W = ∂Zᵀ · col`,
//! `∂col = ∂Z · W`, and `∂x` is `∂col` scattered back (col2im). Max-pooling keeps the index of the
//! first maximum of every window (as PyTorch), and its backward pass routes the gradient there.
//!
//! **Dropout** (inverted: kept units are scaled by 1/(1 − p), as PyTorch) is on only when the
//! caller passes a dropout key, i.e. in SGD steps; evaluation and the gradient-noise measurement
//! run the network with dropout off, as the paper's protocol does (`model.eval()`).
//!
//! **Threads and reproducibility.** [`ConvNet::loss_grad`] cuts the minibatch into sub-batches
//! whose sizes depend on the batch size only (at most 32 examples each), computes them in
//! parallel and adds their gradients in sub-batch order; the dropout mask of sub-batch `c` at step
//! `t` comes from its own stream `(seed, t, c)`. The result is therefore the same on any number of
//! threads.

use std::ops::Range;

use rand::RngExt;
use rayon::prelude::*;

use super::gemm::{add_bias, bias_grad, relu_mask, sgd_step, sgemm};
use super::mlp::{Loss, output_delta};
use crate::rng::{self, PathRng};

/// Why a layer stack was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvError {
    /// The input has a zero side or no channels.
    #[error("input shape {0} has no values")]
    EmptyInput(Shape),
    /// A layer does not fit (1-based `index`, `layer` its description).
    #[error("layer {index} ({layer}): {problem}")]
    Layer {
        /// 1-based position in the stack.
        index: usize,
        /// The layer as [`Layer::describe`] gives it.
        layer: String,
        /// What is wrong.
        problem: LayerProblem,
    },
    /// The stack does not end in a linear layer.
    #[error("the last layer must be linear (it gives the class scores)")]
    LastNotLinear,
    /// The AlexNet stack does not fit the images.
    #[error("alexnet on {input} images: {cause} (it needs at least 28×28)")]
    Alexnet {
        /// The image shape.
        input: Shape,
        /// The layer that does not fit (part of the message).
        cause: Box<ConvError>,
    },
}

/// What is wrong with one layer of a stack.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LayerProblem {
    /// A convolution with zero channels, kernel or stride.
    #[error("channels, kernel and stride must be >= 1")]
    ConvSizes,
    /// The kernel is larger than the (padded) input.
    #[error("the kernel does not fit the input {0}")]
    KernelTooLarge(Shape),
    /// A pool with zero kernel or stride.
    #[error("kernel and stride must be >= 1")]
    PoolSizes,
    /// The pooling window is larger than the input.
    #[error("the window does not fit the input {0}")]
    WindowTooLarge(Shape),
    /// A dropout probability outside [0, 1).
    #[error("p must be in [0, 1), got {0}")]
    DropoutP(f32),
    /// A linear layer without outputs.
    #[error("outputs must be >= 1")]
    NoOutputs,
}

/// The shape of one example's activation, stored channels-last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Shape {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Channels.
    pub channels: usize,
}

impl Shape {
    /// A `height × width` image with `channels` channels.
    pub fn new(height: usize, width: usize, channels: usize) -> Self {
        Shape {
            height,
            width,
            channels,
        }
    }

    /// Number of values per example.
    pub fn len(self) -> usize {
        self.height * self.width * self.channels
    }

    /// Whether an example has no values.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    fn pixels(self) -> usize {
        self.height * self.width
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}×{}×{}", self.height, self.width, self.channels)
    }
}

/// One layer of a [`ConvNet`].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "layer", rename_all = "kebab-case")]
pub enum Layer {
    /// 2-D convolution with a square kernel, zero padding on every side, and a bias per output
    /// channel when the network has biases.
    Conv2d {
        /// Output channels.
        channels: usize,
        /// Kernel side.
        kernel: usize,
        /// Stride.
        stride: usize,
        /// Zero padding.
        padding: usize,
    },
    /// `max(0, x)`.
    Relu,
    /// Max over square windows (no padding, windows that do not fit are left out, as PyTorch).
    MaxPool2d {
        /// Window side.
        kernel: usize,
        /// Stride.
        stride: usize,
    },
    /// Inverted dropout with drop probability `p` during SGD steps; the identity otherwise.
    Dropout {
        /// Drop probability in [0, 1).
        p: f32,
    },
    /// Fully connected layer on the flattened input (channels-last order).
    Linear {
        /// Output features.
        outputs: usize,
    },
}

impl Layer {
    /// A short description, e.g. `conv 5×5/1 pad 2 → 64`.
    pub fn describe(&self) -> String {
        match *self {
            Layer::Conv2d {
                channels,
                kernel,
                stride,
                padding,
            } => format!("conv {kernel}×{kernel}/{stride} pad {padding} → {channels}"),
            Layer::Relu => "relu".into(),
            Layer::MaxPool2d { kernel, stride } => format!("max-pool {kernel}×{kernel}/{stride}"),
            Layer::Dropout { p } => format!("dropout {p}"),
            Layer::Linear { outputs } => format!("linear → {outputs}"),
        }
    }
}

/// A layer placed in a network: its shapes and parameter ranges.
#[derive(Clone, Debug, PartialEq)]
struct Node {
    layer: Layer,
    input: Shape,
    output: Shape,
    weights: Range<usize>,
    bias: Range<usize>,
}

impl Node {
    /// Kernel side, stride and padding of a convolution or pooling (a dense layer is a 1×1 "patch").
    fn window(&self) -> (usize, usize, usize) {
        match self.layer {
            Layer::Conv2d {
                kernel,
                stride,
                padding,
                ..
            } => (kernel, stride, padding),
            Layer::MaxPool2d { kernel, stride } => (kernel, stride, 0),
            _ => (1, 1, 0),
        }
    }
}

/// A feed-forward network of [`Layer`]s on images, ending in the class scores.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvNet {
    input: Shape,
    nodes: Vec<Node>,
    params: Vec<f32>,
}

/// Most examples in one sub-batch of [`ConvNet::loss_grad`].
const SUB_BATCH: usize = 32;
/// Random-stream domain of the initialization, and of dropout masks.
const INIT_DOMAIN: u64 = rng::domain::CONV_INIT;
const DROPOUT_DOMAIN: u64 = rng::domain::CONV_DROPOUT;

/// Buffers of one sub-batch.
#[derive(Clone, Debug, Default)]
struct Workspace {
    /// `acts[i]` is the input of layer i; the last one the class scores.
    acts: Vec<Vec<f32>>,
    /// im2col matrices of the convolutions (kept for their backward pass).
    cols: Vec<Vec<f32>>,
    /// Flat input index of the maximum of every pooling window.
    argmax: Vec<Vec<usize>>,
    /// Dropout multipliers (0 or 1/(1 − p)); empty when dropout was off.
    masks: Vec<Vec<f32>>,
    delta: Vec<f32>,
    next: Vec<f32>,
    dcol: Vec<f32>,
}

fn out_side(side: usize, kernel: usize, stride: usize, padding: usize) -> Option<usize> {
    (side + 2 * padding)
        .checked_sub(kernel)
        .map(|v| v / stride + 1)
}

impl ConvNet {
    /// A network on `input`-shaped examples, initialized like PyTorch's `Conv2d` and `Linear`
    /// (weights and biases U(−1/√fan_in, 1/√fan_in)) from stream `seed`. Fails with a message
    /// naming the layer when a kernel does not fit its input or a size is zero.
    pub fn new(input: Shape, layers: &[Layer], bias: bool, seed: u64) -> Result<Self, ConvError> {
        if input.is_empty() {
            return Err(ConvError::EmptyInput(input));
        }
        let mut nodes = Vec::with_capacity(layers.len());
        let mut shape = input;
        let mut total = 0usize;
        for (i, &layer) in layers.iter().enumerate() {
            let bad = |problem| ConvError::Layer {
                index: i + 1,
                layer: layer.describe(),
                problem,
            };
            let (output, n_weights, n_bias) = match layer {
                Layer::Conv2d {
                    channels,
                    kernel,
                    stride,
                    padding,
                } => {
                    if channels == 0 || kernel == 0 || stride == 0 {
                        return Err(bad(LayerProblem::ConvSizes));
                    }
                    let (Some(h), Some(w)) = (
                        out_side(shape.height, kernel, stride, padding),
                        out_side(shape.width, kernel, stride, padding),
                    ) else {
                        return Err(bad(LayerProblem::KernelTooLarge(shape)));
                    };
                    (
                        Shape::new(h, w, channels),
                        channels * kernel * kernel * shape.channels,
                        channels,
                    )
                }
                Layer::MaxPool2d { kernel, stride } => {
                    if kernel == 0 || stride == 0 {
                        return Err(bad(LayerProblem::PoolSizes));
                    }
                    let (Some(h), Some(w)) = (
                        out_side(shape.height, kernel, stride, 0),
                        out_side(shape.width, kernel, stride, 0),
                    ) else {
                        return Err(bad(LayerProblem::WindowTooLarge(shape)));
                    };
                    (Shape::new(h, w, shape.channels), 0, 0)
                }
                Layer::Relu => (shape, 0, 0),
                Layer::Dropout { p } => {
                    if !(0.0..1.0).contains(&p) {
                        return Err(bad(LayerProblem::DropoutP(p)));
                    }
                    (shape, 0, 0)
                }
                Layer::Linear { outputs } => {
                    if outputs == 0 {
                        return Err(bad(LayerProblem::NoOutputs));
                    }
                    (Shape::new(1, 1, outputs), outputs * shape.len(), outputs)
                }
            };
            let weights = total..total + n_weights;
            let n_bias = if bias { n_bias } else { 0 };
            let bias_range = weights.end..weights.end + n_bias;
            total = bias_range.end;
            nodes.push(Node {
                layer,
                input: shape,
                output,
                weights,
                bias: bias_range,
            });
            shape = output;
        }
        if !matches!(
            nodes.last(),
            Some(Node {
                layer: Layer::Linear { .. },
                ..
            })
        ) {
            return Err(ConvError::LastNotLinear);
        }
        let mut params = vec![0f32; total];
        let mut r = rng::aux_stream(seed, INIT_DOMAIN, 0);
        for n in &nodes {
            if n.weights.is_empty() {
                continue;
            }
            let fan_in = n.weights.len() / n.output.channels;
            let bound = 1.0 / (fan_in as f32).sqrt();
            for p in &mut params[n.weights.start..n.bias.end] {
                *p = (r.random::<f32>() * 2.0 - 1.0) * bound;
            }
        }
        Ok(ConvNet {
            input,
            nodes,
            params,
        })
    }

    /// The AlexNet of the paper's code for `input`-shaped images: five convolutions (4×4/2 pad 2,
    /// 5×5 pad 2, three 3×3 pad 1, all with `channels` outputs) with ReLUs and three 3×3/2
    /// max-pools, then Dropout–Linear(W)–ReLU–Dropout–Linear(W)–ReLU–Linear(classes), where
    /// W = s·(1 + ⌊log₂ s⌋) and s is the number of features after the last pool (s = `channels`
    /// for 28×28 and 32×32 inputs: the last pool leaves 1×1).
    pub fn alexnet(
        input: Shape,
        classes: usize,
        channels: usize,
        dropout: f32,
        bias: bool,
        seed: u64,
    ) -> Result<Self, ConvError> {
        let layers = alexnet_layers(input, classes, channels, dropout)?;
        Self::new(input, &layers, bias, seed)
    }

    /// Input shape.
    pub fn input(&self) -> Shape {
        self.input
    }
    /// The layers.
    pub fn layers(&self) -> Vec<Layer> {
        self.nodes.iter().map(|n| n.layer).collect()
    }
    /// Output shape of every layer.
    pub fn shapes(&self) -> Vec<Shape> {
        self.nodes.iter().map(|n| n.output).collect()
    }
    /// Number of classes (outputs of the last layer).
    pub fn classes(&self) -> usize {
        self.nodes.last().map_or(0, |n| n.output.len())
    }
    /// Number of parameters M.
    pub fn n_params(&self) -> usize {
        self.params.len()
    }
    /// The flat parameters (per layer with parameters: weights, then biases).
    pub fn params(&self) -> &[f32] {
        &self.params
    }
    /// Mutable parameters.
    pub fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }
    /// Parameter range (weights and bias) of every layer that has parameters, in order.
    pub fn layer_ranges(&self) -> Vec<Range<usize>> {
        self.nodes
            .iter()
            .filter(|n| !n.weights.is_empty())
            .map(|n| n.weights.start..n.bias.end)
            .collect()
    }

    /// `params ← params − lr·grad`.
    pub fn step(&mut self, grad: &[f32], lr: f32) {
        sgd_step(&mut self.params, grad, lr);
    }

    /// Forward pass of `b` examples; dropout is on when `dropout` is given.
    fn forward(&self, x: &[f32], b: usize, ws: &mut Workspace, mut dropout: Option<&mut PathRng>) {
        let n = self.nodes.len();
        ws.acts.resize(n + 1, Vec::new());
        ws.cols.resize(n, Vec::new());
        ws.argmax.resize(n, Vec::new());
        ws.masks.resize(n, Vec::new());
        ws.acts[0].clear();
        ws.acts[0].extend_from_slice(&x[..b * self.input.len()]);
        for (i, node) in self.nodes.iter().enumerate() {
            let (prev, next) = ws.acts.split_at_mut(i + 1);
            let (a, z) = (&prev[i], &mut next[0]);
            z.resize(b * node.output.len(), 0.0);
            let w = &self.params[node.weights.clone()];
            let bias = &self.params[node.bias.clone()];
            match node.layer {
                Layer::Conv2d { channels, .. } => {
                    let col = &mut ws.cols[i];
                    im2col(a, b, node, col);
                    let rows = b * node.output.pixels();
                    let k = w.len() / channels;
                    sgemm(rows, k, channels, 1.0, col, false, w, true, 0.0, z);
                    add_bias(z, bias);
                }
                Layer::Linear { outputs } => {
                    let din = node.input.len();
                    sgemm(b, din, outputs, 1.0, a, false, w, true, 0.0, z);
                    add_bias(z, bias);
                }
                Layer::Relu => {
                    for (o, v) in z.iter_mut().zip(a) {
                        *o = v.max(0.0);
                    }
                }
                Layer::MaxPool2d { .. } => max_pool(a, b, node, z, &mut ws.argmax[i]),
                Layer::Dropout { p } => {
                    let mask = &mut ws.masks[i];
                    mask.clear();
                    match dropout.as_deref_mut() {
                        Some(r) if p > 0.0 => {
                            let keep = 1.0 / (1.0 - p);
                            mask.extend(
                                a.iter()
                                    .map(|_| if r.random::<f32>() < p { 0.0 } else { keep }),
                            );
                            for ((o, v), m) in z.iter_mut().zip(a).zip(mask.iter()) {
                                *o = v * m;
                            }
                        }
                        _ => z.copy_from_slice(a),
                    }
                }
            }
        }
    }

    /// Backward pass after [`Self::forward`], from `ws.delta` = ∂loss/∂scores; writes the
    /// gradient into `grad`.
    fn backward(&self, b: usize, ws: &mut Workspace, grad: &mut [f32]) {
        for (i, node) in self.nodes.iter().enumerate().rev() {
            let w = &self.params[node.weights.clone()];
            let input_grad = i > 0;
            match node.layer {
                Layer::Conv2d { channels, .. } => {
                    let rows = b * node.output.pixels();
                    let k = w.len() / channels;
                    let col = &ws.cols[i];
                    let gw = &mut grad[node.weights.clone()];
                    sgemm(channels, rows, k, 1.0, &ws.delta, true, col, false, 0.0, gw);
                    bias_grad(&ws.delta, &mut grad[node.bias.clone()], channels);
                    if input_grad {
                        ws.dcol.resize(rows * k, 0.0);
                        sgemm(
                            rows,
                            channels,
                            k,
                            1.0,
                            &ws.delta,
                            false,
                            w,
                            false,
                            0.0,
                            &mut ws.dcol,
                        );
                        col2im(&ws.dcol, b, node, &mut ws.next);
                        std::mem::swap(&mut ws.delta, &mut ws.next);
                    }
                }
                Layer::Linear { outputs } => {
                    let din = node.input.len();
                    let gw = &mut grad[node.weights.clone()];
                    sgemm(
                        outputs,
                        b,
                        din,
                        1.0,
                        &ws.delta,
                        true,
                        &ws.acts[i],
                        false,
                        0.0,
                        gw,
                    );
                    bias_grad(&ws.delta, &mut grad[node.bias.clone()], outputs);
                    if input_grad {
                        ws.next.resize(b * din, 0.0);
                        sgemm(
                            b,
                            outputs,
                            din,
                            1.0,
                            &ws.delta,
                            false,
                            w,
                            false,
                            0.0,
                            &mut ws.next,
                        );
                        std::mem::swap(&mut ws.delta, &mut ws.next);
                    }
                }
                Layer::Relu => {
                    // The output is positive exactly where the input was.
                    relu_mask(&mut ws.delta, &ws.acts[i + 1]);
                }
                Layer::MaxPool2d { .. } => {
                    ws.next.clear();
                    ws.next.resize(b * node.input.len(), 0.0);
                    for (d, &at) in ws.delta.iter().zip(&ws.argmax[i]) {
                        ws.next[at] += d;
                    }
                    std::mem::swap(&mut ws.delta, &mut ws.next);
                }
                Layer::Dropout { .. } => {
                    if !ws.masks[i].is_empty() {
                        for (d, m) in ws.delta.iter_mut().zip(&ws.masks[i]) {
                            *d *= m;
                        }
                    }
                }
            }
        }
    }

    /// Mean loss and correct count of `b` examples with their gradient (mean over the examples)
    /// in `grad`. `dropout = Some((seed, step))` turns dropout on with the masks of that step.
    fn sub_batch(
        &self,
        x: &[f32],
        y: &[u8],
        loss: Loss,
        ws: &mut Workspace,
        grad: &mut [f32],
        dropout: Option<&mut PathRng>,
    ) -> (f64, usize) {
        let b = y.len();
        self.forward(x, b, ws, dropout);
        let classes = self.classes();
        let scores = &ws.acts[self.nodes.len()];
        ws.delta.resize(b * classes, 0.0);
        let (value, correct) = output_delta(scores, y, classes, loss, &mut ws.delta);
        self.backward(b, ws, grad);
        (value, correct)
    }

    /// Loss (mean over the batch), number of correct predictions, and the gradient of the mean
    /// loss written into `grad` (length M). `dropout = Some((seed, step))` runs the SGD step's
    /// forward pass with dropout on (masks from the stream of (seed, step, sub-batch));
    /// `None` evaluates with dropout off. Sub-batches run in parallel; the result does not depend
    /// on the number of threads.
    pub fn loss_grad(
        &self,
        x: &[f32],
        y: &[u8],
        loss: Loss,
        grad: &mut [f32],
        dropout: Option<(u64, u64)>,
    ) -> (f64, usize) {
        let b = y.len();
        let dim = self.input.len();
        let pieces = sub_batches(b);
        let parts: Vec<(f64, usize, Vec<f32>)> = pieces
            .par_iter()
            .enumerate()
            .map_init(Workspace::default, |ws, (c, r)| {
                let mut stream = dropout.map(|(seed, step)| {
                    rng::aux_stream(seed, DROPOUT_DOMAIN, step.wrapping_mul(1 << 20) + c as u64)
                });
                let mut g = vec![0f32; self.params.len()];
                let (v, correct) = self.sub_batch(
                    &x[r.start * dim..r.end * dim],
                    &y[r.clone()],
                    loss,
                    ws,
                    &mut g,
                    stream.as_mut(),
                );
                (v * r.len() as f64, correct, g)
            })
            .collect();
        // The batch mean is the size-weighted mean of the sub-batch means, added in order.
        grad.iter_mut().for_each(|v| *v = 0.0);
        let (mut total, mut correct) = (0.0, 0);
        for ((v, c, g), r) in parts.iter().zip(&pieces) {
            total += v;
            correct += c;
            let share = r.len() as f32 / b as f32;
            for (o, gi) in grad.iter_mut().zip(g) {
                *o += share * gi;
            }
        }
        (total / b.max(1) as f64, correct)
    }

    /// Mean loss and accuracy over a data set, with dropout off (chunks of 256 in parallel).
    pub fn evaluate(&self, x: &[f32], y: &[u8], loss: Loss) -> (f64, f64) {
        let dim = self.input.len();
        let classes = self.classes();
        let parts: Vec<(f64, usize)> = y
            .par_chunks(256)
            .zip(x.par_chunks(256 * dim))
            .map_init(
                || (Workspace::default(), Vec::new()),
                |(ws, scratch), (yc, xc)| {
                    self.forward(xc, yc.len(), ws, None);
                    let scores = &ws.acts[self.nodes.len()];
                    scratch.resize(scores.len(), 0.0);
                    let (v, c) = output_delta(scores, yc, classes, loss, scratch);
                    (v * yc.len() as f64, c)
                },
            )
            .collect();
        let n = y.len().max(1) as f64;
        let total: f64 = parts.iter().map(|p| p.0).sum();
        let correct: usize = parts.iter().map(|p| p.1).sum();
        (total / n, correct as f64 / n)
    }
}

/// The layers of [`ConvNet::alexnet`].
pub fn alexnet_layers(
    input: Shape,
    classes: usize,
    channels: usize,
    dropout: f32,
) -> Result<Vec<Layer>, ConvError> {
    let conv = |kernel, stride, padding| Layer::Conv2d {
        channels,
        kernel,
        stride,
        padding,
    };
    let pool = Layer::MaxPool2d {
        kernel: 3,
        stride: 2,
    };
    let mut layers = vec![
        conv(4, 2, 2),
        Layer::Relu,
        pool,
        conv(5, 1, 2),
        Layer::Relu,
        pool,
        conv(3, 1, 1),
        Layer::Relu,
        conv(3, 1, 1),
        Layer::Relu,
        conv(3, 1, 1),
        Layer::Relu,
        pool,
    ];
    // The size of the features decides the classifier's width; a placeholder head lets
    // `ConvNet::new` check the shapes.
    let probe = ConvNet::new(
        input,
        &[layers.clone(), vec![Layer::Linear { outputs: 1 }]].concat(),
        false,
        0,
    )
    .map_err(|e| ConvError::Alexnet {
        input,
        cause: Box::new(e),
    })?;
    let s = probe.nodes[layers.len() - 1].output.len();
    let width = s * (1 + s.ilog2() as usize);
    layers.extend([
        Layer::Dropout { p: dropout },
        Layer::Linear { outputs: width },
        Layer::Relu,
        Layer::Dropout { p: dropout },
        Layer::Linear { outputs: width },
        Layer::Relu,
        Layer::Linear { outputs: classes },
    ]);
    Ok(layers)
}

/// Sub-batch ranges of a batch of `b`: ⌈b/32⌉ pieces as equal as possible (a function of b only).
fn sub_batches(b: usize) -> Vec<Range<usize>> {
    let pieces = b.div_ceil(SUB_BATCH).max(1);
    (0..pieces)
        .map(|c| c * b / pieces..(c + 1) * b / pieces)
        .filter(|r| !r.is_empty())
        .collect()
}

/// Walks the im2col matrix of `node` over `b` examples row by row (one row per output position,
/// the window's pixels in (row, column, channel) order), in runs: `f(offset in the matrix,
/// Some(offset in the batch input), len)` for `len` values copied from the input (the in-image
/// pixels of one window row, contiguous in both), `f(offset, None, len)` for `len` zeros of the
/// padding. The runs cover every row exactly once.
fn for_each_patch_run(b: usize, node: &Node, mut f: impl FnMut(usize, Option<usize>, usize)) {
    let (k, s, p) = node.window();
    let (inp, out) = (node.input, node.output);
    let c = inp.channels;
    let row_len = k * k * c;
    let mut row = 0;
    for n in 0..b {
        for oy in 0..out.height {
            for ox in 0..out.width {
                // Window columns kx0..kx1 fall inside the image: ix = ox·s + kx − p ∈ [0, width).
                let kx0 = p.saturating_sub(ox * s).min(k);
                let kx1 = (inp.width + p).saturating_sub(ox * s).clamp(kx0, k);
                for ky in 0..k {
                    let at = row * row_len + ky * k * c;
                    let Some(iy) = (oy * s + ky).checked_sub(p).filter(|&v| v < inp.height) else {
                        f(at, None, k * c);
                        continue;
                    };
                    if kx0 > 0 {
                        f(at, None, kx0 * c);
                    }
                    if kx1 > kx0 {
                        let ix0 = ox * s + kx0 - p;
                        let src = ((n * inp.height + iy) * inp.width + ix0) * c;
                        f(at + kx0 * c, Some(src), (kx1 - kx0) * c);
                    }
                    if kx1 < k {
                        f(at + kx1 * c, None, (k - kx1) * c);
                    }
                }
                row += 1;
            }
        }
    }
}

/// The im2col matrix of a convolution: one row per output position, the window's pixels (zero
/// outside the image) in (row, column, channel) order. Every entry is written once (no clearing
/// pass first).
fn im2col(a: &[f32], b: usize, node: &Node, col: &mut Vec<f32>) {
    let (k, _, _) = node.window();
    let c = node.input.channels;
    col.resize(b * node.output.pixels() * k * k * c, 0.0);
    for_each_patch_run(b, node, |dst, src, len| match src {
        Some(src) => col[dst..dst + len].copy_from_slice(&a[src..src + len]),
        None => col[dst..dst + len].fill(0.0),
    });
}

/// The adjoint of [`im2col`]: adds every row's entries back onto the pixels they came from.
fn col2im(dcol: &[f32], b: usize, node: &Node, dx: &mut Vec<f32>) {
    dx.clear();
    dx.resize(b * node.input.len(), 0.0);
    for_each_patch_run(b, node, |src, dst, len| {
        if let Some(dst) = dst {
            for (d, v) in dx[dst..dst + len].iter_mut().zip(&dcol[src..src + len]) {
                *d += v;
            }
        }
    });
}

/// Max-pooling forward: `z` gets the window maxima, `argmax` the flat index (into `a`) of the first
/// maximum of each window.
fn max_pool(a: &[f32], b: usize, node: &Node, z: &mut [f32], argmax: &mut Vec<usize>) {
    let (k, s, _) = node.window();
    let (inp, out) = (node.input, node.output);
    let c = inp.channels;
    argmax.clear();
    argmax.resize(z.len(), 0);
    for n in 0..b {
        for oy in 0..out.height {
            for ox in 0..out.width {
                let o = ((n * out.height + oy) * out.width + ox) * c;
                let first = ((n * inp.height + oy * s) * inp.width + ox * s) * c;
                let (zo, ao) = (&mut z[o..o + c], &mut argmax[o..o + c]);
                zo.copy_from_slice(&a[first..first + c]);
                for (ch, m) in ao.iter_mut().enumerate() {
                    *m = first + ch;
                }
                for ky in 0..k {
                    for kx in 0..k {
                        let at = ((n * inp.height + oy * s + ky) * inp.width + ox * s + kx) * c;
                        // Selects, not branches (they vectorize): a later pixel wins only when
                        // strictly larger, so the first maximum is kept.
                        let src = &a[at..at + c];
                        for (ch, ((zv, m), &v)) in
                            zo.iter_mut().zip(ao.iter_mut()).zip(src).enumerate()
                        {
                            let larger = v > *zv;
                            *zv = if larger { v } else { *zv };
                            *m = if larger { at + ch } else { *m };
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(n: usize, seed: u64) -> Vec<f32> {
        let mut r = rng::stream(seed, 0);
        (0..n).map(|_| r.random::<f32>() * 2.0 - 1.0).collect()
    }

    /// The im2col/GEMM convolution equals the textbook sum
    /// z[n, oy, ox, o] = b[o] + Σ w[o, ky, kx, c]·x[n, oy·s + ky − p, ox·s + kx − p, c].
    #[test]
    fn convolution_equals_the_direct_sum() {
        let input = Shape::new(6, 5, 2);
        let (co, k, s, p) = (3, 3, 2, 1);
        let layers = [
            Layer::Conv2d {
                channels: co,
                kernel: k,
                stride: s,
                padding: p,
            },
            Layer::Linear { outputs: 2 },
        ];
        let net = ConvNet::new(input, &layers, true, 4).unwrap();
        let b = 2;
        let x = random(b * input.len(), 1);
        let mut ws = Workspace::default();
        net.forward(&x, b, &mut ws, None);
        let out = net.shapes()[0];
        assert_eq!(out, Shape::new(3, 3, 3));
        let w = &net.params[net.nodes[0].weights.clone()];
        let bias = &net.params[net.nodes[0].bias.clone()];
        for n in 0..b {
            for oy in 0..out.height {
                for ox in 0..out.width {
                    for o in 0..co {
                        let mut want = bias[o] as f64;
                        for ky in 0..k {
                            for kx in 0..k {
                                let (iy, ix) = ((oy * s + ky) as i64 - 1, (ox * s + kx) as i64 - 1);
                                if iy < 0 || ix < 0 || iy >= 6 || ix >= 5 {
                                    continue;
                                }
                                for c in 0..2 {
                                    let xv = x[((n * 6 + iy as usize) * 5 + ix as usize) * 2 + c];
                                    want += (w[((o * k + ky) * k + kx) * 2 + c] * xv) as f64;
                                }
                            }
                        }
                        let got = ws.acts[1][((n * 3 + oy) * 3 + ox) * co + o];
                        assert!((got as f64 - want).abs() < 1e-5, "{got} vs {want}");
                    }
                }
            }
        }
    }

    /// Max-pooling equals the maximum over each window, with windows that do not fit left out.
    #[test]
    fn max_pool_equals_the_window_maxima() {
        let input = Shape::new(7, 6, 2);
        let layers = [
            Layer::MaxPool2d {
                kernel: 3,
                stride: 2,
            },
            Layer::Linear { outputs: 2 },
        ];
        let net = ConvNet::new(input, &layers, false, 0).unwrap();
        assert_eq!(net.shapes()[0], Shape::new(3, 2, 2));
        let x = random(input.len(), 2);
        let mut ws = Workspace::default();
        net.forward(&x, 1, &mut ws, None);
        for oy in 0..3 {
            for ox in 0..2 {
                for c in 0..2 {
                    let mut m = f32::NEG_INFINITY;
                    for iy in 2 * oy..2 * oy + 3 {
                        for ix in 2 * ox..2 * ox + 3 {
                            m = m.max(x[(iy * 6 + ix) * 2 + c]);
                        }
                    }
                    assert_eq!(ws.acts[1][(oy * 2 + ox) * 2 + c], m);
                }
            }
        }
    }

    /// Analytic gradient against central differences of the loss, for a network built around each
    /// layer type and for a small AlexNet, with both losses; dropout on with a fixed key (the same
    /// masks in every evaluation). f32: h = 4e-3 (truncation O(h²) ≈ 1e-5, round-off
    /// ε·|L|/h ≈ 1e-4), tolerance 2e-3 absolute + 2 % relative (as the FC check). A shared kernel
    /// weight moves many ReLU/max-pool/hinge units, so a kink is often within h: a coordinate is
    /// checked only where the function is smooth on [−h, h] — equal one-sided slopes, and equal
    /// central differences at h and h/2 (1 % + 2e-4).
    #[test]
    fn gradients_match_finite_differences_for_every_layer_type() {
        let conv = |channels, kernel, stride, padding| Layer::Conv2d {
            channels,
            kernel,
            stride,
            padding,
        };
        let lin = |outputs| Layer::Linear { outputs };
        let small = Shape::new(6, 5, 2);
        let cases: Vec<(&str, Shape, Vec<Layer>)> = vec![
            ("conv", small, vec![conv(3, 3, 2, 1), lin(3)]),
            (
                "conv+relu",
                small,
                vec![conv(3, 3, 1, 1), Layer::Relu, lin(3)],
            ),
            (
                "conv+conv",
                small,
                vec![conv(3, 3, 1, 1), conv(4, 3, 2, 1), lin(3)],
            ),
            (
                "conv+max-pool",
                small,
                vec![
                    conv(3, 2, 1, 0),
                    Layer::MaxPool2d {
                        kernel: 3,
                        stride: 2,
                    },
                    lin(3),
                ],
            ),
            (
                "linear+dropout",
                small,
                vec![lin(8), Layer::Relu, Layer::Dropout { p: 0.5 }, lin(3)],
            ),
            (
                "alexnet ch=2",
                Shape::new(28, 28, 1),
                alexnet_layers(Shape::new(28, 28, 1), 3, 2, 0.5).unwrap(),
            ),
        ];
        for (name, input, layers) in cases {
            for loss in [Loss::CrossEntropy, Loss::Hinge] {
                let mut net = ConvNet::new(input, &layers, true, 7).unwrap();
                let b = 3;
                let x = random(b * input.len(), 3);
                let y = [0u8, 2, 1];
                let key = Some((5, 9));
                let mut g = vec![0f32; net.n_params()];
                let mut scratch = g.clone();
                net.loss_grad(&x, &y, loss, &mut g, key);
                let h = 4e-3f32;
                let mut checked = 0;
                for (i, &gi) in g.iter().enumerate() {
                    let orig = net.params[i];
                    let mut at = |d: f32| {
                        net.params[i] = orig + d;
                        net.loss_grad(&x, &y, loss, &mut scratch, key).0
                    };
                    let central = |lp: f64, lm: f64, h: f32| ((lp - lm) / (2.0 * h as f64)) as f32;
                    let (lp, lm, l0) = (at(h), at(-h), at(0.0));
                    let fd = central(lp, lm, h);
                    let half = central(at(h / 2.0), at(-h / 2.0), h / 2.0);
                    net.params[i] = orig;
                    let right = ((lp - l0) / h as f64) as f32;
                    let left = ((l0 - lm) / h as f64) as f32;
                    let smooth =
                        |a: f32, b: f32| (a - b).abs() <= 0.01 * (a.abs() + b.abs()) + 2e-4;
                    if !smooth(right, left) || !smooth(fd, half) {
                        continue;
                    }
                    checked += 1;
                    assert!(
                        (gi - fd).abs() <= 2e-3 + 0.02 * fd.abs(),
                        "{name} {loss:?} param {i}: {gi} vs {fd}"
                    );
                }
                assert!(
                    checked > net.n_params() / 2,
                    "{name} {loss:?}: only {checked} of {} smooth coordinates",
                    net.n_params()
                );
            }
        }
    }

    /// A batch split into sub-batches gives the gradient of the whole batch in one pass (to f32
    /// rounding), and the same bits on 1 and 2 threads, with dropout on.
    #[test]
    fn sub_batches_add_up_and_do_not_depend_on_threads() {
        let input = Shape::new(28, 28, 1);
        let net = ConvNet::alexnet(input, 10, 4, 0.5, true, 1).unwrap();
        let b = 70;
        assert_eq!(sub_batches(b), vec![0..23, 23..46, 46..70]);
        let x = random(b * input.len(), 8);
        let y: Vec<u8> = (0..b).map(|i| (i * 7 % 10) as u8).collect();
        let mut whole = vec![0f32; net.n_params()];
        let (v, c) = net.sub_batch(
            &x,
            &y,
            Loss::CrossEntropy,
            &mut Workspace::default(),
            &mut whole,
            None,
        );
        let mut split = vec![0f32; net.n_params()];
        let (vs, cs) = net.loss_grad(&x, &y, Loss::CrossEntropy, &mut split, None);
        assert_eq!(c, cs);
        assert!((v - vs).abs() < 1e-6 * v.abs());
        let scale = whole.iter().fold(0f32, |m, g| m.max(g.abs()));
        for (a, b) in whole.iter().zip(&split) {
            assert!((a - b).abs() <= 1e-5 * scale, "{a} vs {b}");
        }
        let on = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut g = vec![0f32; net.n_params()];
            let r = pool.install(|| net.loss_grad(&x, &y, Loss::Hinge, &mut g, Some((3, 11))));
            (r, g)
        };
        assert_eq!(on(1), on(2));
    }

    /// Dropout drops a fraction p of the units (binomial: within 4 SE) and scales the rest by
    /// 1/(1 − p); p = 0 and evaluation mode are the identity; masks differ between steps.
    #[test]
    fn dropout_masks_have_the_right_rate_and_scale() {
        let input = Shape::new(1, 1, 500);
        let p = 0.3f32;
        let layers = [Layer::Dropout { p }, Layer::Linear { outputs: 2 }];
        let net = ConvNet::new(input, &layers, false, 0).unwrap();
        let b = 8;
        let x = random(b * 500, 4);
        let mut ws = Workspace::default();
        let mut r = rng::aux_stream(1, DROPOUT_DOMAIN, 0);
        net.forward(&x, b, &mut ws, Some(&mut r));
        let mask = ws.masks[0].clone();
        let n = mask.len() as f64;
        let dropped = mask.iter().filter(|&&m| m == 0.0).count() as f64;
        let se = (n * 0.3 * 0.7).sqrt();
        assert!((dropped - 0.3 * n).abs() < 4.0 * se, "{dropped} of {n}");
        assert!(mask.iter().all(|&m| m == 0.0 || m == 1.0 / (1.0 - p)));
        let mut r2 = rng::aux_stream(1, DROPOUT_DOMAIN, 1);
        net.forward(&x, b, &mut ws, Some(&mut r2));
        assert_ne!(ws.masks[0], mask);
        net.forward(&x, b, &mut ws, None);
        assert_eq!(ws.acts[1], x);
        let zero = ConvNet::new(input, &[Layer::Dropout { p: 0.0 }, layers[1]], false, 0).unwrap();
        zero.forward(&x, b, &mut ws, Some(&mut r));
        assert_eq!(ws.acts[1], x);
    }

    /// The AlexNet's shapes and parameter count on 28×28×1 follow from the layer formulas by hand:
    /// 28 → conv 4/2 pad 2 → 15 → pool → 7 → conv 5 pad 2 → 7 → pool → 3 → 3× conv 3 pad 1 → 3 →
    /// pool → 1; s = ch = 16, W = 16·(1 + 4) = 80; parameters 16·16 + 16 (conv1),
    /// 16·25·16 + 16 (conv2), 3·(16·9·16 + 16), 16·80 + 80, 80·80 + 80, 80·10 + 10 = 22 298.
    #[test]
    fn alexnet_shapes_and_parameter_count() {
        let net = ConvNet::alexnet(Shape::new(28, 28, 1), 10, 16, 0.5, true, 0).unwrap();
        let sides: Vec<usize> = net.shapes().iter().map(|s| s.height).collect();
        assert_eq!(
            sides,
            vec![15, 15, 7, 7, 7, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1]
        );
        assert_eq!(net.shapes()[14].len(), 80);
        assert_eq!(net.n_params(), 22_298);
        assert_eq!(net.layer_ranges().len(), 8);
        let no_bias = ConvNet::alexnet(Shape::new(28, 28, 1), 10, 16, 0.5, false, 0).unwrap();
        assert_eq!(no_bias.n_params(), 22_298 - (5 * 16 + 80 + 80 + 10));
        let e = ConvNet::alexnet(Shape::new(8, 8, 1), 10, 16, 0.5, true, 0).unwrap_err();
        assert!(
            matches!(&e, ConvError::Alexnet { input, cause }
                if *input == Shape::new(8, 8, 1)
                    && matches!(**cause, ConvError::Layer { problem: LayerProblem::WindowTooLarge(_), .. })),
            "{e:?}"
        );
        let e = e.to_string();
        assert!(e.contains("8×8×1") && e.contains("28×28"), "{e}");
        // 32×32 (the paper's CIFAR input) also ends at 1×1.
        let cifar = ConvNet::alexnet(Shape::new(32, 32, 3), 10, 64, 0.5, true, 0).unwrap();
        assert_eq!(cifar.shapes()[12], Shape::new(1, 1, 64));
        assert_eq!(cifar.shapes()[14].len(), 64 * 7);
    }
}
