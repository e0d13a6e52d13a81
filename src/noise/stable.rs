//! The α-stable law `S_α(σ, β, μ)` and its Chambers–Mallows–Stuck sampler.

use std::f64::consts::{FRAC_2_PI, FRAC_PI_2, PI};

use rand::Rng;
use rand::distr::{Distribution, Open01};
use rand_distr::Exp1;

use super::NoiseError;
use crate::numeric;

/// Parametrization of the location of a stable law.
///
/// * `S1` (Samorodnitsky & Taqqu 1994; scipy's default): for α ≠ 1,
///   `log E e^{iuX} = −σ^α|u|^α (1 − iβ sign(u) tan(πα/2)) + iμu`.
/// * `S0` (Nolan): continuous in α; for α ≠ 1, `X_S0 = X_S1 − βσ tan(πα/2)` at equal μ; at α = 1,
///   `X_S0 = X_S1 − (2/π)βσ ln σ`.
///
/// For β = 0 the two coincide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Param {
    /// Samorodnitsky–Taqqu.
    #[default]
    S1,
    /// Nolan's continuous parametrization.
    S0,
}

impl std::str::FromStr for Param {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "s1" | "1" => Ok(Param::S1),
            "s0" | "0" => Ok(Param::S0),
            other => Err(format!("parametrization must be s1 or s0, got {other:?}")),
        }
    }
}

/// The standard (σ = 1, μ = 0) S1 stable law, sampled by Chambers–Mallows–Stuck.
///
/// # Formula
/// ```text
/// V ~ U(−π/2, π/2), W ~ Exp(1) independent.
/// α ≠ 1:  B = arctan(β tan(πα/2))/α,  S = (1 + β² tan²(πα/2))^{1/(2α)}
///         X = S · sin(α(V + B)) / (cos V)^{1/α} · (cos(V − α(V + B)) / W)^{(1−α)/α}
/// α = 1:  X = (2/π) [ (π/2 + βV) tan V − β ln( (π/2)·W·cos V / (π/2 + βV) ) ]
/// ```
/// # References
/// Chambers, Mallows & Stuck (1976), JASA 71; Weron (1996), Statist. Probab. Lett. 28 (the α = 1
/// branch needs the factor (π/2) inside the logarithm).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StandardStable {
    alpha: f64,
    beta: f64,
    inv_alpha: f64,
    exponent: f64,
    b: f64,
    s: f64,
}

impl StandardStable {
    /// `S_α(1, β, 0)` in S1.
    pub fn new(alpha: f64, beta: f64) -> Result<Self, NoiseError> {
        check_alpha_beta(alpha, beta)?;
        let (b, s) = if alpha == 1.0 {
            (0.0, 1.0)
        } else {
            let t = beta * (PI * alpha / 2.0).tan();
            (t.atan() / alpha, (1.0 + t * t).powf(1.0 / (2.0 * alpha)))
        };
        Ok(Self {
            alpha,
            beta,
            inv_alpha: 1.0 / alpha,
            exponent: (1.0 - alpha) / alpha,
            b,
            s,
        })
    }

    /// Stability index α.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Skewness β.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// The CMS map from `V ∈ (−π/2, π/2)` and `W > 0` to a standard S1 variate.
    #[inline]
    pub fn transform(&self, v: f64, w: f64) -> f64 {
        if self.alpha == 1.0 {
            let a = FRAC_PI_2 + self.beta * v;
            FRAC_2_PI * (a * v.tan() - self.beta * (FRAC_PI_2 * w * v.cos() / a).ln())
        } else if self.alpha == 2.0 {
            // α = 2: X = 2 sin V √W ~ N(0, 2) for every β (tan π = 0 exactly in the law).
            2.0 * v.sin() * w.sqrt()
        } else {
            let avb = self.alpha * (v + self.b);
            self.s * avb.sin() / v.cos().powf(self.inv_alpha)
                * ((v - avb).cos() / w).powf(self.exponent)
        }
    }
}

impl Distribution<f64> for StandardStable {
    #[inline]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let u: f64 = Open01.sample(rng);
        let w: f64 = Exp1.sample(rng);
        self.transform(PI * (u - 0.5), w)
    }
}

/// The α-stable law `S_α(σ, β, μ)` in parametrization S1 or S0.
///
/// Symmetric case (β = 0): `E e^{iuX} = exp(iμu − |σu|^α)`; α = 2 is `N(μ, 2σ²)`, α = 1 is
/// `Cauchy(μ, σ)`, and α = ½, β = 1 (S1) is the Lévy distribution with location μ and scale σ.
///
/// # Example
/// ```
/// use levylab::noise::{Param, Stable};
/// use rand::distr::Distribution;
/// let law = Stable::new(1.5, 0.0, 1.0, 0.0, Param::S1).unwrap();
/// let mut rng = levylab::rng::stream(42, 0);
/// let x: f64 = law.sample(&mut rng);
/// assert!(x.is_finite());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stable {
    standard: StandardStable,
    scale: f64,
    loc: f64,
    param: Param,
    shift: f64,
}

