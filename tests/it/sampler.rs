//! The α-stable sampler against exact references: closed-form laws (KS), the characteristic function
//! (every α, β branch, both parametrizations), Nolan's CDF (KS), the power-law tail, golden draws and
//! parameter validation.

use std::f64::consts::{FRAC_2_PI, PI};

use crate::common::*;
use levylab::noise::{Noise, NoiseError, Param, Stable, c_alpha};
use levylab::numeric::{erfc, gamma, normal_cdf};

const N_KS: usize = 200_000;

#[test]
fn alpha_two_is_gaussian_with_variance_two_sigma_squared() {
    // S_2(σ, β, μ) = N(μ, 2σ²) for every β.
    let (s, m) = (1.3, 0.7);
    let xs = stable_draws(2.0, 0.5, s, m, Param::S1, N_KS, 11);
    let d = ks_statistic(&xs, |x| normal_cdf((x - m) / (s * 2f64.sqrt())));
    assert!(
        d * (N_KS as f64).sqrt() < KS_CRIT_0_001,
        "√n·D = {}",
        d * (N_KS as f64).sqrt()
    );
}

#[test]
fn alpha_one_symmetric_is_cauchy() {
    let (s, m) = (2.0, -1.0);
    let xs = stable_draws(1.0, 0.0, s, m, Param::S1, N_KS, 12);
    let d = ks_statistic(&xs, |x| 0.5 + ((x - m) / s).atan() / PI);
    assert!(
        d * (N_KS as f64).sqrt() < KS_CRIT_0_001,
        "√n·D = {}",
        d * (N_KS as f64).sqrt()
    );
}

#[test]
fn alpha_half_totally_skewed_is_levy() {
    // S1: S_{1/2}(σ, 1, μ) is the Lévy law, F(x) = erfc(√(σ / (2(x − μ)))) for x > μ.
    let (s, m) = (0.7, 0.3);
    let xs = stable_draws(0.5, 1.0, s, m, Param::S1, N_KS, 13);
    assert!(xs.iter().all(|&x| x > m), "Lévy support is (μ, ∞)");
    let d = ks_statistic(&xs, |x| {
        if x <= m {
            0.0
        } else {
            erfc((s / (2.0 * (x - m))).sqrt())
        }
    });
    assert!(
        d * (N_KS as f64).sqrt() < KS_CRIT_0_001,
        "√n·D = {}",
        d * (N_KS as f64).sqrt()
    );
}

/// Every (α, β) branch in both parametrizations, against the closed-form characteristic function:
/// S1 α ≠ 1: log φ(u) = −σ^α|u|^α(1 − iβ sign u tan(πα/2)) + iμu; α = 1: −σ|u|(1 + iβ(2/π) sign u ln|u|) + iμu.
/// S0 shifts μ by βσ tan(πα/2) (α ≠ 1) or (2/π)βσ ln σ (α = 1). Tolerance: 5 standard errors of the
/// empirical mean of cos/sin (one of 360 comparisons fails by chance with probability ≈ 2e-4).
#[test]
fn characteristic_function_matches_every_branch() {
    let n = 100_000;
    let mut seed = 100;
    for alpha in [0.5, 0.8, 1.0, 1.3, 1.5, 1.9] {
        for beta in [-1.0, -0.5, 0.0, 0.5, 1.0] {
            for param in [Param::S1, Param::S0] {
                let (s, m) = (1.7, 0.4);
                seed += 1;
                let xs = stable_draws(alpha, beta, s, m, param, n, seed);
                let mu1 = match param {
                    Param::S1 => m,
                    Param::S0 if alpha == 1.0 => m - FRAC_2_PI * beta * s * f64::ln(s),
                    Param::S0 => m - beta * s * (PI * alpha / 2.0).tan(),
                };
                for u in [0.2, 0.7, 1.5] {
                    let (re_l, im_l) = if alpha == 1.0 {
                        (-s * u, -s * u * beta * FRAC_2_PI * f64::ln(u) + mu1 * u)
                    } else {
                        let p = (s * u).powf(alpha);
                        (-p, p * beta * (PI * alpha / 2.0).tan() + mu1 * u)
                    };
                    let (want_re, want_im) = (re_l.exp() * im_l.cos(), re_l.exp() * im_l.sin());
                    let (re, im, se_re, se_im) = empirical_cf(&xs, u);
                    let ctx = format!("α={alpha} β={beta} {param:?} u={u}");
                    assert!(
                        (re - want_re).abs() < 5.0 * se_re + 1e-12,
                        "{ctx}: Re {re} vs {want_re} (se {se_re})"
                    );
                    assert!(
                        (im - want_im).abs() < 5.0 * se_im + 1e-12,
                        "{ctx}: Im {im} vs {want_im} (se {se_im})"
                    );
                    let (lre, lim) = Stable::new(alpha, beta, s, m, param)
                        .unwrap()
                        .characteristic_function(u);
                    assert!(
                        (lre - want_re).abs() < 1e-12 && (lim - want_im).abs() < 1e-12,
                        "{ctx}: library φ"
                    );
                }
            }
        }
    }
}

