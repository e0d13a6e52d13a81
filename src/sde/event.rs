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
    /// Short label used in CSV files: `exited-low`, `exited-high`, `censored`, `non-finite`.
    pub fn label(&self) -> &'static str {
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

    /// Whether a step from `prev` to `x` passed over a window without landing in it. A continuous
    /// (Brownian) path must have crossed the window, so it counts as a hit; a jump may skip it.
    #[inline]
    pub fn passed_over(&self, prev: f64, x: f64) -> bool {
        match *self {
            Event::Window { lo, hi } => (prev < lo && x > hi) || (prev > hi && x < lo),
            Event::Boundaries { .. } => false,
        }
    }

    /// The side by which a path moving from `prev` to `x` triggered the event.
    #[inline]
    pub fn side(&self, prev: f64, x: f64) -> Side {
        match *self {
            Event::Boundaries { lo, .. } => {
                if x <= lo {
                    Side::Low
                } else {
                    Side::High
                }
            }
            Event::Window { lo, .. } => {
                if prev < lo {
                    Side::Low
                } else {
                    Side::High
                }
            }
        }
    }

    /// The boundary a Brownian bridge from `a` to `b` (both not hitting) could touch, with its side:
    /// the nearest finite boundary on the side where both points lie.
    #[inline]
    pub fn bridge_boundary(&self, a: f64, b: f64) -> Option<(f64, Side)> {
        match *self {
            Event::Boundaries { lo, hi } => {
                // Both inside (lo, hi); either boundary could be touched; the nearer dominates.
                let dl = (a - lo).min(b - lo);
                let dh = (hi - a).min(hi - b);
                if dl <= dh {
                    lo.is_finite().then_some((lo, Side::Low))
                } else {
                    hi.is_finite().then_some((hi, Side::High))
                }
            }
            Event::Window { lo, hi } => {
                if a < lo && b < lo {
                    Some((lo, Side::Low))
                } else if a > hi && b > hi {
                    Some((hi, Side::High))
                } else {
                    None // jumped across the window between grid points; no continuous path from a to b misses it
                }
            }
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
