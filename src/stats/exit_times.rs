//! Exit-time statistics with right censoring.

use super::StatsError;

/// z for a two-sided 95 % normal interval.
const Z95: f64 = 1.959_963_984_540_054;

/// Largest censored share at which the exponential MLE of the mean is reported as reliable.
pub const MAX_CENSORED: f64 = 0.1;

/// A value with its standard error.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Estimate {
    /// The estimate.
    pub value: f64,
    /// Its standard error.
    pub std_err: f64,
}

/// Exit times of one set of paths: exited times with their sides, censoring times, non-finite paths.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ExitSample {
    exited: Vec<f64>,
    high: Vec<bool>,
    censored: Vec<f64>,
    non_finite: usize,
}

impl ExitSample {
    /// A sample from its parts: exit times with whether each left through the high side, censoring
    /// times, and the number of non-finite paths (counted, excluded from the time statistics).
    pub fn new(exited: Vec<f64>, high: Vec<bool>, censored: Vec<f64>, non_finite: usize) -> Self {
        debug_assert_eq!(exited.len(), high.len());
        ExitSample {
            exited,
            high,
            censored,
            non_finite,
        }
    }

    /// Paths in total (exited + censored + non-finite).
    pub fn paths(&self) -> usize {
        self.exited.len() + self.censored.len() + self.non_finite
    }
    /// Paths whose event happened.
    pub fn exited(&self) -> usize {
        self.exited.len()
    }
    /// Right-censored paths.
    pub fn censored(&self) -> usize {
        self.censored.len()
    }
    /// Paths that ended non-finite.
    pub fn non_finite(&self) -> usize {
        self.non_finite
    }
    /// The exit times.
    pub fn exit_times(&self) -> &[f64] {
        &self.exited
    }

