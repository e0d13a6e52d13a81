//! The d-dimensional lane kernel: `dX = −∇U(X) dt + noise` in ℝᵈ, N paths at a time in vector
//! lanes, d coordinates per lane (structure of arrays).
//!
//! As in 1-D ([`super::lanes`]), each lane runs its own path with its own xoshiro256++ stream and
//! consumes a fixed number of words per step, in a fixed order: 2d for the Brownian part's normals
//! (Box–Muller), then 2d for independent stable coordinates (V and W of Chambers–Mallows–Stuck) or
//! 2 + 2d for isotropic ones (the subordinator A, then the Gaussian vector), then one for the
//! Brownian-bridge test when it is on. Every operation goes through [`Lanes`] and
//! [`crate::simd::math`], so outcomes are a pure function of (simulation, seed, path index) for
//! every instruction set, lane width and thread count.
//!
//! # Schemes in ℝᵈ
//! ```text
//! euler  X' = X − ∇U(X)·dt + ΔL
//! tamed  X' = X − ∇U(X)·dt / (1 + dt·|∇U(X)|) + ΔL
//! split  X' = φ_{dt/2}(φ_{dt/2}(X) + ΔL),  φ the exact flow of ẋ = −∇U(x)
//! ```
//! The exact flow exists for quadratic surfaces (x ↦ c + e^{−Ht}(x − c)), flat ones, and separable
//! ones whose every axis has a 1-D flow (y = Q(x − c) flows axis by axis); `implicit` is 1-D only.

// Coordinates and matrix entries are indexed explicitly: the loops mirror the formulas.
#![allow(clippy::needless_range_loop)]

use std::f64::consts::PI;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::lanes::BRIDGE_CUTOFF;
use super::line::LineDrift;
use super::region::Region;
use super::runner::{LaneBook, drive};
use super::{Outcome, RunConfig, RunResult, Scheme, Side};
use crate::landscape::surface::{MULLER_BROWN, Surface, SurfaceError};
use crate::noise::vector::{Shape, VectorNoise};
use crate::rng;
use crate::simd::math::{self, Cms, is_finite};
use crate::simd::{self, Isa, Lanes, Scalar, WithLanes};
use crate::stats::ExitStats;

const RUNNING: f64 = 0.0;
const EXITED: f64 = 2.0;
const NON_FINITE: f64 = 3.0;
const CENSORED: f64 = 4.0;
/// Code of reaching target k of a `Near` region: NEAR + k.
const NEAR: f64 = 8.0;

#[inline(always)]
fn c<V: Lanes>(v: f64) -> V {
    V::splat(v)
}

/// ∇U and the drift flow as plain coefficients.
#[derive(Clone, Debug, PartialEq)]
enum Drift {
    Separable {
        axes: Vec<LineDrift>,
        /// Q row-major (None: identity).
        q: Option<Vec<f64>>,
        center: Vec<f64>,
    },
    Quadratic {
        h: Vec<f64>,
        center: Vec<f64>,
        /// e^{−H dt/2} row-major.
        flow: Vec<f64>,
    },
    Wells {
        kappa: f64,
        /// (centre, hₖ/wₖ², −1/(2wₖ²)).
        wells: Vec<(Vec<f64>, f64, f64)>,
    },
    MullerBrown {
        /// The constants with A multiplied by the scale.
        terms: [[f64; 6]; 4],
    },
    Flat,
}

impl Drift {
    fn new(u: &Surface, h: f64) -> Drift {
        match u {
            Surface::Separable(s) => Drift::Separable {
                axes: s.axes().iter().map(|a| LineDrift::new(a, h)).collect(),
                q: s.rotation().map(<[f64]>::to_vec),
                center: s.center().to_vec(),
            },
            Surface::Quadratic(q) => Drift::Quadratic {
                h: q.hessian().to_vec(),
                center: q.center().to_vec(),
                flow: q.flow_matrix(h),
            },
            Surface::Wells(w) => Drift::Wells {
                kappa: w.confinement(),
                wells: w
                    .wells()
                    .iter()
                    .map(|k| {
                        let s2 = k.width * k.width;
                        (k.center.clone(), k.depth / s2, -0.5 / s2)
                    })
                    .collect(),
            },
            Surface::MullerBrown { scale } => {
                let mut terms = MULLER_BROWN;
                for t in &mut terms {
                    t[0] *= scale;
                }
                Drift::MullerBrown { terms }
            }
            Surface::Flat { .. } => Drift::Flat,
        }
    }

