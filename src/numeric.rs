//! Small numerical kernels shared by the theory and the estimators: adaptive Gauss–Kronrod
//! quadrature, bracketed root finding, and the special functions levylab needs.

/// Gauss–Kronrod 15-point abscissae on [−1, 1] (non-negative half, descending; QUADPACK `qk15`).
const XGK: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
/// Kronrod weights for `XGK`.
const WGK: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_2,
    0.140_653_259_715_525_9,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_8,
];
/// Gauss 7-point weights for the odd-indexed `XGK` nodes (1, 3, 5, 7).
const WG: [f64; 4] = [
    0.129_484_966_168_869_7,
    0.279_705_391_489_276_7,
    0.381_830_050_505_118_9,
    0.417_959_183_673_469_4,
];

/// One 15-point Kronrod estimate of ∫ₐᵇ f and its difference from the embedded 7-point Gauss rule.
fn gk15<F: FnMut(f64) -> f64>(f: &mut F, a: f64, b: f64) -> (f64, f64) {
    let c = 0.5 * (a + b);
    let h = 0.5 * (b - a);
    let fc = f(c);
    let mut k = WGK[7] * fc;
    let mut g = WG[3] * fc;
    for j in 0..7 {
        let x = h * XGK[j];
        let s = f(c - x) + f(c + x);
        k += WGK[j] * s;
        if j % 2 == 1 {
            g += WG[j / 2] * s;
        }
    }
    (k * h, ((k - g) * h).abs())
}

/// Adaptive Gauss–Kronrod (G7/K15) quadrature of `f` over the finite interval [a, b].
///
/// Bisects the interval with the largest error estimate until the summed error is below
/// `max(abs_tol, rel_tol·|I|)` or 2000 subintervals are in use; returns `(integral, error estimate)`.
pub fn integrate<F: FnMut(f64) -> f64>(
    mut f: F,
    a: f64,
    b: f64,
    abs_tol: f64,
    rel_tol: f64,
) -> (f64, f64) {
    if a == b {
        return (0.0, 0.0);
    }
    let (i0, e0) = gk15(&mut f, a, b);
    let mut parts = vec![(a, b, i0, e0)];
    let (mut total, mut err) = (i0, e0);
    while err > abs_tol.max(rel_tol * total.abs()) && parts.len() < 2000 {
        let (worst, _) = parts
            .iter()
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |acc, (i, p)| {
                if p.3 > acc.1 { (i, p.3) } else { acc }
            });
        let (lo, hi, iw, ew) = parts.swap_remove(worst);
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            parts.push((lo, hi, iw, 0.0)); // cannot split further in f64
            err -= ew;
            continue;
        }
        let (il, el) = gk15(&mut f, lo, mid);
        let (ir, er) = gk15(&mut f, mid, hi);
        total += il + ir - iw;
        err += el + er - ew;
        parts.push((lo, mid, il, el));
        parts.push((mid, hi, ir, er));
    }
    // Re-sum to remove drift from the running updates.
    let total = parts.iter().map(|p| p.2).sum();
    let err = parts.iter().map(|p| p.3).sum();
    (total, err)
}

/// [`integrate`] over [a, b] split at the `breaks` that lie inside it: a narrow peak at a break
/// point cannot be missed by the first Kronrod rule (the nodes cluster at the ends of each piece).
pub fn integrate_split<F: FnMut(f64) -> f64>(
    mut f: F,
    a: f64,
    b: f64,
    breaks: &[f64],
    abs_tol: f64,
    rel_tol: f64,
) -> (f64, f64) {
    let (lo, hi, sign) = if a <= b { (a, b, 1.0) } else { (b, a, -1.0) };
    let mut pts: Vec<f64> = std::iter::once(lo)
        .chain(breaks.iter().copied().filter(|&c| lo < c && c < hi))
        .chain(std::iter::once(hi))
        .collect();
    pts.sort_unstable_by(f64::total_cmp);
    let (mut total, mut err) = (0.0, 0.0);
    for w in pts.windows(2) {
        let (i, e) = integrate(&mut f, w[0], w[1], abs_tol, rel_tol);
        total += i;
        err += e;
    }
    (sign * total, err)
}

