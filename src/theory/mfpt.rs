//! Exact mean first-passage times of 1-D Brownian diffusions by nested adaptive quadrature.
//!
//! # Formula
//! For `dX = −U′(X)dt + σ dW` with ψ(y) = e^{2U(y)/σ²}:
//! ```text
//! one absorbing point b > x (reflecting at −∞):  T(x) = (2/σ²) ∫ₓᵇ ψ(y) ∫_{−∞}^{y} ψ(z)⁻¹ dz dy
//! two absorbing ends lo < x < hi:                 T(x) = (2/σ²) [ −A(x) + A(hi)·C(x)/C(hi) ]
//!     with A(x) = ∫_lo^x ψ(y) J(y) dy,  C(x) = ∫_lo^x ψ(y) dy,  J(y) = ∫_lo^y ψ(z)⁻¹ dz
//! ```
//! Against overflow, ψ is scaled by e^{−2U_top/σ²} and ψ⁻¹ by e^{2U_ref/σ²} (U_top, U_ref the largest
//! and smallest U on the range); only the final factor e^{2(U_top − U_ref)/σ²} can overflow, and then
//! the result itself is beyond f64 (reported as an error).

use super::TheoryError;
use crate::landscape::Potential;
use crate::numeric::integrate_split;

const TOL: f64 = 1e-12;

/// The point beyond which e^{−2(U − U_ref)/σ²} < e^{−60}, walking from `x` in direction `dir`.
fn truncation(
    u: &impl Potential,
    x: f64,
    dir: f64,
    u_ref: f64,
    s2: f64,
) -> Result<f64, TheoryError> {
    let mut step = 0.5;
    let mut z = x;
    for _ in 0..200 {
        z = x + dir * step;
        if 2.0 * (u.value(z) - u_ref) / s2 > 60.0 && (u.grad(z) * dir) > 0.0 {
            return Ok(z);
        }
        step *= 1.5;
    }
    Err(TheoryError::Domain(format!(
        "the landscape is not confining towards {z}: no reflecting end at infinity"
    )))
}

