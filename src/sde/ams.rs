//! Adaptive multilevel splitting (AMS) for mean exit times far beyond direct simulation.
//!
//! # The decomposition
//! Let ξ be the reaction coordinate, −(distance to the exit set) ([`Event::level`]), so that the
//! exit happens near ξ = 0, and let the start x₀ have level ξ₀ < 0. Two levels split the way:
//! the start region A = {ξ ≤ z_A} and the entrance surface Σ = {ξ ≥ z_Σ}, z_A = (1 − a)·ξ₀ and
//! z_Σ = (1 − s)·ξ₀ with 0 < a < s < 1 (defaults a = 0.05, s = 0.1). The path is a sequence of
//! cycles. A cycle leaves A and either exits at once (a jump of the noise from below Σ to the
//! exit: probability q, duration J) or enters Σ (duration D₁, at a state Y); from Y it either
//! returns to A (duration D₂: a failed cycle) or exits (duration R: the reactive part). With
//! p = P(exit before A | entrance distribution on Σ), a cycle succeeds with probability
//! P = q + (1 − q)·p, the number of failed cycles is geometric, and
//!
//! ```text
//! E[τ] = (1/P − 1)·E[D₁ + D₂ | fail] + (q·E[J] + (1 − q)·p·(E[D₁] + E[R | exit])) / P
//! ```
//!
//! (for continuous paths q = 0, and this is the formula of Cérou, Guyader, Lelièvre & Pommier
//! 2011, J. Chem. Phys. 134, 054108; α-stable noise jumps past Σ, and q is a large share of P:
//! 38 % for α = 1.5, ε = 0.2 in the quartic double well; leaving q out made the estimate three
//! times too long at ε = 0.1).
//! q, the loop durations and the entrance states come from a direct simulation of `loops` cycles
//! per run; p comes from AMS.
//!
//! # AMS with ties (Cérou & Guyader 2007; Bréhier, Gazeau, Goudenège, Lelièvre & Rousset 2016)
//! N replicas start at entrance states and run to A or the exit; each keeps its path and the
//! largest level it reached. At each iteration the current level z is the smallest maximum; every
//! replica whose maximum is ≤ z (K of them — all the tied ones, which keeps the estimator unbiased
//! for discrete-time dynamics) is killed and replaced by a copy of a survivor chosen uniformly,
//! cut at the survivor's first state with level > z and continued with fresh noise. The estimator
//! p̂ = Π_j (1 − K_j/N) · (share of replicas at the exit at the end) is unbiased. If every replica
//! is tied (K = N) the run ends with p̂ = 0. The mean over independent runs is unbiased; the
//! relative variance of one run is about (−ln p)/N, so the standard error comes from the spread
//! of the runs, and the mean time from the delta method on p̄ and the loop mean.
//!
//! Every run draws from its own streams (run, iteration, replica), chosen survivors included, so
//! the result is a pure function of (simulation, seed, settings), whatever the threads.

use rand::RngExt;
use rayon::prelude::*;

use super::lanes;
use super::{Event, Simulation};
use crate::rng;
use crate::simd::Scalar;

/// Settings of an AMS estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AmsConfig {
    /// Replicas N per run.
    pub replicas: usize,
    /// Independent runs; the standard error comes from their spread.
    pub runs: usize,
    /// Direct cycles per run (loop durations and entrance states).
    pub loops: usize,
    /// a: the start region is ξ ≤ (1 − a)·ξ₀.
    pub return_level: f64,
    /// s: the entrance surface is ξ = (1 − s)·ξ₀.
    pub entrance_level: f64,
}

impl Default for AmsConfig {
    fn default() -> Self {
        AmsConfig {
            replicas: 500,
            runs: 20,
            loops: 5000,
            return_level: 0.05,
            entrance_level: 0.1,
        }
    }
}

/// One AMS run.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AmsRun {
    /// p̂ of this run (AMS from the entrance states); stored as its bits, so that a run kept in
    /// a checkpoint comes back exactly (NaN included).
    #[serde(with = "f64_bits")]
    pub p: f64,
    /// Cycles that left A and exited without entering Σ (a jump), and their total steps.
    pub jump_exits: u64,
    /// Total steps of the jump exits.
    pub jump_exit_steps: u64,
    /// Failed cycles (A → Σ → A) simulated directly, with their total steps.
    pub failed_loops: u64,
    /// Total steps of the failed cycles.
    pub failed_loop_steps: u64,
    /// Phase-1 durations (A → Σ): count and total steps.
    pub entrances: u64,
    /// Total steps from A to Σ.
    pub entrance_steps: u64,
    /// Cycles that exited from Σ in the direct simulation (counted, not used: AMS estimates p).
    pub direct_exits: u64,
    /// Replicas at the exit at the end, with their total steps from their entrance state.
    pub reactive: u64,
    /// Total reactive steps.
    pub reactive_steps: u64,
    /// AMS iterations.
    pub iterations: u64,
    /// Every step simulated in this run (loops and replicas).
    pub steps: u64,
    /// Segments stopped by the horizon (each segment is capped at horizon / dt steps).
    pub capped: u64,
}