/// Root of `f` in [a, b] where `f(a)` and `f(b)` have opposite signs (bisection refined by the
/// Illinois false-position step). Returns `None` if the bracket does not change sign.
pub fn find_root<F: FnMut(f64) -> f64>(
    mut f: F,
    mut a: f64,
    mut b: f64,
    x_tol: f64,
) -> Option<f64> {
    let (mut fa, mut fb) = (f(a), f(b));
    if fa == 0.0 {
        return Some(a);
    }
    if fb == 0.0 {
        return Some(b);
    }
    if fa.signum() == fb.signum() {
        return None;
    }
    let mut side = 0i8;
    for it in 0..200 {
        // Alternate Illinois steps with bisection so that the bracket always shrinks geometrically.
        let x = if it % 3 == 2 {
            0.5 * (a + b)
        } else {
            (a * fb - b * fa) / (fb - fa)
        };
        let x = if x > a.min(b) && x < a.max(b) {
            x
        } else {
            0.5 * (a + b)
        };
        let fx = f(x);
        if fx == 0.0 || (b - a).abs() < x_tol {
            return Some(x);
        }
        if fx.signum() == fb.signum() {
            b = x;
            fb = fx;
            if side == -1 {
                fa *= 0.5;
            }
            side = -1;
        } else {
            a = x;
            fa = fx;
            if side == 1 {
                fb *= 0.5;
            }
            side = 1;
        }
    }
    Some(0.5 * (a + b))
}

/// The Euclidean norm |x|.
pub fn norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// The Euclidean distance |a − b|.
pub fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(p, q)| (p - q) * (p - q))
        .sum::<f64>()
        .sqrt()
}

/// Riemann's ζ(s) for real s ≠ 1 (analytic continuation), by Euler–Maclaurin summation:
///
/// # Formula
/// ```text
/// ζ(s) = Σ_{n<N} n^{−s} + N^{1−s}/(s − 1) + N^{−s}/2
///        + Σ_{k=1}^{6} B_{2k}/(2k)! · s(s+1)…(s+2k−2) · N^{−s−2k+1}
/// ```
/// with N = 12 (truncation below 10⁻¹³ for s ∈ [−2, 4]).
pub fn zeta(s: f64) -> f64 {
    const N: f64 = 12.0;
    // B_{2k}/(2k)! for k = 1..6.
    const B: [f64; 6] = [
        1.0 / 6.0 / 2.0,
        -1.0 / 30.0 / 24.0,
        1.0 / 42.0 / 720.0,
        -1.0 / 30.0 / 40_320.0,
        5.0 / 66.0 / 3_628_800.0,
        -691.0 / 2730.0 / 479_001_600.0,
    ];
    let mut sum: f64 = (1..12).map(|n| (n as f64).powf(-s)).sum();
    sum += N.powf(1.0 - s) / (s - 1.0) + 0.5 * N.powf(-s);
    // Rising product s(s+1)…(s+2k−2) times N^{−s−2k+1}.
    let mut rising = s;
    let mut power = N.powf(-s - 1.0);
    for (k, b) in B.iter().enumerate() {
        sum += b * rising * power;
        let j = 2 * k as i32 + 1;
        rising *= (s + j as f64) * (s + j as f64 + 1.0);
        power /= N * N;
    }
    sum
}

/// Γ(x) for real x (libm's `tgamma`).
pub fn gamma(x: f64) -> f64 {
    libm::tgamma(x)
}

/// The regularized incomplete beta function I_x(a, b) = B(x; a, b)/B(a, b) for a, b > 0,
/// x ∈ [0, 1], by the continued fraction of DLMF 8.17.22 (evaluated with the modified Lentz
/// method), applied to I_x(a, b) when x < (a + 1)/(a + b + 2) and to 1 − I_{1−x}(b, a) otherwise,
/// where it converges fast. Relative accuracy ≈ 10⁻¹⁴.
pub fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x.is_nan() || a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - incomplete_beta(b, a, 1.0 - x);
    }
    let ln_front = a * x.ln() + b * (-x).ln_1p() - ln_beta(a, b) - a.ln();
    // h = 1/(1 + d₁/(1 + d₂/(1 + …))) with d_{2m+1} = −(a+m)(a+b+m)x/((a+2m)(a+2m+1)) and
    // d_{2m} = m(b−m)x/((a+2m−1)(a+2m)), evaluated front to back (modified Lentz).
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut h = d;
    for m in 1..300 {
        let m = m as f64;
        for num in [
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 / guard(1.0 + num * d);
            c = guard(1.0 + num / c);
            h *= c * d;
        }
        if (c * d - 1.0).abs() < 1e-16 {
            break;
        }
    }
    ln_front.exp() * h
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b) for a, b > 0.
pub fn ln_beta(a: f64, b: f64) -> f64 {
    libm::lgamma(a) + libm::lgamma(b) - libm::lgamma(a + b)
}

