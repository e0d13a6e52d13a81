//! Escape of a discrete noisy gradient iteration θₖ₊₁ = θₖ − η(∇f(θₖ) + Zₖ) from a ball of radius r
//! around its start θ₀: the two models that disagree about how SGD leaves a minimum.
//!
//! * **Lévy (one-jump) law** (Nguyen et al. 2019; Imkeller & Pavlyukevich 2006 in continuous
//!   time): for α-stable Zₖ, the ball is left by one large step. The per-step probability that
//!   ‖ηZ‖ exceeds r is, for r large against the spread of the iterates,
//!   * independent coordinates Zⱼ ~ SαS(cⱼ): p(r) = K_α η^α Σⱼ cⱼ^α r^{−α},
//!   * isotropic Z (every one-dimensional projection SαS(c)) measured on m of its coordinates:
//!     p(r) = K_α (ηc)^α r^{−α} · √π Γ((m + α)/2) / (Γ(m/2) Γ((1 + α)/2)),
//!
//!   with K_α = 2c_α/α (P(|X| > x) ~ K_α σ^α x^{−α} for X ~ SαS(σ)), and the escape step is
//!   geometric with mean 1/p(r): **a power law r^α**, whatever the curvature.
//! * **Gaussian quadratic law** (Xie, Sato & Sugiyama 2021; the linear-quadratic model of SGD): for
//!   Gaussian Zₖ with variance vⱼ along the Hessian eigendirection j (curvature λⱼ, gradient gⱼ at θ₀),
//!   Δₖ = θₖ − θ₀ is Gaussian with, per direction, a = 1 − ηλⱼ,
//!   * mean −ηgⱼ(1 − aᵏ)/(1 − a)  (−ηgⱼk when λⱼ = 0),
//!   * variance η²vⱼ(1 − a^{2k})/(1 − a²)  (η²vⱼk when a² = 1).
//!
//!   With many directions ‖Δₖ‖² concentrates at its mean E‖Δₖ‖², so the ball is left when that
//!   mean reaches r²: **diffusive (k ∝ r²) where directions are flat, ballistic (k ∝ r) under a
//!   gradient**. Where E‖Δₖ‖² stays below r² for every k (all directions confining) the ball is only
//!   left by a rare fluctuation: exponentially slow in r²/s², s² the stationary variance
//!   η²vⱼ/(1 − a²) of the loosest direction, with the one-dimensional Ornstein–Uhlenbeck rate
//!   2·ηλ·(r/s)·e^{−r²/(2s²)}/√(2π) summed over directions.
//!
//! Derivations: `docs/escape.md`.
//!
//! # References
//! Nguyen, Şimşekli, Gürbüzbalaban & Richard (2019), NeurIPS ("First exit time analysis of stochastic
//! gradient descent under heavy-tailed gradient noise"); Xie, Sato & Sugiyama (2021), ICLR
//! ("A diffusion theory for deep learning dynamics"); Samorodnitsky & Taqqu (1994), *Stable
//! non-Gaussian random processes*, §2.5 (sub-Gaussian vectors) and §1.2 (tails).

use super::TheoryError;
use crate::noise::c_alpha;

fn check(cond: bool, msg: impl FnOnce() -> String) -> Result<(), TheoryError> {
    super::check(cond, msg)
}

/// K_α = 2c_α/α: P(|X| > x) ~ K_α σ^α x^{−α} as x → ∞ for X ~ SαS(σ) (E e^{iuX} = e^{−|σu|^α}).
/// K_1 = 2/π (the Cauchy tail).
pub fn stable_tail_constant(alpha: f64) -> f64 {
    2.0 * c_alpha(alpha) / alpha
}

