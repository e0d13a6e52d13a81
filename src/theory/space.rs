//! Theory in ℝᵈ: the small-noise laws of transitions between the minima of a surface.
//!
//! # Eyring–Kramers in ℝᵈ (Brownian, covariance σ²I)
//! For dX = −∇U dt + σ dW the mean time to leave the minimum m over the index-1 saddle s is
//! (Langer 1969; Bovier, Gayrard & Klein 2004 for the proof)
//! ```text
//! T(m → s) ≈ (2π/|λ⁻(s)|)·√(|det H(s)| / det H(m))·exp(2(U(s) − U(m))/σ²),
//! ```
//! λ⁻ the negative eigenvalue of the Hessian H(s). It reduces to the 1-D formula for d = 1. Saddles
//! are tied to the minima they connect by following the unstable eigenvector of H(s) both ways down
//! the gradient flow. The rates 1/T over every saddle between i and j make the Markov chain between
//! the minima; a `transition` (reach any other minimum) then takes 1/Σⱼ qᵢⱼ on average, and reaching
//! one target minimum is the chain's hitting time. Asymptotic: 2ΔU/σ² ≫ 1.
//!
//! # Imkeller–Pavlyukevich in ℝᵈ (α-stable, small ε)
//! For dX = −∇U dt + ε dL with L of Lévy measure ν, the process leaves the basin D of its minimum m
//! by one big jump, at rate ε^α ν({y : m + y ∉ D}) (Imkeller, Pavlyukevich & Wetzel 2010 for ℝᵈ), so
//! ```text
//! E τ ≈ 1 / (ε^α ν(D^c − m)).
//! ```
//! ν of the independent-coordinate motion lives on the axes, c_α sᵢ^α |r|^{−1−α} dr on axis i, so
//! ν(D^c − m) = (c_α/α) Σᵢ sᵢ^α (r₊ᵢ^{−α} + r₋ᵢ^{−α}) with r±ᵢ the distance from m along ±eᵢ to
//! the basin's edge (∞ if the ray never leaves D: no contribution). ν of the isotropic motion is
//! C_{d,α}|y|^{−d−α}dy with C_{d,α} = α2^{α−1}Γ((d+α)/2)/(π^{d/2}Γ(1 − α/2)) (c_α for d = 1), so
//! ν(D^c − m) = (C_{d,α}/α)∮ r(θ)^{−α} dθ over the unit sphere; it is computed for d = 2 (2048
//! directions, trapezoid rule, exact for the periodic integrand up to the resolution of r(θ)).
//! The edge along a ray is found by bisection on basin membership (the gradient flow from a point
//! ends at m or elsewhere), assuming the basin meets each ray in one segment from m.

use std::f64::consts::PI;

use super::{TheoryError, c_alpha};
use crate::landscape::surface::{CriticalPoint, Surface};
use crate::noise::vector::{Shape, VectorStable};
use crate::numeric::{distance as dist, gamma, norm};

/// The minimum the gradient flow from `x` ends at (index into `minima`), or None (it runs off, or
/// stops elsewhere). Steepest descent with a backtracking step.
pub fn descend(u: &Surface, x: &[f64], minima: &[CriticalPoint]) -> Option<usize> {
    let mut x = x.to_vec();
    let mut t = 1e-2;
    let mut v = u.value(&x);
    for _ in 0..20_000 {
        if let Some(k) = minima
            .iter()
            .position(|m| dist(&m.x, &x) < 1e-3 * (1.0 + norm(&m.x)))
        {
            return Some(k);
        }
        let g = u.grad(&x);
        let gn = norm(&g);
        if !gn.is_finite() || norm(&x) > 1e8 {
            return None;
        }
        if gn < 1e-12 {
            break;
        }
        loop {
            let y: Vec<f64> = x.iter().zip(&g).map(|(a, b)| a - t * b).collect();
            let vy = u.value(&y);
            if vy <= v - 0.5 * t * gn * gn || t < 1e-14 {
                x = y;
                v = vy;
                t *= 2.0;
                break;
            }
            t *= 0.5;
        }
    }
    minima
        .iter()
        .position(|m| dist(&m.x, &x) < 1e-3 * (1.0 + norm(&m.x)))
}

