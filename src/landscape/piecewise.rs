//! Symmetric piecewise-quadratic double well: width, barrier and both curvatures independent.

use super::{CriticalPoints, LandscapeError, Potential, positive};

/// Piecewise-quadratic double well, C¹, symmetric in x.
///
/// # Formula (x ≥ 0; U(−x) = U(x))
/// ```text
/// cap      0 ≤ x ≤ x₁:   U = H − ½κ_s x²
/// slope    x₁ ≤ x ≤ x₂:  U = H − g²/(2κ_s) − g(x − x₁)
/// well     x ≥ x₂:       U = ½κ_m (x − w)²
/// x₁ = g/κ_s, x₂ = w − g/κ_m, g = (w − √(w² − 2H(1/κ_m + 1/κ_s))) / (1/κ_m + 1/κ_s)
/// ```
/// The linear piece of slope g lets H, w, κ_m = U″(±w) and κ_s = −U″(0) be chosen independently,
/// provided w² ≥ 2H(1/κ_m + 1/κ_s) (otherwise no C¹ join exists).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PiecewiseQuadratic {
    w: f64,
    h: f64,
    km: f64,
    ks: f64,
    g: f64,
    x1: f64,
    x2: f64,
}

impl PiecewiseQuadratic {
    /// The kind name in scenario files.
    pub const KIND: &'static str = "piecewise-quadratic";
}

impl PiecewiseQuadratic {
    /// Width w (minima ±w), barrier H, well curvature κ_m, saddle curvature κ_s (U″(0) = −κ_s).
    pub fn new(
        width: f64,
        height: f64,
        well_curvature: f64,
        saddle_curvature: f64,
    ) -> Result<Self, LandscapeError> {
        let w = positive("width", width)?;
        let h = positive("height", height)?;
        let km = positive("well_curvature", well_curvature)?;
        let ks = positive("saddle_curvature", saddle_curvature)?;
        let c = 1.0 / km + 1.0 / ks;
        let disc = w * w - 2.0 * h * c;
        if disc < 0.0 {
            return Err(LandscapeError::Shape {
                kind: PiecewiseQuadratic::KIND,
                message: format!(
                    "piecewise-quadratic needs width² >= 2·height·(1/well_curvature + 1/saddle_curvature) = {:.6}, got width² = {:.6}",
                    2.0 * h * c,
                    w * w
                ),
            });
        }
        let g = (w - disc.sqrt()) / c;
        Ok(Self {
            w,
            h,
            km,
            ks,
            g,
            x1: g / ks,
            x2: w - g / km,
        })
    }

    /// |x| of the two joints (cap/slope, slope/well).
    pub fn joints(&self) -> [f64; 2] {
        [self.x1, self.x2]
    }
}

impl Potential for PiecewiseQuadratic {
    #[inline]
    fn value(&self, x: f64) -> f64 {
        let y = x.abs();
        if y <= self.x1 {
            self.h - 0.5 * self.ks * y * y
        } else if y <= self.x2 {
            self.h - self.g * self.g / (2.0 * self.ks) - self.g * (y - self.x1)
        } else {
            0.5 * self.km * (y - self.w).powi(2)
        }
    }
    #[inline]
    fn grad(&self, x: f64) -> f64 {
        let y = x.abs();
        let d = if y <= self.x1 {
            -self.ks * y
        } else if y <= self.x2 {
            -self.g
        } else {
            self.km * (y - self.w)
        };
        d * x.signum()
    }
    #[inline]
    fn hess(&self, x: f64) -> f64 {
        let y = x.abs();
        if y <= self.x1 {
            -self.ks
        } else if y <= self.x2 {
            0.0
        } else {
            self.km
        }
    }
    fn critical_points(&self) -> CriticalPoints {
        CriticalPoints {
            minima: vec![-self.w, self.w],
            saddles: vec![0.0],
        }
    }
    fn min_curvature(&self) -> f64 {
        -self.ks
    }
}

impl PiecewiseQuadratic {
    /// (w, κ_m, κ_s, g, x₁, x₂) as used by U′.
    pub(crate) fn coefficients(&self) -> [f64; 6] {
        [self.w, self.km, self.ks, self.g, self.x1, self.x2]
    }
}
