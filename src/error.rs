//! The crate-level error: what the command line reports in one line, exit code 2.

use std::path::PathBuf;

/// Any error levylab reports to a user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Invalid noise parameters.
    #[error(transparent)]
    Noise(#[from] crate::noise::NoiseError),
    /// An estimator refused its input.
    #[error(transparent)]
    Stats(#[from] crate::stats::StatsError),
    /// Reading or writing sample files.
    #[error(transparent)]
    Io(#[from] crate::io::IoError),
    /// A file could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The destination.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A command-line value is out of range.
    #[error("{0}")]
    Usage(String),
}
