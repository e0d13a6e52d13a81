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
//! ν(D^c − m) = (C_{d,α}/α)∮ r(θ)^{−α} dθ over the unit sphere; it is computed for d = 2 (512
//! directions, midpoint rule, spectrally accurate for the periodic integrand up to the
//! resolution of r(θ): 2048 directions change the Müller–Brown values by < 3·10⁻⁴) and d = 3
//! (a Fibonacci lattice of 2048 points; a halfspace basin is integrated to 6·10⁻⁵ at α = 0.8 and
//! 2·10⁻⁶ at α = 1.5, see the tests).
//! The edge along a ray is found by bisection on basin membership (the gradient flow from a point
//! ends at m or elsewhere), assuming the basin meets each ray in one segment from m.
//!
//! # Where the jump lands: the jump chain between minima
//! The same law says where the process goes: the big jump from mᵢ lands at mᵢ + y with y drawn
//! from ν restricted to D^c − mᵢ, and the gradient flow then carries it to the minimum of the basin
//! it landed in. So the ε → 0 process is a Markov chain on the minima with rates
//! qᵢⱼ = ε^α ν({y : mᵢ + y ∈ Dⱼ}) ([`levy_chain`]); the share of transitions from mᵢ that end at
//! mⱼ is qᵢⱼ/Σₖqᵢₖ, and the first of several target minima reached is the chain's absorption law
//! ([`super::chain_absorption_probabilities`]). Along a ray mᵢ + t·v past the edge r₀, ν has
//! density w·t^{−1−α} (w = c_α sₖ^α on axis k of the independent motion, C_{d,α} dθ for the
//! isotropic one); with u = t^{−α} this is the uniform density w/α on (0, r₀^{−α}), so the mass
//! landing in each basin is w/α times the u-length of the set of rays' points whose flow ends
//! there, integrated by the midpoint rule in u (32 points per ray; the same 512 directions for
//! isotropic noise in 2-D). Jumps whose flow runs off or returns to mᵢ carry no transition.
//! The Brownian analogue is the Eyring–Kramers chain above: the share of transitions from mᵢ
//! ending at mⱼ is qᵢⱼ/Σₖqᵢₖ with its rates.

use std::f64::consts::PI;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use rayon::prelude::*;

use super::{TheoryError, c_alpha};
use crate::landscape::surface::{CriticalPoint, Surface};
use crate::noise::vector::{Shape, VectorStable};
use crate::numeric::{distance as dist, gamma, norm};

