//! Statistics: tail-index estimators, the streamed gradient-noise report, and exit-time statistics.

pub mod cf_regression;
pub mod coordinates;
pub mod exit_times;
pub mod gradient_noise;
pub mod mcculloch;
pub mod normality;
pub mod outcome;
pub mod power_law;
pub mod spectrum;
pub mod streaming;
pub mod tail_index;

pub use exit_times::{Estimate, ExitSample};
pub use outcome::{Outcome, Side, exit_sample};
pub use streaming::{ExitStats, ExitSummary, InconsistentStats};
pub use tail_index::{
    BlockSumEstimate, HillEstimate, HillK, Method, Options, TailEstimate, block_sum, hill,
};

/// Errors of the estimators.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StatsError {
    /// Not enough samples for the estimator.
    #[error("need at least {needed} samples, got {got}")]
    TooFewSamples {
        /// Minimum.
        needed: usize,
        /// Given.
        got: usize,
    },
    /// A sample is NaN or ±∞.
    #[error("sample {index} is not finite ({value})")]
    NonFinite {
        /// Zero-based position in the input.
        index: usize,
        /// The value.
        value: f64,
    },
    /// Unusable block length for the block-sum estimator.
    #[error(
        "block length K1 = {k1} is unusable for N = {n} samples (need 2 <= K1 <= N/2; N prime has no default, give K1)"
    )]
    BlockSize {
        /// Block length.
        k1: usize,
        /// Samples.
        n: usize,
    },
    /// Hill's k outside [2, N − 1].
    #[error("Hill's k must be in [2, N - 1], got k = {k} for N = {n}")]
    HillK {
        /// k.
        k: usize,
        /// N.
        n: usize,
    },
    /// Hill's fraction outside (0, 1).
    #[error("Hill's fraction must be in (0, 1), got {0}")]
    HillFraction(f64),
    /// A plain mean was asked of a censored sample.
    #[error(
        "{censored} of {total} paths are censored: the plain mean would be biased; use the exponential MLE"
    )]
    Censored {
        /// Censored paths.
        censored: usize,
        /// All paths.
        total: usize,
    },
    /// No path exited.
    #[error("none of {total} paths exited before the horizon")]
    NoExits {
        /// All paths.
        total: usize,
    },
    /// The data do not determine the statistic.
    #[error("degenerate sample: {0}")]
    Degenerate(&'static str),
}
