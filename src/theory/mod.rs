//! Theory: the predictions Monte Carlo is compared with. Pure functions of the model parameters.
//!
//! | law | formula | regime |
//! |---|---|---|
//! | Eyring–Kramers (m → other minimum over s) | 2π/√(U″(m)·\|U″(s)\|)·exp(2ΔU/σ²) | σ²/2 ≪ ΔU; hitting s takes half |
//! | exact 1-D mean first passage | (2/σ²)∫ₓᵇ e^{2U(y)/σ²}∫_{−∞}^{y} e^{−2U(z)/σ²} dz dy | exact, any σ |
//! | Imkeller–Pavlyukevich exit from (m − b, m + a) | α/(c_α ε^α (a^{−α} + b^{−α})) | ε → 0 |
//! | IP exit side | P(right) → a^{−α}/(a^{−α} + b^{−α}) | ε → 0 |
//! | IP double-well transition | α(s − m)^α/(c_α ε^α) | ε → 0 |
//! | Getoor, U ≡ 0, ball of radius r in ℝᵈ | (r² − \|x\|²)^{α/2} Γ(d/2) / (ε^α 2^α Γ(1+α/2) Γ((d+α)/2)) | exact |
//! | multi-well Markov chain | q_ij = ε^α (c_α/α)·\|\|s_{j−1} − m_i\|^{−α} − \|s_j − m_i\|^{−α}\| | ε → 0 |
//!
//! The asymptotic laws are 5–20 % off at ε = 0.1; the exact ones (mean first passage, Getoor) are
//! what Monte Carlo is tested against.
//!
//! # References
//! Kramers (1940), Physica 7; Berglund (2013), Markov Processes Relat. Fields 19 (Eyring–Kramers);
//! Imkeller & Pavlyukevich (2006), Stoch. Proc. Appl. 116; Getoor (1961), Trans. AMS 101;
//! Şimşekli, Sagun & Gürbüzbalaban (2019), ICML.

pub mod escape;
pub mod free;
mod mfpt;
pub mod nonlocal;
pub mod space;

use std::f64::consts::PI;

pub use crate::noise::c_alpha;
pub use free::{free_exit_time, free_exit_up_probability};
pub use mfpt::{mean_first_passage, mean_first_passage_interval};
pub use nonlocal::{LevyDomain, LevyExitProblem, NonlocalValue};

use crate::landscape::{CriticalPoints, Potential};
use crate::numeric::gamma;

/// Theory functions refuse parameters outside their domain.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TheoryError {
    /// A parameter is out of range.
    #[error("{0}")]
    Domain(String),
    /// The result exceeds the f64 range (e.g. exp(2ΔU/σ²) with σ tiny).
    #[error("mean first-passage time overflows f64 (exponent 2ΔU/σ² = {0:.1})")]
    Overflow(f64),
}

fn check(cond: bool, msg: impl FnOnce() -> String) -> Result<(), TheoryError> {
    if cond {
        Ok(())
    } else {
        Err(TheoryError::Domain(msg()))
    }
}

/// Eyring–Kramers mean transition time for `dX = −U′(X)dt + σ dW` from minimum m over saddle s:
/// `2π / √(U″(m)·|U″(s)|) · exp(2(U(s) − U(m))/σ²)`. Valid when σ²/2 ≪ ΔU. This is the time to pass
/// beyond the saddle into the other well; first *hitting* of the saddle takes about half as long.
///
/// Known value: U = x⁴/4 − x²/2, σ² = 0.2: 2π/√2·e^{2.5} = 54.1254.
pub fn kramers_time(u: &impl Potential, m: f64, s: f64, sigma: f64) -> Result<f64, TheoryError> {
    check(sigma > 0.0 && sigma.is_finite(), || {
        format!("sigma must be finite and > 0, got {sigma}")
    })?;
    let (hm, hs) = (u.hess(m), u.hess(s));
    check(hm > 0.0 && hs < 0.0, || {
        format!("Kramers needs U″(m) > 0 and U″(s) < 0, got {hm} and {hs}")
    })?;
    Ok(2.0 * PI / (hm * hs.abs()).sqrt()
        * (2.0 * (u.value(s) - u.value(m)) / (sigma * sigma)).exp())
}

