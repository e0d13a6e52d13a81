//! SDE integration: schemes, exit events, the lane kernels (1-D and ℝᵈ) and the parallel runner.
//!
//! `dX = −U′(X) dt + noise` is advanced on a fixed grid of step dt. Each path draws from its own
//! stream [`crate::rng::stream`]`(seed, path)`, so every outcome is a pure function of
//! (simulation, seed, path index) — identical for any thread count and lane width.

mod ams;
mod event;
mod lanes;
mod line;
mod region;
mod runner;
mod scheme;
mod space;

pub use crate::stats::outcome::{Outcome, Side, exit_sample};
pub use ams::{AmsConfig, AmsEstimate, AmsRun};
pub use event::Event;
pub use region::Region;
pub use runner::{RunConfig, RunResult, Simulation, SimulationSpec, Trajectory};
pub use scheme::Scheme;
pub use space::{SpaceSimulation, SpaceSpec};

/// Invalid simulation set-up: each variant carries the values it is about, and
/// [`SdeError::field`] names the scenario field it concerns.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SdeError {
    /// Invalid noise.
    #[error(transparent)]
    Noise(#[from] crate::noise::NoiseError),
    /// Invalid landscape.
    #[error(transparent)]
    Landscape(#[from] crate::landscape::LandscapeError),
    /// dt not finite and positive.
    #[error("dt must be finite and > 0, got {0}")]
    Step(f64),
    /// The horizon is not finite or not above dt.
    #[error("horizon must be finite and > dt = {dt}, got {horizon}")]
    Horizon {
        /// The horizon.
        horizon: f64,
        /// The step.
        dt: f64,
    },
    /// Strang splitting needs the exact drift flow (the message names the scheme, as after
    /// `integrator.scheme`).
    #[error(
        "\"split\" needs an exact drift flow, which the {landscape} landscape does not have; use \"implicit\" or \"tamed\""
    )]
    NoDriftFlow {
        /// The landscape kind.
        landscape: &'static str,
    },
    /// The implicit step has no unique solution.
    #[error(
        "\"implicit\" needs dt·max(−U″) < 1 for a unique solution, got dt = {dt} with max(−U″) = {max_neg_curvature}"
    )]
    ImplicitStep {
        /// The step.
        dt: f64,
        /// max(−U″) over the landscape.
        max_neg_curvature: f64,
    },
    /// The start is not a finite number.
    #[error("start must be finite, got {0}")]
    StartNotFinite(f64),
    /// An event's bounds are not ordered.
    #[error("event needs lo < hi, got lo = {lo}, hi = {hi}")]
    Bounds {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    /// The start is outside the domain it should leave.
    #[error("start {start} is not inside the domain ({lo}, {hi})")]
    StartOutside {
        /// The start.
        start: f64,
        /// Lower end.
        lo: f64,
        /// Upper end.
        hi: f64,
    },
    /// The start is already in the window it should reach.
    #[error("start {start} is already inside the target window [{lo}, {hi}]")]
    StartInWindow {
        /// The start.
        start: f64,
        /// Lower edge.
        lo: f64,
        /// Upper edge.
        hi: f64,
    },
    /// A ball start with no coordinates.
    #[error("ball start must have at least one coordinate")]
    NoDimensions,
    /// A ball radius that is not finite and positive.
    #[error("radius must be finite and > 0, got {0}")]
    Radius(f64),
    /// A ball start outside the ball.
    #[error("start |x| = {norm} is not inside the ball of radius {radius}")]
    StartOutsideBall {
        /// |x₀|.
        norm: f64,
        /// The radius.
        radius: f64,
    },
}

impl SdeError {
    /// The scenario field this error is about (dotted path), `""` when it is about no single one.
    pub fn field(&self) -> &'static str {
        match self {
            SdeError::Noise(_) => "noise",
            SdeError::Landscape(_) => "landscape",
            SdeError::Step(_) => "integrator.dt",
            SdeError::Horizon { .. } => "horizon",
            SdeError::NoDriftFlow { .. } | SdeError::ImplicitStep { .. } => "integrator.scheme",
            SdeError::StartNotFinite(_)
            | SdeError::StartOutside { .. }
            | SdeError::StartInWindow { .. }
            | SdeError::NoDimensions
            | SdeError::StartOutsideBall { .. } => "event.start",
            SdeError::Bounds { .. } => "event",
            SdeError::Radius(_) => "event.radius",
        }
    }
}
