//! Statistics of the replicas at each radius: censored means, Kaplan–Meier quantiles, the jump
//! shares, and the log-log slope of the mean escape step on the radius with a bootstrap interval.

use rand::RngExt;

use super::replica::ReplicaRecord;
use crate::rng;
use crate::stats::exit_times::{Estimate, ExitSample};

const SLOPE_BOOTSTRAP: u64 = rng::domain::ESCAPE_SLOPE_BOOTSTRAP;
/// Bootstrap resamples of the slope's interval.
pub const SLOPE_RESAMPLES: usize = 400;

/// The replicas' passages through one radius.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RadiusStats {
    /// The radius.
    pub radius: f64,
    /// Replicas.
    pub replicas: usize,
    /// Replicas that passed it within the budget.
    pub passed: usize,
    /// Replicas censored at the budget.
    pub censored: usize,
    /// Replicas whose parameters stopped being finite (counted as passed at that step).
    pub diverged: usize,
    /// Mean escape step: the sample mean when nothing is censored, else the exponential MLE.
    pub mean_steps: Option<Estimate>,
    /// "sample" or "exponential-mle".
    pub mean_method: Option<&'static str>,
    /// Kaplan–Meier median escape step.
    pub median_steps: Option<f64>,
    /// Kaplan–Meier survival at the budget.
    pub survival_at_budget: f64,
    /// 10, 50, 90 % quantiles of the jump share of the largest step before the passage.
    pub jump_share: Option<[f64; 3]>,
    /// Median of (largest step)/r before the passage.
    pub largest_step_over_r: Option<f64>,
    /// Median of (crossing step)/r: near 1 when the ball is left by one jump, ≪ 1 by creep.
    pub crossing_step_over_r: Option<f64>,
    /// Median full-batch loss at the passage.
    pub loss_at_passage: Option<f64>,
}

fn quantile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.retain(|x| x.is_finite());
    v.sort_by(f64::total_cmp);
    v
}

/// The exit sample of radius `i`: passage steps, censored at the budget.
fn sample(records: &[&ReplicaRecord], i: usize, budget: f64) -> ExitSample {
    let mut exited = Vec::new();
    let mut censored = Vec::new();
    for r in records {
        match r.passages[i] {
            Some(p) => exited.push(p.step as f64),
            None => censored.push(budget),
        }
    }
    let n = exited.len();
    ExitSample::new(exited, vec![false; n], censored, 0)
}

/// The statistics of radius `i`.
pub fn radius_stats(records: &[ReplicaRecord], i: usize, radius: f64, budget: f64) -> RadiusStats {
    let refs: Vec<&ReplicaRecord> = records.iter().collect();
    let s = sample(&refs, i, budget);
    let passages: Vec<_> = records.iter().filter_map(|r| r.passages[i]).collect();
    let median = |v: Vec<f64>| {
        let v = sorted(v);
        (!v.is_empty()).then(|| quantile(&v, 0.5))
    };
    let shares = sorted(passages.iter().map(|p| p.jump_share).collect());
    let (mean, method) = match s.best_mean() {
        Ok((m, how)) => (Some(m), Some(how)),
        Err(_) => (None, None),
    };
    RadiusStats {
        radius,
        replicas: records.len(),
        passed: s.exited(),
        censored: s.censored(),
        diverged: records
            .iter()
            .filter(|r| r.diverged && r.passages[i].is_some_and(|p| p.loss.is_nan()))
            .count(),
        mean_steps: mean,
        mean_method: method,
        median_steps: s.median(),
        survival_at_budget: s.km_survival(budget),
        jump_share: (!shares.is_empty()).then(|| {
            [
                quantile(&shares, 0.1),
                quantile(&shares, 0.5),
                quantile(&shares, 0.9),
            ]
        }),
        largest_step_over_r: median(passages.iter().map(|p| p.largest_step / radius).collect()),
        crossing_step_over_r: median(passages.iter().map(|p| p.crossing_step / radius).collect()),
        loss_at_passage: median(passages.iter().map(|p| p.loss).collect()),
    }
}

/// A fitted log-log slope with its bootstrap interval.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Slope {
    /// Least-squares slope of ln(mean step) on ln r.
    pub slope: f64,
    /// 2.5 % bootstrap quantile (replicas resampled with replacement).
    pub ci_low: f64,
    /// 97.5 %.
    pub ci_high: f64,
    /// The radii used: those every replica passed (a censored mean would bias the slope).
    pub radii: Vec<f64>,
}

/// Least-squares slope of y on x.
pub fn ols_slope(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    sxy / sxx
}

/// The slope of ln(mean escape step) on ln r over the radii that every replica passed (at least
/// two), with a 95 % percentile-bootstrap interval over replicas (seeded).
pub fn slope(records: &[ReplicaRecord], radii: &[f64], seed: u64) -> Option<Slope> {
    let used: Vec<usize> = (0..radii.len())
        .filter(|&i| records.iter().all(|r| r.passages[i].is_some()))
        .collect();
    if used.len() < 2 || records.len() < 2 {
        return None;
    }
    let x: Vec<f64> = used.iter().map(|&i| radii[i].ln()).collect();
    let fit = |pick: &mut dyn FnMut() -> usize| -> f64 {
        let mut sums = vec![0.0; used.len()];
        for _ in 0..records.len() {
            let r = &records[pick()];
            for (s, &i) in sums.iter_mut().zip(&used) {
                *s += r.passages[i].map_or(0.0, |p| p.step as f64);
            }
        }
        let y: Vec<f64> = sums.iter().map(|s| s.ln()).collect();
        ols_slope(&x, &y)
    };
    let mut k = 0;
    let slope = fit(&mut || {
        k += 1;
        k - 1
    });
    let mut r = rng::aux_stream(seed, SLOPE_BOOTSTRAP, 0);
    let n = records.len();
    let mut boot: Vec<f64> = (0..SLOPE_RESAMPLES)
        .map(|_| fit(&mut || r.random_range(0..n)))
        .filter(|s| s.is_finite())
        .collect();
    boot.sort_by(f64::total_cmp);
    if boot.is_empty() {
        return None;
    }
    Some(Slope {
        slope,
        ci_low: quantile(&boot, 0.025),
        ci_high: quantile(&boot, 0.975),
        radii: used.iter().map(|&i| radii[i]).collect(),
    })
}