    /// Plain mean with standard error s/√n; refuses censored samples (the exited-only mean is biased).
    pub fn mean(&self) -> Result<Estimate, StatsError> {
        if !self.censored.is_empty() {
            return Err(StatsError::Censored {
                censored: self.censored.len(),
                total: self.paths(),
            });
        }
        let n = self.exited.len();
        if n < 2 {
            return Err(StatsError::TooFewSamples { needed: 2, got: n });
        }
        let m = self.exited.iter().sum::<f64>() / n as f64;
        let var = self.exited.iter().map(|t| (t - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        Ok(Estimate {
            value: m,
            std_err: (var / n as f64).sqrt(),
        })
    }

    /// Exponential-rate MLE under right censoring: `λ̂ = d / (Σ tᵢ + Σ cⱼ)` (d exits at tᵢ, censoring
    /// times cⱼ), standard error λ̂/√d; returns the mean 1/λ̂ with its delta-method SE and a 95 %
    /// interval for the mean from the normal interval of ln λ̂ (SE 1/√d).
    pub fn exponential_mean(&self) -> Result<(Estimate, (f64, f64)), StatsError> {
        let d = self.exited.len();
        if d == 0 {
            return Err(StatsError::NoExits {
                total: self.paths(),
            });
        }
        let exposure: f64 = self.exited.iter().sum::<f64>() + self.censored.iter().sum::<f64>();
        let mean = exposure / d as f64;
        let se = mean / (d as f64).sqrt();
        let half = Z95 / (d as f64).sqrt();
        Ok((
            Estimate {
                value: mean,
                std_err: se,
            },
            (mean * (-half).exp(), mean * half.exp()),
        ))
    }

    /// The mean as it should be reported: the plain mean if nothing is censored, otherwise the
    /// exponential MLE (its model assumption, τ ~ Exp, is the metastable law).
    pub fn best_mean(&self) -> Result<(Estimate, &'static str), StatsError> {
        match self.mean() {
            Ok(m) => Ok((m, "sample")),
            Err(StatsError::Censored { .. }) => {
                self.exponential_mean().map(|(m, _)| (m, "exponential-mle"))
            }
            Err(e) => Err(e),
        }
    }

    /// Restricted mean: the area under the Kaplan–Meier survival curve from 0 to L, the largest
    /// censoring time (with no censoring, the plain mean). It estimates E[min(τ, L)] without any
    /// model of the law beyond L, so it is a lower bound of E[τ] when paths are censored. Returns
    /// the estimate with its standard error and L (∞ without censoring). See [`Events::restricted_mean`].
    pub fn restricted_mean(&self) -> Option<(Estimate, f64)> {
        if self.censored.is_empty() {
            return self.mean().ok().map(|m| (m, f64::INFINITY));
        }
        let limit = self.censored.iter().copied().fold(0.0, f64::max);
        Some((self.events().restricted_mean(limit), limit))
    }

    /// Whether the exponential MLE of the mean can be trusted on this sample: `None` if it can,
    /// otherwise the reason (see [`mle_check`]).
    pub fn mle_check(&self) -> Option<String> {
        if self.censored.is_empty() {
            return None;
        }
        let (m, _) = self.exponential_mean().ok()?;
        let limit = self.censored.iter().copied().fold(0.0, f64::max);
        mle_check(
            self.exited.len() as u64,
            self.censored.len() as u64,
            m.value,
            limit,
            self.km_survival(limit),
        )
    }

    /// Kaplan–Meier survival Ŝ(t) (right-continuous).
    pub fn km_survival(&self, t: f64) -> f64 {
        self.events().survival(t)
    }

    /// The distinct exit and censoring times with their counts.
    fn events(&self) -> Events {
        let mut ev: Vec<(f64, bool)> = self
            .exited
            .iter()
            .map(|&t| (t, true))
            .chain(self.censored.iter().map(|&t| (t, false)))
            .collect();
        ev.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut out = Events::default();
        for (t, exit) in ev {
            out.push(t, u64::from(exit), u64::from(!exit));
        }
        out
    }

    /// Kaplan–Meier quantile: the smallest exit time t with Ŝ(t) ≤ 1 − p; `None` if the survival curve
    /// does not fall that far before the censoring times.
    pub fn km_quantile(&self, p: f64) -> Option<f64> {
        self.events().quantile(p)
    }

    /// Kaplan–Meier median.
    pub fn median(&self) -> Option<f64> {
        self.km_quantile(0.5)
    }

    /// Coefficient of variation s/mean of the exit times (uncensored samples only; Exp(1) has 1).
    pub fn coefficient_of_variation(&self) -> Result<f64, StatsError> {
        let m = self.mean()?;
        Ok(m.std_err * (self.exited.len() as f64).sqrt() / m.value)
    }

    /// Kolmogorov–Smirnov distance between τ/mean(τ) and Exp(1) (uncensored samples only). The mean is
    /// estimated, so the usual critical value 1.36/√n (5 %) is conservative (Lilliefors).
    pub fn ks_exponential(&self) -> Result<f64, StatsError> {
        let m = self.mean()?.value;
        Ok(self.events().ks_exponential(m))
    }

    /// Fraction of exits through the high side (None without exits).
    pub fn high_fraction(&self) -> Option<Estimate> {
        let n = self.high.len();
        if n == 0 {
            return None;
        }
        let p = self.high.iter().filter(|&&h| h).count() as f64 / n as f64;
        Some(Estimate {
            value: p,
            std_err: (p * (1.0 - p) / n as f64).sqrt(),
        })
    }
}

/// Whether the exponential MLE `mean` of a censored sample (d exits, c censored paths, largest
/// censoring time L, Kaplan–Meier survival Ŝ(L) = `observed`) can be trusted: `None` if it can,
/// otherwise the reason. The MLE extrapolates the law beyond the horizon as exponential, which is
/// checked two ways: the censored share must be at most `MAX_CENSORED` (10 %: beyond it the
/// unobserved tail carries a large part of the estimate), and the fitted law must reproduce the
/// observed survival at the horizon, |Ŝ(L) − e^{−L/m̂}| ≤ 3 binomial standard errors.
pub(crate) fn mle_check(d: u64, c: u64, mean: f64, limit: f64, observed: f64) -> Option<String> {
    if c == 0 {
        return None;
    }
    let n = (d + c) as f64;
    let share = c as f64 / n;
    if share > MAX_CENSORED {
        return Some(format!(
            "{:.1} % of paths censored (over {:.0} %): the mean depends on the law beyond the horizon",
            100.0 * share,
            100.0 * MAX_CENSORED
        ));
    }
    let fitted = (-limit / mean).exp();
    let se = (fitted * (1.0 - fitted) / n).sqrt().max(1.0 / n);
    ((observed - fitted).abs() > 3.0 * se).then(|| {
        format!(
            "survival at the horizon {observed:.4} vs {fitted:.4} for the fitted exponential law: the exit law is not exponential"
        )
    })
}

/// Distinct event times in increasing order, each with its number of exits and of censorings: the
/// input of every Kaplan–Meier statistic, built from per-path times ([`ExitSample`]) or from the
/// mergeable accumulator ([`super::ExitStats`]). Exits at a tied time come before censorings at
/// that time (the usual convention).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Events {
    t: Vec<f64>,
    exits: Vec<f64>,
    censored: Vec<f64>,
}

/// One step of the Kaplan–Meier curve at an exit time.
#[derive(Clone, Copy, Debug)]
struct KmStep {
    t: f64,
    at_risk: f64,
    exits: f64,
    /// Ŝ just after t.
    survival: f64,
}

impl Events {
    /// Adds `exits` exits and `censored` censorings at time `t` ≥ every time added so far.
    pub(crate) fn push(&mut self, t: f64, exits: u64, censored: u64) {
        debug_assert!(self.t.last().is_none_or(|&l| l <= t));
        if self.t.last() == Some(&t) {
            *self.exits.last_mut().expect("same length") += exits as f64;
            *self.censored.last_mut().expect("same length") += censored as f64;
        } else if exits + censored > 0 {
            self.t.push(t);
            self.exits.push(exits as f64);
            self.censored.push(censored as f64);
        }
    }

