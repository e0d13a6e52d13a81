//! The vector lane kernel: N paths advance together in vector registers (N = 1 scalar, 4 AVX2,
//! 8 AVX-512), for every noise, scheme, 1-D landscape and event.
//!
//! Each lane runs its own path with its own xoshiro256++ stream ([`crate::rng::stream_state`]) and
//! consumes a fixed number of words per step — two for a Gaussian increment (Box–Muller), two for a
//! stable one (V and W of Chambers–Mallows–Stuck), one more for the Brownian-bridge test when it is
//! on — so that a lane's path never depends on its neighbours. All arithmetic goes through
//! [`Lanes`] and [`crate::simd::math`], so the scalar fallback and the vector instruction sets
//! compute the same bits: results are a pure function of (simulation, seed, path index), whatever
//! the instruction set, the lane width or the number of threads.

use super::{Event, Scheme};
use crate::landscape::Landscape;
use crate::noise::{Increment, LaneIncrement};
use crate::simd::Lanes;
use crate::simd::math::{self, abs, is_finite};

use super::line::LineDrift;

/// Bridge probabilities below e^{−36} ≈ 2e-16 are treated as 0.
pub(super) const BRIDGE_CUTOFF: f64 = 36.0;

/// How a lane's step ended: codes stored in an f64 lane.
pub(super) const RUNNING: f64 = 0.0;
pub(super) const EXIT_LOW: f64 = 1.0;
pub(super) const EXIT_HIGH: f64 = 2.0;
pub(super) const NON_FINITE: f64 = 3.0;
pub(super) const CENSORED: f64 = 4.0;

/// Everything a step needs, fixed for a run.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Kernel {
    /// U′, U″ and the half-step drift flow.
    line: LineDrift,
    scheme: Scheme,
    /// The noise increment's coefficients.
    increment: LaneIncrement,
    dt: f64,
    lo: f64,
    hi: f64,
    window: bool,
    continuous: bool,
    bridge: bool,
    bridge_scale: f64,
    max_steps: f64,
}

#[inline(always)]
fn c<V: Lanes>(v: f64) -> V {
    V::splat(v)
}

