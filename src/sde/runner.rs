//! The lane kernel and the parallel runner.
//!
//! Paths are processed in chunks of consecutive global indices; rayon distributes chunks over
//! threads. Inside a chunk, `lane_width` paths advance together in structure-of-arrays form (state,
//! step counter, path index and generator per lane); when a lane's path ends, the lane is refilled
//! with the chunk's next path. Memory is O(lanes), independent of the number of steps. Outcomes are
//! stored by global path index, so the result does not depend on chunking, lane width or threads.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rand::RngExt;
use rand::distr::Distribution;
use rayon::prelude::*;

use super::{Event, Outcome, Scheme, SdeError};
use crate::landscape::Landscape;
use crate::noise::{Increment, Noise};
use crate::rng::{self, PathRng};

/// Bridge probabilities below e^{−36} ≈ 2e-16 are treated as 0 (no uniform is drawn): the choice
/// depends only on the path, so streams stay deterministic.
pub(super) const BRIDGE_CUTOFF: f64 = 36.0;

/// A validated 1-D simulation: landscape, noise, scheme, step, horizon, start and event.
#[derive(Clone, Debug)]
pub struct Simulation {
    landscape: Landscape,
    noise: Noise,
    increment: Increment,
    scheme: Scheme,
    dt: f64,
    horizon: f64,
    max_steps: u64,
    start: f64,
    event: Event,
    bridge: bool,
    bridge_scale: f64, // 2/(σ_B²·dt)
    continuous: bool,
}