/// The factor by which the norm of m coordinates of an isotropic α-stable vector out-jumps one of
/// its coordinates: ν(‖Px‖ > r)/ν(|x₁| > r) = √π Γ((m + α)/2) / (Γ(m/2) Γ((1 + α)/2)) (1 at m = 1;
/// ≈ (2m)^{α/2}·√π/(2^{α/2}Γ((1+α)/2)) for large m). It does not depend on the full dimension.
pub fn isotropic_norm_factor(alpha: f64, m: usize) -> f64 {
    let m = m as f64;
    (0.5 * std::f64::consts::PI.ln() + libm::lgamma(0.5 * (m + alpha))
        - libm::lgamma(0.5 * m)
        - libm::lgamma(0.5 * (1.0 + alpha)))
    .exp()
}

/// The per-step one-jump exit rate of the Lévy law, p(r) = K_α η^α `mass` r^{−α}, where `mass` is
/// Σⱼ cⱼ^α over the measured coordinates for independent coordinates, or
/// c^α·[`isotropic_norm_factor`] for isotropic noise. Not capped: p ≥ 1 means the one-jump regime
/// does not apply at this r.
pub fn one_jump_rate(alpha: f64, mass: f64, eta: f64, r: f64) -> Result<f64, TheoryError> {
    check(alpha > 0.0 && alpha < 2.0, || {
        format!("alpha must be in (0, 2) for the one-jump law, got {alpha}")
    })?;
    check(mass >= 0.0 && mass.is_finite(), || {
        format!("scale mass must be finite and >= 0, got {mass}")
    })?;
    check(eta > 0.0 && r > 0.0, || {
        format!("eta and r must be > 0, got {eta}, {r}")
    })?;
    Ok(stable_tail_constant(alpha) * mass * (eta / r).powf(alpha))
}

/// Mean escape step of the one-jump law: the exit step is geometric with success probability
/// min(p, 1), mean 1/min(p, 1).
pub fn one_jump_mean_steps(alpha: f64, mass: f64, eta: f64, r: f64) -> Result<f64, TheoryError> {
    Ok(1.0 / one_jump_rate(alpha, mass, eta, r)?.min(1.0))
}

/// One direction (or a block of `multiplicity` equal directions) of the Gaussian quadratic model:
/// curvature λ, noise variance v per step (in gradient units), gradient component g at θ₀, and
/// the weight w ∈ [0, 1] with which the direction counts in the measured norm (1 when every
/// coordinate is measured).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Mode {
    /// Hessian eigenvalue λ.
    pub curvature: f64,
    /// Noise variance v along the direction.
    pub variance: f64,
    /// Gradient component g at θ₀.
    pub gradient: f64,
    /// Weight in the measured squared norm.
    pub weight: f64,
    /// Number of such directions.
    pub multiplicity: f64,
}

/// The Gaussian quadratic model's prediction at one radius.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct GaussianEscape {
    /// Predicted escape step.
    pub steps: f64,
    /// Which regime: "mean-square" (E‖Δₖ‖² reaches r²), "fluctuation" (it does not, and r is
    /// beyond [`MIN_FLUCTUATION_Z`] stationary spreads of every direction: the exponential
    /// Ornstein–Uhlenbeck rate), or "near-stationary" (it does not, but r is within that many
    /// spreads of some direction: neither form applies and `steps` is NaN).
    pub regime: &'static str,
}

impl Mode {
    fn moments(&self, eta: f64, k: f64) -> (f64, f64) {
        let a = 1.0 - eta * self.curvature;
        let mean = if self.curvature == 0.0 {
            -eta * self.gradient * k
        } else {
            -self.gradient / self.curvature * (1.0 - a.powf(k))
        };
        let a2 = a * a;
        let var = if (1.0 - a2).abs() < 1e-300 {
            eta * eta * self.variance * k
        } else {
            eta * eta * self.variance * (1.0 - a2.powf(k)) / (1.0 - a2)
        };
        (mean, var)
    }

