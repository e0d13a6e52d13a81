//! The symmetric quartic double well and its tilted version.

use super::{CriticalPoints, LandscapeError, Potential, finite, positive};

/// Quartic double well with independent basin width and barrier height.
///
/// # Formula
/// ```text
/// U(x) = H·((x/w)² − 1)²,   U′(x) = (4H/w⁴)·x(x² − w²),   U″(x) = (4H/w⁴)(3x² − w²)
/// minima ±w, saddle 0, barrier ΔU = H, U″(±w) = 8H/w², U″(0) = −4H/w²
/// ```
/// The drift flow is exact: with y = x/w and τ = 4Ht/w², ẏ = y − y³ has
/// `φ_τ(y) = sign(y)/√(1 + (y⁻² − 1)e^{−2τ})`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quartic {
    w: f64,
    h: f64,
    k: f64, // 4H/w⁴
}

impl Quartic {
    /// The kind name in scenario files.
    pub const KIND: &'static str = "quartic";
}

impl Quartic {
    /// Width w > 0 (minima at ±w), height H > 0 (barrier).
    pub fn new(width: f64, height: f64) -> Result<Self, LandscapeError> {
        let w = positive("width", width)?;
        let h = positive("height", height)?;
        Ok(Self {
            w,
            h,
            k: 4.0 * h / w.powi(4),
        })
    }
    /// Basin width w.
    pub fn width(&self) -> f64 {
        self.w
    }
    /// Barrier height H.
    pub fn height(&self) -> f64 {
        self.h
    }
}

impl Potential for Quartic {
    #[inline]
    fn value(&self, x: f64) -> f64 {
        let y = x / self.w;
        self.h * (y * y - 1.0).powi(2)
    }
    #[inline]
    fn grad(&self, x: f64) -> f64 {
        self.k * x * (x * x - self.w * self.w)
    }
    #[inline]
    fn hess(&self, x: f64) -> f64 {
        self.k * (3.0 * x * x - self.w * self.w)
    }
    fn critical_points(&self) -> CriticalPoints {
        CriticalPoints {
            minima: vec![-self.w, self.w],
            saddles: vec![0.0],
        }
    }
    #[inline]
    fn drift_flow(&self, x: f64, t: f64) -> Option<f64> {
        if x == 0.0 {
            return Some(0.0);
        }
        let y = x / self.w;
        let tau = self.k * self.w * self.w * t;
        // 1/y² − 1 can be huge (|y| ≫ 1 after a jump); the formula stays finite for any finite y.
        let denom = 1.0 + (1.0 / (y * y) - 1.0) * (-2.0 * tau).exp();
        Some(self.w * y.signum() / denom.sqrt())
    }
    fn min_curvature(&self) -> f64 {
        -self.k * self.w * self.w
    }
}

/// Tilted quartic `U(x) = H((x/w)² − 1)² − F·x`: the right well is deeper for F > 0.
/// Critical points are the real roots of the cubic U′, found numerically; the tilt must leave two
/// minima (|F| below the critical tilt 8H/(3√3·w)).
#[derive(Clone, Debug, PartialEq)]
pub struct TiltedQuartic {
    base: Quartic,
    f: f64,
    cp: CriticalPoints,
}

impl TiltedQuartic {
    /// The kind name in scenario files.
    pub const KIND: &'static str = "tilted";
}

impl TiltedQuartic {
    /// Width, height, tilt F.
    pub fn new(width: f64, height: f64, tilt: f64) -> Result<Self, LandscapeError> {
        let base = Quartic::new(width, height)?;
        let f = finite("tilt", tilt)?;
        let critical = 8.0 * height / (3.0 * 3f64.sqrt() * width);
        if f.abs() >= critical {
            return Err(LandscapeError::Shape {
                kind: TiltedQuartic::KIND,
                message: format!(
                    "tilt must satisfy |tilt| < 8·height/(3√3·width) = {critical:.6} to keep two wells, got {f}"
                ),
            });
        }
        let grad = |x: f64| base.grad(x) - f;
        let w = base.w;
        // U′ is a cubic with roots in (−w·2/√3·…): bracket each on the monotone pieces split at ±w/√3.
        let c = w / 3f64.sqrt();
        // Below the critical tilt each piece holds exactly one root; a failure (a tilt within
        // rounding of the critical one) is refused rather than stored as NaN.
        let root = |a: f64, b: f64| {
            crate::numeric::find_root(grad, a, b, 1e-15 * w).ok_or_else(|| {
                LandscapeError::Shape {
 kind: TiltedQuartic::KIND,
 message: format!(
                    "tilt {f} is too close to the critical tilt {critical:.6}: U′ has no root in [{a}, {b}]"
                ),
 }
            })
        };
        let m1 = root(-2.0 * w, -c)?;
        let s = root(-c, c)?;
        let m2 = root(c, 2.0 * w)?;
        let cp = CriticalPoints {
            minima: vec![m1, m2],
            saddles: vec![s],
        };
        Ok(Self { base, f, cp })
    }
}

impl Potential for TiltedQuartic {
    #[inline]
    fn value(&self, x: f64) -> f64 {
        self.base.value(x) - self.f * x
    }
    #[inline]
    fn grad(&self, x: f64) -> f64 {
        self.base.grad(x) - self.f
    }
    #[inline]
    fn hess(&self, x: f64) -> f64 {
        self.base.hess(x)
    }
    fn critical_points(&self) -> CriticalPoints {
        self.cp.clone()
    }
    fn min_curvature(&self) -> f64 {
        self.base.min_curvature()
    }
}

impl Quartic {
    /// (k, w): U′ = k·x·(x² − w²).
    pub(crate) fn coefficients(&self) -> (f64, f64) {
        (self.k, self.w)
    }
}

impl TiltedQuartic {
    /// (k, w, F): U′ = k·x·(x² − w²) − F.
    pub(crate) fn coefficients(&self) -> (f64, f64, f64) {
        (self.base.k, self.base.w, self.f)
    }
}