/// For each index-1 saddle, the two minima its unstable direction leads to (None where the flow does
/// not end at a listed minimum).
pub fn saddle_connections(u: &Surface, cps: &[CriticalPoint]) -> Vec<(usize, [Option<usize>; 2])> {
    let minima: Vec<CriticalPoint> = cps.iter().filter(|p| p.index == 0).cloned().collect();
    cps.iter()
        .enumerate()
        .filter(|(_, p)| p.index == 1)
        .map(|(k, s)| {
            let e = nalgebra::SymmetricEigen::new(u.hessian(&s.x));
            let (i, _) = e
                .eigenvalues
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(b.1))
                .expect("d ≥ 1");
            let v: Vec<f64> = e.eigenvectors.column(i).iter().copied().collect();
            let h = 1e-3 * (1.0 + norm(&s.x));
            let side = |sign: f64| {
                let y: Vec<f64> = s.x.iter().zip(&v).map(|(a, b)| a + sign * h * b).collect();
                descend(u, &y, &minima)
            };
            (k, [side(-1.0), side(1.0)])
        })
        .collect()
}

/// The Eyring–Kramers rate matrix between the minima (row i: rates out of minimum i, the diagonal
/// minus their sum) for σ dW with covariance σ²I.
pub fn kramers_chain(u: &Surface, sigma: f64) -> Result<Vec<Vec<f64>>, TheoryError> {
    if !(sigma > 0.0 && sigma.is_finite()) {
        return Err(TheoryError::Domain(format!(
            "sigma must be > 0, got {sigma}"
        )));
    }
    let cps = u.critical_points();
    let minima: Vec<&CriticalPoint> = cps.iter().filter(|p| p.index == 0).collect();
    let n = minima.len();
    let det = |p: &CriticalPoint| p.eigenvalues.iter().product::<f64>();
    let mut q = vec![vec![0.0; n]; n];
    for (k, ends) in saddle_connections(u, &cps) {
        let [Some(a), Some(b)] = ends else { continue };
        if a == b {
            continue;
        }
        let s = &cps[k];
        let lambda = s.eigenvalues[0].abs();
        for (i, j) in [(a, b), (b, a)] {
            let m = minima[i];
            let exponent = 2.0 * (s.value - m.value) / (sigma * sigma);
            if exponent > 700.0 {
                return Err(TheoryError::Overflow(exponent));
            }
            let t = 2.0 * PI / lambda * (det(s).abs() / det(m)).sqrt() * exponent.exp();
            q[i][j] += 1.0 / t;
        }
    }
    super::set_diagonal(&mut q);
    Ok(q)
}

/// C_{d,α}: the density constant of the isotropic standard α-stable Lévy measure in ℝᵈ.
pub fn isotropic_levy_constant(alpha: f64, d: usize) -> f64 {
    let d = d as f64;
    alpha * 2f64.powf(alpha - 1.0) * gamma((d + alpha) / 2.0)
        / (PI.powf(d / 2.0) * gamma(1.0 - alpha / 2.0))
}

