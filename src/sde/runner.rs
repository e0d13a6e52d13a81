//! The parallel runner around the vector lane kernel ([`super::lanes`]).
//!
//! Paths are processed in chunks of consecutive global indices; rayon distributes chunks over
//! threads. Inside a chunk, lanes advance together in structure-of-arrays form (state, step
//! counter, path index and generator state per lane), a vector of N lanes at a time (N = 1, 4 or 8
//! by instruction set); when a lane's path ends, the lane is refilled with the chunk's next path.
//! Memory is O(lanes), independent of the number of steps. Outcomes are stored by global path
//! index, so the result does not depend on chunking, lane width, instruction set or threads.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

use super::lanes::{self, Kernel};
use super::{Event, Outcome, Scheme, SdeError, Side};
use crate::landscape::Landscape;
use crate::noise::Noise;
use crate::rng;
use crate::simd::{self, Isa, Lanes, Scalar, WithLanes};
use crate::stats::ExitStats;
use crate::stats::streaming::EXACT_MAX_PATHS;

/// A validated 1-D simulation: landscape, noise, scheme, step, horizon, start and event.
#[derive(Clone, Debug)]
pub struct Simulation {
    landscape: Landscape,
    noise: Noise,
    scheme: Scheme,
    dt: f64,
    horizon: f64,
    start: f64,
    event: Event,
    pub(super) kernel: Kernel,
}

/// What a 1-D simulation is made of, by name: build it with [`Simulation::new`], which checks it.
///
/// ```
/// use levylab::landscape::{Landscape, Quartic};
/// use levylab::noise::Noise;
/// use levylab::sde::{Event, Scheme, Simulation, SimulationSpec};
///
/// let sim = Simulation::new(SimulationSpec {
///     landscape: Landscape::Quartic(Quartic::new(1.0, 0.25).unwrap()),
///     noise: Noise::Brownian { sigma: 0.5 },
///     scheme: Scheme::Split,
///     dt: 0.01,
///     horizon: 1e4,
///     start: -1.0,
///     event: Event::Boundaries { lo: f64::NEG_INFINITY, hi: 0.0 },
///     bridge: true,
/// })
/// .unwrap();
/// assert_eq!(sim.start(), -1.0);
/// ```
#[derive(Clone, Debug)]
pub struct SimulationSpec {
    /// The potential U.
    pub landscape: Landscape,
    /// The driving noise.
    pub noise: Noise,
    /// The integration scheme.
    pub scheme: Scheme,
    /// Time step.
    pub dt: f64,
    /// Horizon: paths still running at T are censored.
    pub horizon: f64,
    /// Start point.
    pub start: f64,
    /// When a path ends.
    pub event: Event,
    /// The Brownian-bridge crossing test (effective only for noise with a Brownian part).
    pub bridge: bool,
}

