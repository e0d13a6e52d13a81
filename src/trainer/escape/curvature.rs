//! The curvature at θ₀ from gradients alone: Hessian-vector products by central differences,
//! the leading eigenvalues by power iteration with deflation, the trace by Hutchinson's estimator.

use rand::RngExt;
use rand::distr::Distribution;
use rand_distr::StandardNormal;

use super::objective::Objective;
use crate::rng;
use crate::stats::exit_times::Estimate;

const EIGEN_START: u64 = rng::domain::HESSIAN_EIGEN_START;
const HUTCHINSON: u64 = rng::domain::HESSIAN_HUTCHINSON;

/// Hv ≈ (∇f(θ₀ + hv) − ∇f(θ₀ − hv))/(2h) for a unit v (the error is O(h²) times the third
/// derivative, plus f32 rounding of the gradients over 2h). The perturbation actually applied is
/// the f32-rounded one, so the quotient uses its length along v.
pub struct HessianProduct<'a, O: Objective> {
    objective: &'a O,
    state: O::State,
    theta0: Vec<f32>,
    h: f64,
    plus: Vec<f32>,
    minus: Vec<f32>,
    /// Full-batch gradients evaluated so far.
    pub gradient_calls: usize,
}

impl<O: Objective> std::fmt::Debug for HessianProduct<'_, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HessianProduct")
            .field("dim", &self.theta0.len())
            .field("h", &self.h)
            .field("gradient_calls", &self.gradient_calls)
            .finish_non_exhaustive()
    }
}

impl<'a, O: Objective> HessianProduct<'a, O> {
    /// Products at θ₀ of `objective` with step h.
    pub fn new(objective: &'a O, h: f64) -> Self {
        let state = objective.start(0);
        let theta0 = objective.params(&state).to_vec();
        let m = theta0.len();
        HessianProduct {
            objective,
            state,
            theta0,
            h,
            plus: vec![0.0; m],
            minus: vec![0.0; m],
            gradient_calls: 0,
        }
    }

    /// Dimension M.
    pub fn dim(&self) -> usize {
        self.theta0.len()
    }

    /// Hv for a unit v, into `out`.
    pub fn apply(&mut self, v: &[f64], out: &mut [f64]) {
        let h = self.h;
        let mut applied = 0.0;
        for sign in [1.0, -1.0] {
            let p = self.objective.params_mut(&mut self.state);
            for ((pi, &t), &vi) in p.iter_mut().zip(&self.theta0).zip(v) {
                *pi = (f64::from(t) + sign * h * vi) as f32;
            }
            if sign > 0.0 {
                applied += p
                    .iter()
                    .zip(&self.theta0)
                    .zip(v)
                    .map(|((&a, &t), &vi)| f64::from(a - t) * vi)
                    .sum::<f64>();
            } else {
                applied -= p
                    .iter()
                    .zip(&self.theta0)
                    .zip(v)
                    .map(|((&a, &t), &vi)| f64::from(a - t) * vi)
                    .sum::<f64>();
            }
            let g = if sign > 0.0 {
                &mut self.plus
            } else {
                &mut self.minus
            };
            self.objective.full_gradient(&mut self.state, g);
            self.gradient_calls += 1;
        }
        // applied = ⟨θ₊ − θ₋, v⟩ ≈ 2h.
        for ((o, &a), &b) in out.iter_mut().zip(&self.plus).zip(&self.minus) {
            *o = (f64::from(a) - f64::from(b)) / applied;
        }
        self.objective
            .params_mut(&mut self.state)
            .copy_from_slice(&self.theta0);
    }
}

/// The curvature report at θ₀.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Curvature {
    /// Leading eigenvalues (largest magnitude first, by power iteration with deflation).
    pub eigenvalues: Vec<f64>,
    /// ‖Hu − λu‖/|λ| of each: how far each pair is from converged.
    pub residuals: Vec<f64>,
    /// Hutchinson's trace estimate with its standard error (None with no probes).
    pub trace: Option<Estimate>,
    /// Rademacher probes of the trace.
    pub probes: usize,
    /// Full-batch gradients evaluated.
    pub gradient_calls: usize,
    /// The eigenvectors (unit, in parameter coordinates).
    #[serde(skip)]
    pub eigenvectors: Vec<Vec<f64>>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalize(v: &mut [f64]) -> f64 {
    let n = crate::numeric::norm(v);
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    n
}