impl AmsRun {
    /// q̂: the share of cycles that exit without entering Σ.
    pub fn q(&self) -> f64 {
        let cycles = self.jump_exits + self.entrances;
        if cycles == 0 {
            return f64::NAN;
        }
        self.jump_exits as f64 / cycles as f64
    }
    /// P̂ = q̂ + (1 − q̂)·p̂: the probability that a cycle ends in the exit.
    pub fn success(&self) -> f64 {
        let q = self.q();
        q + (1.0 - q) * self.p
    }
}

/// The estimate over all runs.
#[derive(Clone, Debug, PartialEq)]
pub struct AmsEstimate {
    /// Mean exit time.
    pub mean: f64,
    /// Its standard error.
    pub mean_se: f64,
    /// p̄, the mean of the runs' p̂ (exit from Σ before A).
    pub p: f64,
    /// Standard error of p̄ (spread of the runs).
    pub p_se: f64,
    /// q̄: share of cycles that exit without entering Σ (pooled over runs).
    pub q: f64,
    /// P̄: mean over runs of q̂ + (1 − q̂)·p̂, a cycle's probability to end in the exit.
    pub success: f64,
    /// Its standard error (spread of the runs).
    pub success_se: f64,
    /// Mean duration of a failed cycle, E[D₁ + D₂ | fail].
    pub loop_mean: f64,
    /// Its standard error.
    pub loop_se: f64,
    /// Mean duration A → Σ.
    pub entrance_mean: f64,
    /// Mean duration of a jump exit (A to the exit without entering Σ).
    pub jump_mean: f64,
    /// Mean reactive duration, entrance to exit.
    pub reactive_mean: f64,
    /// The runs.
    pub runs: Vec<AmsRun>,
}

/// `f64` as its bits in serde: exact, NaN and infinities included.
mod f64_bits {
    pub fn serialize<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(v.to_bits())
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        <u64 as serde::Deserialize>::deserialize(d).map(f64::from_bits)
    }
}

impl AmsEstimate {
    /// The estimate from its runs (a pure function of them: runs kept from an earlier process
    /// give the same estimate, bit for bit). `dt` is the time step.
    pub fn from_runs(runs: Vec<AmsRun>, dt: f64) -> AmsEstimate {
        let mean_se_of = |xs: &[f64]| -> (f64, f64) {
            let m = xs.len() as f64;
            let mu = xs.iter().sum::<f64>() / m;
            let var = xs.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (m - 1.0).max(1.0);
            (mu, (var / m).sqrt())
        };
        let (p, p_se) = mean_se_of(&runs.iter().map(|r| r.p).collect::<Vec<_>>());
        let (success, success_se) =
            mean_se_of(&runs.iter().map(AmsRun::success).collect::<Vec<_>>());
        // Durations pooled over runs; the loop mean's SE from the spread of the per-run means.
        let total = |f: fn(&AmsRun) -> u64| runs.iter().map(f).sum::<u64>() as f64;
        let per = |steps: f64, count: f64| if count > 0.0 { dt * steps / count } else { 0.0 };
        let loop_mean = per(total(|r| r.failed_loop_steps), total(|r| r.failed_loops));
        let per_run: Vec<f64> = runs
            .iter()
            .filter(|r| r.failed_loops > 0)
            .map(|r| dt * r.failed_loop_steps as f64 / r.failed_loops as f64)
            .collect();
        let loop_se = if per_run.len() > 1 {
            mean_se_of(&per_run).1
        } else {
            f64::NAN
        };
        let entrance_mean = per(total(|r| r.entrance_steps), total(|r| r.entrances));
        let jump_mean = per(total(|r| r.jump_exit_steps), total(|r| r.jump_exits));
        let reactive_mean = per(total(|r| r.reactive_steps), total(|r| r.reactive));
        let q = total(|r| r.jump_exits) / (total(|r| r.jump_exits) + total(|r| r.entrances));
        let cycles = 1.0 / success - 1.0;
        let last = (q * jump_mean + (1.0 - q) * p * (entrance_mean + reactive_mean)) / success;
        let mean = cycles * loop_mean + last;
        // Delta method on (1/P̄ − 1)·L̄: ∂/∂P = −L̄/P̄², ∂/∂L = 1/P̄ − 1 (the cycle term dominates
        // when exits are rare; the last cycle's duration is small beside it).
        let mean_se = (loop_mean / (success * success) * success_se).hypot(cycles * loop_se);
        AmsEstimate {
            mean,
            mean_se,
            p,
            p_se,
            q,
            success,
            success_se,
            jump_mean,
            loop_mean,
            loop_se,
            entrance_mean,
            reactive_mean,
            runs,
        }
    }

