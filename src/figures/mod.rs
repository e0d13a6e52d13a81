//! The figure gallery: computes the data of the paper's figures and the exit-time comparisons
//! (running scenarios through [`crate::experiment`], training networks through [`crate::trainer`])
//! and draws them with the drawing layer [`crate::plot`]. One layer above `experiment`: nothing
//! below imports this module.

mod escape;
pub mod fashion;
mod fashion_noise;
pub mod gallery;
mod space;

pub use crate::plot::FIGURE_SIZE;

use std::path::PathBuf;

/// Why the gallery could not draw a figure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GalleryError {
    /// A figure failed; `source` says why.
    #[error("figure {name}")]
    Figure {
        /// The figure's name (as `--only` takes it).
        name: String,
        /// Why it failed.
        #[source]
        source: Box<GalleryError>,
    },
    /// `--only` names no figure of the set.
    #[error("--only must be one of {names}{note} (or several, comma-separated), got {got:?}")]
    UnknownFigure {
        /// What was given.
        got: String,
        /// The figures of the set, comma-separated.
        names: String,
        /// A remark on the set (e.g. where the other figures are).
        note: String,
    },
    /// A Fashion-MNIST file is not where it was looked for.
    #[error(
        "Fashion-MNIST: {} not found (install Debian's dataset-fashion-mnist, or give --data-dir)",
        .0.display()
    )]
    FashionMissing(PathBuf),
    /// A run the figure needs did not produce the measurement it draws.
    #[error("{0}")]
    Missing(String),
    /// The output directory cannot be created.
    #[error("cannot create {}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An embedded scenario or configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Training failed (data, model).
    #[error(transparent)]
    Train(#[from] crate::trainer::TrainError),
    /// Drawing failed.
    #[error(transparent)]
    Draw(#[from] crate::plot::FigureError),
    /// Writing a figure's data failed.
    #[error(transparent)]
    Write(#[from] crate::io::IoError),
    /// A figure's data could not be serialized.
    #[error("cannot serialize a figure's data: {0}")]
    Json(#[from] serde_json::Error),
    /// An estimator refused its sample.
    #[error(transparent)]
    Stats(#[from] crate::stats::StatsError),
    /// A stable law's parameters were refused.
    #[error(transparent)]
    Noise(#[from] crate::noise::NoiseError),
    /// A noise in ℝᵈ was refused.
    #[error(transparent)]
    VectorNoise(#[from] crate::noise::vector::VectorNoiseError),
    /// A 1-D landscape was refused.
    #[error(transparent)]
    Landscape(#[from] crate::landscape::LandscapeError),
    /// A surface was refused.
    #[error(transparent)]
    Surface(#[from] crate::landscape::surface::SurfaceError),
    /// A simulation was refused.
    #[error(transparent)]
    Sde(#[from] crate::sde::SdeError),
}

/// The gallery's results.
pub type Result<T, E = GalleryError> = std::result::Result<T, E>;
