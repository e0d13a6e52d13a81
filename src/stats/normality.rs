//! The Anderson–Darling test of normality (mean and variance estimated) and the Benjamini–Hochberg
//! step-up procedure for many such tests at once.
//!
//! # Why Anderson–Darling
//! The question asked of gradient noise is whether its tails are heavier than a Gaussian's. Of the
//! EDF tests, A² weights the squared distance between the empirical and the fitted CDF by
//! 1/(F(1 − F)), so it is the one most sensitive in the tails (Stephens 1974 found it the most
//! powerful EDF test against heavy-tailed alternatives); it has a closed-form p-value for every
//! n ≥ 8 and costs one sort. Shapiro–Wilk is about as powerful, but its p-value rests on Royston's
//! approximations of the coefficients and is defined only up to n = 5000; the per-coordinate
//! samples here have K = a few hundred to a few thousand values, and the pooled dimension-wise
//! sample more.
//!
//! # Formula
//! ```text
//! zᵢ = Φ((x₍ᵢ₎ − x̄)/s)   (x₍ᵢ₎ sorted, s the sample standard deviation with n − 1)
//! A² = −n − (1/n) Σᵢ (2i − 1)·[ln zᵢ + ln(1 − z₍ₙ₊₁₋ᵢ₎)]
//! A*² = A²·(1 + 0.75/n + 2.25/n²)
//! p = exp(1.2937 − 5.709A*² + 0.0186A*⁴)         A*² ≥ 0.6
//!     exp(0.9177 − 4.279A*² − 1.38A*⁴)           0.34 ≤ A*² < 0.6
//!     1 − exp(−8.318 + 42.796A*² − 59.938A*⁴)    0.2 ≤ A*² < 0.34
//!     1 − exp(−13.436 + 101.14A*² − 223.73A*⁴)   A*² < 0.2
//! ```
//! ln Φ is evaluated without underflow far in the tails (a Cauchy sample puts points at 50 s), so a
//! heavy-tailed sample gets a large finite A², not ∞.
//!
//! Benjamini–Hochberg at level q: with the m p-values sorted, p₍₁₎ ≤ … ≤ p₍ₘ₎, reject the k
//! smallest, where k is the largest index with p₍ₖ₎ ≤ k·q/m. It controls the expected share of
//! false rejections among the rejections at q for independent (and positively dependent) tests.
//!
//! # References
//! Anderson & Darling (1954), JASA 49; Stephens (1974), JASA 69; D'Agostino & Stephens (1986),
//! *Goodness-of-Fit Techniques*, Table 4.9 (the modified statistic and its p-value);
//! Benjamini & Hochberg (1995), JRSS B 57.

use std::f64::consts::{PI, SQRT_2};

use super::StatsError;
use crate::numeric::erfc;

/// Smallest sample for which the p-value formula is stated (D'Agostino & Stephens).
pub const AD_MIN_SAMPLES: usize = 8;

/// The result of one Anderson–Darling test.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct AndersonDarling {
    /// Sample size n.
    pub n: usize,
    /// A² with the sample mean and standard deviation plugged in.
    pub statistic: f64,
    /// A*² = A²(1 + 0.75/n + 2.25/n²).
    pub modified: f64,
    /// p-value of the normal hypothesis (composite: mean and variance estimated).
    pub p_value: f64,
}

/// ln Φ(t), accurate far into the lower tail where Φ(t) underflows.
pub fn ln_normal_cdf(t: f64) -> f64 {
    if t > -30.0 {
        (0.5 * erfc(-t / SQRT_2)).ln()
    } else {
        // Mills ratio: Φ(t) = φ(t)/|t| · (1 − 1/t² + 3/t⁴ − 15/t⁶ + …), t → −∞.
        let t2 = t * t;
        -0.5 * t2 - (-t).ln() - 0.5 * (2.0 * PI).ln()
            + (1.0 - 1.0 / t2 + 3.0 / (t2 * t2) - 15.0 / (t2 * t2 * t2)).ln()
    }
}

