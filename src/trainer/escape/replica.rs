//! One replica's walk from θ₀ and what it records at every radius.
//!
//! A replica iterates θₖ₊₁ = θₖ − η·gₖ, with gₖ the SGD minibatch gradient ([`Drive::Sgd`]) or the
//! full-batch gradient plus a model noise Zₖ, until ‖θₖ − θ₀‖ (on the measured coordinates) exceeds
//! the largest radius, the step budget runs out, or θ stops being finite. Replica r draws its
//! minibatch order and its noise from its own streams, so a replica is a pure function of
//! (seed, noise, r) and the set of replicas is the same on any number of threads.

use rand::distr::Distribution;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::objective::Objective;
use super::spec::NoiseKind;
use crate::noise::StandardStable;
use crate::rng;

/// How the steps of a replica are driven.
#[derive(Clone, Debug, PartialEq)]
pub enum Drive {
    /// The minibatch gradient: each replica's own shuffled epochs, or (`replacement`) b examples
    /// drawn with replacement at every step.
    Sgd {
        /// Draw every minibatch independently, with replacement.
        replacement: bool,
    },
    /// Full gradient + N(0, diag(std²)).
    Gaussian {
        /// Per-coordinate standard deviations.
        std: Vec<f64>,
    },
    /// Full gradient + (1/√K)·Σ_p ξ_p U_p with ξ_p ~ N(0, 1): Gaussian with covariance
    /// (1/K)Σ_p U_p U_pᵀ, the empirical second moment of the K noise vectors U_p.
    Covariance {
        /// The noise vectors U_p.
        samples: Vec<Vec<f32>>,
    },
    /// Full gradient + independent SαS(cⱼ) coordinates, with the α of each coordinate's range.
    Independent {
        /// Consecutive parameter ranges covering every coordinate, each with its α ∈ (0, 2] (one
        /// range for a pooled α).
        alphas: Vec<(std::ops::Range<usize>, f64)>,
        /// Per-coordinate scales cⱼ.
        scales: Vec<f64>,
    },
    /// Full gradient + √A·√2·c·N(0, I) with A positive α/2-stable: every projection on a unit
    /// vector is SαS(c) (Samorodnitsky & Taqqu 1994, Prop. 2.5.2).
    Isotropic {
        /// α ∈ (0, 2].
        alpha: f64,
        /// The scale c.
        scale: f64,
    },
}

/// What a replica recorded when it first left the ball of one radius.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Passage {
    /// The step k (1-based) after which ‖θₖ − θ₀‖ > r first.
    pub step: u64,
    /// The full-batch loss at θₖ (NaN when θ stopped being finite).
    pub loss: f64,
    /// The longest single step ‖θⱼ − θⱼ₋₁‖ for j ≤ k.
    pub largest_step: f64,
    /// The share of that step's squared length carried by its 1 % largest coordinates.
    pub jump_share: f64,
    /// The length of step k itself (the crossing step).
    pub crossing_step: f64,
}

/// One replica's record: a passage per radius (None: not reached within the budget).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ReplicaRecord {
    /// Replica index.
    pub replica: u64,
    /// Passages, one per radius in order.
    pub passages: Vec<Option<Passage>>,
    /// Steps taken.
    pub steps: u64,
    /// Whether θ stopped being finite (then every radius not yet passed counts as passed at that
    /// step, with a NaN loss).
    pub diverged: bool,
}

/// The walk's settings shared by every replica of one noise.
#[derive(Clone, Debug)]
pub struct Walk<'a> {
    /// Learning rate η.
    pub eta: f64,
    /// Radii, increasing.
    pub radii: &'a [f64],
    /// Step budget.
    pub budget: u64,
    /// Parameter ranges the distance is measured on.
    pub measured: &'a [std::ops::Range<usize>],
    /// Seed of the noise streams.
    pub seed: u64,
}

fn top_share(values: &mut [f64]) -> f64 {
    let total: f64 = values.iter().sum();
    if values.is_empty() || total <= 0.0 {
        return f64::NAN;
    }
    let k = values.len().div_ceil(100);
    let (big, kth, _) = values.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
    (big.iter().sum::<f64>() + *kth) / total
}