    /// Total steps simulated.
    pub fn steps(&self) -> u64 {
        self.runs.iter().map(|r| r.steps).sum()
    }
    /// Total AMS iterations.
    pub fn iterations(&self) -> u64 {
        self.runs.iter().map(|r| r.iterations).sum()
    }
    /// Total failed loops.
    pub fn loops(&self) -> u64 {
        self.runs.iter().map(|r| r.failed_loops).sum()
    }
    /// Segments cut by the horizon.
    pub fn capped(&self) -> u64 {
        self.runs.iter().map(|r| r.capped).sum()
    }
}

/// How a simulated segment ended.
#[derive(Clone, Copy, Debug, PartialEq)]
enum End {
    /// Back in the start region A.
    Returned,
    /// Reached Σ (phase 1 only).
    Entered,
    /// The exit event.
    Exit,
    /// Cut by the horizon, or the state became non-finite.
    Capped,
}

/// Stream salts: loops, replicas and survivor choice draw from disjoint stream families.
const SALT_LOOPS: u64 = 0x6c6f_6f70_7300_0000;
const SALT_REPLICA: u64 = 0x7265_706c_6963_6100;
const SALT_CHOICE: u64 = 0x6368_6f69_6365_0000;

impl Simulation {
    /// The AMS estimate of the mean exit time from the start (see the module documentation).
    /// `seed` plays the role it has for direct runs.
    pub fn ams(&self, cfg: &AmsConfig, seed: u64) -> AmsEstimate {
        let runs: Vec<AmsRun> = (0..cfg.runs as u64)
            .into_par_iter()
            .map(|r| self.ams_run(cfg, seed, r))
            .collect();
        AmsEstimate::from_runs(runs, self.dt())
    }

    /// z_A and z_Σ.
    fn ams_levels(&self, cfg: &AmsConfig) -> (f64, f64) {
        let x0 = self.event().level(self.start());
        (
            x0 * (1.0 - cfg.return_level),
            x0 * (1.0 - cfg.entrance_level),
        )
    }

    /// Advances `x` with the noise stream `st` until it returns to A (level ≤ `za`), reaches Σ
    /// (level ≥ `zs`, when `zs` is given) or exits; each state is passed to `visit`. Returns how it
    /// ended and the steps taken.
    fn segment(
        &self,
        mut x: f64,
        st: &mut [u64; 4],
        za: f64,
        zs: Option<f64>,
        mut visit: impl FnMut(f64),
    ) -> (End, f64, u64) {
        let ev = self.event();
        let mut n = 0u64;
        loop {
            let (y, code) = self.kernel.step::<Scalar>(Scalar(x), Scalar(n as f64), st);
            n += 1;
            let y = y.0;
            if code.0 == lanes::EXIT_LOW || code.0 == lanes::EXIT_HIGH {
                return (End::Exit, y, n);
            }
            if code.0 != lanes::RUNNING {
                return (End::Capped, y, n);
            }
            let z = ev.level(y);
            visit(y);
            if z <= za {
                return (End::Returned, y, n);
            }
            if zs.is_some_and(|s| z >= s) {
                return (End::Entered, y, n);
            }
            x = y;
        }
    }