impl Simulation {
    /// Validates everything once; afterwards stepping cannot fail.
    pub fn new(spec: SimulationSpec) -> Result<Self, SdeError> {
        let SimulationSpec {
            landscape,
            noise,
            scheme,
            dt,
            horizon,
            start,
            event,
            bridge,
        } = spec;
        if !(dt > 0.0 && dt.is_finite()) {
            return Err(SdeError::Step(dt));
        }
        if !(horizon > dt && horizon.is_finite()) {
            return Err(SdeError::Horizon { horizon, dt });
        }
        if !start.is_finite() {
            return Err(SdeError::StartNotFinite(start));
        }
        let increment = noise.increment(dt)?;
        scheme.check(&landscape, dt)?;
        event.check_start(start)?;
        let max_steps = (horizon / dt).round() as u64;
        let sb = noise.brownian_amplitude();
        let bridge = bridge && sb > 0.0;
        let kernel = Kernel::new(
            &landscape,
            &increment,
            scheme,
            dt,
            event,
            noise.is_continuous(),
            bridge,
            2.0 / (sb * sb * dt),
            max_steps,
        );
        Ok(Self {
            landscape,
            noise,
            scheme,
            dt,
            horizon,
            start,
            event,
            kernel,
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

    /// The outcome of a lane whose step ended with `code`, from `x` to `y` at step count n + 1.
    fn outcome(&self, code: f64, x: f64, n1: f64) -> Outcome {
        let time = n1 * self.dt;
        if code == lanes::NON_FINITE {
            Outcome::NonFinite { time }
        } else if code == lanes::CENSORED {
            Outcome::Censored { time: self.horizon }
        } else {
            Outcome::Exited {
                time,
                side: if code == lanes::EXIT_LOW {
                    Side::Low
                } else {
                    Side::High
                },
                from: x,
                target: None,
            }
        }
    }

    /// Simulates one path from start to its outcome, recording every `every`-th state into `rec`.
    pub fn simulate_path(
        &self,
        seed: u64,
        path: u64,
        mut rec: Option<(&mut Trajectory, u64)>,
    ) -> (Outcome, u64) {
        let mut st = rng::stream_state(seed, path);
        let mut x = self.start;
        let mut n = 0u64;
        if let Some((t, _)) = rec.as_mut() {
            t.points.push((0.0, x));
        }
        loop {
            let (y, code) = self
                .kernel
                .step::<Scalar>(Scalar(x), Scalar(n as f64), &mut st);
            n += 1;
            let done = code.0 != lanes::RUNNING;
            if let Some((t, every)) = rec.as_mut()
                && (n.is_multiple_of(*every) || done)
            {
                t.points.push((n as f64 * self.dt, y.0));
            }
            if done {
                return (self.outcome(code.0, x, n as f64), n);
            }
            x = y.0;
        }
    }

    /// Runs paths `cfg.first_path .. cfg.first_path + cfg.paths` on the current rayon pool.
    ///
    /// `done` is incremented as paths finish (for progress display); when `stop` becomes true, running
    /// paths end as censored at their current time and paths not yet started as censored at time 0.
    pub fn run(&self, cfg: &RunConfig, done: &AtomicU64, stop: &AtomicBool) -> RunResult {
        let width = cfg.lane_width.max(1);
        let isa = cfg.isa.unwrap_or_else(Isa::detect);
        let lanes = width.next_multiple_of(isa.lanes() * BUNDLE) as u64;
        let (stats, steps, outcomes) = drive(
            cfg,
            lanes,
            || self.stats(cfg),
            |lo, hi| self.run_lanes(isa, (cfg.seed, lo, hi, width), done, stop),
        );
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
            stats,
            steps,
            interrupted: stop.load(Ordering::Relaxed),
            trajectories,
        }
    }

    /// An empty statistics accumulator for this simulation's grid and horizon, in the mode `cfg`
    /// asks for.
    fn stats(&self, cfg: &RunConfig) -> ExitStats {
        ExitStats::new(self.dt, self.horizon, cfg.exact_times)
    }

    /// The noise increments alone, as the kernel draws them: `paths` streams of `steps` increments on
    /// one thread, summed (a throughput reference for the engine: everything but the scheme and the
    /// event).
    pub fn noise_only(&self, isa: Option<Isa>, paths: u64, steps: u64, seed: u64) -> f64 {
        struct Noise<'a> {
            sim: &'a Simulation,
            paths: u64,
            steps: u64,
            seed: u64,
        }
        impl WithLanes for Noise<'_> {
            type Output = f64;
            #[inline(always)]
            fn call<V: Lanes>(self) -> f64 {
                noise_generic::<V>(self.sim, self.paths, self.steps, self.seed)
            }
        }
        let code = Noise {
            sim: self,
            paths,
            steps,
            seed,
        };
        simd::dispatch(isa.unwrap_or_else(Isa::detect), code)
    }

