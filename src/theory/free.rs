//! Exact exit laws of the free skewed stable motion εL (U ≡ 0) from an interval, for α ≠ 1.
//!
//! # The law
//! L is the standard S1 Lévy motion of levylab's noise, E e^{iuL_t} = exp(−t|u|^α(1 − iβ sign(u)
//! tan(πα/2))). For α ≠ 1 it is strictly stable; write
//! ```text
//! θ = arctan(β tan(πα/2)),   ρ = P(L_t > 0) = ½ + θ/(πα),   ρ̂ = 1 − ρ,   K = 1/cos θ = √(1 + β² tan²(πα/2)).
//! ```
//! Then |u|^α(1 − iβ sign(u) tan(πα/2)) = K|u|^α e^{−iθ sign u}: L is the process of
//! characteristic exponent |u|^α e^{−iπα(ρ−½) sign u} run at speed K. For that process, started at
//! y ∈ (−1, 1),
//! ```text
//! E_y τ = (1 − y)^{αρ} (1 + y)^{αρ̂} / Γ(1 + α),        P_y(exit above 1) = I_{(1+y)/2}(αρ̂, αρ)
//! ```
//! (I the regularized incomplete beta function; the exit side is Rogozin's 1972 law, the mean exit
//! time the integral of the killed process's potential density, Kyprianou & Watson 2014). With
//! speed K, amplitude ε (time scales by ε^{−α}) and the interval (c − R, c + R) (time scales by R^α):
//! ```text
//! E_x τ = R^α (1 − y)^{αρ} (1 + y)^{αρ̂} / (K ε^α Γ(1 + α)),   y = (x − c)/R.
//! ```
//! # Three independent checks of the constants (worked out here, and tested)
//! * β = 0: ρ = ½, K = 1 gives Getoor's (R² − (x − c)²)^{α/2}/(ε^α Γ(1 + α)).
//! * α < 1, β = 1: εL is a stable subordinator with E e^{−λεL_1} = exp(−ε^α λ^α/cos(πα/2))
//!   (Samorodnitsky & Taqqu 1994, Prop. 1.2.12); its renewal function is
//!   U(a) = a^α cos(πα/2)/(ε^α Γ(1 + α)), the mean passage time above a. Here ρ = 1, θ = πα/2, and the
//!   formula gives R^α(1 − y)^α cos(πα/2)/(ε^α Γ(1 + α)) with R(1 − y) = c + R − x, the same; and the
//!   exit is always upwards, I_t(0, α) = 1.
//! * 1 < α < 2, β = −1: spectrally negative, E e^{λεL_1} = e^{ψ(λ)} with ψ(λ) = ε^α λ^α/|cos(πα/2)|
//!   and scale function W(z) = z^{α−1}/(Γ(α) ε^α/|cos(πα/2)|). The potential density of the process
//!   killed outside [0, a] is W(z)W(a − w)/W(a) − W(z − w) (Kyprianou 2014, Thm 8.7), so
//!   E_z τ = ∫₀^a … dw = z^{α−1}(a − z)|cos(πα/2)|/(ε^α Γ(1 + α)), and P_z(up) = W(z)/W(a) = (z/a)^{α−1}.
//!   Here ρ = 1/α, αρ = 1, αρ̂ = α − 1, K = 1/|cos(πα/2)|, and with z = R(1 + y), a = 2R both formulas agree.
//!
//! At α = 1 with β ≠ 0 the motion is not strictly stable (a drift grows like t ln t) and no closed
//! form is used: the nonlocal solver ([`super::nonlocal`]) covers that case.
//!
//! # References
//! Rogozin (1972), Theory Probab. Appl. 17; Getoor (1961), Trans. AMS 101; Samorodnitsky & Taqqu
//! (1994), *Stable Non-Gaussian Random Processes*; Kyprianou (2014), *Fluctuations of Lévy
//! Processes with Applications*, 2nd ed.; Kyprianou & Watson (2014), Séminaire de Probabilités XLVI.

use std::f64::consts::PI;

use super::{TheoryError, check};
use crate::numeric::{gamma, incomplete_beta};

/// The positivity parameter ρ = P(L_t > 0) and the speed K of the standard S1 motion (α ≠ 1).
pub fn positivity(alpha: f64, beta: f64) -> (f64, f64) {
    let theta = (beta * (PI * alpha / 2.0).tan()).atan();
    (0.5 + theta / (PI * alpha), 1.0 / theta.cos())
}

fn check_free(
    alpha: f64,
    beta: f64,
    eps: f64,
    lo: f64,
    hi: f64,
    x: f64,
) -> Result<(), TheoryError> {
    check(alpha > 0.0 && alpha < 2.0 && alpha != 1.0, || {
        format!("the free stable exit law needs α ∈ (0, 1) ∪ (1, 2), got {alpha}")
    })?;
    check((-1.0..=1.0).contains(&beta), || {
        format!("beta must be in [-1, 1], got {beta}")
    })?;
    check(eps > 0.0 && eps.is_finite(), || {
        format!("epsilon must be finite and > 0, got {eps}")
    })?;
    check(lo.is_finite() && hi.is_finite() && lo < x && x < hi, || {
        format!("need a bounded interval around the start, got x = {x} in ({lo}, {hi})")
    })
}