/// The CMS sampler against Nolan's integral CDF (an independent derivation), including α = 1, β ≠ 0.
/// D is taken at every 100th order statistic (≤ the full D), critical value at 0.001.
#[test]
fn sampler_matches_nolan_cdf() {
    let n = 100_000;
    let mut seed = 500;
    for (alpha, beta) in [
        (0.7, 0.6),
        (1.0, 1.0),
        (1.0, -0.5),
        (1.2, -1.0),
        (1.5, 0.0),
        (1.5, 0.9),
        (1.95, 0.3),
    ] {
        for param in [Param::S1, Param::S0] {
            seed += 1;
            let law = Stable::new(alpha, beta, 0.8, -0.2, param).unwrap();
            let xs = draws(&law, n, seed, 0);
            let d = ks_statistic_at(&xs, |x| law.cdf(x), 100);
            let z = d * (n as f64).sqrt();
            assert!(
                z < KS_CRIT_0_001,
                "α={alpha} β={beta} {param:?}: √n·D = {z}"
            );
        }
    }
}

/// The S0 and S1 locations of one law differ by βσ tan(πα/2) (α ≠ 1) and (2/π)βσ ln σ (α = 1):
/// the same standard draws shifted, so medians (sample) differ by exactly that amount.
#[test]
fn s0_s1_shift() {
    for (alpha, beta, s) in [(1.5, 0.7, 2.0), (0.8, -0.4, 0.5), (1.0, 0.6, 3.0)] {
        let a = stable_draws(alpha, beta, s, 0.0, Param::S1, 1001, 9);
        let b = stable_draws(alpha, beta, s, 0.0, Param::S0, 1001, 9);
        let want = if alpha == 1.0 {
            FRAC_2_PI * beta * s * f64::ln(s)
        } else {
            beta * s * (PI * alpha / 2.0).tan()
        };
        for (x1, x0) in a.iter().zip(&b) {
            assert!(
                (x1 - x0 - want).abs() < 1e-9 * (1.0 + x1.abs()),
                "α={alpha}: {x1} − {x0} vs {want}"
            );
        }
        let law1 = Stable::new(alpha, beta, s, 0.0, Param::S1).unwrap();
        assert!((law1.loc_s0() - want).abs() < 1e-12);
    }
}

/// P(|X| > x) for SαS(1) from the series (2/π) Σ_k (−1)^{k+1} Γ(kα+1)/(k!·kα) sin(kπα/2) x^{−kα}
/// (convergent for α < 1, asymptotic for α > 1); 6 terms. The first term alone is 2c_α x^{−α}/α.
fn sas_tail(alpha: f64, x: f64) -> f64 {
    (1..=6)
        .map(|k| {
            let k = k as f64;
            (-1f64).powf(k + 1.0) * gamma(k * alpha + 1.0) / (gamma(k + 1.0) * k * alpha)
                * (k * PI * alpha / 2.0).sin()
                * x.powf(-k * alpha)
        })
        .sum::<f64>()
        * FRAC_2_PI
}