/// Complementary error function erfc(x).
pub fn erfc(x: f64) -> f64 {
    libm::erfc(x)
}

/// Standard normal CDF Φ(x).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// I_x(a, b) against closed forms: I_x(a, 1) = x^a, I_x(1, b) = 1 − (1 − x)^b,
    /// I_x(½, ½) = (2/π) arcsin √x, the symmetry I_x(a, b) = 1 − I_{1−x}(b, a), and quadrature.
    #[test]
    fn incomplete_beta_known_values() {
        // Dyadic x, so that 1 − x is exact and the symmetry is tested, not the rounding of 1 − x.
        for x in [
            2f64.powi(-20),
            0.125,
            0.375,
            0.5,
            0.75,
            1.0 - 2f64.powi(-10),
        ] {
            for a in [0.2, 0.8, 1.7] {
                assert!((incomplete_beta(a, 1.0, x) - x.powf(a)).abs() < 1e-14);
                assert!((incomplete_beta(1.0, a, x) - (1.0 - (1.0 - x).powf(a))).abs() < 1e-14);
                for b in [0.3, 1.2] {
                    let s = incomplete_beta(a, b, x) + incomplete_beta(b, a, 1.0 - x);
                    assert!((s - 1.0).abs() < 1e-14, "{a} {b} {x}");
                }
            }
            let arcsin = std::f64::consts::FRAC_2_PI * x.sqrt().asin();
            assert!((incomplete_beta(0.5, 0.5, x) - arcsin).abs() < 1e-13, "{x}");
        }
        // I_{0.3}(2.5, 1.5) by quadrature of the (smooth) integrand.
        let (q, _) = integrate(|t| t.powf(1.5) * (1.0 - t).sqrt(), 0.0, 0.3, 1e-15, 1e-14);
        let want = q / ln_beta(2.5, 1.5).exp();
        assert!((incomplete_beta(2.5, 1.5, 0.3) - want).abs() < 1e-13);
    }

    #[test]
    fn quadrature_known_integrals() {
        // ∫₀¹ x⁶ = 1/7 is exact for K15; ∫₀^π sin = 2; ∫₀¹ √x = 2/3 has an endpoint singularity in f′.
        let (v, _) = integrate(|x| x.powi(6), 0.0, 1.0, 1e-14, 1e-14);
        assert!((v - 1.0 / 7.0).abs() < 1e-15);
        let (v, _) = integrate(f64::sin, 0.0, std::f64::consts::PI, 1e-13, 1e-13);
        assert!((v - 2.0).abs() < 1e-13);
        let (v, _) = integrate(f64::sqrt, 0.0, 1.0, 1e-12, 1e-12);
        assert!((v - 2.0 / 3.0).abs() < 1e-11);
        // A sharp step: ∫₋₁¹ 1/(1 + e^{−200x}) dx = 1 (by symmetry).
        let (v, _) = integrate(
            |x| 1.0 / (1.0 + (-200.0 * x).exp()),
            -1.0,
            1.0,
            1e-12,
            1e-12,
        );
        assert!((v - 1.0).abs() < 1e-11);
    }

    #[test]
    fn root_finding() {
        let r = find_root(|x| x * x - 2.0, 0.0, 2.0, 1e-14).unwrap();
        assert!((r - 2f64.sqrt()).abs() < 1e-12);
        assert!(find_root(|x| x * x + 1.0, -1.0, 1.0, 1e-12).is_none());
    }

    #[test]
    fn special_functions() {
        assert!((gamma(2.5) - 1.329_340_388_179_137).abs() < 1e-14); // (3/4)√π
        assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-12);
    }

    #[test]
    fn zeta_known_values() {
        // ζ(2) = π²/6, ζ(0) = −1/2, ζ(−1) = −1/12, ζ(1/2) = −1.4603545088095868 (mpmath), ζ(3).
        let pi = std::f64::consts::PI;
        for (s, want) in [
            (2.0, pi * pi / 6.0),
            (0.0, -0.5),
            (-1.0, -1.0 / 12.0),
            (0.5, -1.460_354_508_809_586_8),
            (3.0, 1.202_056_903_159_594_3),
        ] {
            assert!(
                (zeta(s) - want).abs() < 1e-12,
                "ζ({s}) = {} vs {want}",
                zeta(s)
            );
        }
    }
}
