//! Running a scenario as a library call: points → simulations → statistics → summaries → files.
//!
//! `levylab run`, `levylab merge`, the MPI driver and the figures all go through here; the command
//! line only parses arguments, shows progress and prints.
//!
//! A run may be one part of a split: [`Part`] `K/N` simulates the K-th of N disjoint, contiguous
//! ranges of every point's path indices and writes a mergeable shard ([`shard`]); `merge` combines
//! the N shards into exactly the files the whole run writes. Every path's outcome is a pure function
//! of (scenario, seed, path index), and the statistics are integer sums ([`ExitStats`]), so any
//! split gives the same numbers, bit for bit.

pub mod shard;
pub mod staging;
pub mod summary;

#[cfg(feature = "mpi")]
pub mod mpi;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

pub use summary::{
    AmsSummary, PointSummary, Summary, plot, summarize, summarize_run, table, write_outputs,
};

use crate::config::ConfigError;
use crate::scenario::{Model, Point, Scenario};
use crate::sde::{AmsEstimate, Outcome, RunConfig};
use crate::stats::ExitStats;
use crate::stats::streaming::EXACT_MAX_PATHS;

/// Errors of running, sharding and merging.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExperimentError {
    /// The scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ConfigError),
    /// Writing a result.
    #[error(transparent)]
    Write(#[from] crate::io::IoError),
    /// Reading or listing a file or directory.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A shard file that cannot be used.
    #[error("{path}: {message}")]
    Shard {
        /// The shard file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The shards of a directory do not make one whole run.
    #[error("cannot merge {dir}: {message}")]
    Merge {
        /// The result directory.
        dir: PathBuf,
        /// Which parts are missing, duplicated or mismatched.
        message: String,
    },
    /// Drawing exit_times.png.
    #[error(transparent)]
    Figure(#[from] crate::plot::FigureError),
    /// An invalid part `K/N`.
    #[error("{0}")]
    Part(String),
    /// A checkpoint that cannot be resumed.
    #[error("cannot resume from {path}: {message}; run without --resume to start over")]
    Resume {
        /// The checkpoint.
        path: PathBuf,
        /// Why not.
        message: String,
    },
    /// Another process is writing the same results.
    #[error(
        "{dir} is being written by another levylab process (it holds the lock {lock}); wait for it to end or choose another --out"
    )]
    Busy {
        /// The result directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
}

/// One of N disjoint parts of every point's paths: part K (1-based) of N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    /// K, 1 ≤ K ≤ N.
    pub k: u64,
    /// N ≥ 1.
    pub n: u64,
}

impl Part {
    /// The whole run.
    pub const WHOLE: Part = Part { k: 1, n: 1 };

    /// Part `k` of `n`.
    pub fn new(k: u64, n: u64) -> Result<Part, ExperimentError> {
        if n == 0 || k == 0 || k > n {
            return Err(ExperimentError::Part(format!(
                "a part is K/N with 1 <= K <= N, got {k}/{n}"
            )));
        }
        Ok(Part { k, n })
    }

    /// The path indices [lo, hi) of this part of `paths` paths: ⌊(K−1)·P/N⌋ .. ⌊K·P/N⌋.
    pub fn range(&self, paths: u64) -> (u64, u64) {
        let at = |k: u64| (u128::from(k) * u128::from(paths) / u128::from(self.n)) as u64;
        (at(self.k - 1), at(self.k))
    }
}