/// The minimum the gradient flow from `x` ends at (index into `minima`), or None (it runs off, or
/// stops elsewhere). Steepest descent with a backtracking step, each step at most 1 % of ℓ + |x − m|
/// (ℓ the least distance between two minima, m the nearest minimum): a longer step could cross a
/// ridge into another basin while still going downhill, and misread the flow; far out the steps
/// grow in proportion, so a start at distance R takes O(log R) steps to come in.
pub fn descend(u: &Surface, x: &[f64], minima: &[CriticalPoint]) -> Option<usize> {
    let mut x = x.to_vec();
    let mut t: f64 = 1e-2;
    let mut v = u.value(&x);
    let mut ell = f64::INFINITY;
    for (i, a) in minima.iter().enumerate() {
        for b in &minima[i + 1..] {
            ell = ell.min(dist(&a.x, &b.x));
        }
    }
    if !ell.is_finite() {
        ell = 1.0 + minima.first().map_or(0.0, |m| norm(&m.x));
    }
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
        let near = minima
            .iter()
            .map(|m| dist(&m.x, &x))
            .fold(f64::INFINITY, f64::min);
        t = t.min(0.01 * (ell + near) / gn);
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
    for _ in 0..24 {
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
    let mass = cached(&BASIN_MASS, key(u, noise, k), || {
        let edges: Vec<f64> = rays(noise, d)?
            .par_iter()
            .map(|(v, w)| w * edge(u, &minima, k, v).powf(-a))
            .collect();
        Ok(edges.iter().sum::<f64>() / a)
    })?;
    if !(mass > 0.0) {
        return Err(TheoryError::Domain(
            "no jump leaves the basin (it is unbounded in every direction)".into(),
        ));
    }
    Ok(1.0 / (noise.epsilon.powf(a) * mass))
}

/// The jump chain of the small-noise Lévy process between the minima (module documentation):
/// row i holds the rates ε^α ν({y : mᵢ + y ∈ Dⱼ}) out of minimum i, the diagonal minus their sum.
pub fn levy_chain(u: &Surface, noise: &VectorStable) -> Result<Vec<Vec<f64>>, TheoryError> {
    let d = u.dim();
    let a = noise.alpha;
    if !(a > 0.0 && a < 2.0) {
        return Err(TheoryError::Domain(format!("needs α in (0, 2), got {a}")));
    }
    let unit = cached(&JUMP_CHAIN, key(u, noise, usize::MAX), || {
        let rays = rays(noise, d)?;
        let minima = u.minima();
        let k = minima.len();
        let per_ray = 32;
        let mut q = vec![vec![0.0; k]; k];
        for (i, row) in q.iter_mut().enumerate() {
            // Per ray, the mass landing in each basin (summed in ray order: the same on any threads).
            let landed: Vec<Vec<f64>> = rays
                .par_iter()
                .map(|(v, w)| {
                    let mut m = vec![0.0; k];
                    let r0 = edge(u, &minima, i, v);
                    if r0.is_finite() {
                        let umax = r0.powf(-a);
                        for l in 0..per_ray {
                            let t = ((l as f64 + 0.5) / per_ray as f64 * umax).powf(-1.0 / a);
                            let x: Vec<f64> =
                                minima[i].x.iter().zip(v).map(|(m, e)| m + t * e).collect();
                            if let Some(j) = descend(u, &x, &minima).filter(|&j| j != i) {
                                m[j] += w / a * umax / per_ray as f64;
                            }
                        }
                    }
                    m
                })
                .collect();
            for m in &landed {
                for (r, x) in row.iter_mut().zip(m) {
                    *r += x;
                }
            }
            row[i] = -row.iter().sum::<f64>();
        }
        Ok(q)
    })?;
    let scale = noise.epsilon.powf(a);
    Ok(unit
        .into_iter()
        .map(|row| row.into_iter().map(|x| scale * x).collect())
        .collect())
}

/// Basin masses ν(D^c − m)·(1) per (surface, noise law, minimum), and unit-ε jump chains per
/// (surface, noise law): they do not depend on ε, and a sweep over ε asks for the same ones at every
/// point. Computed outside the lock (the computation runs on rayon); a race computes a value twice,
/// and both are the same pure function's value.
static BASIN_MASS: Cache<f64> = OnceLock::new();
static JUMP_CHAIN: Cache<Vec<Vec<f64>>> = OnceLock::new();

type Cache<T> = OnceLock<Mutex<HashMap<String, T>>>;

/// The cache key of surface `u`, the ε-free part of `noise` and an index (Debug prints every f64 in
/// its shortest round-trip form, so equal keys mean equal inputs).
fn key(u: &Surface, noise: &VectorStable, k: usize) -> String {
    format!(
        "{u:?}|{:?}|{:?}|{:?}|{k}",
        noise.alpha, noise.shape, noise.scales
    )
}

fn cached<T: Clone>(
    cache: &'static Cache<T>,
    key: String,
    compute: impl FnOnce() -> Result<T, TheoryError>,
) -> Result<T, TheoryError> {
    let map = cache.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(v) = map.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(v.clone());
    }
    let v = compute()?;
    map.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, v.clone());
    Ok(v)
}