impl Stable {
    /// Validates α ∈ (0, 2], β ∈ [−1, 1], σ finite and > 0, μ finite.
    pub fn new(
        alpha: f64,
        beta: f64,
        scale: f64,
        loc: f64,
        param: Param,
    ) -> Result<Self, NoiseError> {
        let standard = StandardStable::new(alpha, beta)?;
        if !(scale > 0.0 && scale.is_finite()) {
            return Err(NoiseError::ScaleNotPositive(scale));
        }
        if !loc.is_finite() {
            return Err(NoiseError::LocationNotFinite(loc));
        }
        // Y = σ·X_standard_S1 + shift.
        let shift = match (param, alpha == 1.0) {
            (Param::S1, false) => loc,
            (Param::S1, true) => loc + FRAC_2_PI * beta * scale * scale.ln(),
            (Param::S0, false) => loc - beta * scale * (PI * alpha / 2.0).tan(),
            (Param::S0, true) => loc,
        };
        let shift = if alpha == 2.0 { loc } else { shift };
        Ok(Self {
            standard,
            scale,
            loc,
            param,
            shift,
        })
    }

    /// α.
    pub fn alpha(&self) -> f64 {
        self.standard.alpha
    }
    /// β.
    pub fn beta(&self) -> f64 {
        self.standard.beta
    }
    /// σ.
    pub fn scale(&self) -> f64 {
        self.scale
    }
    /// μ (in this law's parametrization).
    pub fn loc(&self) -> f64 {
        self.loc
    }
    /// The parametrization μ refers to.
    pub fn param(&self) -> Param {
        self.param
    }

    /// Location of the same law in Nolan's S0 parametrization.
    pub fn loc_s0(&self) -> f64 {
        let (a, b, s) = (self.alpha(), self.beta(), self.scale);
        match self.param {
            Param::S0 => self.loc,
            Param::S1 if a == 2.0 => self.loc,
            Param::S1 if a == 1.0 => self.loc + FRAC_2_PI * b * s * s.ln(),
            Param::S1 => self.loc + b * s * (PI * a / 2.0).tan(),
        }
    }

    /// The characteristic function `E e^{iuX}` as (real, imaginary) parts.
    ///
    /// # Formula (S1)
    /// ```text
    /// α ≠ 1: log φ(u) = −σ^α|u|^α (1 − iβ sign(u) tan(πα/2)) + iμu
    /// α = 1: log φ(u) = −σ|u| (1 + iβ (2/π) sign(u) ln|u|) + iμu
    /// ```
    pub fn characteristic_function(&self, u: f64) -> (f64, f64) {
        if u == 0.0 {
            return (1.0, 0.0);
        }
        let (a, b, s) = (self.alpha(), self.beta(), self.scale);
        // Work in S1 with location μ₁ derived from this law's shift: Y = σX + shift.
        let mu1 = if a == 1.0 {
            self.shift - FRAC_2_PI * b * s * s.ln()
        } else {
            self.shift
        };
        let (re, im) = if a == 1.0 {
            let m = s * u.abs();
            (-m, -m * b * FRAC_2_PI * u.signum() * u.abs().ln() + mu1 * u)
        } else {
            let p = (s * u).abs().powf(a);
            (-p, p * b * u.signum() * (PI * a / 2.0).tan() + mu1 * u)
        };
        let r = re.exp();
        (r * im.cos(), r * im.sin())
    }

    /// Cumulative distribution function (Nolan's integral representation; see [`super::cdf`]).
    pub fn cdf(&self, x: f64) -> f64 {
        super::cdf::standard_cdf_s0((x - self.loc_s0()) / self.scale, self.alpha(), self.beta())
    }

    /// Quantile function (inverse CDF) for p ∈ (0, 1).
    pub fn quantile(&self, p: f64) -> f64 {
        self.loc_s0() + self.scale * super::cdf::standard_quantile_s0(p, self.alpha(), self.beta())
    }
}

impl Distribution<f64> for Stable {
    #[inline]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.scale * self.standard.sample(rng) + self.shift
    }
}

/// Lévy-measure constant `c_α = Γ(1 + α) sin(πα/2) / π`: the Lévy density of the standard symmetric
/// Lévy motion is `c_α |y|^{−1−α}`, and `P(|L₁| > x) ~ 2c_α x^{−α}/α` as x → ∞.
/// `c_1 = 1/π`, `c_1.5 ≈ 0.299207`.
pub fn c_alpha(alpha: f64) -> f64 {
    numeric::gamma(1.0 + alpha) * (PI * alpha / 2.0).sin() / PI
}

pub(crate) fn check_alpha_beta(alpha: f64, beta: f64) -> Result<(), NoiseError> {
    if !(alpha > 0.0 && alpha <= 2.0) {
        return Err(NoiseError::AlphaOutOfRange(alpha));
    }
    if !(beta.abs() <= 1.0) {
        return Err(NoiseError::BetaOutOfRange(beta));
    }
    Ok(())
}
