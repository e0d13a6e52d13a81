//! The crate-level error: one type for callers of the library's entry points (the command line,
//! scripts, later bindings), wrapping the typed error of each module. Every variant prints as one
//! line that names the file, field or value at fault.

/// Any error levylab reports to a user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A scenario or training file that cannot be used.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Running, sharding or merging a scenario.
    #[error(transparent)]
    Experiment(#[from] crate::experiment::ExperimentError),
    /// An invalid simulation set-up.
    #[error(transparent)]
    Sde(#[from] crate::sde::SdeError),
    /// An invalid landscape.
    #[error(transparent)]
    Landscape(#[from] crate::landscape::LandscapeError),
    /// Invalid noise parameters.
    #[error(transparent)]
    Noise(#[from] crate::noise::NoiseError),
    /// An estimator refused its input.
    #[error(transparent)]
    Stats(#[from] crate::stats::StatsError),
    /// Reading or writing sample files.
    #[error(transparent)]
    Io(#[from] crate::io::IoError),
    /// Training.
    #[error(transparent)]
    Train(#[from] crate::trainer::TrainError),
    /// Drawing a figure.
    #[error(transparent)]
    Figure(#[from] crate::plot::FigureError),
}