    /// Stationary variance η²v/(1 − a²), ∞ when the direction does not confine (|a| ≥ 1).
    pub fn stationary_variance(&self, eta: f64) -> f64 {
        let a = 1.0 - eta * self.curvature;
        if a.abs() < 1.0 {
            eta * eta * self.variance / (1.0 - a * a)
        } else {
            f64::INFINITY
        }
    }
}

/// E‖Δₖ‖² of the Gaussian quadratic model after k steps (the measured norm).
pub fn mean_square_displacement(modes: &[Mode], eta: f64, k: f64) -> f64 {
    modes
        .iter()
        .map(|m| {
            let (mu, var) = m.moments(eta, k);
            m.weight * m.multiplicity * (mu * mu + var)
        })
        .sum()
}

/// The smallest z = r_eff/s at which the fluctuation regime's OU rate (an asymptotic form for
/// z ≫ 1, relative error O(z⁻²)) is used.
pub const MIN_FLUCTUATION_Z: f64 = 2.0;

/// The Gaussian quadratic model's escape step at radius r: the first k with E‖Δₖ‖² ≥ r² if
/// there is one below 10¹⁵ steps; otherwise the fluctuation regime's 1/(Σ rates), or NaN
/// ("near-stationary") when some direction's z is below [`MIN_FLUCTUATION_Z`]. Refuses an
/// unstable step (ηλ ≥ 2 on some direction with weight: the iteration diverges).
pub fn gaussian_escape(modes: &[Mode], eta: f64, r: f64) -> Result<GaussianEscape, TheoryError> {
    check(eta > 0.0 && r > 0.0, || {
        format!("eta and r must be > 0, got {eta}, {r}")
    })?;
    for m in modes {
        check(
            m.variance >= 0.0 && m.weight >= 0.0 && m.multiplicity >= 0.0,
            || format!("a mode has a negative variance, weight or multiplicity: {m:?}"),
        )?;
        check(eta * m.curvature < 2.0, || {
            format!(
                "eta·lambda = {} >= 2: the iteration diverges along that direction",
                eta * m.curvature
            )
        })?;
    }
    let r2 = r * r;
    let msd = |k: f64| mean_square_displacement(modes, eta, k);
    const CAP: f64 = 1e15;
    let mut hi = 1.0;
    while msd(hi) < r2 && hi < CAP {
        hi *= 2.0;
    }
    if msd(hi) >= r2 {
        // E‖Δₖ‖² is increasing in k for every mode started at Δ₀ = 0 (each term is), so bisect.
        let mut lo = 0.0;
        while hi - lo > 1.0 {
            let mid = (0.5 * (lo + hi)).floor();
            if msd(mid) >= r2 { hi = mid } else { lo = mid }
        }
        return Ok(GaussianEscape {
            steps: hi,
            regime: "mean-square",
        });
    }
    // Fluctuation regime: every weighted direction confines. Direction j leaves the ball when its
    // own coordinate reaches the radius left over by the others' stationary spread.
    let total: f64 = modes
        .iter()
        .map(|m| m.weight * m.multiplicity * m.stationary_variance(eta))
        .sum();
    let mut rate = 0.0;
    for m in modes.iter().filter(|m| m.weight > 0.0 && m.variance > 0.0) {
        let s2 = m.weight * m.stationary_variance(eta);
        let rest = total - s2;
        let z = ((r2 - rest).max(0.0) / s2).sqrt();
        if z < MIN_FLUCTUATION_Z {
            return Ok(GaussianEscape {
                steps: f64::NAN,
                regime: "near-stationary",
            });
        }
        rate += m.multiplicity * ou_exit_rate(eta * m.curvature, z);
    }
    // Beyond the cap the prediction is "never" (and 1/rate may overflow on the way).
    let steps = 1.0 / rate;
    Ok(GaussianEscape {
        steps: if steps < CAP { steps } else { f64::INFINITY },
        regime: "fluctuation",
    })
}