impl Kernel {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        u: &Landscape,
        increment: &Increment,
        scheme: Scheme,
        dt: f64,
        event: Event,
        continuous: bool,
        bridge: bool,
        bridge_scale: f64,
        max_steps: u64,
    ) -> Kernel {
        let line = LineDrift::new(u, 0.5 * dt);
        let (lo, hi, window) = match event {
            Event::Boundaries { lo, hi } => (lo, hi, false),
            Event::Window { lo, hi } => (lo, hi, true),
        };
        Kernel {
            line,
            scheme,
            increment: increment.lanes(),
            dt,
            lo,
            hi,
            window,
            continuous,
            bridge,
            bridge_scale,
            max_steps: max_steps as f64,
        }
    }

    /// U′(x).
    #[inline(always)]
    fn grad<V: Lanes>(&self, x: V) -> V {
        self.line.grad(x)
    }

    /// U″(x) (for the implicit scheme's Newton steps).
    #[inline(always)]
    fn hess<V: Lanes>(&self, x: V) -> V {
        self.line.hess(x)
    }

    /// The exact drift flow over dt/2 (split scheme; [`Scheme::check`] lets only landscapes with a
    /// flow get here).
    #[inline(always)]
    fn half_flow<V: Lanes>(&self, x: V) -> V {
        self.line.flow(x)
    }

    /// The noise increment over one step (consumes the stream words in a fixed order).
    #[inline(always)]
    fn increment<V: Lanes>(&self, s: &mut [V::U; 4]) -> V {
        self.increment.draw::<V>(s)
    }

    /// The increment of one step, as [`Self::step`] draws it (the bridge word included).
    #[inline(always)]
    pub(super) fn increment_only<V: Lanes>(&self, s: &mut [V::U; 4]) -> V {
        let dl = self.increment::<V>(s);
        if self.bridge {
            let w = math::xoshiro::<V>(s);
            return dl.add(math::open01::<V>(w));
        }
        dl
    }

    /// One scheme step from x with increment dl.
    #[inline(always)]
    fn scheme_step<V: Lanes>(&self, x: V, dl: V) -> V {
        let dt = c::<V>(self.dt);
        match self.scheme {
            Scheme::Euler => x.sub(self.grad(x).mul(dt)).add(dl),
            Scheme::Tamed => {
                let g = self.grad(x);
                let tamed = g.mul(dt).div(dt.mul(abs(g)).add(c(1.0)));
                x.sub(tamed).add(dl)
            }
            Scheme::Split => self.half_flow(self.half_flow(x).add(dl)),
            Scheme::Implicit => self.solve_implicit(x.add(dl)),
        }
    }

    /// y + dt·U′(y) − z. (A method, not a closure: closures are not inlined into the entry point
    /// compiled for the instruction set, and would run without it.)
    #[inline(always)]
    fn residual<V: Lanes>(&self, y: V, z: V) -> V {
        c::<V>(self.dt).mul_add(self.grad(y), y).sub(z)
    }

    /// Solves y + dt·U′(y) = z lane by lane: a bracket grown until it contains the root, then
    /// safeguarded Newton; finished lanes are frozen by masks, so each lane does exactly what a
    /// one-lane run does.
    #[inline(always)]
    fn solve_implicit<V: Lanes>(&self, z: V) -> V {
        let dt = c::<V>(self.dt);
        let zero = c::<V>(0.0);
        let g0 = self.residual(z, z);
        let g0_pos = zero.lt(g0);
        let mut done = V::or(V::not(is_finite(z)), g0.eq(zero));
        let mut result = z;
        let dir = V::select(g0_pos, c(-1.0), c(1.0));
        let mut step = abs(z).add(c(1.0)).mul(c(0.5));
        let mut far = dir.mul_add(step, z);
        for _ in 0..1100 {
            let gf_pos = zero.lt(self.residual(far, z));
            let same = V::or(
                V::and(gf_pos, g0_pos),
                V::and(V::not(gf_pos), V::not(g0_pos)),
            );
            let grow = V::and(V::not(done), same);
            if V::bits(grow) == 0 {
                break;
            }
            step = V::select(grow, step.mul(c(2.0)), step);
            far = V::select(grow, dir.mul_add(step, z), far);
            let lost = V::and(grow, V::not(is_finite(far)));
            result = V::select(lost, c(f64::NAN), result);
            done = V::or(done, lost);
        }
        let up = zero.lt(dir);
        let mut lo = V::select(up, z, far);
        let mut hi = V::select(up, far, z);
        let mut y = lo.add(hi).mul(c(0.5));
        let tol = c::<V>(2.0 * f64::EPSILON);
        for _ in 0..200 {
            let act = V::not(done);
            if V::bits(act) == 0 {
                break;
            }
            let gy = self.residual(y, z);
            let root = V::and(act, gy.eq(zero));
            result = V::select(root, y, result);
            done = V::or(done, root);
            let act = V::not(done);
            let neg = gy.lt(zero);
            lo = V::select(V::and(act, neg), y, lo);
            hi = V::select(V::and(act, V::not(neg)), y, hi);
            let newton = y.sub(gy.div(dt.mul_add(self.hess(y), c(1.0))));
            let inside = V::and(lo.lt(newton), newton.lt(hi));
            let next = V::select(inside, newton, lo.add(hi).mul(c(0.5)));
            let scale = tol.mul(abs(y));
            let conv = V::or(abs(next.sub(y)).le(scale), hi.sub(lo).le(scale));
            let fin = V::and(act, conv);
            result = V::select(fin, next, result);
            done = V::or(done, fin);
            y = V::select(act, next, y);
        }
        V::select(done, result, y)
    }

    /// One step of N lanes from x at step count n: the new state and each lane's code
    /// (RUNNING, EXIT_LOW, EXIT_HIGH, NON_FINITE or CENSORED).
    #[inline(always)]
    pub(super) fn step<V: Lanes>(&self, x: V, n: V, s: &mut [V::U; 4]) -> (V, V) {
        let dl = self.increment::<V>(s);
        let bridge_word = if self.bridge {
            Some(math::xoshiro::<V>(s))
        } else {
            None
        };
        let y = self.scheme_step(x, dl);
        let (lo, hi) = (c::<V>(self.lo), c::<V>(self.hi));
        let mut code = V::select(
            c::<V>(self.max_steps).le(n.add(c(1.0))),
            c(CENSORED),
            c(RUNNING),
        );
        if let Some(w) = bridge_word {
            // The boundary a Brownian bridge from x to y could touch: for an interval the nearer
            // one, for a window the edge on the side where both points lie (an infinite edge gives
            // e = ∞, i.e. no crossing).
            let (b, b_low) = if self.window {
                let below = V::and(x.lt(lo), y.lt(lo));
                let above = V::and(hi.lt(x), hi.lt(y));
                let b = V::select(below, lo, V::select(above, hi, c(f64::INFINITY)));
                (b, below)
            } else {
                let dl = lo_min(x.sub(lo), y.sub(lo));
                let dh = lo_min(hi.sub(x), hi.sub(y));
                let low = dl.le(dh);
                (V::select(low, lo, hi), low)
            };
            let e = b.sub(x).mul(b.sub(y)).mul(c(self.bridge_scale));
            // Only lanes near the boundary (e below the cutoff) can cross; most steps have none,
            // and then the exponential is skipped (the result is the same either way). e is capped
            // before exp: far from the boundary e^{−e} would be subnormal, and subnormal
            // arithmetic is slow on most CPUs.
            let near = e.lt(c(BRIDGE_CUTOFF));
            if V::bits(near) != 0 {
                let u = math::open01::<V>(w);
                let e_capped = V::select(near, e, c(BRIDGE_CUTOFF));
                let crossed = V::and(near, u.lt(math::exp(e_capped.mul(c(-1.0)))));
                let side = V::select(b_low, c(EXIT_LOW), c(EXIT_HIGH));
                code = V::select(crossed, side, code);
            }
        }
        let (hit, side) = if self.window {
            let inside = V::and(lo.le(y), y.le(hi));
            let hit = if self.continuous {
                let over = V::or(V::and(x.lt(lo), hi.lt(y)), V::and(hi.lt(x), y.lt(lo)));
                V::or(inside, over)
            } else {
                inside
            };
            (hit, V::select(x.lt(lo), c(EXIT_LOW), c(EXIT_HIGH)))
        } else {
            let low = y.le(lo);
            (
                V::or(low, hi.le(y)),
                V::select(low, c(EXIT_LOW), c(EXIT_HIGH)),
            )
        };
        code = V::select(hit, side, code);
        code = V::select(is_finite(y), code, c(NON_FINITE));
        (y, code)
    }
}

