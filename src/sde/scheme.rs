//! Time-stepping schemes for `dX = −U′(X) dt + dL`.

use super::SdeError;
use crate::landscape::{Landscape, Potential};

/// How the drift is integrated over one step; the noise increment ΔL is always exact.
///
/// # Formula
/// ```text
/// euler     X' = X − U′(X)·dt + ΔL
/// tamed     X' = X − U′(X)·dt / (1 + dt·|U′(X)|) + ΔL         (Hutzenthaler, Jentzen & Kloeden 2012)
/// implicit  X' solves X' + dt·U′(X') = X + ΔL                   (drift-implicit Euler)
/// split     X' = φ_{dt/2}(φ_{dt/2}(X) + ΔL),  φ the exact flow of ẋ = −U′(x)  (Strang splitting)
/// ```
/// Explicit Euler with a cubic drift overshoots after a large jump: from x ≪ −1 the step
/// x − U′(x)·dt lands far on the other side of the saddle, or diverges to ±∞ (then the path ends as
/// non-finite). The other three are stable for every jump size.
///
/// Why Strang and not Lie (φ_dt(X) + ΔL) for `split`: in a well of curvature κ the Lie scheme's
/// stationary variance is σ²/(2κ)·(1 + κdt + …), a first-order error that enters Brownian exit times
/// through exp(2ΔU/σ²); Strang's stationary variance is exact to O(dt²) for the same cost in noise draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Explicit Euler–Maruyama.
    Euler,
    /// Drift-implicit Euler.
    Implicit,
    /// Tamed Euler.
    Tamed,
    /// Half drift flow, noise, half drift flow (Strang).
    Split,
}

impl Scheme {
    /// Every scheme, in the order the documentation lists them.
    pub const ALL: [Scheme; 4] = [
        Scheme::Euler,
        Scheme::Implicit,
        Scheme::Tamed,
        Scheme::Split,
    ];

    /// The scheme of a scenario-file name.
    pub fn from_name(name: &str) -> Option<Scheme> {
        Scheme::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Name as used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Euler => "euler",
            Scheme::Implicit => "implicit",
            Scheme::Tamed => "tamed",
            Scheme::Split => "split",
        }
    }

    /// Checks that the scheme can integrate this landscape with this dt.
    pub fn check(self, u: &Landscape, dt: f64) -> Result<(), SdeError> {
        match self {
            Scheme::Split if u.drift_flow(0.5, dt).is_none() => Err(SdeError::NoDriftFlow {
                landscape: u.kind(),
            }),
            Scheme::Implicit if dt * (-u.min_curvature()).max(0.0) >= 1.0 => {
                Err(SdeError::ImplicitStep {
                    dt,
                    max_neg_curvature: -u.min_curvature(),
                })
            }
            _ => Ok(()),
        }
    }

    /// One step from `x` with noise increment `dl`.
    #[inline(always)]
    pub fn step(self, u: &Landscape, x: f64, dt: f64, dl: f64) -> f64 {
        match self {
            Scheme::Euler => x - u.grad(x) * dt + dl,
            Scheme::Tamed => {
                let g = u.grad(x);
                x - g * dt / (1.0 + dt * g.abs()) + dl
            }
            Scheme::Split => {
                let h = 0.5 * dt;
                let mid = u.drift_flow(x, h).unwrap_or(f64::NAN) + dl;
                u.drift_flow(mid, h).unwrap_or(f64::NAN)
            }
            Scheme::Implicit => solve_implicit(u, x + dl, dt),
        }
    }
}

/// Solves y + dt·U′(y) = z, a strictly increasing function of y when dt·max(−U″) < 1
/// (checked by [`Scheme::check`]): safeguarded Newton inside a bracket that always contains the root.
// Kept out of line so that the explicit schemes' step stays small enough to inline.
#[inline(never)]
fn solve_implicit(u: &Landscape, z: f64, dt: f64) -> f64 {
    if !z.is_finite() {
        return z;
    }
    let g = |y: f64| y + dt * u.grad(y) - z;
    let g0 = g(z);
    if g0 == 0.0 {
        return z;
    }
    // The root lies on the side of z opposite to the sign of g(z); |y − z| ≤ … grow until bracketed.
    let dir = -g0.signum();
    let mut step = (1.0 + z.abs()) * 0.5;
    let mut far = z + dir * step;
    while g(far).signum() == g0.signum() {
        step *= 2.0;
        far = z + dir * step;
        if !far.is_finite() {
            return f64::NAN;
        }
    }
    let (mut lo, mut hi) = if dir > 0.0 { (z, far) } else { (far, z) };
    let mut y = 0.5 * (lo + hi);
    for _ in 0..200 {
        let gy = g(y);
        if gy == 0.0 {
            return y;
        }
        if gy < 0.0 {
            lo = y;
        } else {
            hi = y;
        }
        let newton = y - gy / (1.0 + dt * u.hess(y));
        let next = if newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - y).abs() <= 2.0 * f64::EPSILON * y.abs()
            || hi - lo <= 2.0 * f64::EPSILON * y.abs()
        {
            return next;
        }
        y = next;
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::{Polynomial, Quartic};

    #[test]
    fn implicit_step_solves_its_equation() {
        let q = Landscape::Quartic(Quartic::new(1.0, 0.25).unwrap());
        let p = Landscape::Polynomial(Polynomial::new(vec![0.0, 0.3, -0.5, 0.0, 0.25]).unwrap());
        for u in [q, p] {
            for z in [-1e6, -30.0, -1.0, -0.2, 0.0, 0.4, 3.0, 1e8] {
                let y = solve_implicit(&u, z, 0.01);
                let r = y + 0.01 * u.grad(y) - z;
                assert!(r.abs() <= 1e-12 * (1.0 + z.abs()), "z = {z}: residual {r}");
            }
        }
    }

    #[test]
    fn schemes_agree_for_small_steps_and_split_needs_a_flow() {
        let u = Landscape::Quartic(Quartic::new(1.0, 0.25).unwrap());
        for s in [
            Scheme::Euler,
            Scheme::Tamed,
            Scheme::Implicit,
            Scheme::Split,
        ] {
            let y = s.step(&u, 0.3, 1e-6, 0.0);
            assert!((y - (0.3 - u.grad(0.3) * 1e-6)).abs() < 1e-11, "{s:?}");
        }
        let p = Landscape::Polynomial(Polynomial::new(vec![0.0, 0.0, -0.5, 0.0, 0.25]).unwrap());
        assert!(Scheme::Split.check(&p, 0.01).is_err());
        assert!(Scheme::Implicit.check(&u, 1.5).is_err());
        assert!(Scheme::Implicit.check(&u, 0.5).is_ok());
    }
}