    /// g = ∇U(x); `t` is scratch of length d.
    #[inline(always)]
    fn grad<V: Lanes>(&self, x: &[V], g: &mut [V], t: &mut [V]) {
        let d = x.len();
        match self {
            Drift::Separable { axes, q, center } => match q {
                None => {
                    for i in 0..d {
                        g[i] = axes[i].grad(x[i].sub(c(center[i])));
                    }
                }
                Some(q) => {
                    for i in 0..d {
                        let mut y = c::<V>(0.0);
                        for j in 0..d {
                            y = c::<V>(q[i * d + j]).mul_add(x[j].sub(c(center[j])), y);
                        }
                        t[i] = axes[i].grad(y);
                    }
                    for j in 0..d {
                        let mut s = c::<V>(0.0);
                        for i in 0..d {
                            s = c::<V>(q[i * d + j]).mul_add(t[i], s);
                        }
                        g[j] = s;
                    }
                }
            },
            Drift::Quadratic { h, center, .. } => {
                for j in 0..d {
                    t[j] = x[j].sub(c(center[j]));
                }
                for i in 0..d {
                    let mut s = c::<V>(0.0);
                    for j in 0..d {
                        s = c::<V>(h[i * d + j]).mul_add(t[j], s);
                    }
                    g[i] = s;
                }
            }
            Drift::Wells { kappa, wells } => {
                for i in 0..d {
                    g[i] = c::<V>(*kappa).mul(x[i]);
                }
                for (m, coef, neg) in wells {
                    let mut r2 = c::<V>(0.0);
                    for i in 0..d {
                        t[i] = x[i].sub(c(m[i]));
                        r2 = t[i].mul_add(t[i], r2);
                    }
                    let f = c::<V>(*coef).mul(math::exp(r2.mul(c(*neg))));
                    for i in 0..d {
                        g[i] = f.mul_add(t[i], g[i]);
                    }
                }
            }
            Drift::MullerBrown { terms } => {
                let (mut gx, mut gy) = (c::<V>(0.0), c::<V>(0.0));
                for &[a, aa, b, cc, x0, y0] in terms {
                    let dx = x[0].sub(c(x0));
                    let dy = x[1].sub(c(y0));
                    let q = c::<V>(aa)
                        .mul(dx)
                        .mul(dx)
                        .add(c::<V>(b).mul(dx).mul(dy))
                        .add(c::<V>(cc).mul(dy).mul(dy));
                    let e = c::<V>(a).mul(math::exp(q));
                    let ex = c::<V>(2.0 * aa).mul(dx).add(c::<V>(b).mul(dy));
                    let ey = c::<V>(b).mul(dx).add(c::<V>(2.0 * cc).mul(dy));
                    gx = e.mul_add(ex, gx);
                    gy = e.mul_add(ey, gy);
                }
                g[0] = gx;
                g[1] = gy;
            }
            Drift::Flat => {
                for v in g.iter_mut() {
                    *v = c(0.0);
                }
            }
        }
    }

    /// x ← φ_{dt/2}(x) (only for surfaces with a flow: checked when the simulation is built; the
    /// others give NaN, which ends the path as non-finite rather than dropping the drift).
    #[inline(always)]
    fn flow<V: Lanes>(&self, x: &mut [V], t: &mut [V]) {
        let d = x.len();
        match self {
            Drift::Separable { axes, q, center } => match q {
                None => {
                    for i in 0..d {
                        let ci = c::<V>(center[i]);
                        x[i] = axes[i].flow(x[i].sub(ci)).add(ci);
                    }
                }
                Some(q) => {
                    for i in 0..d {
                        let mut y = c::<V>(0.0);
                        for j in 0..d {
                            y = c::<V>(q[i * d + j]).mul_add(x[j].sub(c(center[j])), y);
                        }
                        t[i] = axes[i].flow(y);
                    }
                    for j in 0..d {
                        let mut s = c::<V>(center[j]);
                        for i in 0..d {
                            s = c::<V>(q[i * d + j]).mul_add(t[i], s);
                        }
                        x[j] = s;
                    }
                }
            },
            Drift::Quadratic { center, flow, .. } => {
                for j in 0..d {
                    t[j] = x[j].sub(c(center[j]));
                }
                for i in 0..d {
                    let mut s = c::<V>(center[i]);
                    for j in 0..d {
                        s = c::<V>(flow[i * d + j]).mul_add(t[j], s);
                    }
                    x[i] = s;
                }
            }
            Drift::Flat => {}
            Drift::Wells { .. } | Drift::MullerBrown { .. } => {
                for v in x.iter_mut() {
                    *v = c(f64::NAN);
                }
            }
        }
    }
}

/// The increment's coefficients.
#[derive(Clone, Debug, PartialEq)]
struct Increment {
    /// √dt·L (lower triangular, row-major) of the Brownian part, and whether it is diagonal.
    gauss: Option<(Vec<f64>, bool)>,
    /// The stable coordinates' law and scales ε dt^{1/α} sᵢ.
    stable: Option<(Cms, Vec<f64>)>,
    /// Isotropic: the subordinator's law S_{α/2}(1, 1, 0) and its scale cos(πα/4)^{2/α}.
    subordinator: Option<(Cms, f64)>,
}

impl Increment {
    fn new(noise: &VectorNoise, dt: f64) -> Increment {
        let d = noise.dim();
        let gauss = noise.brownian_factor(dt).map(|l| {
            let diagonal = (0..d).all(|i| (0..i).all(|j| l[i * d + j] == 0.0));
            (l, diagonal)
        });
        let (stable, subordinator) = match noise.stable_part() {
            None => (None, None),
            Some(s) => {
                let base = s.epsilon * dt.powf(1.0 / s.alpha);
                let scales = s.scales.iter().map(|v| base * v).collect();
                match s.shape {
                    // At α = 2 both shapes are N(0, 2ε²dt I): one Gaussian per coordinate.
                    Shape::Isotropic if s.alpha < 2.0 => (
                        Some((Cms::Two, scales)),
                        Some((
                            Cms::new(s.alpha / 2.0, 1.0),
                            (PI * s.alpha / 4.0).cos().powf(2.0 / s.alpha),
                        )),
                    ),
                    _ => (Some((Cms::new(s.alpha, 0.0), scales)), None),
                }
            }
        };
        Increment {
            gauss,
            stable,
            subordinator,
        }
    }

