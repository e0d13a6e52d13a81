//! Landscapes: smooth 1-D potentials U whose drift is −U′, with their critical points.
//!
//! One landscape per file; [`Landscape`] is the closed set of kinds a scenario can name. Each kind
//! validates its parameters at construction; afterwards value, gradient and curvature cannot fail.

mod asymmetric;
mod flat;
mod piecewise;
mod polynomial;
mod quadratic;
mod quartic;
pub mod surface;

pub use asymmetric::Asymmetric;
pub use flat::Flat;
pub use piecewise::PiecewiseQuadratic;
pub use polynomial::Polynomial;
pub use quadratic::Quadratic;
pub use quartic::{Quartic, TiltedQuartic};

/// Invalid landscape parameters.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LandscapeError {
    /// A parameter that must be finite and positive is not.
    #[error("{name} must be finite and > 0, got {value}")]
    NotPositive {
        /// Parameter name.
        name: &'static str,
        /// The value.
        value: f64,
    },
    /// A parameter that must be finite is not.
    #[error("{name} must be finite, got {value}")]
    NotFinite {
        /// Parameter name.
        name: &'static str,
        /// The value.
        value: f64,
    },
    /// The parameters do not define the intended shape.
    #[error("{message}")]
    Shape {
        /// The landscape kind (as in scenario files).
        kind: &'static str,
        /// What is wrong.
        message: String,
    },
}

pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64, LandscapeError> {
    if value > 0.0 && value.is_finite() {
        Ok(value)
    } else {
        Err(LandscapeError::NotPositive { name, value })
    }
}

pub(crate) fn finite(name: &'static str, value: f64) -> Result<f64, LandscapeError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(LandscapeError::NotFinite { name, value })
    }
}

/// Minima and saddles (local maxima) of a 1-D landscape, sorted; in a multi-well landscape the saddles
/// separate consecutive minima (`minima[i] < saddles[i] < minima[i + 1]`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct CriticalPoints {
    /// Local minima, increasing.
    pub minima: Vec<f64>,
    /// Local maxima, increasing.
    pub saddles: Vec<f64>,
}

impl CriticalPoints {
    /// The basin containing `x`: the index of the minimum whose interval between neighbouring saddles
    /// contains it (`None` if x sits exactly on a saddle or there are no minima).
    pub fn basin_of(&self, x: f64) -> Option<usize> {
        if self.minima.is_empty() || self.saddles.contains(&x) {
            return None;
        }
        Some(self.saddles.iter().filter(|&&s| s < x).count())
    }

    /// The basin of minimum i as an interval (lower saddle or −∞, upper saddle or +∞).
    pub fn basin(&self, i: usize) -> (f64, f64) {
        let lo = if i == 0 {
            f64::NEG_INFINITY
        } else {
            self.saddles[i - 1]
        };
        let hi = self.saddles.get(i).copied().unwrap_or(f64::INFINITY);
        (lo, hi)
    }
}

/// A smooth 1-D landscape U; the SDE drift is −U′(x).
pub trait Potential: Send + Sync + std::fmt::Debug {
    /// U(x).
    fn value(&self, x: f64) -> f64;
    /// U′(x).
    fn grad(&self, x: f64) -> f64;
    /// U″(x).
    fn hess(&self, x: f64) -> f64;
    /// Minima and saddles.
    fn critical_points(&self) -> CriticalPoints;
    /// The exact flow φ_t(x) of ẋ = −U′(x), where a closed form exists.
    fn drift_flow(&self, _x: f64, _t: f64) -> Option<f64> {
        None
    }
    /// inf over x of U″(x): a drift-implicit Euler step is uniquely solvable when dt·max(0, −inf U″) < 1.
    fn min_curvature(&self) -> f64;
}

/// Every landscape kind a scenario can use.
#[derive(Clone, Debug, PartialEq)]
pub enum Landscape {
    /// `H((x/w)² − 1)²`.
    Quartic(Quartic),
    /// `H((x/w)² − 1)² − F·x`.
    Tilted(TiltedQuartic),
    /// U′ = k·x(x + a)(x − b).
    Asymmetric(Asymmetric),
    /// Quadratic wells joined to a quadratic cap by linear pieces.
    PiecewiseQuadratic(PiecewiseQuadratic),
    /// Σ c_k x^k.
    Polynomial(Polynomial),
    /// ½κ(x − m)².
    Quadratic(Quadratic),
    /// U ≡ 0.
    Flat(Flat),
}

macro_rules! dispatch {
    ($self:ident, $l:ident => $e:expr) => {
        match $self {
            Landscape::Quartic($l) => $e,
            Landscape::Tilted($l) => $e,
            Landscape::Asymmetric($l) => $e,
            Landscape::PiecewiseQuadratic($l) => $e,
            Landscape::Polynomial($l) => $e,
            Landscape::Quadratic($l) => $e,
            Landscape::Flat($l) => $e,
        }
    };
}