impl std::str::FromStr for Part {
    type Err = ExperimentError;
    fn from_str(s: &str) -> Result<Part, ExperimentError> {
        let bad = || ExperimentError::Part(format!("a part is K/N with 1 <= K <= N, got {s:?}"));
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k = k.trim().parse().map_err(|_| bad())?;
        let n = n.trim().parse().map_err(|_| bad())?;
        Part::new(k, n)
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// Shared between a running experiment and whoever watches it: progress counters and the stop flag.
#[derive(Debug, Default)]
pub struct Control {
    /// Paths finished over all points so far.
    pub done: AtomicU64,
    /// Index of the point being simulated.
    pub point: AtomicUsize,
    /// Set to stop: running paths are censored where they are, no new point starts.
    pub stop: AtomicBool,
}

impl Control {
    /// Whether a stop was asked for.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// The result of simulating one point (or one part of it).
#[derive(Clone, Debug)]
pub struct PointRun {
    /// Exit-time statistics of the paths simulated.
    pub stats: ExitStats,
    /// Every path's outcome in path order, when kept.
    pub outcomes: Option<Vec<Outcome>>,
    /// Steps simulated.
    pub steps: u64,
    /// Wall time, seconds.
    pub wall: f64,
    /// The AMS estimate, for a point with `[rare_event]` (then `stats` holds no paths).
    pub ams: Option<AmsEstimate>,
}

/// Whether a point of `paths` paths in all keeps every exit time in its statistics.
pub fn exact_times(paths: u64) -> bool {
    paths <= EXACT_MAX_PATHS
}

/// Simulates paths [lo, hi) of point `p` of scenario `s` on the current rayon pool, counting
/// finished paths in `done` and stopping when `stop` is set.
pub fn run_point(
    p: &Point,
    s: &Scenario,
    (lo, hi): (u64, u64),
    done: &AtomicU64,
    stop: &AtomicBool,
) -> PointRun {
    let t0 = Instant::now();
    if let (Some(ams), Model::Line(sim)) = (&p.rare_event, &p.model) {
        let e = sim.ams(ams, s.seed);
        done.fetch_add(hi - lo, std::sync::atomic::Ordering::Relaxed);
        return PointRun {
            stats: ExitStats::new(sim.dt(), sim.horizon(), true),
            outcomes: None,
            steps: e.steps(),
            wall: t0.elapsed().as_secs_f64(),
            ams: Some(e),
        };
    }
    let cfg = RunConfig {
        first_path: lo,
        lane_width: p.lane_width,
        outcomes: s.writes_exit_times(),
        exact_times: exact_times(s.paths),
        ..RunConfig::new(hi - lo, s.seed)
    };
    let r = match &p.model {
        Model::Line(sim) => sim.run(&cfg, done, stop),
        Model::Space(b) => b.run(&cfg, done, stop),
    };
    PointRun {
        stats: r.stats,
        outcomes: cfg.outcomes.then_some(r.outcomes),
        steps: r.steps,
        wall: t0.elapsed().as_secs_f64(),
        ams: None,
    }
}

/// Simulates every point of `s` in memory, keeping every path's outcome, and writes nothing:
/// (summary, outcomes in path order) per point. For figures and tests on small runs.
pub fn simulate(s: &Scenario) -> Vec<(PointSummary, Vec<Outcome>)> {
    let mut s = s.clone();
    s.exit_times = Some(true);
    let (done, stop) = (AtomicU64::new(0), AtomicBool::new(false));
    s.points
        .iter()
        .map(|p| {
            let r = run_point(p, &s, (0, s.paths), &done, &stop);
            (summarize_run(p, &r), r.outcomes.unwrap_or_default())
        })
        .collect()
}

/// What a finished (or interrupted) run produced.
#[derive(Clone, Debug)]
pub struct Outcomes {
    /// The summary written to summary.json (for a part: the summary of that part's paths alone).
    pub summary: Summary,
    /// Per point, the statistics of the paths simulated.
    pub runs: Vec<PointRun>,
    /// Where the files went.
    pub dir: PathBuf,
    /// How many points were kept from the checkpoint of an earlier process (`--resume`).
    pub resumed: usize,
}

impl Outcomes {
    /// Whether the run was stopped before the end.
    pub fn interrupted(&self) -> bool {
        self.summary.interrupted
    }
}

/// How [`run_with`] runs a scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Only this part of every point's paths (a mergeable shard), or the whole run.
    pub shard: Option<Part>,
    /// Continue from the checkpoint of an interrupted or killed run of the same scenario, seed,
    /// paths and part, keeping its finished points ([`staging`]).
    pub resume: bool,
}

/// Runs scenario `s` (or, with `shard`, that part of it) afresh on the current rayon pool: see
/// [`run_with`].
pub fn run(
    s: &Scenario,
    shard: Option<Part>,
    out: &Path,
    ctl: &Control,
) -> Result<(Outcomes, Option<ExperimentError>), ExperimentError> {
    run_with(
        s,
        RunOptions {
            shard,
            resume: false,
        },
        out,
        ctl,
    )
}

/// Runs scenario `s` as `opts` says on the current rayon pool and writes its results under `out`
/// (the layout is [`staging`]'s). A whole run writes summary.json, table.txt, exit_times.csv (when
/// kept) and exit_times.png into `out/<name>.partial/` after every point, with the checkpoint of
/// its finished points, and moves them to `out/<name>/` when the last point is in, so that a run
/// killed at any moment keeps every finished point and never destroys the previous complete
/// result. A part writes `out/<name>/shards/part-K-of-N.partial.json` after every point and
/// renames it `part-K-of-N.json` at its end. A failed figure is returned beside the result.
pub fn run_with(
    s: &Scenario,
    opts: RunOptions,
    out: &Path,
    ctl: &Control,
) -> Result<(Outcomes, Option<ExperimentError>), ExperimentError> {
    let layout = staging::Layout::new(out, &s.name);
    let Some(part) = opts.shard else {
        let (staging, kept) = staging::Staging::open(layout, s, opts.resume)?;
        let dir = staging.dir();
        let resumed = kept.len();
        let (summary, runs) = run_points(s, Part::WHOLE, ctl, kept, |summary, runs| {
            let outcomes: Vec<&[Outcome]> = runs
                .iter()
                .map(|r| r.outcomes.as_deref().unwrap_or_default())
                .collect();
            write_outputs(&dir, summary, &outcomes)?;
            staging.checkpoint(s, finished(summary, runs))
        })?;
        return finish(staging, s, summary, runs, resumed);
    };
    refuse_split(s)?;
    let dir = layout.result();
    let shards = dir.join("shards");
    create_dir(&shards)?;
    // One writer per part: parts of one run go side by side.
    let _lock = staging::lock(
        &dir,
        &shards.join(format!(".{}.lock", shard::file_name(part))),
    )?;
    let checkpoint = layout.part_checkpoint(part);
    let kept = if opts.resume {
        staging::read_checkpoint(&checkpoint, s, part)?.unwrap_or_default()
    } else {
        Vec::new()
    };
    let resumed = kept.len();
    let (summary, runs) = run_points(s, part, ctl, kept, |summary, runs| {
        if summary.complete {
            shard::write(&dir, s, part, runs)
        } else {
            shard::write_file(
                &checkpoint,
                s,
                part,
                finished(summary, runs),
                summary.interrupted,
            )
        }
    })?;
    let res = Outcomes {
        summary,
        runs,
        dir,
        resumed,
    };
    Ok((res, None))
}

/// Draws the figure of a whole run's staging directory and, when the run is complete, puts it in
/// place ([`staging::Staging::publish`]).
fn finish(
    staging: staging::Staging,
    s: &Scenario,
    summary: Summary,
    runs: Vec<PointRun>,
    resumed: usize,
) -> Result<(Outcomes, Option<ExperimentError>), ExperimentError> {
    let figure = plot(&staging.dir(), s, &summary.points).err();
    let dir = if summary.complete {
        staging.publish()?
    } else {
        staging.dir()
    };
    let res = Outcomes {
        summary,
        runs,
        dir,
        resumed,
    };
    Ok((res, figure))
}

/// The runs of the points that finished: all but an interrupted last one.
fn finished<'r>(summary: &Summary, runs: &'r [PointRun]) -> &'r [PointRun] {
    &runs[..runs.len() - usize::from(summary.interrupted)]
}