/// The noise of one step (into `z`, in gradient units).
struct NoiseDraw {
    /// One law per range of [`Drive::Independent`].
    stable: Vec<StandardStable>,
    subordinator: Option<(StandardStable, f64)>,
}

impl NoiseDraw {
    fn new(drive: &Drive) -> Self {
        match drive {
            Drive::Independent { alphas, .. } => NoiseDraw {
                stable: alphas
                    .iter()
                    .map(|&(_, a)| StandardStable::new(a, 0.0).expect("alpha validated"))
                    .collect(),
                subordinator: None,
            },
            &Drive::Isotropic { alpha, .. } if alpha < 2.0 => NoiseDraw {
                stable: Vec::new(),
                subordinator: StandardStable::new(alpha / 2.0, 1.0).ok().map(|s| {
                    (
                        s,
                        (std::f64::consts::PI * alpha / 4.0).cos().powf(2.0 / alpha),
                    )
                }),
            },
            _ => NoiseDraw {
                stable: Vec::new(),
                subordinator: None,
            },
        }
    }

    fn add(&self, drive: &Drive, r: &mut rng::PathRng, g: &mut [f32]) {
        match drive {
            Drive::Sgd { .. } => {}
            Drive::Gaussian { std } => {
                for (gi, s) in g.iter_mut().zip(std) {
                    let n: f64 = StandardNormal.sample(r);
                    *gi += (s * n) as f32;
                }
            }
            Drive::Covariance { samples } => {
                let f = 1.0 / (samples.len() as f64).sqrt();
                for u in samples {
                    let n: f64 = StandardNormal.sample(r);
                    let c = (f * n) as f32;
                    for (gi, &x) in g.iter_mut().zip(u) {
                        *gi += c * x;
                    }
                }
            }
            Drive::Independent { alphas, scales } => {
                for ((range, _), &law) in alphas.iter().zip(&self.stable) {
                    for (gi, c) in g[range.clone()].iter_mut().zip(&scales[range.clone()]) {
                        *gi += (c * law.sample(r)) as f32;
                    }
                }
            }
            Drive::Isotropic { scale, .. } => {
                let a = match self.subordinator {
                    Some((law, s)) => s * law.sample(r),
                    None => 1.0,
                };
                let f = (2.0 * a).sqrt() * scale;
                for gi in g.iter_mut() {
                    let n: f64 = StandardNormal.sample(r);
                    *gi += (f * n) as f32;
                }
            }
        }
    }
}

/// Runs replica `replica` under `drive`.
pub fn replica<O: Objective>(
    objective: &O,
    drive: &Drive,
    kind: NoiseKind,
    walk: &Walk<'_>,
    replica: u64,
) -> ReplicaRecord {
    let mut state = objective.start(replica);
    let theta0 = objective.params(&state).to_vec();
    let m = theta0.len();
    let mut g = vec![0f32; m];
    let mut r = rng::aux_stream(walk.seed, kind.domain(), replica);
    let noise = NoiseDraw::new(drive);
    let measured_len: usize = walk.measured.iter().map(|r| r.len()).sum();
    let mut squares = Vec::with_capacity(measured_len);
    let (mut largest, mut share) = (0.0f64, f64::NAN);
    let mut passages = vec![None; walk.radii.len()];
    let mut next = 0;
    let mut diverged = false;
    let mut steps = 0;
    let eta = walk.eta as f32;
    while steps < walk.budget && next < walk.radii.len() {
        steps += 1;
        if let Drive::Sgd { replacement } = *drive {
            let drawn = objective.minibatch_gradient(&mut state, steps - 1, replacement, &mut g);
            assert!(drawn, "SGD replicas need an objective with minibatches");
        } else {
            objective.full_gradient(&mut state, &mut g);
            noise.add(drive, &mut r, &mut g);
        }
        let p = objective.params_mut(&mut state);
        // The step θ ← θ − η·g in f32, as the trainer's SGD step; its length from the applied change.
        let mut step2 = 0.0f64;
        let mut dist2 = 0.0f64;
        for range in walk.measured {
            for j in range.clone() {
                let before = p[j];
                p[j] = before - eta * g[j];
                step2 += (f64::from(p[j]) - f64::from(before)).powi(2);
                dist2 += (f64::from(p[j]) - f64::from(theta0[j])).powi(2);
            }
        }
        // Coordinates outside the measured ranges move too.
        let mut start = 0;
        for range in walk.measured.iter().chain(std::iter::once(&(m..m))) {
            for j in start..range.start {
                p[j] -= eta * g[j];
            }
            start = range.end;
        }
        let step_len = step2.sqrt();
        if step_len > largest {
            largest = step_len;
            squares.clear();
            for range in walk.measured {
                squares.extend(range.clone().map(|j| f64::from(eta * g[j]).powi(2)));
            }
            share = top_share(&mut squares);
        }
        let dist = dist2.sqrt();
        if !dist.is_finite() || !step_len.is_finite() {
            diverged = true;
            for slot in &mut passages[next..] {
                *slot = Some(Passage {
                    step: steps,
                    loss: f64::NAN,
                    largest_step: f64::INFINITY,
                    jump_share: f64::NAN,
                    crossing_step: f64::INFINITY,
                });
            }
            break;
        }
        if dist > walk.radii[next] {
            let loss = objective.loss(&mut state);
            while next < walk.radii.len() && dist > walk.radii[next] {
                passages[next] = Some(Passage {
                    step: steps,
                    loss,
                    largest_step: largest,
                    jump_share: share,
                    crossing_step: step_len,
                });
                next += 1;
            }
        }
    }
    ReplicaRecord {
        replica,
        passages,
        steps,
        diverged,
    }
}