impl Potential for Landscape {
    #[inline]
    fn value(&self, x: f64) -> f64 {
        dispatch!(self, l => l.value(x))
    }
    #[inline]
    fn grad(&self, x: f64) -> f64 {
        dispatch!(self, l => l.grad(x))
    }
    #[inline]
    fn hess(&self, x: f64) -> f64 {
        dispatch!(self, l => l.hess(x))
    }
    fn critical_points(&self) -> CriticalPoints {
        dispatch!(self, l => l.critical_points())
    }
    #[inline]
    fn drift_flow(&self, x: f64, t: f64) -> Option<f64> {
        dispatch!(self, l => l.drift_flow(x, t))
    }
    fn min_curvature(&self) -> f64 {
        dispatch!(self, l => l.min_curvature())
    }
}

impl Landscape {
    /// Short kind name as used in scenario files.
    pub fn kind(&self) -> &'static str {
        match self {
            Landscape::Quartic(_) => Quartic::KIND,
            Landscape::Tilted(_) => TiltedQuartic::KIND,
            Landscape::Asymmetric(_) => Asymmetric::KIND,
            Landscape::PiecewiseQuadratic(_) => PiecewiseQuadratic::KIND,
            Landscape::Polynomial(_) => Polynomial::KIND,
            Landscape::Quadratic(_) => Quadratic::KIND,
            Landscape::Flat(_) => Flat::KIND,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all() -> Vec<Landscape> {
        vec![
            Landscape::Quartic(Quartic::new(1.3, 0.4).unwrap()),
            Landscape::Tilted(TiltedQuartic::new(1.0, 0.25, 0.05).unwrap()),
            Landscape::Asymmetric(Asymmetric::new(2.0, 0.7, 1.6).unwrap()),
            Landscape::PiecewiseQuadratic(PiecewiseQuadratic::new(1.0, 0.25, 2.0, 1.5).unwrap()),
            Landscape::Polynomial(Polynomial::new(vec![0.1, 0.2, -1.0, -0.1, 0.5]).unwrap()),
            Landscape::Quadratic(Quadratic::new(0.5, 2.0).unwrap()),
            Landscape::Flat(Flat),
        ]
    }

    proptest! {
        /// U′ and U″ against central differences of U and U′. h = 1e-5: truncation O(h²) ≈ 1e-10, round-off
        /// ≈ ε·|U|/h ≈ 1e-10·|U|; the tolerance 1e-6·(1 + |fd|) leaves 10⁴ headroom. The piecewise-quadratic
        /// U″ jumps at its two joints per side, so points within 2h of a joint are skipped for U″.
        #[test]
        fn derivatives_match_central_differences(x in -2.5f64..2.5) {
            let h = 1e-5;
            for l in all() {
                let fd = (l.value(x + h) - l.value(x - h)) / (2.0 * h);
                prop_assert!((l.grad(x) - fd).abs() <= 1e-6 * (1.0 + fd.abs() + l.value(x).abs()), "{} U′({x})", l.kind());
                let fd2 = (l.grad(x + h) - l.grad(x - h)) / (2.0 * h);
                let near_joint = matches!(&l, Landscape::PiecewiseQuadratic(p) if p.joints().iter().any(|j| (x.abs() - j).abs() < 2.0 * h));
                if !near_joint {
                    prop_assert!((l.hess(x) - fd2).abs() <= 1e-5 * (1.0 + fd2.abs() + l.grad(x).abs()), "{} U″({x})", l.kind());
                }
            }
        }

        /// The drift flow solves ẋ = −U′(x): compare with 2000 RK4 steps.
        #[test]
        fn drift_flow_matches_rk4(x in -3.0f64..3.0, t in 0.0f64..2.0) {
            for l in all() {
                if let Some(phi) = l.drift_flow(x, t) {
                    let n = 2000;
                    let h = t / n as f64;
                    let f = |y: f64| -l.grad(y);
                    let mut y = x;
                    for _ in 0..n {
                        let k1 = f(y); let k2 = f(y + 0.5 * h * k1); let k3 = f(y + 0.5 * h * k2); let k4 = f(y + h * k3);
                        y += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
                    }
                    prop_assert!((phi - y).abs() < 1e-8 * (1.0 + y.abs()), "{}: φ = {phi}, RK4 = {y}", l.kind());
                }
            }
        }
    }

    #[test]
    fn critical_points_are_critical() {
        for l in all() {
            let cp = l.critical_points();
            for &m in &cp.minima {
                assert!(
                    l.grad(m).abs() < 1e-9 && l.hess(m) > 0.0,
                    "{} minimum {m}",
                    l.kind()
                );
            }
            for &s in &cp.saddles {
                assert!(
                    l.grad(s).abs() < 1e-9 && l.hess(s) <= 0.0,
                    "{} saddle {s}",
                    l.kind()
                );
            }
            for w in cp.minima.windows(2) {
                assert!(
                    cp.saddles.iter().any(|&s| w[0] < s && s < w[1]),
                    "{}: no saddle between minima",
                    l.kind()
                );
            }
        }
    }
}