    /// dl = the increment; `z` is scratch of length d.
    #[inline(always)]
    fn draw<V: Lanes>(&self, dl: &mut [V], z: &mut [V], s: &mut [V::U; 4]) {
        let d = dl.len();
        for v in dl.iter_mut() {
            *v = c(0.0);
        }
        if let Some((l, diagonal)) = &self.gauss {
            for zi in z.iter_mut() {
                let w1 = math::xoshiro::<V>(s);
                let w2 = math::xoshiro::<V>(s);
                *zi = math::normal::<V>(w1, w2);
            }
            if *diagonal {
                for i in 0..d {
                    dl[i] = c::<V>(l[i * d + i]).mul(z[i]);
                }
            } else {
                for i in 0..d {
                    let mut acc = c::<V>(0.0);
                    for j in 0..=i {
                        acc = c::<V>(l[i * d + j]).mul_add(z[j], acc);
                    }
                    dl[i] = acc;
                }
            }
        }
        if let Some((cms, scales)) = &self.stable {
            // (No closures in the kernel: each lane function must be inlined into the entry point
            // compiled for the instruction set.)
            if let Some((sub, scale)) = &self.subordinator {
                // Isotropic: √(2A)·N(0, 1) per coordinate = √A·N(0, 2), one A for the vector.
                let w1 = math::xoshiro::<V>(s);
                let w2 = math::xoshiro::<V>(s);
                let f = c::<V>(2.0 * scale).mul(sub.sample::<V>(w1, w2)).sqrt();
                for i in 0..d {
                    let w1 = math::xoshiro::<V>(s);
                    let w2 = math::xoshiro::<V>(s);
                    let x = f.mul(math::normal::<V>(w1, w2));
                    dl[i] = c::<V>(scales[i]).mul_add(x, dl[i]);
                }
            } else {
                for i in 0..d {
                    let w1 = math::xoshiro::<V>(s);
                    let w2 = math::xoshiro::<V>(s);
                    dl[i] = c::<V>(scales[i]).mul_add(cms.sample::<V>(w1, w2), dl[i]);
                }
            }
        }
    }
}

/// The region's coefficients, with the bridge variances when the test is on.
#[derive(Clone, Debug, PartialEq)]
enum Test {
    /// |x − c|² ≥ r²; bridge variance: a constant (isotropic covariance) or Σ·dt row-major.
    Ball {
        center: Vec<f64>,
        radius: f64,
        var: Option<Variance>,
    },
    /// Some xᵢ ∉ (lowᵢ, highᵢ); bridge variances Σᵢᵢ·dt.
    Box {
        low: Vec<f64>,
        high: Vec<f64>,
        var: Option<Vec<f64>>,
    },
    /// ⟨n, x⟩ ≥ b; bridge variance nᵀΣn·dt.
    Halfspace {
        normal: Vec<f64>,
        offset: f64,
        var: Option<f64>,
    },
    /// |x − mₖ|² ≤ r².
    Near { targets: Vec<Vec<f64>>, r2: f64 },
}

#[derive(Clone, Debug, PartialEq)]
enum Variance {
    Constant(f64),
    Matrix(Vec<f64>),
}

impl Test {
    fn new(region: &Region, cov_dt: Option<&[f64]>) -> Test {
        let d = region.dim();
        match region {
            Region::Ball { center, radius } => Test::Ball {
                center: center.clone(),
                radius: *radius,
                var: cov_dt.map(|m| {
                    let v0 = m[0];
                    let isotropic = (0..d)
                        .all(|i| (0..d).all(|j| m[i * d + j] == if i == j { v0 } else { 0.0 }));
                    if isotropic {
                        Variance::Constant(v0)
                    } else {
                        Variance::Matrix(m.to_vec())
                    }
                }),
            },
            Region::Box { low, high } => Test::Box {
                low: low.clone(),
                high: high.clone(),
                var: cov_dt.map(|m| (0..d).map(|i| m[i * d + i]).collect()),
            },
            Region::Halfspace { normal, offset } => Test::Halfspace {
                normal: normal.clone(),
                offset: *offset,
                var: cov_dt.map(|m| {
                    (0..d)
                        .map(|i| normal[i] * (0..d).map(|j| m[i * d + j] * normal[j]).sum::<f64>())
                        .sum()
                }),
            },
            Region::Near { targets, radius } => Test::Near {
                targets: targets.clone(),
                r2: radius * radius,
            },
        }
    }