fn check_levy(alpha: f64, eps: f64) -> Result<(), TheoryError> {
    check(alpha > 0.0 && alpha < 2.0, || {
        format!("alpha must be in (0, 2) for the Lévy asymptotics, got {alpha}")
    })?;
    check(eps > 0.0 && eps.is_finite(), || {
        format!("epsilon must be finite and > 0, got {eps}")
    })
}

/// Imkeller–Pavlyukevich mean exit time of `dX = −U′dt + ε dL^α` (symmetric L) from (m − b, m + a),
/// m a minimum: `α / (c_α ε^α (a^{−α} + b^{−α}))` as ε → 0 (one big jump; depends on the widths,
/// not the barrier height). An infinite a or b contributes nothing.
pub fn levy_exit_time(alpha: f64, eps: f64, a: f64, b: f64) -> Result<f64, TheoryError> {
    levy_exit_time_skewed(alpha, 0.0, eps, a, b)
}

/// The same for skewed L (S1, skewness β): the Lévy measure puts c_α(1 + β) on upward and
/// c_α(1 − β) on downward jumps, so `α / (c_α ε^α ((1 + β)a^{−α} + (1 − β)b^{−α}))` (Imkeller &
/// Pavlyukevich 2006 treat two-sided measures with unequal tails; at α = 1 the S1 drift
/// −(2/π)βε ln ε vanishes as ε → 0). At β = 0 this is [`levy_exit_time`] to the bit.
pub fn levy_exit_time_skewed(
    alpha: f64,
    beta: f64,
    eps: f64,
    a: f64,
    b: f64,
) -> Result<f64, TheoryError> {
    check_levy(alpha, eps)?;
    check((-1.0..=1.0).contains(&beta), || {
        format!("beta must be in [-1, 1], got {beta}")
    })?;
    check(a > 0.0 && b > 0.0, || {
        format!("distances to the boundaries must be > 0, got a = {a}, b = {b}")
    })?;
    let rate = (1.0 + beta) * a.powf(-alpha) + (1.0 - beta) * b.powf(-alpha);
    check(rate > 0.0, || "no jump can reach a finite boundary".into())?;
    Ok(alpha / (c_alpha(alpha) * eps.powf(alpha) * rate))
}

/// IP limit of the probability to leave (m − b, m + a) to the right: `a^{−α}/(a^{−α} + b^{−α})`,
/// and for skewness β `(1 + β)a^{−α}/((1 + β)a^{−α} + (1 − β)b^{−α})`.
pub fn levy_exit_right_probability(alpha: f64, a: f64, b: f64) -> f64 {
    levy_exit_right_probability_skewed(alpha, 0.0, a, b)
}

/// See [`levy_exit_right_probability`].
pub fn levy_exit_right_probability_skewed(alpha: f64, beta: f64, a: f64, b: f64) -> f64 {
    let (ra, rb) = ((1.0 + beta) * a.powf(-alpha), (1.0 - beta) * b.powf(-alpha));
    ra / (ra + rb)
}

/// IP double-well transition time: only jumps past the saddle count, `α·d^α/(c_α ε^α)` with d = |s − m|.
///
/// Known value: α = 1.5, ε = 0.1, d = 1: 1.5·1/(0.299207·0.0316228) = 158.533.
pub fn levy_transition_time(alpha: f64, eps: f64, distance: f64) -> Result<f64, TheoryError> {
    levy_exit_time(alpha, eps, distance, f64::INFINITY)
}

/// Getoor's exact mean exit time of εL^α (U ≡ 0, symmetric α-stable in ℝᵈ, E e^{i⟨u,L_t⟩} = e^{−t|u|^α})
/// from the ball of radius r started at |x|:
/// `(r² − |x|²)^{α/2} Γ(d/2) / (ε^α 2^α Γ(1 + α/2) Γ((d + α)/2))`. In d = 1 this is
/// `(r² − x²)^{α/2} / (ε^α Γ(1 + α))`; at α = 2 it is the Brownian `(r² − |x|²)/(2dε²)` (L = √2 W).
///
/// Known value: α = 1.5, ε = 0.1, r = 1, x = 0, d = 1: 23.788.
pub fn getoor_exit_time(
    alpha: f64,
    eps: f64,
    r: f64,
    x: f64,
    dim: usize,
) -> Result<f64, TheoryError> {
    check(alpha > 0.0 && alpha <= 2.0, || {
        format!("alpha must be in (0, 2], got {alpha}")
    })?;
    check(eps > 0.0 && eps.is_finite(), || {
        format!("epsilon must be finite and > 0, got {eps}")
    })?;
    check(x.abs() < r && dim >= 1, || {
        format!("need |x| < r and d >= 1, got |x| = {x}, r = {r}, d = {dim}")
    })?;
    let d = dim as f64;
    Ok((r * r - x * x).powf(alpha / 2.0) * gamma(d / 2.0)
        / (eps.powf(alpha)
            * 2f64.powf(alpha)
            * gamma(1.0 + alpha / 2.0)
            * gamma((d + alpha) / 2.0)))
}

