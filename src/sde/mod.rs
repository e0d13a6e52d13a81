//! SDE integration: schemes, exit events, the lane kernel and the parallel runner.
//!
//! `dX = −U′(X) dt + noise` is advanced on a fixed grid of step dt. Each path draws from its own
//! stream [`crate::rng::stream`]`(seed, path)`, so every outcome is a pure function of
//! (simulation, seed, path index) — identical for any thread count and lane width.

mod ams;
mod ball;
mod event;
mod lanes;
mod runner;
mod scheme;

pub use ams::{AmsConfig, AmsEstimate, AmsRun};
pub use ball::{BallNoise, BallSimulation, RadialLandscape};
pub use event::{Event, Outcome, Side, exit_sample};
pub use runner::{RunConfig, RunResult, Simulation, Trajectory};
pub use scheme::Scheme;

/// Invalid simulation set-up.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SdeError {
    /// Invalid noise.
    #[error(transparent)]
    Noise(#[from] crate::noise::NoiseError),
    /// Invalid landscape.
    #[error(transparent)]
    Landscape(#[from] crate::landscape::LandscapeError),
    /// dt or horizon not usable.
    #[error("{0}")]
    Time(String),
    /// The scheme does not suit the landscape.
    #[error("{0}")]
    Scheme(String),
    /// The event does not suit the start point or landscape.
    #[error("{0}")]
    Event(String),
}
