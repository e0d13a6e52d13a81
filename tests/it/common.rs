//! Helpers shared by the integration tests: fixed-seed draws, goodness-of-fit statistics and the
//! k-standard-error tolerance.
#![allow(dead_code)]

use levylab::noise::Stable;
use levylab::rng;
use rand::distr::Distribution;

/// Kolmogorov–Smirnov critical value at significance 0.001: P(√n·D > 1.949) ≈ 0.001 (asymptotic).
/// A correct sampler fails a fixed-seed test at this level for about 1 seed in 1000.
pub const KS_CRIT_0_001: f64 = 1.949;

/// `n` draws of `law` from stream `stream` of `seed`.
pub fn draws<D: Distribution<f64>>(law: &D, n: usize, seed: u64, stream: u64) -> Vec<f64> {
    let mut r = rng::stream(seed, stream);
    (0..n).map(|_| law.sample(&mut r)).collect()
}

/// Draws of a stable law.
pub fn stable_draws(
    alpha: f64,
    beta: f64,
    scale: f64,
    loc: f64,
    param: levylab::noise::Param,
    n: usize,
    seed: u64,
) -> Vec<f64> {
    draws(
        &Stable::new(alpha, beta, scale, loc, param).unwrap(),
        n,
        seed,
        0,
    )
}

/// Exact one-sample KS statistic D = sup |F_n − F|.
pub fn ks_statistic(xs: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    ks_statistic_at(xs, cdf, 1)
}

/// KS statistic evaluated at every `stride`-th order statistic (and the last). This is ≤ the full D,
/// so comparing it with the usual critical value keeps the false-alarm rate ≤ the nominal level; it
/// lets a slow CDF (numerical integral) be used on 10⁵ draws.
pub fn ks_statistic_at(xs: &[f64], cdf: impl Fn(f64) -> f64, stride: usize) -> f64 {
    let mut v = xs.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len() as f64;
    let mut d: f64 = 0.0;
    let mut i = 0;
    while i < v.len() {
        let f = cdf(v[i]);
        d = d
            .max((f - i as f64 / n).abs())
            .max(((i + 1) as f64 / n - f).abs());
        i = if i + stride >= v.len() && i != v.len() - 1 {
            v.len() - 1
        } else {
            i + stride
        };
    }
    d
}

/// Empirical characteristic function at u with its standard errors: (Re, Im, se_re, se_im).
pub fn empirical_cf(xs: &[f64], u: f64) -> (f64, f64, f64, f64) {
    let n = xs.len() as f64;
    let (mut c, mut s, mut c2, mut s2) = (0.0, 0.0, 0.0, 0.0);
    for &x in xs {
        let (si, co) = (u * x).sin_cos();
        c += co;
        s += si;
        c2 += co * co;
        s2 += si * si;
    }
    let (mc, ms) = (c / n, s / n);
    (
        mc,
        ms,
        ((c2 / n - mc * mc) / n).sqrt(),
        ((s2 / n - ms * ms) / n).sqrt(),
    )
}

/// Asserts |estimate − reference| < k·SE + bias: the tolerance every statistical test states
/// (k standard errors of the Monte Carlo estimate plus a modelled bias, 0 where none is known).
#[track_caller]
pub fn within_k_se(what: &str, m: levylab::stats::Estimate, reference: f64, k: f64, bias: f64) {
    let tol = k * m.std_err + bias;
    assert!(
        (m.value - reference).abs() < tol,
        "{what}: {} ± {} vs {reference} (tolerance {k} SE + {bias} = {tol})",
        m.value,
        m.std_err
    );
}
