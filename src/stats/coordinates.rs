//! Iteration-wise tests of gradient noise: each of a subsample of coordinates, seen across the K
//! minibatch gradients of one θ, is tested for Gaussianity, fitted with a symmetric stable law and
//! tested for a power-law tail; the same tests run dimension-wise on the pooled vector.
//!
//! This answers the critiques on their own terms: Panigrahi et al. (2019) test single coordinates
//! across minibatches for Gaussianity; Xie, Tang, Sun & Li (2023) separate dimension-wise
//! (across the coordinates of one noise vector) from iteration-wise (one coordinate across
//! minibatches) power-law tests; Battash, Wolf & Lindenbaum (2024) fit each parameter its own SαS
//! law.
//!
//! * **Coordinates**: about `coordinates` of them, chosen per layer (proportional to the layer's size,
//!   at least `coordinates/(2L)` per layer where it has that many) by the smallest hashes of
//!   (seed, index), so the choice does not depend on the order of work. Shares and quantiles over
//!   coordinates weight each coordinate by (layer size / coordinates chosen in it), so they stand for
//!   the whole network.
//! * **Gaussianity**: Anderson–Darling per coordinate ([`super::normality`]); the share rejected at
//!   5 % after Benjamini–Hochberg over all tested coordinates, and without correction. Constant
//!   coordinates (dead units) are counted and left out.
//! * **Per-coordinate α**: the characteristic-function regression ([`super::cf_regression`]) per
//!   coordinate — measured against McCulloch's quantile estimator at K = 200, 500 and 1000 on SαS
//!   columns, it had the smaller RMSE in all 12 cases (α = 1.2–2; 0.05–0.13 against 0.05–0.17, and
//!   a tenth of McCulloch's at α = 2; `tests/it/noise_calibration.rs`); its quantiles overall and per
//!   layer, a histogram, and its own sampling spread at this K measured on 200 synthetic SαS
//!   columns at the median α̂.
//! * **Power law**: Clauset–Shalizi–Newman per coordinate on |Uₚⱼ| ([`super::power_law`]) for every
//!   ⌈S/250⌉-th chosen coordinate (each test needs its own bootstrap), summarized
//!   (share ruled out at p ≤ 0.1, quantiles of the tail index, the Vuong comparison with a
//!   log-normal), and the same test dimension-wise on the pooled uniform subsample.

use rayon::prelude::*;

use super::cf_regression;
use super::normality::{AD_MIN_SAMPLES, AndersonDarling, anderson_darling, benjamini_hochberg};
use super::power_law::{self, PowerLawTest};
use crate::noise::{Param, Stable, draw};
use crate::rng;

/// Level of every test.
pub const LEVEL: f64 = 0.05;
/// Clauset et al.'s threshold: a power law with bootstrap p ≤ 0.1 is ruled out.
pub const POWER_LAW_THRESHOLD: f64 = 0.1;
/// Fewest minibatches for a per-coordinate α.
pub const ALPHA_MIN_SAMPLES: usize = 20;
/// Largest pooled sample for the dimension-wise Anderson–Darling test (thinned evenly beyond it).
pub const DIMENSION_WISE_MAX: usize = 50_000;
/// Largest pooled sample for the dimension-wise power-law test (each bootstrap replicate sorts and
/// refits a sample of this size).
pub const DIMENSION_WISE_POWER_LAW_MAX: usize = 20_000;
/// Coordinates of the iteration-wise power-law tests: every ⌈S/250⌉-th chosen coordinate (each
/// needs `bootstrap` refits; 250 give a share to ±3.2 % or better).
pub const POWER_LAW_COORDINATES: usize = 250;
/// Synthetic columns that measure the spread of the per-coordinate α̂.
const SPREAD_COLUMNS: usize = 200;

/// A diagnostic that was computed, or the reason it was not.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Check<T> {
    /// Computed.
    Done(T),
    /// Not computed, and why.
    Skipped {
        /// The reason, e.g. "needs at least 20 minibatches, got 14".
        skipped: String,
    },
}