    /// The lanes over paths [lo, hi) on the instruction set `isa`.
    fn run_lanes(
        &self,
        isa: Isa,
        (seed, lo, hi, width): (u64, u64, u64, usize),
        done: &AtomicU64,
        stop: &AtomicBool,
    ) -> (Vec<Outcome>, u64) {
        let total = (hi - lo) as usize;
        if stop.load(Ordering::Relaxed) {
            // Interrupted before this chunk started: its paths are censored at time 0, not dropped.
            return (vec![Outcome::Censored { time: 0.0 }; total], 0);
        }
        struct Lanes_<'a> {
            sim: &'a Simulation,
            chunk: (u64, u64, u64, usize),
            done: &'a AtomicU64,
            stop: &'a AtomicBool,
        }
        impl WithLanes for Lanes_<'_> {
            type Output = (Vec<Outcome>, u64);
            #[inline(always)]
            fn call<V: Lanes>(self) -> Self::Output {
                let (seed, lo, hi, width) = self.chunk;
                run_generic::<V>(self.sim, seed, lo, hi, width, self.done, self.stop)
            }
        }
        let code = Lanes_ {
            sim: self,
            chunk: (seed, lo, hi, width),
            done,
            stop,
        };
        simd::dispatch(isa, code)
    }
}

#[inline(always)]
fn noise_generic<V: Lanes>(sim: &Simulation, paths: u64, steps: u64, seed: u64) -> f64 {
    let mut total = V::splat(0.0);
    let mut p = 0;
    while p < paths {
        let mut s: [V::U; 4] = std::array::from_fn(|k| {
            let words: Vec<u64> = (0..V::N as u64)
                .map(|i| rng::stream_state(seed, p + i)[k])
                .collect();
            V::u_load(&words)
        });
        for _ in 0..steps {
            total = total.add(sim.kernel.increment_only::<V>(&mut s));
        }
        p += V::N as u64;
    }
    let mut out = [0f64; 8];
    total.store(&mut out[..V::N]);
    out.iter().sum()
}

/// Runs `cfg.paths` paths from `cfg.first_path` in chunks of consecutive indices on the rayon
/// pool: `chunk(lo, hi)` simulates paths [lo, hi) and returns their outcomes in path order and the
/// steps taken. Returns the merged statistics, the steps, and the outcomes in path order when
/// `cfg.outcomes` (empty otherwise).
///
/// A chunk is a whole number of lane-fulls (`lanes` paths): long enough that the lanes idling while
/// a chunk's last paths finish cost little, short enough for ≥ 8 chunks per thread. Outcomes do
/// not depend on it (each path has its own stream); statistics are integer sums, merged in whatever
/// order the threads finish, so the result is the same for any split.
pub(super) fn drive(
    cfg: &RunConfig,
    lanes: u64,
    empty: impl Fn() -> ExitStats + Sync + Send,
    chunk: impl Fn(u64, u64) -> (Vec<Outcome>, u64) + Sync + Send,
) -> (ExitStats, u64, Vec<Outcome>) {
    let per_thread = cfg.paths / (lanes * rayon::current_num_threads() as u64 * 8).max(1);
    let size = lanes * per_thread.clamp(8, 512);
    let n_chunks = cfg.paths.div_ceil(size);
    let start = || (empty(), 0u64, Vec::new());
    let (mut stats, steps, mut parts) = (0..n_chunks)
        .into_par_iter()
        .fold(start, |(mut st, steps, mut parts), c| {
            let lo = cfg.first_path + c * size;
            let hi = (lo + size).min(cfg.first_path + cfg.paths);
            let (outs, s) = chunk(lo, hi);
            outs.iter().for_each(|o| st.push(o));
            if cfg.outcomes {
                parts.push((c, outs));
            }
            (st, steps + s, parts)
        })
        .reduce(start, merge_parts);
    stats.normalize();
    parts.sort_unstable_by_key(|p| p.0);
    (stats, steps, parts.into_iter().flat_map(|p| p.1).collect())
}

/// Chunk results combined: statistics merged, steps summed, kept outcomes collected.
fn merge_parts(
    mut a: (ExitStats, u64, Vec<(u64, Vec<Outcome>)>),
    b: (ExitStats, u64, Vec<(u64, Vec<Outcome>)>),
) -> (ExitStats, u64, Vec<(u64, Vec<Outcome>)>) {
    a.0.merge(&b.0)
        .expect("chunks of one run share grid, horizon and mode");
    a.2.extend(b.2);
    (a.0, a.1 + b.1, a.2)
}

/// Steps a lane bundle takes in registers before its state goes back to memory.
const INNER: u32 = 64;

/// Vectors stepped together (independent dependency chains for the out-of-order core).
const BUNDLE: usize = 4;