    /// The code after a step from x to y: `code` unless the event happened (by the grid point or,
    /// with a bridge word, in between).
    #[inline(always)]
    fn check<V: Lanes>(&self, x: &[V], y: &[V], code: V, bridge: Option<V::U>, es: &mut [V]) -> V {
        let d = x.len();
        match self {
            Test::Ball {
                center,
                radius,
                var,
            } => {
                let (mut rx, mut ry) = (c::<V>(0.0), c::<V>(0.0));
                for i in 0..d {
                    let a = x[i].sub(c(center[i]));
                    let b = y[i].sub(c(center[i]));
                    rx = a.mul_add(a, rx);
                    ry = b.mul_add(b, ry);
                }
                let mut code = code;
                if let (Some(w), Some(var)) = (bridge, var) {
                    // The sphere taken as flat: the distance to it along the radius at y.
                    let v = match var {
                        Variance::Constant(v) => c::<V>(*v),
                        Variance::Matrix(m) => {
                            let mut q = c::<V>(0.0);
                            for i in 0..d {
                                let zi = y[i].sub(c(center[i]));
                                let mut row = c::<V>(0.0);
                                for j in 0..d {
                                    row = c::<V>(m[i * d + j]).mul_add(y[j].sub(c(center[j])), row);
                                }
                                q = zi.mul_add(row, q);
                            }
                            q.div(ry)
                        }
                    };
                    let r = c::<V>(*radius);
                    let e = c::<V>(2.0)
                        .mul(r.sub(rx.sqrt()))
                        .mul(r.sub(ry.sqrt()))
                        .div(v);
                    code = bridge_code(e, w, code);
                }
                V::select(c::<V>(radius * radius).le(ry), c(EXITED), code)
            }
            Test::Box { low, high, var } => {
                let mut hit = c::<V>(0.0).lt(c(0.0));
                for i in 0..d {
                    hit = V::or(hit, V::or(y[i].le(c(low[i])), c::<V>(high[i]).le(y[i])));
                }
                let mut code = code;
                if let (Some(w), Some(var)) = (bridge, var) {
                    // Per coordinate, the nearer face; no crossing has probability Πᵢ(1 − pᵢ).
                    let mut near = c::<V>(0.0).lt(c(0.0));
                    for i in 0..d {
                        let (lo, hi) = (c::<V>(low[i]), c::<V>(high[i]));
                        let dl = lo_min(x[i].sub(lo), y[i].sub(lo));
                        let dh = lo_min(hi.sub(x[i]), hi.sub(y[i]));
                        let b = V::select(dl.le(dh), lo, hi);
                        let e = c::<V>(2.0 / var[i]).mul(b.sub(x[i])).mul(b.sub(y[i]));
                        near = V::or(near, e.lt(c(BRIDGE_CUTOFF)));
                        es[i] = e;
                    }
                    if V::bits(near) != 0 {
                        let mut stay = c::<V>(1.0);
                        for &e in es.iter() {
                            let ok = e.lt(c(BRIDGE_CUTOFF));
                            let p = V::select(
                                ok,
                                math::exp(V::select(ok, e, c(BRIDGE_CUTOFF)).mul(c(-1.0))),
                                c(0.0),
                            );
                            stay = stay.mul(c::<V>(1.0).sub(p));
                        }
                        let u = math::open01::<V>(w);
                        let crossed = V::and(near, u.lt(c::<V>(1.0).sub(stay)));
                        code = V::select(crossed, c(EXITED), code);
                    }
                }
                V::select(hit, c(EXITED), code)
            }
            Test::Halfspace {
                normal,
                offset,
                var,
            } => {
                let (mut sx, mut sy) = (c::<V>(0.0), c::<V>(0.0));
                for i in 0..d {
                    sx = c::<V>(normal[i]).mul_add(x[i], sx);
                    sy = c::<V>(normal[i]).mul_add(y[i], sy);
                }
                let b = c::<V>(*offset);
                let mut code = code;
                if let (Some(w), Some(v)) = (bridge, var) {
                    let e = c::<V>(2.0 / v).mul(b.sub(sx)).mul(b.sub(sy));
                    code = bridge_code(e, w, code);
                }
                V::select(b.le(sy), c(EXITED), code)
            }
            Test::Near { targets, r2 } => {
                let mut code = code;
                for (k, m) in targets.iter().enumerate().rev() {
                    let mut r = c::<V>(0.0);
                    for i in 0..d {
                        let a = y[i].sub(c(m[i]));
                        r = a.mul_add(a, r);
                    }
                    code = V::select(r.le(c(*r2)), c(NEAR + k as f64), code);
                }
                code
            }
        }
    }
}

/// The code after the bridge test with exponent e (crossing probability e^{−e}).
#[inline(always)]
fn bridge_code<V: Lanes>(e: V, w: V::U, code: V) -> V {
    let near = e.lt(c(BRIDGE_CUTOFF));
    if V::bits(near) == 0 {
        return code;
    }
    let u = math::open01::<V>(w);
    let e_capped = V::select(near, e, c(BRIDGE_CUTOFF));
    let crossed = V::and(near, u.lt(math::exp(e_capped.mul(c(-1.0)))));
    V::select(crossed, c(EXITED), code)
}

/// min(a, b) as `a < b ? a : b` (the same rule on every instruction set).
#[inline(always)]
fn lo_min<V: Lanes>(a: V, b: V) -> V {
    V::select(a.lt(b), a, b)
}

/// Everything a step needs, fixed for a run.
#[derive(Clone, Debug, PartialEq)]
struct Kernel {
    drift: Drift,
    increment: Increment,
    test: Test,
    scheme: Scheme,
    dt: f64,
    bridge: bool,
    max_steps: f64,
}

/// Per-group scratch vectors of length d.
struct Scratch<V> {
    y: Vec<V>,
    dl: Vec<V>,
    g: Vec<V>,
    t: Vec<V>,
}

impl<V: Lanes> Scratch<V> {
    fn new(d: usize) -> Self {
        let z = vec![V::splat(0.0); d];
        Scratch {
            y: z.clone(),
            dl: z.clone(),
            g: z.clone(),
            t: z,
        }
    }
}