impl<T> Check<T> {
    /// A skipped check.
    pub fn skipped(reason: impl Into<String>) -> Self {
        Check::Skipped {
            skipped: reason.into(),
        }
    }

    /// The value, if computed.
    pub fn done(&self) -> Option<&T> {
        match self {
            Check::Done(v) => Some(v),
            Check::Skipped { .. } => None,
        }
    }
}

/// Weighted quantiles 10, 25, 50, 75 and 90 %.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Quantiles {
    /// 10 %.
    pub q10: f64,
    /// 25 %.
    pub q25: f64,
    /// Median.
    pub q50: f64,
    /// 75 %.
    pub q75: f64,
    /// 90 %.
    pub q90: f64,
}

impl Quantiles {
    /// Weighted quantiles of `(value, weight)` pairs (NaN when empty).
    pub fn of(items: &[(f64, f64)]) -> Self {
        let mut v = items.to_vec();
        v.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let total: f64 = v.iter().map(|x| x.1).sum();
        let q = |f: f64| {
            let mut acc = 0.0;
            for &(x, w) in &v {
                acc += w;
                if acc >= f * total {
                    return x;
                }
            }
            v.last().map_or(f64::NAN, |x| x.0)
        };
        Quantiles {
            q10: q(0.1),
            q25: q(0.25),
            q50: q(0.5),
            q75: q(0.75),
            q90: q(0.9),
        }
    }
}

/// One layer's share of rejected coordinates.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct LayerShare {
    /// 1-based layer.
    pub layer: usize,
    /// Coordinates tested in it.
    pub coordinates: usize,
    /// Share rejected (Benjamini–Hochberg at 5 %).
    pub rejected_fraction: f64,
}

/// Per-coordinate Gaussianity across minibatches.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Gaussianity {
    /// The test.
    pub test: &'static str,
    /// Its level.
    pub alpha_level: f64,
    /// The multiple-testing correction.
    pub correction: &'static str,
    /// Minibatches K (the sample size of each test).
    pub minibatches: usize,
    /// Coordinates tested.
    pub coordinates: usize,
    /// Coordinates left out because constant over the minibatches.
    pub constant: usize,
    /// Share of coordinates rejected after the correction (weighted to the whole network).
    pub rejected_fraction: f64,
    /// Share with p < 5 % without correction (≈ 5 % when every coordinate is Gaussian).
    pub rejected_fraction_uncorrected: f64,
    /// Per layer.
    pub per_layer: Vec<LayerShare>,
    /// The same test on the pooled subsample (across coordinates and minibatches).
    pub dimension_wise: Check<AndersonDarling>,
}

/// One layer's per-coordinate α.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct LayerAlpha {
    /// 1-based layer.
    pub layer: usize,
    /// Coordinates fitted.
    pub coordinates: usize,
    /// Quantiles of α̂ over them.
    pub quantiles: Quantiles,
}

/// The distribution of per-coordinate α̂ across coordinates.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PerCoordinateAlpha {
    /// The estimator.
    pub estimator: &'static str,
    /// Minibatches K (sample size of each fit).
    pub minibatches: usize,
    /// Coordinates fitted.
    pub coordinates: usize,
    /// Quantiles of α̂ (weighted to the whole network).
    pub quantiles: Quantiles,
    /// Share with α̂ = 2 (the estimator's Gaussian end).
    pub at_two_fraction: f64,
    /// Histogram: bin edges.
    pub histogram_edges: Vec<f64>,
    /// Histogram: weighted share of coordinates per bin.
    pub histogram: Vec<f64>,
    /// Per layer.
    pub per_layer: Vec<LayerAlpha>,
    /// The estimator's own standard deviation at this K, on SαS columns with α = the median α̂
    /// (200 synthetic columns): the spread of α̂ that sampling alone produces.
    pub sampling_sd: f64,
    /// Its bias there (mean α̂ − α).
    pub sampling_bias: f64,
}

