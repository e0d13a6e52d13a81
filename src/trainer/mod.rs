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

use std::path::PathBuf;

/// Errors of the trainer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A data file could not be read.
    #[error("cannot read {}: {cause}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error (part of the message).
        cause: std::io::Error,
    },
    /// A gzip file is corrupt.
    #[error("{}: bad gzip data: {cause}", path.display())]
    Gzip {
        /// The file.
        path: PathBuf,
        /// The decoder's error (part of the message).
        cause: std::io::Error,
    },
    /// A gzip file inflates past [`data::MAX_IDX_BYTES`].
    #[error("{}: decompresses to more than {} bytes", path.display(), data::MAX_IDX_BYTES)]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// An IDX file is malformed.
    #[error("{}: {problem}", path.display())]
    Idx {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: data::IdxProblem,
    },
    /// The image and label files disagree on the number of examples.
    #[error("{} has {images_n} images but {} has {labels_n} labels", images.display(), labels.display())]
    CountMismatch {
        /// The image file.
        images: PathBuf,
        /// Its images.
        images_n: usize,
        /// The label file.
        labels: PathBuf,
        /// Its labels.
        labels_n: usize,
    },
    /// The embedded digits set does not parse (a corrupted build).
    #[error("embedded digits set{}: {problem}", line.map_or(String::new(), |l| format!(", line {l}")))]
    EmbeddedDigits {
        /// 1-based line, when the problem is in one.
        line: Option<usize>,
        /// What is wrong.
        problem: String,
    },
    /// A convolutional net on data without an image shape.
    #[error("model kind \"alexnet\" needs image data (IDX files)")]
    NotImages,
    /// The layer stack does not fit the data.
    #[error(transparent)]
    Architecture(#[from] conv::ConvError),
    /// `escape.layers` names a layer the network does not have.
    #[error(
        "escape.layers: layer {layer} does not exist (the network has {layers} layers with parameters, numbered from 1)"
    )]
    NoSuchLayer {
        /// The layer asked for (1-based).
        layer: usize,
        /// Layers with parameters.
        layers: usize,
    },
    /// Training stopped before reaching `escape.accuracy`.
    #[error(
        "escape.accuracy: a training accuracy of {accuracy} was not reached in train.iterations = {iterations} (best {best:.4} at iteration {at}); raise train.iterations or lower escape.accuracy"
    )]
    AccuracyNotReached {
        /// The accuracy asked for.
        accuracy: f64,
        /// Iterations run.
        iterations: usize,
        /// The best accuracy seen.
        best: f64,
        /// Where it was seen.
        at: usize,
    },
}