impl Kernel {
    /// One step of N lanes: x ← the new state; returns each lane's code.
    #[inline(always)]
    fn step<V: Lanes>(&self, x: &mut [V], sc: &mut Scratch<V>, n: V, s: &mut [V::U; 4]) -> V {
        let d = x.len();
        self.increment.draw::<V>(&mut sc.dl, &mut sc.t, s);
        let word = if self.bridge {
            Some(math::xoshiro::<V>(s))
        } else {
            None
        };
        let dt = c::<V>(self.dt);
        match self.scheme {
            Scheme::Euler => {
                self.drift.grad(x, &mut sc.g, &mut sc.t);
                for i in 0..d {
                    sc.y[i] = x[i].sub(sc.g[i].mul(dt)).add(sc.dl[i]);
                }
            }
            Scheme::Tamed => {
                self.drift.grad(x, &mut sc.g, &mut sc.t);
                let mut g2 = c::<V>(0.0);
                for gi in &sc.g {
                    g2 = gi.mul_add(*gi, g2);
                }
                let f = dt.div(dt.mul(g2.sqrt()).add(c(1.0)));
                for i in 0..d {
                    sc.y[i] = x[i].sub(sc.g[i].mul(f)).add(sc.dl[i]);
                }
            }
            Scheme::Split => {
                sc.y.copy_from_slice(x);
                self.drift.flow(&mut sc.y, &mut sc.t);
                for i in 0..d {
                    sc.y[i] = sc.y[i].add(sc.dl[i]);
                }
                self.drift.flow(&mut sc.y, &mut sc.t);
            }
            // Refused when the simulation is built.
            Scheme::Implicit => {
                for v in sc.y.iter_mut() {
                    *v = c(f64::NAN);
                }
            }
        }
        let code = V::select(
            c::<V>(self.max_steps).le(n.add(c(1.0))),
            c(CENSORED),
            c(RUNNING),
        );
        let code = self.test.check(x, &sc.y, code, word, &mut sc.g);
        let mut sum = c::<V>(0.0);
        for v in &sc.y {
            sum = sum.add(*v);
        }
        x.copy_from_slice(&sc.y);
        V::select(is_finite(sum), code, c(NON_FINITE))
    }
}

/// What a d-dimensional simulation is made of: build it with [`SpaceSimulation::new`].
#[derive(Clone, Debug)]
pub struct SpaceSpec {
    /// The potential U in ℝᵈ.
    pub surface: Surface,
    /// The noise in ℝᵈ.
    pub noise: VectorNoise,
    /// euler, tamed or split.
    pub scheme: Scheme,
    /// Time step.
    pub dt: f64,
    /// Horizon: paths still running at T are censored.
    pub horizon: f64,
    /// Start point.
    pub start: Vec<f64>,
    /// When a path ends.
    pub region: Region,
    /// The Brownian-bridge test (effective for noise with a continuous part, and ball, box or
    /// halfspace events).
    pub bridge: bool,
}

/// A validated simulation in ℝᵈ.
#[derive(Clone, Debug)]
pub struct SpaceSimulation {
    spec: SpaceSpec,
    kernel: Kernel,
}

fn field_err(field: &str, message: impl Into<String>) -> SurfaceError {
    SurfaceError {
        field: field.into(),
        message: message.into(),
    }
}

impl SpaceSimulation {
    /// Checks dimensions, step, horizon, scheme and start; errors name the field (`landscape`,
    /// `noise`, `event`, `integrator.scheme`, `event.start`, …).
    pub fn new(spec: SpaceSpec) -> Result<SpaceSimulation, SurfaceError> {
        let d = spec.surface.dim();
        if spec.noise.dim() != d {
            return Err(field_err(
                "noise",
                format!(
                    "is {}-dimensional but the landscape is {d}-dimensional",
                    spec.noise.dim()
                ),
            ));
        }
        if spec.region.dim() != d {
            return Err(field_err(
                "event",
                format!(
                    "is {}-dimensional but the landscape is {d}-dimensional",
                    spec.region.dim()
                ),
            ));
        }
        if !(spec.dt > 0.0 && spec.dt.is_finite()) {
            return Err(field_err(
                "integrator.dt",
                format!("must be finite and > 0, got {}", spec.dt),
            ));
        }
        if !(spec.horizon > spec.dt && spec.horizon.is_finite()) {
            return Err(field_err(
                "horizon",
                format!(
                    "must be finite and > dt = {}, got {}",
                    spec.dt, spec.horizon
                ),
            ));
        }
        match spec.scheme {
            Scheme::Implicit => {
                return Err(field_err(
                    "integrator.scheme",
                    "\"implicit\" is 1-D only; use \"euler\", \"tamed\" or \"split\"",
                ));
            }
            Scheme::Split if !spec.surface.has_drift_flow() => {
                return Err(field_err(
                    "integrator.scheme",
                    format!(
                        "\"split\" needs an exact drift flow, which the {} landscape does not have; use \"tamed\" or \"euler\"",
                        spec.surface.kind()
                    ),
                ));
            }
            _ => {}
        }
        crate::landscape::surface::vector("event.start", &spec.start, d)?;
        if spec.region.hit(&spec.start).is_some() {
            let what = match spec.region {
                Region::Near { .. } => "is already within the target radius",
                _ => "is not inside the domain it should leave",
            };
            return Err(field_err("event.start", format!("{:?} {what}", spec.start)));
        }
        let cov_dt = spec
            .noise
            .continuous_covariance()
            .map(|m| m.into_iter().map(|v| v * spec.dt).collect::<Vec<f64>>());
        let bridge = spec.bridge && cov_dt.is_some() && !matches!(spec.region, Region::Near { .. });
        let kernel = Kernel {
            drift: Drift::new(&spec.surface, 0.5 * spec.dt),
            increment: Increment::new(&spec.noise, spec.dt),
            test: Test::new(&spec.region, if bridge { cov_dt.as_deref() } else { None }),
            scheme: spec.scheme,
            dt: spec.dt,
            bridge,
            max_steps: (spec.horizon / spec.dt).round(),
        };
        Ok(SpaceSimulation { spec, kernel })
    }