#[test]
fn tail_follows_the_power_law() {
    let n = 1_000_000;
    for (alpha, x, seed) in [(0.8, 100.0, 21), (1.5, 30.0, 22)] {
        let xs = stable_draws(alpha, 0.0, 1.0, 0.0, Param::S1, n, seed);
        let p_hat = xs.iter().filter(|v| v.abs() > x).count() as f64 / n as f64;
        let p = sas_tail(alpha, x);
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!(
            (p_hat - p).abs() < 4.0 * se,
            "α={alpha}: P(|X|>{x}) = {p_hat} vs {p} ± {se}"
        );
        // The leading term 2c_α x^{−α}/α is within the size of the next series term.
        let lead = 2.0 * c_alpha(alpha) * x.powf(-alpha) / alpha;
        assert!(
            (lead / p - 1.0).abs() < 2.0 * x.powf(-alpha) + 4.0 * se / p,
            "α={alpha}: leading {lead} vs {p}"
        );
    }
}

#[test]
fn c_alpha_known_values() {
    // c_1 = 1/π (Cauchy); c_1.5 = Γ(2.5)·sin(3π/4)/π = (3√π/4)(√2/2)/π = 0.299207.
    assert!((c_alpha(1.0) - 1.0 / PI).abs() < 1e-15);
    assert!((c_alpha(1.5) - 0.299_206_9).abs() < 1e-6);
}

/// Golden draws: recorded when the sampler and stream derivation were written. A failure means the
/// sampler or the stream derivation changed: say so in the changelog and re-record.
#[test]
fn value_stability() {
    let cases: [(f64, f64, Param, [f64; 3]); 3] = [
        (1.5, 0.0, Param::S1, GOLDEN_A),
        (1.0, 0.5, Param::S1, GOLDEN_B),
        (0.7, -0.3, Param::S0, GOLDEN_C),
    ];
    for (alpha, beta, param, want) in cases {
        let got = stable_draws(alpha, beta, 1.0, 0.0, param, 3, 42);
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                "α={alpha} β={beta}: {got:?} vs {want:?}"
            );
        }
    }
}
const GOLDEN_A: [f64; 3] = [1.3234419697303996, -1.937650756915387, 2.5446149635371946];
const GOLDEN_B: [f64; 3] = [4.47455583842516, -1.4891415807038781, 6.5575665102283995];
const GOLDEN_C: [f64; 3] = [2.9784551855296435, -7.0219501312903745, 3.799242892039803];

#[test]
fn invalid_parameters_are_rejected() {
    for a in [f64::NAN, 0.0, -1.0, 2.0001, f64::INFINITY] {
        assert!(
            matches!(
                Stable::new(a, 0.0, 1.0, 0.0, Param::S1),
                Err(NoiseError::AlphaOutOfRange(_))
            ),
            "α={a}"
        );
    }
    for b in [f64::NAN, 1.01, -1.5] {
        assert!(
            matches!(
                Stable::new(1.5, b, 1.0, 0.0, Param::S1),
                Err(NoiseError::BetaOutOfRange(_))
            ),
            "β={b}"
        );
    }
    for s in [f64::NAN, 0.0, -1.0, f64::INFINITY] {
        assert!(
            matches!(
                Stable::new(1.5, 0.0, s, 0.0, Param::S1),
                Err(NoiseError::ScaleNotPositive(_))
            ),
            "σ={s}"
        );
    }
    for m in [f64::NAN, f64::NEG_INFINITY] {
        assert!(
            matches!(
                Stable::new(1.5, 0.0, 1.0, m, Param::S1),
                Err(NoiseError::LocationNotFinite(_))
            ),
            "μ={m}"
        );
    }
    let msg = Stable::new(2.5, 0.0, 1.0, 0.0, Param::S1)
        .unwrap_err()
        .to_string();
    assert_eq!(msg, "stability index alpha must be in (0, 2], got 2.5");
    assert!(Noise::Brownian { sigma: 0.0 }.increment(0.01).is_err());
    assert!(
        Noise::Stable {
            alpha: 1.5,
            beta: 0.0,
            epsilon: f64::NAN
        }
        .increment(0.01)
        .is_err()
    );
    assert!(
        Noise::Mixed {
            alpha: 1.5,
            beta: 0.0,
            epsilon: 0.1,
            sigma_b: -1.0
        }
        .increment(0.01)
        .is_err()
    );
    assert_eq!(
        Noise::Brownian { sigma: 1.0 }.increment(0.0).unwrap_err(),
        NoiseError::StepNotPositive(0.0)
    );
}