/// Distance from `m` along the unit vector `v` to the edge of the basin of minimum `k`
/// (∞ when the ray stays in the basin up to 10⁶·(1 + |m|)).
fn edge(u: &Surface, minima: &[CriticalPoint], k: usize, v: &[f64]) -> f64 {
    let m = &minima[k].x;
    let at = |r: f64| -> Vec<f64> { m.iter().zip(v).map(|(a, b)| a + r * b).collect() };
    let inside = |r: f64| descend(u, &at(r), minima) == Some(k);
    let mut hi = 0.05 * (1.0 + norm(m));
    let cap = 1e6 * (1.0 + norm(m));
    while inside(hi) {
        hi *= 2.0;
        if hi > cap {
            return f64::INFINITY;
        }
    }
    let mut lo = 0.0;
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        if inside(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The Imkeller–Pavlyukevich mean time to leave the basin of minimum `k` by one jump,
/// 1/(ε^α ν(D^c − m)), for symmetric stable noise (α < 2) of the given shape.
pub fn levy_basin_exit_time(
    u: &Surface,
    k: usize,
    noise: &VectorStable,
) -> Result<f64, TheoryError> {
    let d = u.dim();
    let a = noise.alpha;
    if !(a > 0.0 && a < 2.0) {
        return Err(TheoryError::Domain(format!("needs α in (0, 2), got {a}")));
    }
    let minima = u.minima();
    if k >= minima.len() {
        return Err(TheoryError::Domain(format!("no minimum {k}")));
    }
    let mass = match noise.shape {
        Shape::Independent => {
            let mut s = 0.0;
            for i in 0..d {
                for sign in [-1.0, 1.0] {
                    let mut v = vec![0.0; d];
                    v[i] = sign;
                    s += noise.scales[i].powf(a) * edge(u, &minima, k, &v).powf(-a);
                }
            }
            c_alpha(a) / a * s
        }
        Shape::Isotropic if d == 1 => {
            c_alpha(a) / a
                * (edge(u, &minima, k, &[1.0]).powf(-a) + edge(u, &minima, k, &[-1.0]).powf(-a))
        }
        Shape::Isotropic if d == 2 => {
            let n = 2048;
            let s: f64 = (0..n)
                .map(|j| {
                    let t = 2.0 * PI * j as f64 / n as f64;
                    edge(u, &minima, k, &[t.cos(), t.sin()]).powf(-a)
                })
                .sum::<f64>()
                * (2.0 * PI / n as f64);
            isotropic_levy_constant(a, 2) / a * s
        }
        Shape::Isotropic => {
            return Err(TheoryError::Domain(
                "the isotropic small-noise law is computed for d ≤ 2".into(),
            ));
        }
    };
    if !(mass > 0.0) {
        return Err(TheoryError::Domain(
            "no jump leaves the basin (it is unbounded in every direction)".into(),
        ));
    }
    Ok(1.0 / (noise.epsilon.powf(a) * mass))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::surface::Separable;
    use crate::landscape::{Landscape, Potential, Quadratic, Quartic};

    #[test]
    fn isotropic_constant_reduces_to_c_alpha_in_one_dimension() {
        for a in [0.5, 1.0, 1.5, 1.9] {
            assert!((isotropic_levy_constant(a, 1) - c_alpha(a)).abs() < 1e-12 * c_alpha(a));
        }
    }

    /// A separable double well: the d-dimensional formulas reduce to the 1-D ones (Kramers over
    /// the one saddle; IP along the double-well axis, the quadratic axis never leaving the basin).
    #[test]
    fn separable_double_well_reduces_to_the_one_dimensional_laws() {
        let dw = Landscape::Quartic(Quartic::new(1.0, 0.25).unwrap());
        let u = Surface::Separable(
            Separable::new(
                vec![
                    dw.clone(),
                    Landscape::Quadratic(Quadratic::new(0.0, 2.0).unwrap()),
                ],
                None,
                None,
            )
            .unwrap(),
        );
        let sigma = 0.4;
        let q = kramers_chain(&u, sigma).unwrap();
        let one_d = super::super::kramers_time(&dw, -1.0, 0.0, sigma).unwrap();
        assert!(
            (1.0 / q[0][1] - one_d).abs() < 1e-9 * one_d,
            "{} vs {one_d}",
            1.0 / q[0][1]
        );
        let noise = VectorStable {
            alpha: 1.5,
            epsilon: 0.1,
            shape: Shape::Independent,
            scales: vec![1.0, 1.0],
        };
        let t = levy_basin_exit_time(&u, 0, &noise).unwrap();
        // 1-D IP transition: α(s − m)^α/(c_α ε^α) with s − m = 1 (the basin is (−∞, 0)).
        let ip = 1.5 / (c_alpha(1.5) * 0.1f64.powf(1.5));
        assert!((t - ip).abs() < 1e-6 * ip, "{t} vs {ip}");
        // Isotropic in 2-D: the basin is the halfplane x < 0 seen from (−1, 0); r(θ) = 1/cos θ on
        // the half circle facing the saddle line, so ∮ r^{−α} = ∫_{−π/2}^{π/2} cos^α θ dθ.
        let iso = VectorStable {
            shape: Shape::Isotropic,
            ..noise
        };
        let t = levy_basin_exit_time(&u, 0, &iso).unwrap();
        let n = 200_000;
        let integral: f64 = (0..n)
            .map(|j| {
                let th = -PI / 2.0 + PI * (j as f64 + 0.5) / n as f64;
                th.cos().powf(1.5)
            })
            .sum::<f64>()
            * (PI / n as f64);
        let want = 1.0 / (0.1f64.powf(1.5) * isotropic_levy_constant(1.5, 2) / 1.5 * integral);
        assert!((t - want).abs() < 2e-3 * want, "{t} vs {want}");
        let _ = dw.value(0.0);
    }
}
