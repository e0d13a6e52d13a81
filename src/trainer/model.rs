//! The networks a training run can use, behind one interface: the paper's fully connected nets
//! ([`Mlp`]) and its AlexNet ([`ConvNet::alexnet`]).

use std::ops::Range;

use super::TrainError;
use super::conv::{ConvNet, Layer, Shape};
use super::data::Dataset;
use super::mlp::{Loss, Mlp, Workspace};

/// The architecture of a run, as `[model]` describes it.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ModelSpec {
    /// Fully connected ReLU net: `depth` linear layers, hidden layers of `width`.
    Fc {
        /// Hidden width.
        width: usize,
        /// Number of linear layers.
        depth: usize,
        /// Biases in the linear layers.
        bias: bool,
    },
    /// The paper's AlexNet with `channels` in every convolution.
    Alexnet {
        /// Channels of the five convolutions.
        channels: usize,
        /// Drop probability of the two classifier dropouts.
        dropout: f64,
        /// Biases in every layer.
        bias: bool,
    },
}

impl ModelSpec {
    /// The kind name as in configuration files.
    pub fn kind(&self) -> &'static str {
        match self {
            ModelSpec::Fc { .. } => "fc",
            ModelSpec::Alexnet { .. } => "alexnet",
        }
    }
}

/// A network of either kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Model {
    /// Fully connected.
    Fc(Mlp),
    /// Convolutional.
    Conv(ConvNet),
}

impl Model {
    /// The network of `spec` for the examples of `data`, initialized from `seed`. A convolutional
    /// net needs image-shaped data (`data.image`).
    pub fn build(spec: &ModelSpec, data: &Dataset, seed: u64) -> Result<Self, TrainError> {
        match *spec {
            ModelSpec::Fc { width, depth, bias } => {
                let mut sizes = vec![data.dim];
                sizes.extend(std::iter::repeat_n(width, depth.saturating_sub(1)));
                sizes.push(data.classes);
                Ok(Model::Fc(Mlp::new(&sizes, bias, seed)))
            }
            ModelSpec::Alexnet {
                channels,
                dropout,
                bias,
            } => {
                let (h, w) = data.image.ok_or(TrainError::NotImages)?;
                let input = Shape::new(h, w, data.dim / (h * w).max(1));
                ConvNet::alexnet(input, data.classes, channels, dropout as f32, bias, seed)
                    .map(Model::Conv)
                    .map_err(TrainError::from)
            }
        }
    }

    /// Number of parameters M.
    pub fn n_params(&self) -> usize {
        match self {
            Model::Fc(n) => n.n_params(),
            Model::Conv(n) => n.n_params(),
        }
    }

    /// The flat parameter vector.
    pub fn params(&self) -> &[f32] {
        match self {
            Model::Fc(n) => n.params(),
            Model::Conv(n) => n.params(),
        }
    }

    /// The flat parameter vector, to change.
    pub fn params_mut(&mut self) -> &mut [f32] {
        match self {
            Model::Fc(n) => n.params_mut(),
            Model::Conv(n) => n.params_mut(),
        }
    }

    /// Values per example.
    pub fn input_len(&self) -> usize {
        match self {
            Model::Fc(n) => n.sizes()[0],
            Model::Conv(n) => n.input().len(),
        }
    }

    /// Parameter range of every layer that has parameters.
    pub fn layer_ranges(&self) -> Vec<Range<usize>> {
        match self {
            Model::Fc(n) => n.layer_ranges(),
            Model::Conv(n) => n.layer_ranges(),
        }
    }

    /// Number of values each layer puts out, the input first (for an FC net its layer sizes).
    pub fn sizes(&self) -> Vec<usize> {
        match self {
            Model::Fc(n) => n.sizes().to_vec(),
            Model::Conv(n) => std::iter::once(n.input().len())
                .chain(n.shapes().iter().map(|s| s.len()))
                .collect(),
        }
    }

    /// One line per layer, e.g. `conv 4×4/2 pad 2 → 64: 15×15×64`.
    pub fn describe(&self) -> Vec<String> {
        match self {
            Model::Fc(n) => n
                .sizes()
                .windows(2)
                .map(|w| format!("linear → {}", w[1]))
                .collect(),
            Model::Conv(n) => n
                .layers()
                .iter()
                .zip(n.shapes())
                .map(|(l, s): (&Layer, Shape)| format!("{}: {s}", l.describe()))
                .collect(),
        }
    }

    /// Loss (mean over the batch), correct predictions, and the gradient in `grad`.
    /// `dropout = Some((seed, step))` turns dropout on for an SGD step (convolutional nets; the FC
    /// nets have none); `ws` is the FC net's buffer (a convolutional net keeps its own per
    /// sub-batch).
    pub fn loss_grad(
        &self,
        x: &[f32],
        y: &[u8],
        loss: Loss,
        ws: &mut Workspace,
        grad: &mut [f32],
        dropout: Option<(u64, u64)>,
    ) -> (f64, usize) {
        match self {
            Model::Fc(n) => n.loss_grad(x, y, loss, ws, grad),
            Model::Conv(n) => n.loss_grad(x, y, loss, grad, dropout),
        }
    }

    /// Mean loss and accuracy over a data set (dropout off).
    pub fn evaluate(&self, x: &[f32], y: &[u8], loss: Loss) -> (f64, f64) {
        match self {
            Model::Fc(n) => n.evaluate(x, y, loss),
            Model::Conv(n) => n.evaluate(x, y, loss),
        }
    }

    /// Adds the gradient λθ of the L2 penalty (λ/2)‖θ‖² (every parameter, weights and biases) to
    /// `grad`, and returns the penalty; nothing (and 0) when λ = 0.
    pub fn add_weight_decay(&self, grad: &mut [f32], lambda: f64) -> f64 {
        if lambda == 0.0 {
            return 0.0;
        }
        let l = lambda as f32;
        let mut sq = 0.0f64;
        for (g, &t) in grad.iter_mut().zip(self.params()) {
            *g += l * t;
            sq += f64::from(t) * f64::from(t);
        }
        0.5 * lambda * sq
    }

    /// The L2 penalty (λ/2)‖θ‖².
    pub fn weight_penalty(&self, lambda: f64) -> f64 {
        if lambda == 0.0 {
            return 0.0;
        }
        0.5 * lambda
            * self
                .params()
                .iter()
                .map(|&t| f64::from(t).powi(2))
                .sum::<f64>()
    }

    /// `params ← params − lr·grad`.
    pub fn step(&mut self, grad: &[f32], lr: f32) {
        match self {
            Model::Fc(n) => n.step(grad, lr),
            Model::Conv(n) => n.step(grad, lr),
        }
    }
}