/// Stable increments at α = 2, as the simulation kernel draws them ([`Increment::draws`]), are
/// N(0, 2ε²dt): the stable SDE at α = 2 is the Brownian one with σ = √2·ε.
#[test]
fn alpha_two_increment_is_brownian_with_sqrt_two_epsilon() {
    let (eps, dt) = (0.3, 0.01);
    let inc = Noise::Stable {
        alpha: 2.0,
        beta: 0.0,
        epsilon: eps,
    }
    .increment(dt)
    .unwrap();
    let xs = inc.draws(31, 0, N_KS);
    let sd = 2f64.sqrt() * eps * dt.sqrt();
    let d = ks_statistic(&xs, |x| normal_cdf(x / sd));
    assert!(d * (N_KS as f64).sqrt() < KS_CRIT_0_001);
}

/// ε·L_dt at α = 1, β ≠ 0 (the kernel's draws) has log φ(u) = −dt|εu|(1 + iβ(2/π) sign(u) ln|εu|): this checks the extra
/// (2/π)β dt ln dt drift of the increment. Tolerance 5 SE of the empirical CF.
#[test]
fn alpha_one_skewed_increment_has_the_exact_law() {
    let (eps, dt, beta) = (0.5, 0.01, 0.8);
    let inc = Noise::Stable {
        alpha: 1.0,
        beta,
        epsilon: eps,
    }
    .increment(dt)
    .unwrap();
    let xs = inc.draws(32, 0, 200_000);
    for u in [5.0, 20.0, 80.0] {
        let eu = eps * u;
        let re_l = -dt * eu;
        let im_l = -dt * eu * beta * FRAC_2_PI * eu.ln();
        let (re, im, se_re, se_im) = empirical_cf(&xs, u);
        assert!(
            (re - re_l.exp() * im_l.cos()).abs() < 5.0 * se_re,
            "u={u} Re"
        );
        assert!(
            (im - re_l.exp() * im_l.sin()).abs() < 5.0 * se_im,
            "u={u} Im {im} vs {}",
            re_l.exp() * im_l.sin()
        );
    }
    // The mixed noise adds an independent N(0, (εσ_B)² dt) part: its variance at α = 2 is 2ε²dt + (εσ_B)²dt.
    let mixed = Noise::Mixed {
        alpha: 2.0,
        beta: 0.0,
        epsilon: 0.2,
        sigma_b: 1.5,
    }
    .increment(dt)
    .unwrap();
    let ys = mixed.draws(33, 0, 200_000);
    let var = ys.iter().map(|y| y * y).sum::<f64>() / ys.len() as f64;
    let want = (2.0 * 0.04 + 0.04 * 2.25) * dt;
    // SE of a Gaussian sample variance: want·√(2/n).
    assert!(
        (var - want).abs() < 5.0 * want * (2.0 / ys.len() as f64).sqrt(),
        "{var} vs {want}"
    );
}