/// `top` leading eigenpairs by power iteration (`iterations` products each) with deflation of
/// the pairs found before, and the Hutchinson trace over `probes` Rademacher vectors; seeded.
pub fn curvature<O: Objective>(
    objective: &O,
    h: f64,
    top: usize,
    iterations: usize,
    probes: usize,
    seed: u64,
) -> Curvature {
    let mut hv = HessianProduct::new(objective, h);
    let m = hv.dim();
    let top = top.min(m);
    let mut values: Vec<f64> = Vec::new();
    let mut vectors: Vec<Vec<f64>> = Vec::new();
    let mut residuals = Vec::new();
    let mut out = vec![0.0; m];
    // Deflated product: (H − Σ λⱼuⱼuⱼᵀ)v.
    let deflated = |hv: &mut HessianProduct<'_, O>,
                    v: &[f64],
                    out: &mut [f64],
                    values: &[f64],
                    vectors: &[Vec<f64>]| {
        hv.apply(v, out);
        for (l, u) in values.iter().zip(vectors) {
            let c = l * dot(u, v);
            out.iter_mut().zip(u).for_each(|(o, ui)| *o -= c * ui);
        }
    };
    for k in 0..top {
        let mut r = rng::aux_stream(seed, EIGEN_START, k as u64);
        let mut v: Vec<f64> = (0..m).map(|_| StandardNormal.sample(&mut r)).collect();
        // Start orthogonal to the pairs found.
        for u in &vectors {
            let c = dot(u, &v);
            v.iter_mut().zip(u).for_each(|(x, ui)| *x -= c * ui);
        }
        normalize(&mut v);
        let mut lambda = 0.0;
        for _ in 0..iterations {
            deflated(&mut hv, &v, &mut out, &values, &vectors);
            lambda = dot(&v, &out);
            v.copy_from_slice(&out);
            for u in &vectors {
                let c = dot(u, &v);
                v.iter_mut().zip(u).for_each(|(x, ui)| *x -= c * ui);
            }
            if normalize(&mut v) == 0.0 {
                break;
            }
        }
        // The Rayleigh quotient and residual at the final vector.
        deflated(&mut hv, &v, &mut out, &values, &vectors);
        let rq = dot(&v, &out);
        if rq.is_finite() {
            lambda = rq;
        }
        let res = out
            .iter()
            .zip(&v)
            .map(|(o, x)| (o - lambda * x).powi(2))
            .sum::<f64>()
            .sqrt()
            / lambda.abs().max(f64::MIN_POSITIVE);
        values.push(lambda);
        residuals.push(res);
        vectors.push(v);
    }
    let trace = (probes > 0).then(|| {
        let mut r = rng::aux_stream(seed, HUTCHINSON, 0);
        let mut z = vec![0.0; m];
        let scale = (m as f64).sqrt();
        let samples: Vec<f64> = (0..probes)
            .map(|_| {
                z.iter_mut()
                    .for_each(|x| *x = if r.random::<bool>() { 1.0 } else { -1.0 } / scale);
                hv.apply(&z, &mut out);
                // zᵀHz with z = ±1 entries is M·(ûᵀHû) for the unit û = z/√M.
                m as f64 * dot(&z, &out)
            })
            .collect();
        let n = samples.len() as f64;
        let mean = samples.iter().sum::<f64>() / n;
        let var = if samples.len() > 1 {
            samples.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            f64::NAN
        };
        Estimate {
            value: mean,
            std_err: (var / n).sqrt(),
        }
    });
    Curvature {
        eigenvalues: values,
        residuals,
        trace,
        probes,
        gradient_calls: hv.gradient_calls,
        eigenvectors: vectors,
    }
}

#[cfg(test)]
mod tests {
    use super::super::objective::Quadratic;
    use super::*;

    #[test]
    fn power_iteration_finds_a_quadratics_leading_curvatures_and_hutchinson_its_trace() {
        let curvatures: Vec<f64> = (0..50)
            .map(|j| {
                if j < 3 {
                    [9.0, 5.0, 3.0][j]
                } else {
                    0.1 + 0.01 * j as f64
                }
            })
            .collect();
        let q = Quadratic {
            gradient: vec![0.0; 50],
            curvatures: curvatures.clone(),
        };
        let c = curvature(&q, 1e-2, 3, 60, 400, 1);
        // Power iteration converges like (λ₂/λ₁)^k: (5/9)^60 ≈ 1e-15; the f32 gradients limit it.
        for (got, want) in c.eigenvalues.iter().zip([9.0, 5.0, 3.0]) {
            assert!((got - want).abs() < 1e-3 * want, "{got} vs {want}");
        }
        // Hutchinson with Rademacher probes: the variance of zᵀHz is 2Σ_{i≠j}H²ᵢⱼ = 0 for a
        // diagonal H, so the estimate is the trace up to f32 rounding.
        let trace: f64 = curvatures.iter().sum();
        let t = c.trace.unwrap();
        assert!((t.value - trace).abs() < 1e-3 * trace, "{t:?} vs {trace}");
    }
}
