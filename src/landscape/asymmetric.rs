//! Asymmetric double well with basins of different widths and depths.

use super::{CriticalPoints, LandscapeError, Potential, positive};

/// Asymmetric double well.
///
/// # Formula
/// ```text
/// U′(x) = k·x(x + a)(x − b),   U(x) = k(x⁴/4 + (a − b)x³/3 − ab·x²/2)
/// minima −a and b, saddle 0;  U″(−a) = k·a(a + b), U″(b) = k·b(a + b), U″(0) = −k·ab
/// barriers: ΔU_left = k·a³(a + 2b)/12, ΔU_right = k·b³(b + 2a)/12
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Asymmetric {
    k: f64,
    a: f64,
    b: f64,
}

impl Asymmetric {
    /// The kind name in scenario files.
    pub const KIND: &'static str = "asymmetric";
}

impl Asymmetric {
    /// Stiffness k > 0, left half-distance a > 0 (minimum at −a), right b > 0 (minimum at b).
    pub fn new(k: f64, a: f64, b: f64) -> Result<Self, LandscapeError> {
        Ok(Self {
            k: positive("k", k)?,
            a: positive("left", a)?,
            b: positive("right", b)?,
        })
    }
}

impl Potential for Asymmetric {
    #[inline]
    fn value(&self, x: f64) -> f64 {
        let (a, b) = (self.a, self.b);
        self.k * x * x * (x * x / 4.0 + (a - b) * x / 3.0 - a * b / 2.0)
    }
    #[inline]
    fn grad(&self, x: f64) -> f64 {
        self.k * x * (x + self.a) * (x - self.b)
    }
    #[inline]
    fn hess(&self, x: f64) -> f64 {
        let (a, b) = (self.a, self.b);
        self.k * (3.0 * x * x + 2.0 * (a - b) * x - a * b)
    }
    fn critical_points(&self) -> CriticalPoints {
        CriticalPoints {
            minima: vec![-self.a, self.b],
            saddles: vec![0.0],
        }
    }
    fn min_curvature(&self) -> f64 {
        // U″ is a parabola with vertex at x = −(a − b)/3.
        self.hess(-(self.a - self.b) / 3.0)
    }
}

impl Asymmetric {
    /// (k, a, b): U′ = k·x·(x + a)·(x − b).
    pub(crate) fn coefficients(&self) -> (f64, f64, f64) {
        (self.k, self.a, self.b)
    }
}