/// Exit rate from (−zs, zs) of an Ornstein–Uhlenbeck process with relaxation rate θ and stationary
/// standard deviation s, for z ≫ 1: 2θ·z·e^{−z²/2}/√(2π) (the one-sided mean first passage to zs is
/// √(2π)e^{z²/2}/(θz); e.g. Siegert 1951).
pub fn ou_exit_rate(theta: f64, z: f64) -> f64 {
    2.0 * theta * z * (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_constant_is_the_cauchy_one_at_alpha_one() {
        // P(|C| > x) = 1 − (2/π)atan(x) ~ 2/(πx).
        assert!((stable_tail_constant(1.0) - 2.0 / std::f64::consts::PI).abs() < 1e-12);
    }

    #[test]
    fn isotropic_factor_is_one_for_one_coordinate_and_matches_gaussian_moments() {
        assert!((isotropic_norm_factor(1.5, 1) - 1.0).abs() < 1e-12);
        // At α → 2 the factor is E‖G_m‖²/E|G₁|² = m for a Gaussian vector.
        assert!((isotropic_norm_factor(2.0, 7) - 7.0).abs() < 1e-9);
        // m = 2, α = 1: √π Γ(3/2)/(Γ(1)Γ(1)) = π/2.
        assert!((isotropic_norm_factor(1.0, 2) - std::f64::consts::FRAC_PI_2).abs() < 1e-12);
    }

    #[test]
    fn one_jump_law_scales_as_r_to_the_alpha() {
        let a = one_jump_mean_steps(1.5, 2.0, 0.1, 1.0).unwrap();
        let b = one_jump_mean_steps(1.5, 2.0, 0.1, 4.0).unwrap();
        assert!((b / a - 4f64.powf(1.5)).abs() < 1e-9);
        assert!(one_jump_rate(2.0, 1.0, 0.1, 1.0).is_err());
    }

    #[test]
    fn flat_gaussian_escape_is_diffusive_and_a_gradient_makes_it_ballistic() {
        let flat = [Mode {
            curvature: 0.0,
            variance: 1.0,
            gradient: 0.0,
            weight: 1.0,
            multiplicity: 100.0,
        }];
        // E‖Δₖ‖² = η²·v·100·k = k at η = 0.1 (100 flat directions of variance 1), = r² = 9 first
        // at k = 9.
        let e = gaussian_escape(&flat, 0.1, 3.0).unwrap();
        assert_eq!(e.regime, "mean-square");
        assert_eq!(e.steps, 9.0);
        let pushed = [Mode {
            variance: 0.0,
            gradient: 2.0,
            multiplicity: 1.0,
            ..flat[0]
        }];
        // |Δₖ| = η·g·k = 0.2k ≥ 3 first at k = 15.
        assert_eq!(gaussian_escape(&pushed, 0.1, 3.0).unwrap().steps, 15.0);
    }

    #[test]
    fn confined_gaussian_escape_uses_the_ou_rate_beyond_the_stationary_spread() {
        let m = Mode {
            curvature: 1.0,
            variance: 1.0,
            gradient: 0.0,
            weight: 1.0,
            multiplicity: 1.0,
        };
        let eta = 0.01;
        let s2 = m.stationary_variance(eta);
        // η²v/(1 − (1 − η)²) = 1e-4/(0.0199).
        assert!((s2 - 1e-4 / 0.0199).abs() < 1e-15);
        let r = 5.0 * s2.sqrt();
        let e = gaussian_escape(&[m], eta, r).unwrap();
        assert_eq!(e.regime, "fluctuation");
        assert!((e.steps - 1.0 / ou_exit_rate(eta, 5.0)).abs() < 1e-6 * e.steps);
        assert!(gaussian_escape(&[m], 2.5, 1.0).is_err());
        // Within two spreads the asymptotic rate does not apply and nothing is predicted.
        let near = gaussian_escape(&[m], eta, 1.5 * s2.sqrt()).unwrap();
        assert_eq!(near.regime, "near-stationary");
        assert!(near.steps.is_nan());
    }
}
