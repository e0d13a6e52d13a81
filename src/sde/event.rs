//! Exit events (the path outcomes they produce live in [`crate::stats::outcome`], where the
//! statistics read them).

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
