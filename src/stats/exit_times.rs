//! Exit-time statistics with right censoring.

use super::StatsError;

/// z for a two-sided 95 % normal interval.
const Z95: f64 = 1.959_963_984_540_054;

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

    /// Kaplan–Meier quantile: the smallest exit time t with Ŝ(t) ≤ 1 − p; `None` if the survival curve
    /// does not fall that far before the censoring times.
    pub fn km_quantile(&self, p: f64) -> Option<f64> {
        let mut ev: Vec<(f64, bool)> = self
            .exited
            .iter()
            .map(|&t| (t, true))
            .chain(self.censored.iter().map(|&t| (t, false)))
            .collect();
        // Exits at a tied time come before censorings at that time (KM convention).
        ev.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut at_risk = ev.len() as f64;
        let mut s = 1.0;
        let target = 1.0 - p;
        let mut i = 0;
        while i < ev.len() {
            let t = ev[i].0;
            let (mut d, mut c) = (0.0, 0.0);
            while i < ev.len() && ev[i].0 == t {
                if ev[i].1 {
                    d += 1.0
                } else {
                    c += 1.0
                }
                i += 1;
            }
            if d > 0.0 {
                s *= 1.0 - d / at_risk;
                if s <= target + 1e-12 {
                    return Some(t);
                }
            }
            at_risk -= d + c;
        }
        None
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
        let mut z: Vec<f64> = self.exited.iter().map(|t| t / m).collect();
        z.sort_unstable_by(f64::total_cmp);
        let n = z.len() as f64;
        Ok(z.iter().enumerate().fold(0.0f64, |d, (i, &x)| {
            let f = 1.0 - (-x).exp();
            d.max((f - i as f64 / n).abs())
                .max(((i + 1) as f64 / n - f).abs())
        }))
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