/// The rays along which the Lévy measure of `noise` in ℝᵈ is integrated: (unit direction v, weight
/// w) with ν's density w·t^{−1−α} along v — the 2d half-axes with w = c_α sᵢ^α for independent
/// coordinates; for isotropic noise ±1 with c_α in 1-D, 512 directions at the midpoints of equal
/// angles with w = C_{2,α}·2π/512 in 2-D (the midpoint rule of ∮ · dθ), and the 2048 points of a
/// Fibonacci lattice on the sphere with w = C_{3,α}·4π/2048 in 3-D.
fn rays(noise: &VectorStable, d: usize) -> Result<Vec<(Vec<f64>, f64)>, TheoryError> {
    let a = noise.alpha;
    Ok(match noise.shape {
        Shape::Independent => (0..d)
            .flat_map(|i| {
                [-1.0, 1.0].map(|sign| {
                    let mut v = vec![0.0; d];
                    v[i] = sign;
                    (v, c_alpha(a) * noise.scales[i].powf(a))
                })
            })
            .collect(),
        Shape::Isotropic if d == 1 => vec![(vec![-1.0], c_alpha(a)), (vec![1.0], c_alpha(a))],
        Shape::Isotropic if d == 2 => {
            let n = 512;
            let w = isotropic_levy_constant(a, 2) * 2.0 * PI / n as f64;
            (0..n)
                .map(|j| {
                    let t = 2.0 * PI * (j as f64 + 0.5) / n as f64;
                    (vec![t.cos(), t.sin()], w)
                })
                .collect()
        }
        Shape::Isotropic if d == 3 => {
            // The Fibonacci lattice: n nearly uniform points, each standing for 4π/n of the sphere.
            let n = 2048;
            let w = isotropic_levy_constant(a, 3) * 4.0 * PI / n as f64;
            let golden = PI * (3.0 - 5f64.sqrt());
            (0..n)
                .map(|j| {
                    let z = 1.0 - (2 * j + 1) as f64 / n as f64;
                    let r = (1.0 - z * z).sqrt();
                    let phi = golden * j as f64;
                    (vec![r * phi.cos(), r * phi.sin(), z], w)
                })
                .collect()
        }
        Shape::Isotropic => {
            return Err(TheoryError::Domain(
                "the isotropic small-noise laws are computed for d ≤ 3".into(),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::surface::Separable;
    use crate::landscape::{Landscape, Potential, Quadratic, Quartic};

    /// Two double wells of widths 1 and 1.5 side by side (four minima of equal depth): independent
    /// jumps from (−1, −1.5) go along the axes only, across x = 0 at distance 1 or across y = 0 at
    /// 1.5, so the chain's rates are ε^α c_α/α · 1^{−α} and ε^α c_α/α · 1.5^{−α}, and none reaches
    /// the diagonal minimum; isotropic jumps reach it too.
    #[test]
    fn levy_chain_of_two_double_wells_follows_the_axes() {
        let u = Surface::Separable(
            Separable::new(
                vec![
                    Landscape::Quartic(Quartic::new(1.0, 0.25).unwrap()),
                    Landscape::Quartic(Quartic::new(1.5, 0.25).unwrap()),
                ],
                None,
                None,
            )
            .unwrap(),
        );
        let minima = u.minima();
        let at = |x: f64, y: f64| {
            minima
                .iter()
                .position(|m| dist(&m.x, &[x, y]) < 1e-6)
                .unwrap()
        };
        let (start, right, up, diagonal) =
            (at(-1.0, -1.5), at(1.0, -1.5), at(-1.0, 1.5), at(1.0, 1.5));
        let noise = VectorStable {
            alpha: 1.5,
            epsilon: 0.1,
            shape: Shape::Independent,
            scales: vec![1.0, 1.0],
        };
        let q = levy_chain(&u, &noise).unwrap();
        let unit = 0.1f64.powf(1.5) * c_alpha(1.5) / 1.5;
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6 * b;
        assert!(close(q[start][right], unit), "{:?}", q[start]);
        assert!(
            close(q[start][up], unit * 1.5f64.powf(-1.5)),
            "{:?}",
            q[start]
        );
        assert_eq!(q[start][diagonal], 0.0);
        assert!(close(-q[start][start], q[start][right] + q[start][up]));
        // The share of transitions that end at the nearer saddle's neighbour.
        let others: Vec<bool> = (0..minima.len()).map(|i| i != start).collect();
        let p = super::super::chain_absorption_probabilities(&q, &others, start).unwrap();
        assert!(close(p[right], 1.0 / (1.0 + 1.5f64.powf(-1.5))), "{p:?}");
        let iso = VectorStable {
            shape: Shape::Isotropic,
            ..noise
        };
        let q = levy_chain(&u, &iso).unwrap();
        assert!(q[start][diagonal] > 0.0 && q[start][diagonal] < q[start][up]);
    }

    /// In 3-D the isotropic law for a halfspace basin has a closed form, and it must equal the 1-D
    /// law of the projected coordinate (a 1-D SαS motion with the same ε): from distance 1 to the
    /// plane, ∮ r^{−α} dΩ = ∫ cos^α θ dΩ over the facing hemisphere = 2π/(1 + α), so
    /// ν = C_{3,α}·2π/((1 + α)α), which is c_α/α.
    #[test]
    fn isotropic_law_in_three_dimensions_projects_to_one() {
        let u = Surface::Separable(
            Separable::new(
                vec![
                    Landscape::Quartic(Quartic::new(1.0, 0.25).unwrap()),
                    Landscape::Quadratic(Quadratic::new(0.0, 1.0).unwrap()),
                    Landscape::Quadratic(Quadratic::new(0.0, 3.0).unwrap()),
                ],
                None,
                None,
            )
            .unwrap(),
        );
        for a in [0.8, 1.5, 1.9] {
            let closed = isotropic_levy_constant(a, 3) * 2.0 * PI / (1.0 + a);
            assert!((closed - c_alpha(a)).abs() < 1e-12 * c_alpha(a), "α = {a}");
            let noise = VectorStable {
                alpha: a,
                epsilon: 0.1,
                shape: Shape::Isotropic,
                scales: vec![1.0; 3],
            };
            let t = levy_basin_exit_time(&u, 0, &noise).unwrap();
            let want = a / (c_alpha(a) * 0.1f64.powf(a));
            println!("α = {a}: {t} vs {want} ({:.1e})", (t - want).abs() / want);
            assert!((t - want).abs() < 2e-4 * want, "α = {a}: {t} vs {want}");
        }
    }

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
