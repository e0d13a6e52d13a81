//! A user polynomial landscape with numerically located critical points.

use super::{CriticalPoints, LandscapeError, Potential, finite};
use crate::numeric::find_root;

/// `U(x) = Σ_k c_k x^k`, of even degree ≥ 2 with a positive leading coefficient (so U → +∞ on both
/// sides and every path is confined). Critical points are the real roots of U′, found by recursive
/// bracketing: the roots of U″ split the line into intervals on which U′ is monotone.
#[derive(Clone, Debug, PartialEq)]
pub struct Polynomial {
    c: Vec<f64>,
    d1: Vec<f64>,
    d2: Vec<f64>,
    cp: CriticalPoints,
    min_curv: f64,
}

impl Polynomial {
    /// The kind name in scenario files.
    pub const KIND: &'static str = "polynomial";
}

fn derivative(c: &[f64]) -> Vec<f64> {
    c.iter()
        .enumerate()
        .skip(1)
        .map(|(k, &v)| k as f64 * v)
        .collect()
}

#[inline]
fn horner(c: &[f64], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &v| acc * x + v)
}

/// Sorted real roots of the polynomial `c` (simple roots; a double root shows up once at most).
fn real_roots(c: &[f64]) -> Vec<f64> {
    // A constant (or the empty derivative of a constant) has no isolated roots.
    if c.len() <= 1 {
        return vec![];
    }
    let deg = c.len() - 1;
    if deg == 1 {
        return vec![-c[0] / c[1]];
    }
    // Cauchy bound: every root has |x| ≤ 1 + max |c_k / c_n|.
    let lead = c[deg];
    let bound = 1.0
        + c[..deg]
            .iter()
            .map(|v| (v / lead).abs())
            .fold(0.0, f64::max);
    let mut pts = vec![-bound];
    pts.extend(
        real_roots(&derivative(c))
            .into_iter()
            .filter(|x| x.abs() < bound),
    );
    pts.push(bound);
    let f = |x: f64| horner(c, x);
    let scale = bound.max(1.0);
    let mut roots = Vec::new();
    for w in pts.windows(2) {
        if let Some(r) = find_root(f, w[0], w[1], 1e-15 * scale)
            && roots
                .last()
                .is_none_or(|&l: &f64| (r - l).abs() > 1e-12 * scale)
        {
            roots.push(r);
        }
    }
    roots
}

impl Polynomial {
    /// Coefficients c₀, c₁, …, c_n (U = Σ c_k x^k).
    pub fn new(coefficients: Vec<f64>) -> Result<Self, LandscapeError> {
        for &v in &coefficients {
            finite("coefficients", v)?;
        }
        let mut c = coefficients;
        while c.len() > 1 && c.last() == Some(&0.0) {
            c.pop();
        }
        let deg = c.len().saturating_sub(1);
        if deg < 2 || deg % 2 == 1 || c[deg] <= 0.0 {
            return Err(LandscapeError::Shape {
                kind: Polynomial::KIND,
                message: format!(
                    "polynomial must have even degree >= 2 and a positive leading coefficient (confining), got degree {deg} with leading coefficient {}",
                    c.last().copied().unwrap_or(0.0)
                ),
            });
        }
        let d1 = derivative(&c);
        let d2 = derivative(&d1);
        let mut cp = CriticalPoints::default();
        for r in real_roots(&d1) {
            if horner(&d2, r) > 0.0 {
                cp.minima.push(r);
            } else {
                cp.saddles.push(r);
            }
        }
        // inf U″: U″ is an even-degree polynomial with positive leading term; its minimum is at a root of U‴.
        let d3 = derivative(&d2);
        let min_curv = real_roots(&d3)
            .into_iter()
            .map(|x| horner(&d2, x))
            .fold(f64::INFINITY, f64::min);
        let min_curv = if min_curv.is_finite() {
            min_curv
        } else {
            d2[0]
        };
        Ok(Self {
            c,
            d1,
            d2,
            cp,
            min_curv,
        })
    }

    /// The coefficients c₀ … c_n.
    pub fn coefficients(&self) -> &[f64] {
        &self.c
    }
}

impl Potential for Polynomial {
    #[inline]
    fn value(&self, x: f64) -> f64 {
        horner(&self.c, x)
    }
    #[inline]
    fn grad(&self, x: f64) -> f64 {
        horner(&self.d1, x)
    }
    #[inline]
    fn hess(&self, x: f64) -> f64 {
        horner(&self.d2, x)
    }
    fn critical_points(&self) -> CriticalPoints {
        self.cp.clone()
    }
    fn min_curvature(&self) -> f64 {
        self.min_curv
    }
}

impl Polynomial {
    /// Coefficients of U′ and U″ (constant term first).
    pub(crate) fn derivative_coefficients(&self) -> (&[f64], &[f64]) {
        (&self.d1, &self.d2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quadratic_polynomial_is_a_single_well() {
        // Found by fuzzing the scenario reader: U‴ of a quadratic is the empty polynomial.
        let p = Polynomial::new(vec![0.0, 0.0, 2.0]).unwrap();
        let cp = p.critical_points();
        assert_eq!((cp.minima, cp.saddles), (vec![0.0], vec![]));
        assert_eq!(p.min_curvature(), 4.0);
    }

    #[test]
    fn quartic_as_polynomial_has_the_known_critical_points() {
        // x⁴/4 − x²/2: minima ±1, saddle 0, inf U″ = −1 at 0.
        let p = Polynomial::new(vec![0.0, 0.0, -0.5, 0.0, 0.25]).unwrap();
        let cp = p.critical_points();
        assert_eq!(cp.minima.len(), 2);
        assert!((cp.minima[0] + 1.0).abs() < 1e-12 && (cp.minima[1] - 1.0).abs() < 1e-12);
        assert!(cp.saddles[0].abs() < 1e-12);
        assert!((p.min_curvature() + 1.0).abs() < 1e-12);
        // A triple well: x⁶ − 3x⁴ + 2x² … has three minima.
        let t = Polynomial::new(vec![0.0, 0.0, 1.0, 0.0, -3.0, 0.0, 1.2]).unwrap();
        assert_eq!(t.critical_points().minima.len(), 3);
        assert!(Polynomial::new(vec![0.0, 1.0, 0.0, 1.0]).is_err());
        assert!(Polynomial::new(vec![0.0, 0.0, -1.0]).is_err());
    }
}