    /// What it was built from.
    pub fn spec(&self) -> &SpaceSpec {
        &self.spec
    }
    /// d.
    pub fn dim(&self) -> usize {
        self.spec.start.len()
    }
    /// Time step.
    pub fn dt(&self) -> f64 {
        self.spec.dt
    }
    /// Horizon.
    pub fn horizon(&self) -> f64 {
        self.spec.horizon
    }

    fn outcome(&self, code: f64, n1: f64) -> Outcome {
        let time = n1 * self.spec.dt;
        if code == NON_FINITE {
            Outcome::NonFinite { time }
        } else if code == CENSORED {
            Outcome::Censored {
                time: self.spec.horizon,
            }
        } else {
            Outcome::Exited {
                time,
                side: Side::High,
                from: f64::NAN,
                target: (code >= NEAR).then_some((code - NEAR) as u16),
            }
        }
    }

    /// One path from the start to its outcome on one lane, recording every `every`-th state
    /// (and the last) as (t, x).
    pub fn trajectory(&self, seed: u64, path: u64, every: u64) -> (Outcome, Vec<(f64, Vec<f64>)>) {
        let d = self.dim();
        let mut s = rng::stream_state(seed, path);
        let mut x: Vec<Scalar> = self.spec.start.iter().map(|&v| Scalar(v)).collect();
        let mut sc = Scratch::<Scalar>::new(d);
        let mut pts = vec![(0.0, self.spec.start.clone())];
        let mut n = 0u64;
        loop {
            let code = self
                .kernel
                .step(&mut x, &mut sc, Scalar(n as f64), &mut s)
                .0;
            n += 1;
            let done = code != RUNNING;
            if n.is_multiple_of(every.max(1)) || done {
                pts.push((n as f64 * self.spec.dt, x.iter().map(|v| v.0).collect()));
            }
            if done {
                return (self.outcome(code, n as f64), pts);
            }
        }
    }

    /// Runs paths `cfg.first_path .. cfg.first_path + cfg.paths` on the current rayon pool (the
    /// recording fields of `cfg` do not apply: see [`Self::trajectory`]). `done` counts finished
    /// paths; once `stop` is set, running paths end as censored at their current time and paths
    /// not yet started as censored at time 0.
    pub fn run(&self, cfg: &RunConfig, done: &AtomicU64, stop: &AtomicBool) -> RunResult {
        let width = cfg.lane_width.max(1);
        let isa = cfg.isa.unwrap_or_else(Isa::detect);
        let lanes = width.next_multiple_of(isa.lanes()) as u64;
        let empty = || ExitStats::new(self.spec.dt, self.spec.horizon, cfg.exact_times);
        let (stats, steps, outcomes) = drive(cfg, lanes, empty, |lo, hi| {
            if stop.load(Ordering::Relaxed) {
                return (vec![Outcome::Censored { time: 0.0 }; (hi - lo) as usize], 0);
            }
            struct Chunk<'a> {
                sim: &'a SpaceSimulation,
                range: (u64, u64, u64, usize),
                done: &'a AtomicU64,
                stop: &'a AtomicBool,
            }
            impl WithLanes for Chunk<'_> {
                type Output = (Vec<Outcome>, u64);
                #[inline(always)]
                fn call<V: Lanes>(self) -> Self::Output {
                    let (seed, lo, hi, width) = self.range;
                    run_lanes::<V>(self.sim, seed, lo, hi, width, self.done, self.stop)
                }
            }
            simd::dispatch(
                isa,
                Chunk {
                    sim: self,
                    range: (cfg.seed, lo, hi, width),
                    done,
                    stop,
                },
            )
        });
        RunResult {
            outcomes,
            stats,
            steps,
            interrupted: stop.load(Ordering::Relaxed),
            trajectories: Vec::new(),
        }
    }
}

/// Steps a group takes before its state goes back to memory (unless a lane ends first).
const INNER: u32 = 64;