/// Iteration-wise power-law tests, summarized over coordinates.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct IterationWisePowerLaw {
    /// Coordinates tested.
    pub coordinates: usize,
    /// Share ruled out as power laws (bootstrap p ≤ 0.1), weighted.
    pub ruled_out_fraction: f64,
    /// Quantiles of the bootstrap p-values.
    pub p_value_quantiles: Quantiles,
    /// Weighted share of p-values in the ten bins [0, 0.1), …, [0.9, 1].
    pub p_value_histogram: Vec<f64>,
    /// Quantiles of the fitted tail index γ̂ − 1.
    pub tail_index_quantiles: Quantiles,
    /// Share where the Vuong test favours the power law over the log-normal (R > 0, p < 0.1).
    pub favours_power_law: f64,
    /// Share where it favours the log-normal (R < 0, p < 0.1).
    pub favours_lognormal: f64,
}

/// Power-law tests dimension-wise and iteration-wise.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PowerLawReport {
    /// Bootstrap replicates per test.
    pub bootstrap: usize,
    /// The dimension-wise p-value (the pooled sample), NaN when that test did not run.
    pub p_value: f64,
    /// The dimension-wise test on the pooled subsample.
    pub dimension_wise: Check<PowerLawTest>,
    /// The per-coordinate tests.
    pub iteration_wise: Check<IterationWisePowerLaw>,
}

/// All per-coordinate results of one measurement.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CoordinateReport {
    /// Gaussianity.
    pub gaussianity: Check<Gaussianity>,
    /// Per-coordinate α.
    pub per_coordinate_alpha: Check<PerCoordinateAlpha>,
    /// Power law.
    pub power_law: Check<PowerLawReport>,
}

impl CoordinateReport {
    /// Every check skipped for one reason.
    pub fn skipped(reason: &str) -> Self {
        CoordinateReport {
            gaussianity: Check::skipped(reason),
            per_coordinate_alpha: Check::skipped(reason),
            power_law: Check::skipped(reason),
        }
    }
}

/// The chosen coordinates and their values in every row.
#[derive(Clone, Debug)]
pub struct CoordinateSample {
    indices: Vec<usize>,
    layer: Vec<usize>,
    weight: Vec<f64>,
    values: Vec<f64>,
    rows: usize,
    layers: usize,
}

impl CoordinateSample {
    /// Chooses about `target` coordinates over the layers `ranges` (see the module docs).
    pub fn choose(ranges: &[std::ops::Range<usize>], target: usize, seed: u64) -> Self {
        let total: usize = ranges.iter().map(|r| r.len()).sum();
        let layers = ranges.len().max(1);
        let floor = target.div_ceil(2 * layers);
        let key = rng::mix64(seed ^ rng::domain::TEST_COORDINATES);
        let (mut indices, mut layer, mut weight) = (Vec::new(), Vec::new(), Vec::new());
        for (l, r) in ranges.iter().enumerate() {
            let len = r.len();
            let want = ((target as f64 * len as f64 / total.max(1) as f64).ceil() as usize)
                .max(floor)
                .min(len);
            if want == 0 {
                continue;
            }
            let mut chosen: Vec<(u64, usize)> =
                r.clone().map(|j| (rng::mix64(key ^ j as u64), j)).collect();
            if want < len {
                chosen.select_nth_unstable(want - 1);
                chosen.truncate(want);
            }
            let mut js: Vec<usize> = chosen.into_iter().map(|c| c.1).collect();
            js.sort_unstable();
            for j in js {
                indices.push(j);
                layer.push(l + 1);
                weight.push(len as f64 / want as f64);
            }
        }
        CoordinateSample {
            indices,
            layer,
            weight,
            values: Vec::new(),
            rows: 0,
            layers,
        }
    }

    /// Coordinates chosen.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether none were chosen.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Keeps the chosen coordinates of the next row.
    pub fn push_row<T: Copy + Into<f64>>(&mut self, g: &[T]) {
        self.values
            .extend(self.indices.iter().map(|&j| g[j].into()));
        self.rows += 1;
    }

