//! Exit events and path outcomes.

/// When a path ends.
///
/// * `Boundaries { lo, hi }`: the first time X ≤ lo or X ≥ hi (an `interval` exit, or a `transition`
///   across a saddle with the far side at ±∞).
/// * `Window { lo, hi }`: the first time lo ≤ X ≤ hi (`reach` a target within δ: a jump over the
///   window does not count).
///
/// For noise with a Brownian part, a boundary crossed and re-crossed between two grid points is caught
/// by the Brownian-bridge test `P = exp(−2(b − xₙ)(b − xₙ₊₁)/(σ²·dt))`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event {
    /// Leave the open interval (lo, hi); either end may be infinite.
    Boundaries {
        /// Lower boundary (may be −∞).
        lo: f64,
        /// Upper boundary (may be +∞).
        hi: f64,
    },
    /// Enter the closed window [lo, hi].
    Window {
        /// Lower edge.
        lo: f64,
        /// Upper edge.
        hi: f64,
    },
}

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

impl Event {
    /// Whether `x` already satisfies the event.
    #[inline]
    pub fn hit(&self, x: f64) -> bool {
        match *self {
            Event::Boundaries { lo, hi } => x <= lo || x >= hi,
            Event::Window { lo, hi } => lo <= x && x <= hi,
        }
    }

    /// Checks the start point is a valid (not yet hit) state.
    pub fn check_start(&self, x0: f64) -> Result<(), super::SdeError> {
        let (lo, hi) = match *self {
            Event::Boundaries { lo, hi } | Event::Window { lo, hi } => (lo, hi),
        };
        if !(lo < hi) {
            return Err(super::SdeError::Bounds { lo, hi });
        }
        if self.hit(x0) {
            return Err(match self {
                Event::Boundaries { .. } => super::SdeError::StartOutside { start: x0, lo, hi },
                Event::Window { .. } => super::SdeError::StartInWindow { start: x0, lo, hi },
            });
        }
        Ok(())
    }
}

/// The exit-time sample of a set of outcomes (non-finite paths counted separately).
pub fn exit_sample(outcomes: &[Outcome]) -> crate::stats::ExitSample {
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
    crate::stats::ExitSample::new(exited, high, censored, non_finite)
}
