//! The embedded trainer: fully connected and convolutional networks trained by SGD on a shipped data set, with the
//! gradient noise measured at checkpoints (the empirical half of Şimşekli, Sagun & Gürbüzbalaban 2019).
//!
//! * [`data`] — the embedded digits set, IDX files, seeded split, normalization;
//! * [`gemm`] — levylab's single-precision GEMM (packed, multithreaded, the same bits on every
//!   instruction set and thread count) and the element-wise helpers around it;
//! * [`mlp`] — the fully connected network (f32), losses, gradients;
//! * [`conv`] — convolutional layers (Conv2d, ReLU, MaxPool2d, Dropout, Linear) and the paper's
//!   AlexNet;
//! * [`model`] — the `[model]` kinds (`fc`, `alexnet`) behind one interface;
//! * [`gradient_noise`] — the streamed gradient-noise measurement (paper's estimator pooled, per layer, per parameter,
//!   Gaussian null, Hill, McCulloch, zeros, noise norms);
//! * [`config`] — the TOML run description with sweeps, and the training loop;
//! * [`alpha_handoff`] — a measured α read back from a training summary for a scenario's noise;
//! * [`escape`] — SGD's own escapes from a trained network's minimum, beside the Lévy and Gaussian
//!   models (the `[escape]` section).

pub mod alpha_handoff;
pub mod config;
pub mod conv;
pub mod data;
pub mod escape;
pub mod gemm;
pub mod gradient_noise;
pub mod mlp;
pub mod model;

pub use alpha_handoff::measured_alpha;
pub use config::{DatasetKind, RunReport, TrainConfig, TrainRun};

/// Errors of the trainer.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A data set could not be read.
    #[error("{0}")]
    Data(String),
}