    /// Column `s` (coordinate `indices[s]`) across the rows, centered.
    fn column(&self, s: usize) -> Vec<f64> {
        let n = self.indices.len();
        let col: Vec<f64> = (0..self.rows).map(|p| self.values[p * n + s]).collect();
        let mean = col.iter().sum::<f64>() / self.rows.max(1) as f64;
        col.into_iter().map(|v| v - mean).collect()
    }

    /// Runs every test; `pooled` is the pooled (dimension-wise) sample of noise values.
    pub fn analyze(&self, pooled: &[f64], bootstrap: usize, seed: u64) -> CoordinateReport {
        let k = self.rows;
        if self.is_empty() {
            return CoordinateReport::skipped("no coordinates chosen");
        }
        let cols: Vec<Vec<f64>> = (0..self.len())
            .into_par_iter()
            .map(|s| self.column(s))
            .collect();
        let pooled = thin(pooled, DIMENSION_WISE_MAX);
        CoordinateReport {
            gaussianity: self.gaussianity(&cols, &pooled, k),
            per_coordinate_alpha: self.alpha(&cols, k, seed),
            power_law: self.power_law(&cols, &pooled, k, bootstrap, seed),
        }
    }

    fn gaussianity(&self, cols: &[Vec<f64>], pooled: &[f64], k: usize) -> Check<Gaussianity> {
        if k < AD_MIN_SAMPLES {
            return Check::skipped(format!(
                "needs at least {AD_MIN_SAMPLES} minibatches, got {k}"
            ));
        }
        let tests: Vec<Option<f64>> = cols
            .par_iter()
            .map(|c| anderson_darling(c).ok().map(|t| t.p_value))
            .collect();
        let tested: Vec<usize> = (0..cols.len()).filter(|&s| tests[s].is_some()).collect();
        let p: Vec<f64> = tested.iter().filter_map(|&s| tests[s]).collect();
        let rejected = benjamini_hochberg(&p, LEVEL);
        let share = |pick: &dyn Fn(usize, usize) -> bool, layer: Option<usize>| {
            let (mut num, mut den) = (0.0, 0.0);
            for (i, &s) in tested.iter().enumerate() {
                if layer.is_some_and(|l| l != self.layer[s]) {
                    continue;
                }
                den += self.weight[s];
                if pick(i, s) {
                    num += self.weight[s];
                }
            }
            if den > 0.0 { num / den } else { f64::NAN }
        };
        let per_layer = (1..=self.layers)
            .map(|l| LayerShare {
                layer: l,
                coordinates: tested.iter().filter(|&&s| self.layer[s] == l).count(),
                rejected_fraction: share(&|i, _| rejected[i], Some(l)),
            })
            .filter(|s| s.coordinates > 0)
            .collect();
        Check::Done(Gaussianity {
            test: "anderson-darling",
            alpha_level: LEVEL,
            correction: "benjamini-hochberg",
            minibatches: k,
            coordinates: tested.len(),
            constant: cols.len() - tested.len(),
            rejected_fraction: share(&|i, _| rejected[i], None),
            rejected_fraction_uncorrected: share(&|i, _| p[i] < LEVEL, None),
            per_layer,
            dimension_wise: match anderson_darling(pooled) {
                Ok(t) => Check::Done(t),
                Err(e) => Check::skipped(e.to_string()),
            },
        })
    }