    /// The largest time pushed.
    pub(crate) fn last_time(&self) -> Option<f64> {
        self.t.last().copied()
    }

    /// The Kaplan–Meier curve: one step per distinct exit time.
    fn km_curve(&self) -> Vec<KmStep> {
        let mut at_risk: f64 = self.exits.iter().sum::<f64>() + self.censored.iter().sum::<f64>();
        let mut survival = 1.0;
        let mut out = Vec::new();
        for ((&t, &d), &c) in self.t.iter().zip(&self.exits).zip(&self.censored) {
            if d > 0.0 {
                survival *= 1.0 - d / at_risk;
                out.push(KmStep {
                    t,
                    at_risk,
                    exits: d,
                    survival,
                });
            }
            at_risk -= d + c;
        }
        out
    }

    /// Ŝ(t), right-continuous.
    pub(crate) fn survival(&self, t: f64) -> f64 {
        self.km_curve()
            .iter()
            .take_while(|s| s.t <= t)
            .last()
            .map_or(1.0, |s| s.survival)
    }

    /// The smallest exit time t with Ŝ(t) ≤ 1 − p.
    pub(crate) fn quantile(&self, p: f64) -> Option<f64> {
        let target = 1.0 - p;
        self.km_curve()
            .iter()
            .find(|s| s.survival <= target + 1e-12)
            .map(|s| s.t)
    }

    /// The area under Ŝ from 0 to `limit` with its standard error.
    ///
    /// # Formula
    /// ```text
    /// μ̂(L) = Σ_k S(t_{k−1})·(t_k − t_{k−1})  over the exit times t_k ≤ L, plus S(t_last)·(L − t_last)
    /// Var  = Σ_{t_k ≤ L} A_k² d_k / (n_k (n_k − d_k)),   A_k = ∫_{t_k}^{L} S(u) du
    /// ```
    /// (n_k at risk and d_k exits at t_k; Klein & Moeschberger 2003, Survival Analysis, §4.5). With
    /// every censoring at the horizon T this is the mean of min(τᵢ, T).
    pub(crate) fn restricted_mean(&self, limit: f64) -> Estimate {
        let steps: Vec<KmStep> = self
            .km_curve()
            .into_iter()
            .filter(|s| s.t <= limit)
            .collect();
        // Area from each exit time to L, accumulated backwards.
        let mut area_after = vec![0.0; steps.len()];
        let mut acc = 0.0;
        for k in (0..steps.len()).rev() {
            let next = steps.get(k + 1).map_or(limit, |s| s.t);
            acc += steps[k].survival * (next - steps[k].t);
            area_after[k] = acc;
        }
        let first = steps.first().map_or(limit, |s| s.t);
        let var: f64 = steps
            .iter()
            .zip(&area_after)
            .filter(|(s, _)| s.at_risk > s.exits)
            .map(|(s, a)| a * a * s.exits / (s.at_risk * (s.at_risk - s.exits)))
            .sum();
        Estimate {
            value: first + acc,
            std_err: var.sqrt(),
        }
    }