/// Brownian `σ dW` in ℝᵈ, U ≡ 0: exact mean exit time from the ball, `(r² − |x|²)/(d σ²)`.
pub fn brownian_ball_exit_time(sigma: f64, r: f64, x: f64, dim: usize) -> Result<f64, TheoryError> {
    check(sigma > 0.0 && x.abs() < r && dim >= 1, || {
        format!("need σ > 0, |x| < r, d >= 1; got σ = {sigma}, |x| = {x}, r = {r}")
    })?;
    Ok((r * r - x * x) / (dim as f64 * sigma * sigma))
}

/// The ε → 0 Markov chain between the wells of a multi-well landscape under Lévy noise.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MarkovChain {
    /// Minima, increasing.
    pub minima: Vec<f64>,
    /// Jump rates q_ij (i ≠ j); the diagonal holds −Σ_j q_ij.
    pub rates: Vec<Vec<f64>>,
    /// Stationary law π (πQ = 0, Σπ = 1).
    pub stationary: Vec<f64>,
    /// Mean residence time in each well, 1/Σ_{j≠i} q_ij.
    pub residence: Vec<f64>,
}

/// Rates `q_ij = ε^α (c_α/α)·| |s_{j−1} − m_i|^{−α} − |s_j − m_i|^{−α} |` (basin j = (s_{j−1}, s_j),
/// s_{−1} = −∞, s_K = +∞): the Lévy measure of the jumps from m_i that land in basin j. In this limit
/// the rates ignore the well depths: only the geometry counts.
pub fn levy_markov_chain(
    alpha: f64,
    eps: f64,
    cp: &CriticalPoints,
) -> Result<MarkovChain, TheoryError> {
    levy_markov_chain_skewed(alpha, 0.0, eps, cp)
}

/// The same chain for skewed L (S1, skewness β): jumps into a basin to the right of m_i carry the
/// factor 1 + β, to the left 1 − β (at β = 0 [`levy_markov_chain`] to the bit).
pub fn levy_markov_chain_skewed(
    alpha: f64,
    beta: f64,
    eps: f64,
    cp: &CriticalPoints,
) -> Result<MarkovChain, TheoryError> {
    check_levy(alpha, eps)?;
    check((-1.0..=1.0).contains(&beta), || {
        format!("beta must be in [-1, 1], got {beta}")
    })?;
    let k = check_wells(cp)?;
    let tail = |d: f64| {
        if d.is_infinite() {
            0.0
        } else {
            d.abs().powf(-alpha)
        }
    };
    let pref = eps.powf(alpha) * c_alpha(alpha) / alpha;
    let mut q = vec![vec![0.0; k]; k];
    for (i, row) in q.iter_mut().enumerate() {
        for (j, qij) in row.iter_mut().enumerate() {
            if i != j {
                let (a, b) = cp.basin(j);
                let side = if j > i { 1.0 + beta } else { 1.0 - beta };
                *qij = side * pref * (tail(a - cp.minima[i]) - tail(b - cp.minima[i])).abs();
            }
        }
        row[i] = -row.iter().sum::<f64>();
    }
    let residence = (0..k).map(|i| -1.0 / q[i][i]).collect();
    let stationary = stationary_law(&q);
    Ok(MarkovChain {
        minima: cp.minima.clone(),
        rates: q,
        stationary,
        residence,
    })
}