    fn alpha(&self, cols: &[Vec<f64>], k: usize, seed: u64) -> Check<PerCoordinateAlpha> {
        if k < ALPHA_MIN_SAMPLES {
            return Check::skipped(format!(
                "needs at least {ALPHA_MIN_SAMPLES} minibatches, got {k}"
            ));
        }
        let fits: Vec<Option<f64>> = cols
            .par_iter()
            .map(|c| cf_regression::alpha(c).ok())
            .collect();
        let items: Vec<(f64, f64, usize)> = fits
            .iter()
            .enumerate()
            .filter_map(|(s, a)| a.map(|a| (a, self.weight[s], self.layer[s])))
            .collect();
        if items.is_empty() {
            return Check::skipped("every chosen coordinate is constant");
        }
        let pairs: Vec<(f64, f64)> = items.iter().map(|x| (x.0, x.1)).collect();
        let quantiles = Quantiles::of(&pairs);
        let total: f64 = pairs.iter().map(|p| p.1).sum();
        let edges: Vec<f64> = (0..=20).map(|i| 0.1 * i as f64).collect();
        let mut hist = vec![0.0; 20];
        for &(a, w) in &pairs {
            let bin = ((a / 0.1).floor().max(0.0) as usize).min(19);
            hist[bin] += w / total;
        }
        let at_two = pairs
            .iter()
            .filter(|p| p.0 >= 2.0)
            .fold(0.0, |acc, p| acc + p.1)
            / total;
        let per_layer = (1..=self.layers)
            .filter_map(|l| {
                let v: Vec<(f64, f64)> = items
                    .iter()
                    .filter(|x| x.2 == l)
                    .map(|x| (x.0, x.1))
                    .collect();
                (!v.is_empty()).then(|| LayerAlpha {
                    layer: l,
                    coordinates: v.len(),
                    quantiles: Quantiles::of(&v),
                })
            })
            .collect();
        let (sd, bias) = alpha_spread(quantiles.q50, k, seed);
        Check::Done(PerCoordinateAlpha {
            estimator: "cf-regression",
            minibatches: k,
            coordinates: items.len(),
            quantiles,
            at_two_fraction: at_two,
            histogram_edges: edges,
            histogram: hist,
            per_layer,
            sampling_sd: sd,
            sampling_bias: bias,
        })
    }

    fn power_law(
        &self,
        cols: &[Vec<f64>],
        pooled: &[f64],
        k: usize,
        bootstrap: usize,
        seed: u64,
    ) -> Check<PowerLawReport> {
        let pooled = thin(pooled, DIMENSION_WISE_POWER_LAW_MAX);
        let dimension_wise = match power_law::test(&pooled, bootstrap, seed) {
            Ok(t) => Check::Done(t),
            Err(e) => Check::skipped(format!("pooled sample: {e}")),
        };
        let iteration_wise = if k < power_law::MIN_SAMPLES {
            Check::skipped(format!(
                "needs at least {} minibatches, got {k}",
                power_law::MIN_SAMPLES
            ))
        } else {
            let stride = cols.len().div_ceil(POWER_LAW_COORDINATES).max(1);
            let tests: Vec<Option<PowerLawTest>> = cols
                .par_iter()
                .enumerate()
                .map(|(s, c)| {
                    if s % stride != 0 {
                        return None;
                    }
                    let sd = rng::mix64(seed ^ self.indices[s] as u64);
                    power_law::test(c, bootstrap, sd).ok()
                })
                .collect();
            let got: Vec<(usize, &PowerLawTest)> = tests
                .iter()
                .enumerate()
                .filter_map(|(s, t)| t.as_ref().map(|t| (s, t)))
                .collect();
            if got.is_empty() {
                Check::skipped("no coordinate has 50 non-zero values")
            } else {
                let total: f64 = got.iter().map(|(s, _)| self.weight[*s]).sum();
                let share = |f: &dyn Fn(&PowerLawTest) -> bool| {
                    got.iter()
                        .filter(|(_, t)| f(t))
                        .fold(0.0, |acc, (s, _)| acc + self.weight[*s])
                        / total
                };
                let mut hist = vec![0.0; 10];
                for (s, t) in &got {
                    hist[((t.p_value * 10.0).floor() as usize).min(9)] += self.weight[*s] / total;
                }
                let pv: Vec<(f64, f64)> = got
                    .iter()
                    .map(|(s, t)| (t.p_value, self.weight[*s]))
                    .collect();
                let ti: Vec<(f64, f64)> = got
                    .iter()
                    .map(|(s, t)| (t.tail_index, self.weight[*s]))
                    .collect();
                Check::Done(IterationWisePowerLaw {
                    coordinates: got.len(),
                    ruled_out_fraction: share(&|t| t.p_value <= POWER_LAW_THRESHOLD),
                    p_value_quantiles: Quantiles::of(&pv),
                    p_value_histogram: hist,
                    tail_index_quantiles: Quantiles::of(&ti),
                    favours_power_law: share(&|t| t.lr_lognormal > 0.0 && t.lr_p_value < 0.1),
                    favours_lognormal: share(&|t| t.lr_lognormal < 0.0 && t.lr_p_value < 0.1),
                })
            }
        };
        Check::Done(PowerLawReport {
            bootstrap,
            p_value: dimension_wise.done().map_or(f64::NAN, |t| t.p_value),
            dimension_wise,
            iteration_wise,
        })
    }
}