    fn ams_run(&self, cfg: &AmsConfig, seed: u64, run: u64) -> AmsRun {
        let (za, zs) = self.ams_levels(cfg);
        let ev = self.event();
        let mut out = AmsRun::default();
        // Direct cycles: one chain from the start, restarted there after an exit or a cap.
        let mut st = rng::stream_state(seed ^ SALT_LOOPS, run);
        let mut x = self.start();
        let mut entrances: Vec<f64> = Vec::with_capacity(cfg.loops);
        for _ in 0..cfg.loops {
            // Phase 1: from A (or the start) to Σ. The start lies in A, a return ends in A.
            let (end, y, n1) = self.segment(x, &mut st, f64::NEG_INFINITY, Some(zs), |_| {});
            out.steps += n1;
            match end {
                End::Entered => {}
                End::Exit => {
                    out.jump_exits += 1;
                    out.jump_exit_steps += n1;
                    x = self.start();
                    continue;
                }
                _ => {
                    out.capped += 1;
                    x = self.start();
                    continue;
                }
            }
            out.entrances += 1;
            out.entrance_steps += n1;
            entrances.push(y);
            // Phase 2: from the entrance state back to A, or out.
            let (end, y2, n2) = self.segment(y, &mut st, za, None, |_| {});
            out.steps += n2;
            match end {
                End::Returned => {
                    out.failed_loops += 1;
                    out.failed_loop_steps += n1 + n2;
                    x = y2;
                }
                End::Exit => {
                    out.direct_exits += 1;
                    x = self.start();
                }
                _ => {
                    out.capped += 1;
                    x = self.start();
                }
            }
        }
        if entrances.is_empty() {
            out.p = f64::NAN;
            return out;
        }

        // AMS from the entrance states.
        struct Replica {
            /// States from the entrance state on.
            path: Vec<f64>,
            /// Largest level reached (+∞ once at the exit).
            max: f64,
            exited: bool,
        }
        let nrep = cfg.replicas;
        let simulate = |from: Vec<f64>, stream: u64, out: &mut AmsRun| -> Replica {
            let mut path = from;
            let start = *path.last().expect("a path has its origin");
            let mut st = rng::stream_state(seed ^ SALT_REPLICA, stream);
            let (end, y, n) = self.segment(start, &mut st, za, None, |y| path.push(y));
            out.steps += n;
            let exited = end == End::Exit;
            if exited {
                path.push(y);
            }
            if end == End::Capped {
                out.capped += 1;
            }
            let max = if exited {
                f64::INFINITY
            } else {
                path.iter()
                    .map(|&s| ev.level(s))
                    .fold(f64::NEG_INFINITY, f64::max)
            };
            Replica { path, max, exited }
        };
        let id = |iteration: u64, i: usize| {
            rng::mix64(run.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (iteration << 24) ^ i as u64)
        };
        let mut reps: Vec<Replica> = (0..nrep)
            .map(|i| simulate(vec![entrances[i % entrances.len()]], id(0, i), &mut out))
            .collect();
        let mut choose = rng::stream(seed ^ SALT_CHOICE, run);
        let mut log_p = 0.0f64;
        loop {
            let z = reps.iter().map(|r| r.max).fold(f64::INFINITY, f64::min);
            if z == f64::INFINITY {
                break;
            }
            let killed: Vec<usize> = (0..nrep).filter(|&i| reps[i].max <= z).collect();
            if killed.len() == nrep {
                log_p = f64::NEG_INFINITY;
                break;
            }
            out.iterations += 1;
            log_p += (1.0 - killed.len() as f64 / nrep as f64).ln();
            let survivors: Vec<usize> = (0..nrep).filter(|&i| reps[i].max > z).collect();
            for &i in &killed {
                let j = survivors[choose.random_range(0..survivors.len())];
                let src = &reps[j].path;
                let cut = src
                    .iter()
                    .position(|&s| ev.level(s) > z)
                    .unwrap_or(src.len() - 1);
                let at_exit = reps[j].exited && cut == src.len() - 1;
                let prefix = src[..=cut].to_vec();
                reps[i] = if at_exit {
                    // The survivor's first state above z is its exit state: the copy has exited.
                    Replica {
                        path: prefix,
                        max: f64::INFINITY,
                        exited: true,
                    }
                } else {
                    simulate(prefix, id(out.iterations, i), &mut out)
                };
            }
        }
        let exited: Vec<&Replica> = reps.iter().filter(|r| r.exited).collect();
        out.reactive = exited.len() as u64;
        out.reactive_steps = exited.iter().map(|r| (r.path.len() - 1) as u64).sum();
        out.p = log_p.exp() * exited.len() as f64 / nrep as f64;
        out
    }
}

impl Event {
    /// The reaction coordinate ξ: minus the distance to the exit set (≥ 0 once there). For a
    /// transition or a one-sided boundary, x − hi or lo − x; for an interval, −min(x − lo, hi − x);
    /// for a window, minus the distance to it.
    pub fn level(&self, x: f64) -> f64 {
        match *self {
            Event::Boundaries { lo, hi } => match (lo.is_finite(), hi.is_finite()) {
                (true, true) => -(x - lo).min(hi - x),
                (false, true) => x - hi,
                (true, false) => lo - x,
                (false, false) => f64::NEG_INFINITY,
            },
            Event::Window { lo, hi } => {
                if x < lo {
                    x - lo
                } else if x > hi {
                    hi - x
                } else {
                    0.0
                }
            }
        }
    }
}