/// min and max of U over [a, b] (grid of 4001 points plus the critical points inside).
fn range_of(u: &impl Potential, a: f64, b: f64) -> (f64, f64) {
    let cp = u.critical_points();
    let pts = (0..=4000).map(|i| a + (b - a) * i as f64 / 4000.0).chain(
        cp.minima
            .into_iter()
            .chain(cp.saddles)
            .filter(|&c| a <= c && c <= b),
    );
    pts.map(|y| u.value(y))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// Minima and saddles: where ψ⁻¹ and ψ peak, the break points of every quadrature (a narrow peak
/// of a deep far well would otherwise be missed at small σ).
fn critical_points(u: &impl Potential) -> Vec<f64> {
    let cp = u.critical_points();
    cp.minima.into_iter().chain(cp.saddles).collect()
}

fn finish(factor_exp: f64, value: f64) -> Result<f64, TheoryError> {
    if factor_exp > 700.0 {
        let t = value.ln() + factor_exp;
        if t > 709.0 {
            return Err(TheoryError::Overflow(factor_exp));
        }
        return Ok(t.exp());
    }
    Ok(value * factor_exp.exp())
}

fn check_sigma(sigma: f64) -> Result<f64, TheoryError> {
    if sigma > 0.0 && sigma.is_finite() {
        Ok(sigma * sigma)
    } else {
        Err(TheoryError::Domain(format!(
            "sigma must be finite and > 0, got {sigma}"
        )))
    }
}

/// Exact mean time for `dX = −U′dt + σ dW` started at x to first reach b (reflecting at the far
/// infinity; U must be confining there).
pub fn mean_first_passage(
    u: &impl Potential,
    x: f64,
    b: f64,
    sigma: f64,
) -> Result<f64, TheoryError> {
    check_sigma(sigma)?;
    if !(x.is_finite() && b.is_finite()) {
        return Err(TheoryError::Domain(format!(
            "start and target must be finite, got {x} and {b}"
        )));
    }
    if x == b {
        return Ok(0.0);
    }
    if x < b {
        mean_first_passage_interval(u, x, f64::NEG_INFINITY, b, sigma)
    } else {
        mean_first_passage_interval(u, x, b, f64::INFINITY, sigma)
    }
}

/// Exact mean exit time from (lo, hi) started at x; an infinite end is a natural reflecting end
/// (U confining there), a finite end is absorbing.
pub fn mean_first_passage_interval(
    u: &impl Potential,
    x: f64,
    lo: f64,
    hi: f64,
    sigma: f64,
) -> Result<f64, TheoryError> {
    let s2 = check_sigma(sigma)?;
    if !(lo < x && x < hi) || x.is_infinite() {
        return Err(TheoryError::Domain(format!(
            "start {x} must lie inside ({lo}, {hi})"
        )));
    }
    match (lo.is_finite(), hi.is_finite()) {
        (false, false) => Err(TheoryError::Domain(
            "at least one end of the interval must be finite (absorbing)".into(),
        )),
        (false, true) => one_sided(u, x, hi, s2, 1.0),
        (true, false) => one_sided(u, x, lo, s2, -1.0),
        (true, true) => two_sided(u, x, lo, hi, s2),
    }
}

/// dir = +1: target b above x, reflecting at −∞; dir = −1: mirror.
fn one_sided(u: &impl Potential, x: f64, b: f64, s2: f64, dir: f64) -> Result<f64, TheoryError> {
    // The inner integral runs from the far (reflecting) side up to y; its mass sits at the minima
    // below b — all of them, including deep wells beyond other barriers — so U_ref is the minimum of
    // U from the outermost critical point on the reflecting side up to b, and the truncation walks
    // outwards from that point (beyond it a confining U only grows).
    let (lo_x, hi_x) = if dir > 0.0 { (x, b) } else { (b, x) };
    let (_, u_top) = range_of(u, lo_x, hi_x);
    let breaks = critical_points(u);
    let outermost = if dir > 0.0 {
        breaks.iter().copied().fold(lo_x, f64::min)
    } else {
        breaks.iter().copied().fold(hi_x, f64::max)
    };
    let (u_ref, _) = if dir > 0.0 {
        range_of(u, outermost, b)
    } else {
        range_of(u, b, outermost)
    };
    let far = truncation(u, outermost, -dir, u_ref, s2)?;
    let inv = |z: f64| (-2.0 * (u.value(z) - u_ref) / s2).exp();
    let inner = |y: f64| {
        let (a, c) = if dir > 0.0 { (far, y) } else { (y, far) };
        integrate_split(inv, a, c, &breaks, 1e-300, TOL).0
    };
    let outer = |y: f64| (2.0 * (u.value(y) - u_top) / s2).exp() * inner(y);
    let (v, _) = integrate_split(outer, lo_x, hi_x, &breaks, 1e-300, 1e-10);
    finish(2.0 * (u_top - u_ref) / s2, 2.0 / s2 * v)
}

fn two_sided(u: &impl Potential, x: f64, lo: f64, hi: f64, s2: f64) -> Result<f64, TheoryError> {
    let (u_ref, u_top) = range_of(u, lo, hi);
    let breaks = critical_points(u);
    let inv = |z: f64| (-2.0 * (u.value(z) - u_ref) / s2).exp();
    let psi = |y: f64| (2.0 * (u.value(y) - u_top) / s2).exp();
    let j = |y: f64| integrate_split(inv, lo, y, &breaks, 1e-300, TOL).0;
    let a = |to: f64| integrate_split(|y| psi(y) * j(y), lo, to, &breaks, 1e-300, 1e-10).0;
    let c = |to: f64| integrate_split(psi, lo, to, &breaks, 1e-300, 1e-12).0;
    let v = -a(x) + a(hi) * c(x) / c(hi);
    finish(2.0 * (u_top - u_ref) / s2, 2.0 / s2 * v.max(0.0))
}