/// The lane loop over paths [lo, hi): G vectors of N lanes (G·N ≥ `width`), structure of arrays;
/// a finished lane takes the chunk's next path.
#[inline(always)]
fn run_generic<V: Lanes>(
    sim: &Simulation,
    seed: u64,
    lo: u64,
    hi: u64,
    width: usize,
    done: &AtomicU64,
    stop: &AtomicBool,
) -> (Vec<Outcome>, u64) {
    let groups = width.div_ceil(V::N).max(1).next_multiple_of(BUNDLE);
    let lanes_n = groups * V::N;
    let mut x = vec![sim.start; lanes_n];
    let mut book = LaneBook::new(lo, hi, lanes_n);
    let mut st: [Vec<u64>; 4] = std::array::from_fn(|_| vec![0u64; lanes_n]);
    let seat = |l: usize, p: u64, st: &mut [Vec<u64>; 4]| {
        let s = rng::stream_state(seed, p);
        for (k, w) in s.into_iter().enumerate() {
            st[k][l] = w;
        }
    };
    for l in 0..lanes_n {
        if let Some(p) = book.start(l) {
            seat(l, p, &mut st);
        }
    }
    let mut since_check = 0u32;
    let mut codes = [0f64; 8];
    let mut prev = [0f64; 8];
    while book.active > 0 {
        for bundle in 0..groups / BUNDLE {
            let base = bundle * BUNDLE * V::N;
            let at = |j: usize| base + j * V::N..base + (j + 1) * V::N;
            let mut xv: [V; BUNDLE] = std::array::from_fn(|j| V::load(&x[at(j)]));
            let mut nv: [V; BUNDLE] = std::array::from_fn(|j| V::load(&book.n[at(j)]));
            let mut s: [[V::U; 4]; BUNDLE] =
                std::array::from_fn(|j| std::array::from_fn(|k| V::u_load(&st[k][at(j)])));
            let mut pv = xv;
            let mut cv = [V::splat(lanes::RUNNING); BUNDLE];
            let mut ended = [0u32; BUNDLE];
            // The bundle stays in registers for up to INNER steps, until one of its lanes ends;
            // its BUNDLE groups are independent chains the CPU can overlap.
            for _ in 0..INNER {
                let mut any = 0;
                for j in 0..BUNDLE {
                    let (y, code) = sim.kernel.step::<V>(xv[j], nv[j], &mut s[j]);
                    ended[j] = V::bits(V::not(code.eq(V::splat(lanes::RUNNING))));
                    any |= ended[j];
                    cv[j] = code;
                    pv[j] = xv[j];
                    xv[j] = y;
                    nv[j] = nv[j].add(V::splat(1.0));
                }
                if any != 0 {
                    break;
                }
            }
            for j in 0..BUNDLE {
                xv[j].store(&mut x[at(j)]);
                nv[j].store(&mut book.n[at(j)]);
                for (k, sk) in s[j].iter().enumerate() {
                    V::u_store(*sk, &mut st[k][at(j)]);
                }
            }
            for j in 0..BUNDLE {
                if ended[j] == 0 {
                    continue;
                }
                cv[j].store(&mut codes[..V::N]);
                pv[j].store(&mut prev[..V::N]);
                for i in 0..V::N {
                    let l = base + j * V::N + i;
                    if ended[j] & (1 << i) == 0 || !book.running(l) {
                        continue;
                    }
                    let o = sim.outcome(codes[i], prev[i], book.n[l]);
                    if let Some(p) = book.finish(l, o, done) {
                        seat(l, p, &mut st);
                        x[l] = sim.start;
                    }
                }
            }
        }
        since_check += 1;
        if since_check >= 4096 / INNER {
            since_check = 0;
            if stop.load(Ordering::Relaxed) {
                book.censor_running(sim.dt);
                break;
            }
        }
    }
    book.outcomes()
}

/// The bookkeeping both lane loops share: which path each lane runs (`u64::MAX`: none), its step
/// count, the chunk's outcomes by path index, and the steps taken.
pub(super) struct LaneBook {
    lo: u64,
    hi: u64,
    path: Vec<u64>,
    /// Steps taken by each lane's current path (an f64 lane for the kernels).
    pub(super) n: Vec<f64>,
    next: u64,
    /// Lanes running a path.
    pub(super) active: usize,
    out: Vec<Option<Outcome>>,
    steps: u64,
}