/// Simulates the points of `s` in turn (part `part` of each) after the `kept` ones (finished by an
/// earlier process), calling `after` with the summary and runs so far after the kept points and
/// after every new one; stops after the point during which `ctl.stop` was set.
fn run_points<E>(
    s: &Scenario,
    part: Part,
    ctl: &Control,
    kept: Vec<PointRun>,
    mut after: impl FnMut(&Summary, &[PointRun]) -> Result<(), E>,
) -> Result<(Summary, Vec<PointRun>), E> {
    let mut summary = Summary::new(s);
    let resumed = !kept.is_empty();
    let (lo, hi) = part.range(s.paths);
    for (p, r) in s.points.iter().zip(&kept) {
        summary.add_point(summarize_run(p, r), false);
        ctl.done.fetch_add(hi - lo, Ordering::Relaxed);
    }
    let mut runs = kept;
    if resumed {
        after(&summary, &runs)?;
    }
    for (i, p) in s.points.iter().enumerate().skip(runs.len()) {
        ctl.point.store(i, Ordering::SeqCst);
        let r = run_point(p, s, part.range(s.paths), &ctl.done, &ctl.stop);
        summary.add_point(summarize_run(p, &r), ctl.stopped());
        runs.push(r);
        after(&summary, &runs)?;
        if summary.interrupted {
            break;
        }
    }
    Ok((summary, runs))
}

/// Runs scenario `s` whole on the current rayon pool and writes nothing: its summary (what
/// summary.json would hold) and every point's run, per-path outcomes included where the scenario
/// keeps them. Stops, like [`run`], after the point during which `ctl.stop` was set.
pub fn run_in_memory(s: &Scenario, ctl: &Control) -> (Summary, Vec<PointRun>) {
    let done: Result<_, std::convert::Infallible> =
        run_points(s, Part::WHOLE, ctl, Vec::new(), |_, _| Ok(()));
    match done {
        Ok(v) => v,
        Err(never) => match never {},
    }
}

/// Loads the scenario file `path` and runs it whole on the current rayon pool, writing its results
/// under `out/<name>/` (see [`run`]); a figure that could not be drawn is returned beside them.
/// The one-call entry point for library users.
///
/// ```no_run
/// let (res, _figure) = levylab::experiment::run_file(
///     std::path::Path::new("scenarios/gaussian-vs-levy.toml"),
///     std::path::Path::new("results"),
/// )?;
/// for p in &res.summary.points {
///     println!("{}: {:?} ± {:?}", p.label, p.mean, p.mean_se);
/// }
/// # Ok::<(), levylab::Error>(())
/// ```
pub fn run_file(
    path: &Path,
    out: &Path,
) -> Result<(Outcomes, Option<ExperimentError>), crate::Error> {
    let s = crate::scenario::load(path)?;
    Ok(run(&s, None, out, &Control::default())?)
}

/// AMS points are not split (their runs are short; the estimate needs all of them together).
pub(crate) fn refuse_split(s: &Scenario) -> Result<(), ExperimentError> {
    match s.points.iter().find(|p| p.rare_event.is_some()) {
        Some(p) => Err(ExperimentError::Part(format!(
            "point {} uses [rare_event] (AMS), which runs whole: run this scenario without --shard or mpirun",
            p.label()
        ))),
        None => Ok(()),
    }
}

pub(crate) fn create_dir(dir: &Path) -> Result<(), ExperimentError> {
    std::fs::create_dir_all(dir).map_err(|source| ExperimentError::Io {
        path: dir.to_path_buf(),
        source,
    })
}