/// Rates of the ε → 0 (Eyring–Kramers) Markov chain between the wells under Brownian noise:
/// `q_{i,i±1} = 1/T_K(m_i → m_{i±1})` with T_K the Eyring–Kramers time over the saddle between them
/// ([`kramers_time`]); wells further apart are not connected (a Brownian path crosses the saddles one
/// by one). The diagonal holds −Σ_j q_ij.
pub fn kramers_chain(
    u: &impl Potential,
    cp: &CriticalPoints,
    sigma: f64,
) -> Result<Vec<Vec<f64>>, TheoryError> {
    let k = check_wells(cp)?;
    let mut q = vec![vec![0.0; k]; k];
    for (i, &s) in cp.saddles.iter().enumerate() {
        q[i][i + 1] = 1.0 / kramers_time(u, cp.minima[i], s, sigma)?;
        q[i + 1][i] = 1.0 / kramers_time(u, cp.minima[i + 1], s, sigma)?;
    }
    set_diagonal(&mut q);
    Ok(q)
}

/// A rate matrix's diagonal: minus the sum of each row's other entries.
pub(crate) fn set_diagonal(q: &mut [Vec<f64>]) {
    for (i, row) in q.iter_mut().enumerate() {
        row[i] = -row
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, v)| v)
            .sum::<f64>();
    }
}

/// Mean time until a continuous-time Markov chain started in `start` is absorbed. `rates[i][j]`
/// (i ≠ j) are its jump rates (the diagonal is ignored); the states with `target[i]` are absorbing,
/// and `exit[i]` is an extra absorption rate from state i (an event that ends the run without a
/// change of state, e.g. first hitting of a saddle). Solves, for every non-target state i,
/// `(Σ_{j≠i} q_ij + exit_i)·h_i − Σ_{j non-target, j≠i} q_ij h_j = 1`.
pub fn chain_absorption_time(
    rates: &[Vec<f64>],
    target: &[bool],
    exit: &[f64],
    start: usize,
) -> Result<f64, TheoryError> {
    let k = rates.len();
    check(target.len() == k && exit.len() == k && start < k, || {
        "rates, targets and exits must describe the same states".into()
    })?;
    if target[start] {
        return Ok(0.0);
    }
    let live: Vec<usize> = (0..k).filter(|&i| !target[i]).collect();
    let n = live.len();
    let mut a = vec![vec![0.0; n]; n];
    for (r, &i) in live.iter().enumerate() {
        a[r][r] = exit[i] + (0..k).filter(|&j| j != i).map(|j| rates[i][j]).sum::<f64>();
        for (c, &j) in live.iter().enumerate() {
            if j != i {
                a[r][c] -= rates[i][j];
            }
        }
    }
    let h = solve_dense(a, vec![1.0; n]).ok_or_else(|| {
        TheoryError::Domain("the chain cannot reach its target from every state".into())
    })?;
    let r = live.iter().position(|&i| i == start).unwrap_or(0);
    check(h[r].is_finite() && h[r] > 0.0, || {
        "the chain cannot reach its target from the start".into()
    })?;
    Ok(h[r])
}

/// For the Markov chain of `rates` (row i: rates out of state i) started at `start`, the
/// probability that the first target state it enters is j, for every j (0 for states that are not
/// targets). h_j(i) = Σₖ (qᵢₖ/qᵢ) h_j(k) on the non-target states, h_j = δ on the targets.
pub fn chain_absorption_probabilities(
    rates: &[Vec<f64>],
    target: &[bool],
    start: usize,
) -> Result<Vec<f64>, TheoryError> {
    let k = rates.len();
    check(target.len() == k && start < k, || {
        "rates and targets must describe the same states".into()
    })?;
    if target[start] {
        return Ok((0..k).map(|j| f64::from(u8::from(j == start))).collect());
    }
    let live: Vec<usize> = (0..k).filter(|&i| !target[i]).collect();
    let n = live.len();
    let mut a = vec![vec![0.0; n]; n];
    for (r, &i) in live.iter().enumerate() {
        a[r][r] = (0..k).filter(|&j| j != i).map(|j| rates[i][j]).sum::<f64>();
        for (c, &j) in live.iter().enumerate() {
            if j != i {
                a[r][c] -= rates[i][j];
            }
        }
    }
    let r = live.iter().position(|&i| i == start).unwrap_or(0);
    let mut out = vec![0.0; k];
    for j in (0..k).filter(|&j| target[j]) {
        let b: Vec<f64> = live.iter().map(|&i| rates[i][j]).collect();
        let h = solve_dense(a.clone(), b).ok_or_else(|| {
            TheoryError::Domain("the chain cannot reach its targets from every state".into())
        })?;
        out[j] = h[r];
    }
    let total: f64 = out.iter().sum();
    check(total.is_finite() && total > 0.0, || {
        "the chain cannot reach its targets from the start".into()
    })?;
    Ok(out)
}