impl Simulation {
    /// Validates everything once; afterwards stepping cannot fail.
    ///
    /// `bridge` turns the Brownian-bridge crossing test on (it has effect only for noise with a
    /// Brownian part).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        landscape: Landscape,
        noise: Noise,
        scheme: Scheme,
        dt: f64,
        horizon: f64,
        start: f64,
        event: Event,
        bridge: bool,
    ) -> Result<Self, SdeError> {
        if !(dt > 0.0 && dt.is_finite()) {
            return Err(SdeError::Time(format!(
                "dt must be finite and > 0, got {dt}"
            )));
        }
        if !(horizon > dt && horizon.is_finite()) {
            return Err(SdeError::Time(format!(
                "horizon must be finite and > dt = {dt}, got {horizon}"
            )));
        }
        if !start.is_finite() {
            return Err(SdeError::Event(format!(
                "start must be finite, got {start}"
            )));
        }
        let increment = noise.increment(dt)?;
        scheme.check(&landscape, dt)?;
        event.check_start(start)?;
        let max_steps = (horizon / dt).round() as u64;
        let sb = noise.brownian_amplitude();
        Ok(Self {
            landscape,
            noise,
            increment,
            scheme,
            dt,
            horizon,
            max_steps,
            start,
            event,
            bridge: bridge && sb > 0.0,
            bridge_scale: 2.0 / (sb * sb * dt),
            continuous: noise.is_continuous(),
        })
    }

    /// The landscape.
    pub fn landscape(&self) -> &Landscape {
        &self.landscape
    }
    /// The noise.
    pub fn noise(&self) -> &Noise {
        &self.noise
    }
    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
    /// Step dt.
    pub fn dt(&self) -> f64 {
        self.dt
    }
    /// Horizon T (censoring time).
    pub fn horizon(&self) -> f64 {
        self.horizon
    }
    /// Start point.
    pub fn start(&self) -> f64 {
        self.start
    }
    /// The event.
    pub fn event(&self) -> Event {
        self.event
    }

    /// Advances one path by one step from `x` at step `n` (time n·dt). Returns the new state and,
    /// if the path ended in this step, its outcome.
    #[inline(always)]
    fn advance(&self, x: f64, n: u64, rng: &mut PathRng) -> (f64, Option<Outcome>) {
        let dl = self.increment.sample(rng);
        let y = self.scheme.step(&self.landscape, x, self.dt, dl);
        let t = (n + 1) as f64 * self.dt;
        if !y.is_finite() {
            return (y, Some(Outcome::NonFinite { time: t }));
        }
        if self.event.hit(y) || (self.continuous && self.event.passed_over(x, y)) {
            return (
                y,
                Some(Outcome::Exited {
                    time: t,
                    side: self.event.side(x, y),
                    from: x,
                }),
            );
        }
        if self.bridge
            && let Some((b, side)) = self.event.bridge_boundary(x, y)
        {
            let e = (b - x) * (b - y) * self.bridge_scale;
            if e < BRIDGE_CUTOFF && rng.random::<f64>() < (-e).exp() {
                return (
                    y,
                    Some(Outcome::Exited {
                        time: t,
                        side,
                        from: x,
                    }),
                );
            }
        }
        if n + 1 >= self.max_steps {
            return (y, Some(Outcome::Censored { time: self.horizon }));
        }
        (y, None)
    }

    /// Simulates one path from start to its outcome, recording every `every`-th state into `rec`.
    pub fn simulate_path(
        &self,
        seed: u64,
        path: u64,
        mut rec: Option<(&mut Trajectory, u64)>,
    ) -> (Outcome, u64) {
        let mut r = rng::stream(seed, path);
        let mut x = self.start;
        let mut n = 0u64;
        if let Some((t, _)) = rec.as_mut() {
            t.points.push((0.0, x));
        }
        loop {
            let (y, out) = self.advance(x, n, &mut r);
            n += 1;
            if let Some((t, every)) = rec.as_mut()
                && (n.is_multiple_of(*every) || out.is_some())
            {
                t.points.push((n as f64 * self.dt, y));
            }
            x = y;
            if let Some(o) = out {
                return (o, n);
            }
        }
    }

    /// Runs paths `cfg.first_path .. cfg.first_path + cfg.paths` on the current rayon pool.
    ///
    /// `done` is incremented as paths finish (for progress display); when `stop` becomes true, running
    /// paths end as censored at their current time and paths not yet started as censored at time 0.
    pub fn run(&self, cfg: &RunConfig, done: &AtomicU64, stop: &AtomicBool) -> RunResult {
        let width = cfg.lane_width.max(1);
        let chunk = (width * 8) as u64;
        let n_chunks = cfg.paths.div_ceil(chunk);
        let parts: Vec<(Vec<Outcome>, u64)> = (0..n_chunks)
            .into_par_iter()
            .map(|c| {
                let lo = cfg.first_path + c * chunk;
                let hi = (lo + chunk).min(cfg.first_path + cfg.paths);
                self.run_lanes(cfg.seed, lo, hi, width, done, stop)
            })
            .collect();
        let steps = parts.iter().map(|p| p.1).sum();
        let outcomes = parts.into_iter().flat_map(|p| p.0).collect();
        let trajectories = (0..cfg.record.min(cfg.paths))
            .map(|i| {
                let mut t = Trajectory {
                    path: cfg.first_path + i,
                    points: Vec::new(),
                };
                self.simulate_path(
                    cfg.seed,
                    cfg.first_path + i,
                    Some((&mut t, cfg.record_every.max(1))),
                );
                t
            })
            .collect();
        RunResult {
            outcomes,
            steps,
            interrupted: stop.load(Ordering::Relaxed),
            trajectories,
        }
    }

    /// The lane kernel over paths [lo, hi): structure of arrays, a finished lane takes the next path.
    fn run_lanes(
        &self,
        seed: u64,
        lo: u64,
        hi: u64,
        width: usize,
        done: &AtomicU64,
        stop: &AtomicBool,
    ) -> (Vec<Outcome>, u64) {
        let total = (hi - lo) as usize;
        if stop.load(Ordering::Relaxed) {
            // Interrupted before this chunk started: its paths are censored at time 0, not dropped.
            return (vec![Outcome::Censored { time: 0.0 }; total], 0);
        }
        let mut out: Vec<Option<Outcome>> = vec![None; total];
        let mut x = vec![self.start; width];
        let mut n = vec![0u64; width];
        let mut path = vec![u64::MAX; width];
        let mut rngs: Vec<PathRng> = (0..width).map(|_| rng::stream(seed, lo)).collect();
        let mut next = lo;
        let mut active = 0usize;
        for l in 0..width {
            if next < hi {
                path[l] = next;
                rngs[l] = rng::stream(seed, next);
                next += 1;
                active += 1;
            }
        }
        let mut steps = 0u64;
        let mut since_check = 0u32;
        while active > 0 {
            // Zipped iteration over the lane arrays: no bounds checks in the hot loop.
            for (((xl, nl), pl), rl) in x
                .iter_mut()
                .zip(n.iter_mut())
                .zip(path.iter_mut())
                .zip(rngs.iter_mut())
            {
                if *pl == u64::MAX {
                    continue;
                }
                let (y, o) = self.advance(*xl, *nl, rl);
                *xl = y;
                *nl += 1;
                if let Some(o) = o {
                    steps += *nl;
                    out[(*pl - lo) as usize] = Some(o);
                    done.fetch_add(1, Ordering::Relaxed);
                    if next < hi {
                        *pl = next;
                        *rl = rng::stream(seed, next);
                        *xl = self.start;
                        *nl = 0;
                        next += 1;
                    } else {
                        *pl = u64::MAX;
                        active -= 1;
                    }
                }
            }
            since_check += 1;
            if since_check >= 4096 {
                since_check = 0;
                if stop.load(Ordering::Relaxed) {
                    for l in 0..width {
                        if path[l] != u64::MAX {
                            steps += n[l];
                            out[(path[l] - lo) as usize] = Some(Outcome::Censored {
                                time: n[l] as f64 * self.dt,
                            });
                        }
                    }
                    break;
                }
            }
        }
        // Paths never started (interrupted run) are censored at time 0: counted, never dropped.
        let outcomes = out
            .into_iter()
            .map(|o| o.unwrap_or(Outcome::Censored { time: 0.0 }))
            .collect();
        (outcomes, steps)
    }
}

/// What to run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    /// Number of paths.
    pub paths: u64,
    /// Seed of the path streams.
    pub seed: u64,
    /// Global index of the first path (shards run disjoint index ranges).
    pub first_path: u64,
    /// Paths advanced together per lane set.
    pub lane_width: usize,
    /// Record the trajectories of the first `record` paths.
    pub record: u64,
    /// Keep every `record_every`-th step of a recorded trajectory.
    pub record_every: u64,
}

impl RunConfig {
    /// `paths` paths from index 0 with seed `seed`, lane width 8, nothing recorded.
    pub fn new(paths: u64, seed: u64) -> Self {
        RunConfig {
            paths,
            seed,
            first_path: 0,
            lane_width: 8,
            record: 0,
            record_every: 1,
        }
    }
}

/// A recorded trajectory: (time, state) pairs.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Trajectory {
    /// Global path index.
    pub path: u64,
    /// (t, x) samples.
    pub points: Vec<(f64, f64)>,
}

/// Everything a run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct RunResult {
    /// One outcome per path, in path order.
    pub outcomes: Vec<Outcome>,
    /// Total steps simulated.
    pub steps: u64,
    /// Whether the run was stopped early.
    pub interrupted: bool,
    /// Recorded trajectories.
    pub trajectories: Vec<Trajectory>,
}