impl LaneBook {
    /// Paths [lo, hi) on `lanes` lanes, none seated yet.
    pub(super) fn new(lo: u64, hi: u64, lanes: usize) -> LaneBook {
        LaneBook {
            lo,
            hi,
            path: vec![u64::MAX; lanes],
            n: vec![0.0; lanes],
            next: lo,
            active: 0,
            out: vec![None; (hi - lo) as usize],
            steps: 0,
        }
    }

    fn next_path(&mut self) -> Option<u64> {
        (self.next < self.hi).then(|| {
            self.next += 1;
            self.next - 1
        })
    }

    /// Seats the chunk's next path on the idle lane `l`; returns it (its stream must be seated).
    pub(super) fn start(&mut self, l: usize) -> Option<u64> {
        let p = self.next_path()?;
        self.path[l] = p;
        self.active += 1;
        Some(p)
    }

    /// Whether lane `l` runs a path.
    pub(super) fn running(&self, l: usize) -> bool {
        self.path[l] != u64::MAX
    }

    /// Lane `l`'s path ended with `o` after `n[l]` steps: records it, counts it in `done`, and
    /// seats the next path if there is one (returned: its stream and start must be seated).
    pub(super) fn finish(&mut self, l: usize, o: Outcome, done: &AtomicU64) -> Option<u64> {
        self.steps += self.n[l] as u64;
        self.out[(self.path[l] - self.lo) as usize] = Some(o);
        done.fetch_add(1, Ordering::Relaxed);
        self.n[l] = 0.0;
        let p = self.next_path();
        match p {
            Some(p) => self.path[l] = p,
            None => {
                self.path[l] = u64::MAX;
                self.active -= 1;
            }
        }
        p
    }

    /// An interrupted chunk: every running path is censored at its current time.
    pub(super) fn censor_running(&mut self, dt: f64) {
        for l in 0..self.path.len() {
            if self.running(l) {
                self.steps += self.n[l] as u64;
                self.out[(self.path[l] - self.lo) as usize] = Some(Outcome::Censored {
                    time: self.n[l] * dt,
                });
            }
        }
    }

    /// The outcomes in path order and the steps taken. Paths never started (an interrupted run)
    /// are censored at time 0: counted, never dropped.
    pub(super) fn outcomes(self) -> (Vec<Outcome>, u64) {
        let outcomes = self
            .out
            .into_iter()
            .map(|o| o.unwrap_or(Outcome::Censored { time: 0.0 }))
            .collect();
        (outcomes, self.steps)
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
    /// Instruction set of the lane kernel (None: the widest this CPU has). Results are the same
    /// for every choice.
    pub isa: Option<Isa>,
    /// Keep every path's outcome in [`RunResult::outcomes`] (memory grows with the paths); the
    /// statistics in [`RunResult::stats`] are accumulated either way.
    pub outcomes: bool,
    /// Keep every exit time in the statistics (exact Kaplan–Meier quantiles) rather than a
    /// histogram; parts of one split run must agree on it (see [`ExitStats`]).
    pub exact_times: bool,
}

impl RunConfig {
    /// `paths` paths from index 0 with seed `seed`, lane width 8, nothing recorded, outcomes
    /// kept, exit times exact up to [`EXACT_MAX_PATHS`] paths.
    pub fn new(paths: u64, seed: u64) -> Self {
        RunConfig {
            paths,
            seed,
            first_path: 0,
            lane_width: 8,
            record: 0,
            record_every: 1,
            isa: None,
            outcomes: true,
            exact_times: paths <= EXACT_MAX_PATHS,
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
    /// One outcome per path, in path order (empty unless [`RunConfig::outcomes`]).
    pub outcomes: Vec<Outcome>,
    /// The exit-time statistics of every path.
    pub stats: ExitStats,
    /// Total steps simulated.
    pub steps: u64,
    /// Whether the run was stopped early.
    pub interrupted: bool,
    /// Recorded trajectories.
    pub trajectories: Vec<Trajectory>,
}