/// The number K of wells, if the landscape has K >= 2 minima separated by K − 1 saddles.
fn check_wells(cp: &CriticalPoints) -> Result<usize, TheoryError> {
    let k = cp.minima.len();
    check(k >= 2 && cp.saddles.len() == k - 1, || {
        format!(
            "need K >= 2 minima separated by K − 1 saddles, got {} and {}",
            k,
            cp.saddles.len()
        )
    })?;
    Ok(k)
}

/// Solves A x = b by Gaussian elimination with partial pivoting; `None` if A is singular.
fn solve_dense(mut a: Vec<Vec<f64>>, mut rhs: Vec<f64>) -> Option<Vec<f64>> {
    let k = rhs.len();
    for col in 0..k {
        let piv = (col..k).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[piv][col] == 0.0 {
            return None;
        }
        a.swap(col, piv);
        rhs.swap(col, piv);
        let (pivot_row, pivot_rhs) = (a[col].clone(), rhs[col]);
        for (r, (row, b)) in a.iter_mut().zip(rhs.iter_mut()).enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (v, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *v -= f * p;
                }
                *b -= f * pivot_rhs;
            }
        }
    }
    Some((0..k).map(|i| rhs[i] / a[i][i]).collect())
}

/// Solves πQ = 0, Σπ = 1 by Gaussian elimination with partial pivoting (Qᵀπ = 0 with the last
/// equation replaced by the normalization).
fn stationary_law(q: &[Vec<f64>]) -> Vec<f64> {
    let k = q.len();
    let mut a: Vec<Vec<f64>> = (0..k).map(|r| (0..k).map(|c| q[c][r]).collect()).collect();
    let mut rhs = vec![0.0; k];
    a[k - 1] = vec![1.0; k];
    rhs[k - 1] = 1.0;
    for col in 0..k {
        let piv = (col..k)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .unwrap_or(col);
        a.swap(col, piv);
        rhs.swap(col, piv);
        let (pivot_row, pivot_rhs) = (a[col].clone(), rhs[col]);
        for (r, (row, b)) in a.iter_mut().zip(rhs.iter_mut()).enumerate() {
            if r != col && pivot_row[col] != 0.0 {
                let f = row[col] / pivot_row[col];
                for (v, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *v -= f * p;
                }
                *b -= f * pivot_rhs;
            }
        }
    }
    (0..k).map(|i| rhs[i] / a[i][i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::{Asymmetric, Quartic};

    fn dw() -> Quartic {
        Quartic::new(1.0, 0.25).unwrap() // x⁴/4 − x²/2 + 1/4
    }

    #[test]
    fn worked_values_of_design_section_2() {
        let s = 0.2f64.sqrt();
        // Kramers: 2π/√2·e^{2.5} (closed form).
        let k = kramers_time(&dw(), -1.0, 0.0, s).unwrap();
        assert!(
            (k - 2.0 * PI / 2f64.sqrt() * 2.5f64.exp()).abs() < 1e-10 && (k - 54.1254).abs() < 1e-4
        );
        // Exact MFPT, T(−1 → +1) = 66.26863, T(−1 → 0) = 30.82130: the same double integral by
        // scipy.integrate.quad, nested, relative tolerance 1e-12 (independent of levylab).
        let t1 = mean_first_passage(&dw(), -1.0, 1.0, s).unwrap();
        let t0 = mean_first_passage(&dw(), -1.0, 0.0, s).unwrap();
        assert!((t1 - 66.2686).abs() < 1e-4, "{t1}");
        assert!((t0 - 30.8213).abs() < 1e-4, "{t0}");
        // Getoor and IP at α = 1.5, ε = 0.1.
        assert!((getoor_exit_time(1.5, 0.1, 1.0, 0.0, 1).unwrap() - 23.788).abs() < 1e-3);
        assert!((levy_transition_time(1.5, 0.1, 1.0).unwrap() - 158.533).abs() < 1e-3);
        // Style guide's closed form: DoubleWell(1, 0.25), σ = 0.5 ⇒ π√2·e² = 32.828711271034.
        let k2 = kramers_time(&dw(), -1.0, 0.0, 0.5).unwrap();
        assert!((k2 - 32.828_711_271_034).abs() < 1e-9);
    }

    #[test]
    fn mfpt_is_dynkin_on_a_flat_interval_and_symmetric() {
        let flat = crate::landscape::Flat;
        let t = mean_first_passage_interval(&flat, 0.3, -1.0, 2.0, 0.7).unwrap();
        assert!((t - 1.3 * 1.7 / 0.49).abs() < 1e-9, "{t}");
        // One-sided passage and the interval with a far-away lower end agree.
        let a = mean_first_passage(&dw(), -1.0, 0.0, 0.5).unwrap();
        let b = mean_first_passage_interval(&dw(), -1.0, f64::NEG_INFINITY, 0.0, 0.5).unwrap();
        assert!((a - b).abs() < 1e-9 * a);
        // Mirror: from +1 down to 0 equals from −1 up to 0.
        let c = mean_first_passage(&dw(), 1.0, 0.0, 0.5).unwrap();
        assert!((a - c).abs() < 1e-8 * a);
    }

    #[test]
    fn kramers_is_the_small_noise_limit_of_the_exact_time() {
        // exact/Kramers → 1 as σ → 0 (the correction is O(σ²)).
        let mut last = f64::INFINITY;
        for s2 in [0.2, 0.1, 0.05, 0.025] {
            let s = f64::sqrt(s2);
            let r = mean_first_passage(&dw(), -1.0, 1.0, s).unwrap()
                / kramers_time(&dw(), -1.0, 0.0, s).unwrap();
            assert!((r - 1.0).abs() < last, "σ² = {s2}: ratio {r}");
            last = (r - 1.0).abs();
        }
        assert!(last < 0.05);
        // Extreme barrier: no overflow until the result itself leaves the f64 range.
        assert!(
            mean_first_passage(&dw(), -1.0, 0.0, 0.03)
                .unwrap()
                .is_finite()
        );
        assert!(matches!(
            mean_first_passage(&dw(), -1.0, 0.0, 0.01),
            Err(TheoryError::Overflow(_))
        ));
    }

    #[test]
    fn getoor_reduces_to_one_d_and_to_brownian() {
        for a in [0.5, 1.0, 1.5, 1.9] {
            let g = getoor_exit_time(a, 0.2, 1.5, 0.4, 1).unwrap();
            let one_d = (1.5f64 * 1.5 - 0.16).powf(a / 2.0) / (0.2f64.powf(a) * gamma(1.0 + a));
            assert!((g - one_d).abs() < 1e-10 * g);
        }
        for d in [1, 2, 3, 5] {
            let g = getoor_exit_time(2.0, 0.3, 1.0, 0.2, d).unwrap();
            let b = brownian_ball_exit_time(2f64.sqrt() * 0.3, 1.0, 0.2, d).unwrap();
            assert!((g - b).abs() < 1e-10 * g, "d = {d}");
        }
    }

    #[test]
    fn markov_chain_rates_and_stationary_law() {
        // Asymmetric wells at −a and b, saddle 0: q_LR = ε^α c_α/(α a^α), q_RL = ε^α c_α/(α b^α), so
        // π_L/π_R = q_RL/q_LR = (a/b)^α: the wider basin holds the mass, whatever the depths.
        let u = Asymmetric::new(1.0, 0.5, 1.5).unwrap();
        let mc = levy_markov_chain(1.5, 0.1, &u.critical_points()).unwrap();
        let pref = 0.1f64.powf(1.5) * c_alpha(1.5) / 1.5;
        assert!((mc.rates[0][1] - pref * 0.5f64.powf(-1.5)).abs() < 1e-15);
        assert!((mc.rates[1][0] - pref * 1.5f64.powf(-1.5)).abs() < 1e-15);
        let ratio = mc.stationary[0] / mc.stationary[1];
        assert!((ratio - (0.5f64 / 1.5).powf(1.5)).abs() < 1e-12);
        assert!((mc.stationary.iter().sum::<f64>() - 1.0).abs() < 1e-14);
        assert!((mc.residence[0] - levy_transition_time(1.5, 0.1, 0.5).unwrap()).abs() < 1e-9);
    }

    fn three_wells() -> crate::landscape::Polynomial {
        // Minima −2, 0, 2.5; saddles −0.7, 1.3.
        crate::landscape::Polynomial::new(vec![
            0.0, 0.0, 2.275, 1.1516667, -1.4025, -0.22, 0.1666667,
        ])
        .unwrap()
    }

    #[test]
    fn levy_chain_transition_from_a_middle_well_matches_the_hand_solution() {
        // From the middle well M, crossing 1.3 upwards: the two-state system for (h_M, h_L),
        //   h_M = (1 + q_ML h_L)/(q_ML + q_MF),  h_L = (1 + q_LM h_M)/(q_LM + q_LF),
        // with q_ML = p·0.7^−α, q_MF = p·1.3^−α, q_LM = p·(1.3^−α − 3.3^−α), q_LF = p·3.3^−α,
        // solved by hand: h_M = (q_LM + q_LF + q_ML)/((q_ML + q_MF)(q_LM + q_LF) − q_ML q_LM).
        let (a, e) = (1.3, 0.1);
        let cp = three_wells().critical_points();
        assert!((cp.minima[1]).abs() < 1e-6 && (cp.saddles[1] - 1.3).abs() < 1e-6);
        let mc = levy_markov_chain(a, e, &cp).unwrap();
        let p = e.powf(a) * c_alpha(a) / a;
        let d = |m: f64, s: f64| (s - m).abs().powf(-a);
        let (m, l) = (cp.minima[1], cp.minima[0]);
        let (s0, s1) = (cp.saddles[0], cp.saddles[1]);
        let q_ml = p * d(m, s0);
        let q_mf = p * d(m, s1);
        let q_lm = p * (d(l, s0) - d(l, s1));
        let q_lf = p * d(l, s1);
        let want = (q_lm + q_lf + q_ml) / ((q_ml + q_mf) * (q_lm + q_lf) - q_ml * q_lm);
        let got = chain_absorption_time(&mc.rates, &[false, false, true], &[0.0; 3], 1).unwrap();
        assert!((got - want).abs() < 1e-10 * want, "{got} vs {want}");
        // Jumps past the saddle alone (the old prediction) give about half of it here.
        let direct = levy_transition_time(a, e, s1 - m).unwrap();
        assert!(
            (direct - 110.2).abs() < 0.1 && (got - 214.1).abs() < 0.1,
            "{direct} {got}"
        );
    }

    #[test]
    fn chain_times_reduce_to_the_double_well_formulas() {
        let cp = dw().critical_points();
        let s = 0.5;
        let q = kramers_chain(&dw(), &cp, s).unwrap();
        // Saddle hit: twice the well-to-well rate from the near well ⇒ T_K/2.
        let t = chain_absorption_time(&q, &[false, true], &[q[0][1], 0.0], 0).unwrap();
        let k = kramers_time(&dw(), -1.0, 0.0, s).unwrap();
        assert!((t - k / 2.0).abs() < 1e-12 * k);
        let mc = levy_markov_chain(1.5, 0.1, &cp).unwrap();
        let t = chain_absorption_time(&mc.rates, &[false, true], &[0.0; 2], 0).unwrap();
        assert!((t - levy_transition_time(1.5, 0.1, 1.0).unwrap()).abs() < 1e-9);
        assert!(chain_absorption_time(&mc.rates, &[false, true], &[0.0; 2], 1).unwrap() == 0.0);
    }

    #[test]
    fn kramers_chain_is_the_small_noise_limit_of_the_exact_time_with_three_wells() {
        // From the middle well across the upper saddle: exact MFPT / chain → 1 as σ → 0.
        let u = three_wells();
        let cp = u.critical_points();
        let mut ratios = Vec::new();
        for sigma in [0.8f64, 0.6, 0.45, 0.35] {
            let q = kramers_chain(&u, &cp, sigma).unwrap();
            let mut exit = [0.0; 3];
            exit[1] = q[1][2];
            let chain = chain_absorption_time(&q, &[false, false, true], &exit, 1).unwrap();
            let exact = mean_first_passage(&u, cp.minima[1], cp.saddles[1], sigma).unwrap();
            ratios.push(exact / chain);
        }
        println!("exact/chain: {ratios:?}");
        for w in ratios.windows(2) {
            assert!((w[1] - 1.0).abs() < (w[0] - 1.0).abs(), "{ratios:?}");
        }
        assert!((ratios[3] - 1.0).abs() < 0.1, "{ratios:?}");
    }
}
