//! The quadratic well (Ornstein–Uhlenbeck).

use super::{CriticalPoints, LandscapeError, Potential, finite, positive};

/// `U(x) = ½κ(x − m)²`: one minimum at m, no saddle. Exact drift flow `m + (x − m)e^{−κt}`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quadratic {
    m: f64,
    k: f64,
}

impl Quadratic {
    /// The kind name in scenario files.
    pub const KIND: &'static str = "quadratic";
}

impl Quadratic {
    /// Centre m, curvature κ > 0.
    pub fn new(center: f64, curvature: f64) -> Result<Self, LandscapeError> {
        Ok(Self {
            m: finite("center", center)?,
            k: positive("curvature", curvature)?,
        })
    }
}

impl Potential for Quadratic {
    #[inline]
    fn value(&self, x: f64) -> f64 {
        0.5 * self.k * (x - self.m).powi(2)
    }
    #[inline]
    fn grad(&self, x: f64) -> f64 {
        self.k * (x - self.m)
    }
    #[inline]
    fn hess(&self, _x: f64) -> f64 {
        self.k
    }
    fn critical_points(&self) -> CriticalPoints {
        CriticalPoints {
            minima: vec![self.m],
            saddles: vec![],
        }
    }
    #[inline]
    fn drift_flow(&self, x: f64, t: f64) -> Option<f64> {
        Some(self.m + (x - self.m) * (-self.k * t).exp())
    }
    fn min_curvature(&self) -> f64 {
        self.k
    }
}

impl Quadratic {
    /// (κ, m): U′ = κ·(x − m).
    pub(crate) fn coefficients(&self) -> (f64, f64) {
        (self.k, self.m)
    }
}