    /// Kolmogorov–Smirnov distance between the exit times divided by `mean` and Exp(1)
    /// (meaningful for uncensored samples): the largest gap between the empirical CDF, just before
    /// and just after each distinct time, and 1 − e^{−t/mean}.
    pub(crate) fn ks_exponential(&self, mean: f64) -> f64 {
        let n: f64 = self.exits.iter().sum();
        let mut below = 0.0;
        let mut d = 0.0f64;
        for (&t, &k) in self.t.iter().zip(&self.exits) {
            let f = 1.0 - (-t / mean).exp();
            d = d.max((f - below / n).abs());
            below += k;
            d = d.max((below / n - f).abs());
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_mean_by_hand() {
        // Exits at 1 and 3, censored at 2 and 4 (n = 4): Ŝ = 0.75 after 1, 0.375 after 3; L = 4.
        // Area 1 + 0.75·2 + 0.375·1 = 2.875. Var = 1.875²·1/(4·3) + 0.375²·1/(2·1) = 0.36328125.
        let e = ExitSample::new(vec![1.0, 3.0], vec![false, false], vec![2.0, 4.0], 0);
        let (m, l) = e.restricted_mean().unwrap();
        assert_eq!(l, 4.0);
        assert!((m.value - 2.875).abs() < 1e-14, "{m:?}");
        assert!((m.std_err - 0.363_281_25f64.sqrt()).abs() < 1e-14, "{m:?}");
        assert!((e.km_survival(3.5) - 0.375).abs() < 1e-15);
        assert_eq!(e.km_survival(0.5), 1.0);
    }

    #[test]
    fn restricted_mean_with_a_common_horizon_is_the_mean_of_the_truncated_times() {
        // Exp(1) times truncated at T = 1: E min(τ, 1) = 1 − e^{−1}; the KM area equals the plain
        // mean of min(τᵢ, T) and its SE the plain s/√n (up to the factor √((n − 1)/n)).
        let mut r = crate::rng::stream(9, 0);
        let t: Vec<f64> = (0..20_000)
            .map(|_| -(1.0 - rand::RngExt::random::<f64>(&mut r)).ln())
            .collect();
        let (ex, ce): (Vec<f64>, Vec<f64>) = t.iter().partition(|&&x| x <= 1.0);
        let e = ExitSample::new(ex.clone(), vec![false; ex.len()], vec![1.0; ce.len()], 0);
        let (m, l) = e.restricted_mean().unwrap();
        let tr: Vec<f64> = t.iter().map(|x| x.min(1.0)).collect();
        let n = tr.len() as f64;
        let mean = tr.iter().sum::<f64>() / n;
        let sd = (tr.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        assert_eq!(l, 1.0);
        assert!((m.value - mean).abs() < 1e-12, "{} vs {mean}", m.value);
        assert!(
            (m.std_err / (sd / n.sqrt()) - 1.0).abs() < 1e-3,
            "{m:?} {sd}"
        );
        // Against the exact value 1 − 1/e within 4 SE.
        assert!((m.value - (1.0 - (-1.0f64).exp())).abs() < 4.0 * m.std_err);
        // Exponential law, 37 % censored: flagged for the share, not for the shape.
        let w = e.mle_check().unwrap();
        assert!(w.contains("% of paths censored"), "{w}");
    }

    #[test]
    fn mle_check_accepts_exponential_samples_and_rejects_other_laws() {
        // 5 % censored at T: an exponential sample passes; a uniform one (same censored share)
        // has the wrong survival shape and is flagged.
        let mut r = crate::rng::stream(4, 0);
        let n = 20_000;
        let t = 3.0f64;
        let mk = |xs: Vec<f64>| {
            let (ex, ce): (Vec<f64>, Vec<f64>) = xs.into_iter().partition(|&x| x <= t);
            ExitSample::new(ex.clone(), vec![false; ex.len()], vec![t; ce.len()], 0)
        };
        let exp: Vec<f64> = (0..n)
            .map(|_| -(1.0 - rand::RngExt::random::<f64>(&mut r)).ln())
            .collect();
        let e = mk(exp);
        assert!(e.mle_check().is_none(), "{:?}", e.mle_check());
        let uni: Vec<f64> = (0..n)
            .map(|_| 3.0 / 0.95 * rand::RngExt::random::<f64>(&mut r))
            .collect();
        let u = mk(uni);
        let w = u.mle_check().unwrap();
        assert!(w.contains("not exponential"), "{w}");
    }
}