/// min(a, b) as `a < b ? a : b` (the same rule on every instruction set).
#[inline(always)]
fn lo_min<V: Lanes>(a: V, b: V) -> V {
    V::select(a.lt(b), a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::{Polynomial, Potential, Quartic};
    use crate::noise::Noise;
    use crate::simd::Scalar;

    fn kernel(u: &Landscape, scheme: Scheme, dt: f64) -> Kernel {
        let inc = Noise::Brownian { sigma: 0.5 }.increment(dt).unwrap();
        let event = Event::Boundaries {
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
        };
        Kernel::new(u, &inc, scheme, dt, event, true, false, 0.0, 1000)
    }

    /// The kernel's implicit step solves y + dt·U′(y) = z to rounding, from far on both sides.
    #[test]
    fn implicit_step_solves_its_equation() {
        let q = Landscape::Quartic(Quartic::new(1.0, 0.25).unwrap());
        let p = Landscape::Polynomial(Polynomial::new(vec![0.0, 0.3, -0.5, 0.0, 0.25]).unwrap());
        for u in [q, p] {
            let k = kernel(&u, Scheme::Implicit, 0.01);
            for z in [-1e6, -30.0, -1.0, -0.2, 0.0, 0.4, 3.0, 1e8] {
                let y = k.solve_implicit(Scalar(z)).0;
                let r = y + 0.01 * u.grad(y) - z;
                assert!(r.abs() <= 1e-12 * (1.0 + z.abs()), "z = {z}: residual {r}");
            }
        }
    }

    /// With no noise and a small step every scheme of the kernel moves by −U′(x)·dt to first order.
    #[test]
    fn schemes_agree_for_small_steps() {
        let u = Landscape::Quartic(Quartic::new(1.0, 0.25).unwrap());
        for s in Scheme::ALL {
            let k = kernel(&u, s, 1e-6);
            let y = k.scheme_step(Scalar(0.3), Scalar(0.0)).0;
            assert!((y - (0.3 - u.grad(0.3) * 1e-6)).abs() < 1e-11, "{s:?}");
        }
    }
}