/// The Anderson–Darling test of normality with estimated mean and variance.
///
/// # Errors
/// `TooFewSamples` below n = 8, `NonFinite` on NaN/±∞, `Degenerate` for a constant sample.
pub fn anderson_darling(xs: &[f64]) -> Result<AndersonDarling, StatsError> {
    let n = xs.len();
    if n < AD_MIN_SAMPLES {
        return Err(StatsError::TooFewSamples {
            needed: AD_MIN_SAMPLES,
            got: n,
        });
    }
    if let Some(i) = xs.iter().position(|x| !x.is_finite()) {
        return Err(StatsError::NonFinite {
            index: i,
            value: xs[i],
        });
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    if !(sd > 0.0) || !(sd > 1e-300 * mean.abs()) {
        return Err(StatsError::Degenerate("the sample is constant"));
    }
    let mut t: Vec<f64> = xs.iter().map(|x| (x - mean) / sd).collect();
    t.sort_unstable_by(f64::total_cmp);
    let nf = n as f64;
    let mut s = 0.0;
    for i in 0..n {
        // ln zᵢ + ln(1 − z₍ₙ₊₁₋ᵢ₎) = ln Φ(tᵢ) + ln Φ(−t₍ₙ₋₁₋ᵢ₎) (0-based).
        s += (2 * i + 1) as f64 * (ln_normal_cdf(t[i]) + ln_normal_cdf(-t[n - 1 - i]));
    }
    let statistic = -nf - s / nf;
    let modified = statistic * (1.0 + 0.75 / nf + 2.25 / (nf * nf));
    Ok(AndersonDarling {
        n,
        statistic,
        modified,
        p_value: ad_p_value(modified),
    })
}

/// The p-value of the modified statistic A*² (D'Agostino & Stephens 1986, Table 4.9).
pub fn ad_p_value(a: f64) -> f64 {
    // The upper-tail formula has its minimum at A*² = 5.709/0.0372 ≈ 153.5 (p ≈ 10⁻¹⁵⁵ there) and
    // grows again beyond it, outside the range it was fitted on; p is 0 to double precision there.
    let p = if a >= 153.0 {
        0.0
    } else if a >= 0.6 {
        (1.2937 - 5.709 * a + 0.0186 * a * a).exp()
    } else if a >= 0.34 {
        (0.9177 - 4.279 * a - 1.38 * a * a).exp()
    } else if a >= 0.2 {
        1.0 - (-8.318 + 42.796 * a - 59.938 * a * a).exp()
    } else {
        1.0 - (-13.436 + 101.14 * a - 223.73 * a * a).exp()
    };
    p.clamp(0.0, 1.0)
}

/// Benjamini–Hochberg at level `q`: which of `p_values` are rejected (same order as the input).
pub fn benjamini_hochberg(p_values: &[f64], q: f64) -> Vec<bool> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]).then(a.cmp(&b)));
    let mut k = 0;
    for (rank, &i) in order.iter().enumerate() {
        if p_values[i] <= (rank + 1) as f64 * q / m as f64 {
            k = rank + 1;
        }
    }
    let mut rejected = vec![false; m];
    for &i in &order[..k] {
        rejected[i] = true;
    }
    rejected
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;
    use rand::distr::Distribution;
    use rand_distr::StandardNormal;

    #[test]
    fn statistic_matches_an_independent_value() {
        // scipy.stats.anderson(x, dist="norm").statistic (scipy 1.17): 0.14110924785979329 for
        // x = 1…10 and 1.7313465596539839 for the skewed sample below.
        let r = anderson_darling(&(1..=10).map(f64::from).collect::<Vec<_>>()).unwrap();
        assert!(
            (r.statistic - 0.141_109_247_859_793_29).abs() < 1e-12,
            "{}",
            r.statistic
        );
        let skewed = [0.1, 0.2, 0.2, 0.3, 0.4, 0.5, 0.9, 1.5, 2.8, 6.0, 11.0, 19.0];
        let r = anderson_darling(&skewed).unwrap();
        assert!(
            (r.statistic - 1.731_346_559_653_983_9).abs() < 1e-12,
            "{}",
            r.statistic
        );
        assert!(r.p_value < 0.01);
        // Far beyond the fitted range (a Cauchy sample of 10⁵ gives A² in the thousands): p → 0.
        assert_eq!(ad_p_value(8000.0), 0.0);
        assert!(ad_p_value(20.0) < 1e-40 && ad_p_value(20.0) > 0.0);
        assert!(ad_p_value(0.1) > 0.9 && ad_p_value(0.1) <= 1.0);
    }

    #[test]
    fn ln_cdf_is_continuous_across_the_asymptotic_switch() {
        let (a, b) = (ln_normal_cdf(-30.0 + 1e-9), ln_normal_cdf(-30.0 - 1e-9));
        assert!((a - b).abs() < 1e-6 * a.abs(), "{a} {b}");
        assert!(ln_normal_cdf(-200.0).is_finite());
        assert!((ln_normal_cdf(0.0) - 0.5f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn p_values_are_uniform_under_the_null() {
        // Size at 5 % over 4000 Gaussian samples of n = 50: 0.05 ± 3 SE (SE = 0.0034).
        let reps = 4000;
        let mut rejected = 0;
        for rep in 0..reps {
            let mut r = rng::stream(77, rep);
            let xs: Vec<f64> = (0..50).map(|_| StandardNormal.sample(&mut r)).collect();
            rejected += usize::from(anderson_darling(&xs).unwrap().p_value < 0.05);
        }
        let rate = rejected as f64 / reps as f64;
        let se = (0.05f64 * 0.95 / reps as f64).sqrt();
        assert!((rate - 0.05).abs() < 3.0 * se, "size {rate}");
    }

    #[test]
    fn bad_samples_are_refused() {
        assert!(matches!(
            anderson_darling(&[1.0; 5]),
            Err(StatsError::TooFewSamples { needed: 8, got: 5 })
        ));
        assert!(matches!(
            anderson_darling(&[1.0; 9]),
            Err(StatsError::Degenerate(_))
        ));
        let mut xs = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        xs[3] = f64::NAN;
        assert!(matches!(
            anderson_darling(&xs),
            Err(StatsError::NonFinite { index: 3, .. })
        ));
    }

    #[test]
    fn benjamini_hochberg_step_up() {
        // m = 5, q = 0.05: thresholds 0.01, 0.02, 0.03, 0.04, 0.05. p₍₃₎ = 0.029 ≤ 0.03 rejects the
        // three smallest even though p₍₂₎ = 0.021 > 0.02 (step-up, not step-down).
        let p = [0.5, 0.029, 0.001, 0.021, 0.045];
        assert_eq!(
            benjamini_hochberg(&p, 0.05),
            vec![false, true, true, true, false]
        );
        assert_eq!(benjamini_hochberg(&[0.2, 0.3], 0.05), vec![false, false]);
        assert!(benjamini_hochberg(&[], 0.05).is_empty());
    }
}