/// E_x τ of εL (U ≡ 0) from (lo, hi), α ≠ 1, any β (module docs).
///
/// Known value: α = 1.5, β = −1, ε = 1, (−1, 1), x = 0: 1·1·|cos(3π/4)|/Γ(2.5) = 0.531923.
pub fn free_exit_time(
    alpha: f64,
    beta: f64,
    eps: f64,
    lo: f64,
    hi: f64,
    x: f64,
) -> Result<f64, TheoryError> {
    check_free(alpha, beta, eps, lo, hi, x)?;
    let (rho, k) = positivity(alpha, beta);
    let r = 0.5 * (hi - lo);
    let y = (x - 0.5 * (lo + hi)) / r;
    Ok(
        r.powf(alpha) * (1.0 - y).powf(alpha * rho) * (1.0 + y).powf(alpha * (1.0 - rho))
            / (k * eps.powf(alpha) * gamma(1.0 + alpha)),
    )
}

/// P_x(εL leaves (lo, hi) above hi), U ≡ 0, α ≠ 1 (Rogozin's law, module docs). Independent of ε.
pub fn free_exit_up_probability(
    alpha: f64,
    beta: f64,
    lo: f64,
    hi: f64,
    x: f64,
) -> Result<f64, TheoryError> {
    check_free(alpha, beta, 1.0, lo, hi, x)?;
    let (rho, _) = positivity(alpha, beta);
    let t = (x - lo) / (hi - lo);
    let (a, b) = (alpha * (1.0 - rho), alpha * rho);
    // A one-sided motion never leaves through the side it does not jump or drift to.
    Ok(if a <= 0.0 {
        1.0
    } else if b <= 0.0 {
        0.0
    } else {
        incomplete_beta(a, b, t)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theory::getoor_exit_time;

    #[test]
    fn symmetric_case_is_getoor() {
        for alpha in [0.5, 1.2, 1.9] {
            for x in [-0.7, 0.0, 0.4] {
                let a = free_exit_time(alpha, 0.0, 0.3, -2.0, 2.0, x).unwrap();
                let b = getoor_exit_time(alpha, 0.3, 2.0, x, 1).unwrap();
                assert!((a / b - 1.0).abs() < 1e-13, "{alpha} {x}: {a} vs {b}");
                let p = free_exit_up_probability(alpha, 0.0, -2.0, 2.0, x).unwrap();
                if x == 0.0 {
                    assert!((p - 0.5).abs() < 1e-14);
                }
            }
        }
    }

    /// The subordinator (α < 1, β = 1) and spectrally negative (α > 1, β = −1) cases against their
    /// own closed forms (module docs), and the mirror symmetry β → −β, x → −x.
    #[test]
    fn one_sided_cases_match_their_closed_forms() {
        let (eps, lo, hi): (f64, f64, f64) = (0.4, -1.0, 2.0);
        for alpha in [0.3, 0.8] {
            for x in [-0.5, 0.5, 1.5] {
                let want = (hi - x).powf(alpha) * (PI * alpha / 2.0).cos()
                    / (eps.powf(alpha) * gamma(1.0 + alpha));
                let got = free_exit_time(alpha, 1.0, eps, lo, hi, x).unwrap();
                assert!((got / want - 1.0).abs() < 1e-12, "{alpha} {x}");
                assert_eq!(
                    free_exit_up_probability(alpha, 1.0, lo, hi, x).unwrap(),
                    1.0
                );
            }
        }
        for alpha in [1.2, 1.5, 1.8] {
            for x in [-0.5, 0.5, 1.5] {
                let (z, a) = (x - lo, hi - lo);
                let want = z.powf(alpha - 1.0) * (a - z) * (PI * alpha / 2.0).cos().abs()
                    / (eps.powf(alpha) * gamma(1.0 + alpha));
                let got = free_exit_time(alpha, -1.0, eps, lo, hi, x).unwrap();
                assert!(
                    (got / want - 1.0).abs() < 1e-12,
                    "{alpha} {x}: {got} vs {want}"
                );
                let p = free_exit_up_probability(alpha, -1.0, lo, hi, x).unwrap();
                assert!((p - (z / a).powf(alpha - 1.0)).abs() < 1e-13);
                for beta in [-0.4, 0.7] {
                    let t = free_exit_time(alpha, beta, eps, lo, hi, x).unwrap();
                    let m = free_exit_time(alpha, -beta, eps, -hi, -lo, -x).unwrap();
                    assert!((t / m - 1.0).abs() < 1e-13);
                    let p = free_exit_up_probability(alpha, beta, lo, hi, x).unwrap();
                    let q = free_exit_up_probability(alpha, -beta, -hi, -lo, -x).unwrap();
                    assert!((p + q - 1.0).abs() < 1e-13);
                }
            }
        }
        let known = free_exit_time(1.5, -1.0, 1.0, -1.0, 1.0, 0.0).unwrap();
        assert!((known - 0.531923).abs() < 1e-6, "{known}");
        assert!(free_exit_time(1.0, 0.5, 1.0, -1.0, 1.0, 0.0).is_err());
    }
}