/// The lane loop over paths [lo, hi): G vectors of N lanes, d coordinates each; a finished lane
/// takes the chunk's next path.
#[inline(always)]
fn run_lanes<V: Lanes>(
    sim: &SpaceSimulation,
    seed: u64,
    lo: u64,
    hi: u64,
    width: usize,
    done: &AtomicU64,
    stop: &AtomicBool,
) -> (Vec<Outcome>, u64) {
    let d = sim.dim();
    let start = &sim.spec.start;
    let groups = width.div_ceil(V::N).max(1);
    let lanes_n = groups * V::N;
    // x[(g·d + i)·N + lane]: coordinate i of the lanes of group g, contiguous.
    let mut x = vec![0f64; lanes_n * d];
    let at = |g: usize, i: usize| (g * d + i) * V::N;
    let mut book = LaneBook::new(lo, hi, lanes_n);
    let mut st: [Vec<u64>; 4] = std::array::from_fn(|_| vec![0u64; lanes_n]);
    let seat = |l: usize, p: u64, x: &mut [f64], st: &mut [Vec<u64>; 4]| {
        for (k, w) in rng::stream_state(seed, p).into_iter().enumerate() {
            st[k][l] = w;
        }
        let (g, lane) = (l / V::N, l % V::N);
        for i in 0..d {
            x[at(g, i) + lane] = start[i];
        }
    };
    for l in 0..lanes_n {
        if let Some(p) = book.start(l) {
            seat(l, p, &mut x, &mut st);
        } else {
            // Idle lanes step from the start too (their results are ignored).
            let (g, lane) = (l / V::N, l % V::N);
            for i in 0..d {
                x[at(g, i) + lane] = start[i];
            }
        }
    }
    let mut xv = vec![V::splat(0.0); d];
    let mut sc = Scratch::<V>::new(d);
    let mut codes = [0f64; 8];
    let mut since_check = 0u32;
    while book.active > 0 {
        for g in 0..groups {
            let idle: u32 = (0..V::N)
                .filter(|&i| !book.running(g * V::N + i))
                .fold(0, |m, i| m | (1 << i));
            if idle == (1u32 << V::N) - 1 {
                continue;
            }
            for (i, v) in xv.iter_mut().enumerate() {
                *v = V::load(&x[at(g, i)..at(g, i) + V::N]);
            }
            let lanes = g * V::N..(g + 1) * V::N;
            let mut nv = V::load(&book.n[lanes.clone()]);
            let mut s: [V::U; 4] = std::array::from_fn(|k| V::u_load(&st[k][lanes.clone()]));
            let mut code = V::splat(RUNNING);
            let mut ended = 0u32;
            for _ in 0..INNER {
                code = sim.kernel.step::<V>(&mut xv, &mut sc, nv, &mut s);
                nv = nv.add(V::splat(1.0));
                ended = V::bits(V::not(code.eq(V::splat(RUNNING)))) & !idle;
                if ended != 0 {
                    break;
                }
            }
            for (i, v) in xv.iter().enumerate() {
                v.store(&mut x[at(g, i)..at(g, i) + V::N]);
            }
            nv.store(&mut book.n[lanes.clone()]);
            for (k, sk) in s.iter().enumerate() {
                V::u_store(*sk, &mut st[k][lanes.clone()]);
            }
            if ended == 0 {
                continue;
            }
            code.store(&mut codes[..V::N]);
            for i in 0..V::N {
                if ended & (1 << i) == 0 {
                    continue;
                }
                let l = g * V::N + i;
                let o = sim.outcome(codes[i], book.n[l]);
                if let Some(p) = book.finish(l, o, done) {
                    seat(l, p, &mut x, &mut st);
                }
            }
        }
        since_check += 1;
        if since_check >= 4096 / INNER {
            since_check = 0;
            if stop.load(Ordering::Relaxed) {
                book.censor_running(sim.spec.dt);
                break;
            }
        }
    }
    book.outcomes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::surface::{QuadraticForm, Separable, Well, Wells};
    use crate::landscape::{Landscape, Polynomial, Quadratic, Quartic};
    use proptest::prelude::*;

    fn surfaces() -> Vec<Surface> {
        let q = vec![
            vec![0.6, 0.0, 0.8],
            vec![0.0, 1.0, 0.0],
            vec![-0.8, 0.0, 0.6],
        ];
        vec![
            Surface::Separable(
                Separable::new(
                    vec![
                        Landscape::Quartic(Quartic::new(1.0, 0.25).unwrap()),
                        Landscape::Quadratic(Quadratic::new(0.2, 1.5).unwrap()),
                        Landscape::Polynomial(
                            Polynomial::new(vec![0.0, 0.1, -0.5, 0.0, 0.25]).unwrap(),
                        ),
                    ],
                    Some(&q),
                    Some(&[0.1, -0.3, 0.2]),
                )
                .unwrap(),
            ),
            Surface::Separable(
                Separable::new(
                    vec![
                        Landscape::Quartic(Quartic::new(0.7, 0.4).unwrap()),
                        Landscape::Quartic(Quartic::new(1.2, 0.1).unwrap()),
                        Landscape::Quadratic(Quadratic::new(0.0, 3.0).unwrap()),
                    ],
                    None,
                    Some(&[0.5, 0.0, -0.5]),
                )
                .unwrap(),
            ),
            Surface::Quadratic(
                QuadraticForm::new(
                    &[
                        vec![2.0, 0.4, 0.1],
                        vec![0.4, 1.0, 0.0],
                        vec![0.1, 0.0, 0.5],
                    ],
                    Some(&[0.3, 0.0, -0.2]),
                )
                .unwrap(),
            ),
            Surface::Wells(
                Wells::new(
                    0.2,
                    vec![
                        Well {
                            center: vec![-1.0, 0.0, 0.0],
                            depth: 1.0,
                            width: 0.3,
                        },
                        Well {
                            center: vec![1.0, 0.5, -0.5],
                            depth: 0.5,
                            width: 1.0,
                        },
                    ],
                    3,
                )
                .unwrap(),
            ),
            Surface::Flat { dim: 3 },
        ]
    }

    /// The exact flow over h by RK4 with 2000 steps (an independent reference for `flow`).
    fn rk4(u: &Surface, x: &[f64], h: f64) -> Vec<f64> {
        let n = 2000;
        let dt = h / n as f64;
        let f = |y: &[f64]| u.grad(y).into_iter().map(|g| -g).collect::<Vec<f64>>();
        let mut y = x.to_vec();
        for _ in 0..n {
            let add = |a: &[f64], b: &[f64], s: f64| -> Vec<f64> {
                a.iter().zip(b).map(|(p, q)| p + s * q).collect()
            };
            let k1 = f(&y);
            let k2 = f(&add(&y, &k1, dt / 2.0));
            let k3 = f(&add(&y, &k2, dt / 2.0));
            let k4 = f(&add(&y, &k3, dt));
            for i in 0..y.len() {
                y[i] += dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
            }
        }
        y
    }

    proptest! {
        /// The kernel's ∇U is the surface's own (scalar reference) for every kind, and its drift
        /// flow agrees with RK4 on ẋ = −∇U(x) wherever the surface has one.
        #[test]
        fn kernel_gradient_and_flow_match_the_surface(
            a in -2.0f64..2.0, b in -2.0f64..2.0, z in -2.0f64..2.0, h in 0.001f64..0.3
        ) {
            let x = [a, b, z];
            for u in surfaces() {
                let drift = Drift::new(&u, h);
                let xs: Vec<Scalar> = x.iter().map(|&v| Scalar(v)).collect();
                let mut g = vec![Scalar(0.0); 3];
                let mut t = vec![Scalar(0.0); 3];
                drift.grad(&xs, &mut g, &mut t);
                let want = u.grad(&x);
                for i in 0..3 {
                    prop_assert!((g[i].0 - want[i]).abs() <= 1e-12 * (1.0 + want[i].abs()),
                        "{} ∂{i}U: {} vs {}", u.kind(), g[i].0, want[i]);
                }
                if u.has_drift_flow() {
                    let mut y = xs.clone();
                    drift.flow(&mut y, &mut t);
                    let want = rk4(&u, &x, h);
                    for i in 0..3 {
                        prop_assert!((y[i].0 - want[i]).abs() <= 1e-9 * (1.0 + want[i].abs()),
                            "{} flow {i}: {} vs {}", u.kind(), y[i].0, want[i]);
                    }
                }
            }
        }
    }

    /// The increments have the laws they claim: Brownian with covariance Σ·dt (sample covariance
    /// within 5 SE), independent stable coordinates with per-axis scales and isotropic stable
    /// vectors whose projection on any unit vector is SαS(ε dt^{1/α}) (empirical characteristic
    /// function within 5 SE at three points).
    #[test]
    fn increments_have_their_laws() {
        let dt = 0.01;
        let n = 100_000usize;
        let draw = |noise: &VectorNoise| -> Vec<[f64; 2]> {
            let inc = Increment::new(noise, dt);
            let mut s = rng::stream_state(9, 0);
            let mut dl = vec![Scalar(0.0); 2];
            let mut z = vec![Scalar(0.0); 2];
            (0..n)
                .map(|_| {
                    inc.draw(&mut dl, &mut z, &mut s);
                    [dl[0].0, dl[1].0]
                })
                .collect()
        };
        let cov = [vec![1.0, 0.6], vec![0.6, 0.5]];
        let xs = draw(&VectorNoise::brownian(2, 0.5, Some(&cov), None).unwrap());
        for (i, j) in [(0, 0), (0, 1), (1, 1)] {
            let want = 0.25 * cov[i][j] * dt;
            let prods: Vec<f64> = xs.iter().map(|v| v[i] * v[j]).collect();
            let m = prods.iter().sum::<f64>() / n as f64;
            let sd = (prods.iter().map(|p| (p - m) * (p - m)).sum::<f64>() / n as f64).sqrt();
            assert!(
                (m - want).abs() < 5.0 * sd / (n as f64).sqrt(),
                "Σ{i}{j}: {m} vs {want}"
            );
        }
        // Characteristic function of ⟨u, X⟩ against exp(−Σ|uᵢsᵢ|^α ε^α dt) (independent) or
        // exp(−|u|^α ε^α dt) (isotropic).
        let (alpha, eps) = (1.4, 0.5);
        for shape in [Shape::Independent, Shape::Isotropic] {
            let scales = match shape {
                Shape::Independent => Some(&[1.0, 0.4][..]),
                Shape::Isotropic => None,
            };
            let xs = draw(&VectorNoise::stable(2, alpha, eps, shape, scales).unwrap());
            for u in [[20.0, 0.0], [0.0, 35.0], [15.0, -15.0]] {
                let proj: Vec<f64> = xs.iter().map(|v| u[0] * v[0] + u[1] * v[1]).collect();
                let re: Vec<f64> = proj.iter().map(|p| p.cos()).collect();
                let m = re.iter().sum::<f64>() / n as f64;
                let sd = (re.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / n as f64).sqrt();
                let s = scales.unwrap_or(&[1.0, 1.0]);
                let psi = match shape {
                    Shape::Independent => {
                        (u[0] * s[0]).abs().powf(alpha) + (u[1] * s[1]).abs().powf(alpha)
                    }
                    Shape::Isotropic => (u[0] * u[0] + u[1] * u[1]).sqrt().powf(alpha),
                };
                let want = (-psi * eps.powf(alpha) * dt).exp();
                assert!(
                    (m - want).abs() < 5.0 * sd / (n as f64).sqrt(),
                    "{shape:?} u = {u:?}: {m} vs {want}"
                );
            }
        }
    }
}