/// Every ⌈n/max⌉-th value of `xs`.
fn thin(xs: &[f64], max: usize) -> Vec<f64> {
    let step = xs.len().div_ceil(max).max(1);
    xs.iter().step_by(step).copied().collect()
}

/// Standard deviation and bias of the per-coordinate α̂ (CF regression) on SαS(α) columns of
/// `k` values.
pub fn alpha_spread(alpha: f64, k: usize, seed: u64) -> (f64, f64) {
    let a = if alpha.is_finite() {
        alpha.clamp(0.2, 2.0)
    } else {
        2.0
    };
    let Ok(law) = Stable::new(a, 0.0, 1.0, 0.0, Param::S1) else {
        return (f64::NAN, f64::NAN);
    };
    let est: Vec<f64> = (0..SPREAD_COLUMNS)
        .into_par_iter()
        .filter_map(|c| {
            let sd = rng::mix64(seed ^ rng::domain::ALPHA_SPREAD ^ (c as u64) << 20);
            cf_regression::alpha(&draw(&law, k, sd)).ok()
        })
        .collect();
    let n = est.len() as f64;
    let mean = est.iter().sum::<f64>() / n;
    let var = est.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (var.sqrt(), mean - a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_are_chosen_per_layer_and_weighted_to_the_network() {
        let ranges = [0..10_000, 10_000..10_050, 10_050..60_050];
        let s = CoordinateSample::choose(&ranges, 600, 1);
        let per = |l| s.layer.iter().filter(|&&x| x == l).count();
        // Proportional: 100 and 500; the 50-parameter layer gets its floor ⌈600/6⌉ = 100 → all 50.
        assert_eq!((per(1), per(2), per(3)), (100, 50, 500));
        let total: f64 = s.weight.iter().sum();
        assert!((total - 60_050.0).abs() < 1e-6);
        assert_eq!(s.indices, CoordinateSample::choose(&ranges, 600, 1).indices);
        assert_ne!(s.indices, CoordinateSample::choose(&ranges, 600, 2).indices);
        assert!(s.indices.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn weighted_quantiles() {
        let q = Quantiles::of(&[(1.0, 1.0), (2.0, 1.0), (3.0, 2.0)]);
        assert_eq!(
            (q.q10, q.q25, q.q50, q.q75, q.q90),
            (1.0, 1.0, 2.0, 3.0, 3.0)
        );
    }

    #[test]
    fn too_few_minibatches_skip_with_the_reason() {
        let mut s = CoordinateSample::choose(std::slice::from_ref(&(0..100)), 50, 3);
        for p in 0..14 {
            let row: Vec<f64> = (0..100).map(|j| ((p * 31 + j * 7) % 13) as f64).collect();
            s.push_row(&row);
        }
        let r = s.analyze(&[], 10, 1);
        assert!(r.gaussianity.done().is_some());
        assert_eq!(
            r.per_coordinate_alpha,
            Check::skipped("needs at least 20 minibatches, got 14")
        );
        let pl = r.power_law.done().unwrap();
        assert_eq!(
            pl.iteration_wise,
            Check::skipped("needs at least 50 minibatches, got 14")
        );
        assert!(pl.dimension_wise.done().is_none());
    }
}
