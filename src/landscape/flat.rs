//! The flat landscape U ≡ 0 (free Brownian or Lévy motion; Getoor's exact exit times).

use super::{CriticalPoints, Potential};

/// `U ≡ 0`: no drift, no critical points. Used with an `interval` or `ball` event.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Flat;

impl Flat {
    /// The kind name in scenario files.
    pub const KIND: &'static str = "flat";
}

impl Potential for Flat {
    #[inline]
    fn value(&self, _x: f64) -> f64 {
        0.0
    }
    #[inline]
    fn grad(&self, _x: f64) -> f64 {
        0.0
    }
    #[inline]
    fn hess(&self, _x: f64) -> f64 {
        0.0
    }
    fn critical_points(&self) -> CriticalPoints {
        CriticalPoints::default()
    }
    #[inline]
    fn drift_flow(&self, x: f64, _t: f64) -> Option<f64> {
        Some(x)
    }
    fn min_curvature(&self) -> f64 {
        0.0
    }
}
