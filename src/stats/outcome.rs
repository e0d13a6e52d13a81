//! How one path ended: the record the engine writes ([`crate::sde`]) and the statistics read
//! ([`super::ExitStats`], [`super::ExitSample`]). It lives here, below both, so that neither
//! imports the other for it.

/// Which way a path ended: through the low or the high boundary (for a window: entered from below
/// or from above).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Through `lo` (exit to the left, or into a window from below).
    Low,
    /// Through `hi`.
    High,
}

/// How one path ended. Censoring is a value, never a dropped path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome {
    /// The event happened at `time`; `from` is the state one step before.
    Exited {
        /// Exit time (a grid time).
        time: f64,
        /// Which side.
        side: Side,
        /// The state at the previous grid time.
        from: f64,
        /// For an event with several targets (a `transition` or `reach` in ℝᵈ), which one was
        /// reached (its index in the event's list); None for every other event.
        target: Option<u16>,
    },
    /// Still running at `time` (the horizon, or earlier if the run was interrupted).
    Censored {
        /// Censoring time.
        time: f64,
    },
    /// The state became NaN or ±∞ at `time` (explicit Euler after a huge jump).
    NonFinite {
        /// Time of the first non-finite state.
        time: f64,
    },
}

impl Outcome {
    /// The time attached to the outcome.
    pub fn time(&self) -> f64 {
        match *self {
            Outcome::Exited { time, .. }
            | Outcome::Censored { time }
            | Outcome::NonFinite { time } => time,
        }
    }
    /// Short label used in CSV files: `exited-low`, `exited-high`, `censored`, `non-finite`, and
    /// `reached-K` for target K of an event with several targets.
    pub fn label(&self) -> std::borrow::Cow<'static, str> {
        if let Outcome::Exited {
            target: Some(k), ..
        } = self
        {
            return format!("reached-{k}").into();
        }
        match self {
            Outcome::Exited {
                side: Side::Low, ..
            } => "exited-low",
            Outcome::Exited {
                side: Side::High, ..
            } => "exited-high",
            Outcome::Censored { .. } => "censored",
            Outcome::NonFinite { .. } => "non-finite",
        }
        .into()
    }
}

/// The exit-time sample of a set of outcomes (non-finite paths counted separately).
pub fn exit_sample(outcomes: &[Outcome]) -> super::ExitSample {
    let (mut exited, mut high, mut censored, mut non_finite) =
        (Vec::new(), Vec::new(), Vec::new(), 0);
    for o in outcomes {
        match *o {
            Outcome::Exited { time, side, .. } => {
                exited.push(time);
                high.push(side == Side::High);
            }
            Outcome::Censored { time } => censored.push(time),
            Outcome::NonFinite { .. } => non_finite += 1,
        }
    }
    super::ExitSample::new(exited, high, censored, non_finite)
}