/// Replicas 0…n−1 under `drive`, in parallel, in replica order; `progress(done)` after each.
pub fn replicas<O: Objective>(
    objective: &O,
    drive: &Drive,
    kind: NoiseKind,
    walk: &Walk<'_>,
    n: usize,
    progress: &(dyn Fn() + Sync),
) -> Vec<ReplicaRecord> {
    (0..n as u64)
        .into_par_iter()
        .map(|k| {
            let rec = replica(objective, drive, kind, walk, k);
            progress();
            rec
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_share_of_one_dominant_coordinate_is_its_share() {
        let mut v: Vec<f64> = vec![1.0; 199];
        v.push(801.0);
        // 200 values: the top 1 % is 2 values, 801 + 1 of 1000.
        assert!((top_share(&mut v) - 0.802).abs() < 1e-12);
        let mut flat = vec![2.0; 300];
        assert!((top_share(&mut flat) - 0.01).abs() < 1e-12);
    }

    #[test]
    fn covariance_noise_has_the_samples_second_moment() {
        // U₁ = (1, 0, 2), U₂ = (1, 1, −1): Ĉ = ½(U₁U₁ᵀ + U₂U₂ᵀ). Each entry of the empirical
        // second moment of n = 40 000 draws has SE √((CᵢᵢCⱼⱼ + Cᵢⱼ²)/n) (Gaussian fourth moments);
        // asserted within 4 SE.
        let samples = vec![vec![1.0f32, 0.0, 2.0], vec![1.0, 1.0, -1.0]];
        let c = |i: usize, j: usize| {
            0.5 * samples
                .iter()
                .map(|u| f64::from(u[i]) * f64::from(u[j]))
                .sum::<f64>()
        };
        let drive = Drive::Covariance {
            samples: samples.clone(),
        };
        let draw = NoiseDraw::new(&drive);
        let mut r = rng::stream(5, 0);
        let n = 40_000;
        let mut m = [[0.0f64; 3]; 3];
        for _ in 0..n {
            let mut z = [0f32; 3];
            draw.add(&drive, &mut r, &mut z);
            for (row, &zi) in m.iter_mut().zip(&z) {
                for (v, &zj) in row.iter_mut().zip(&z) {
                    *v += f64::from(zi) * f64::from(zj) / n as f64;
                }
            }
        }
        for (i, row) in m.iter().enumerate() {
            for (j, &got) in row.iter().enumerate() {
                let se = ((c(i, i) * c(j, j) + c(i, j).powi(2)) / n as f64).sqrt();
                assert!(
                    (got - c(i, j)).abs() < 4.0 * se,
                    "({i}, {j}): {got} vs {}",
                    c(i, j)
                );
            }
        }
    }
}
