//! `levylab run`, `levylab validate` and `levylab theory`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::experiment::summary::{opt, render};
use crate::experiment::{self, Control, Part, table};
use crate::scenario::{self, Scenario, predictions};

/// Set by Ctrl-C; the progress loop hands it to the running experiment's [`Control`].
static STOP: AtomicBool = AtomicBool::new(false);

fn stop_all() {
    STOP.store(true, Ordering::SeqCst);
}

/// A run stopped by Ctrl-C after saving what it finished (exit code 130).
#[derive(Debug, thiserror::Error)]
#[error(
    "interrupted: {finished} of {total} points saved in {dir} (the last one with unfinished paths censored); `levylab run --resume` continues from the last finished point"
)]
pub struct Interrupted {
    /// Points written.
    pub finished: usize,
    /// Points in the scenario.
    pub total: usize,
    /// Output directory.
    pub dir: String,
}

/// Arguments of `levylab run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Output directory; results go to DIR/NAME/ (NAME = the scenario name).
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Paths per point (overrides the file).
    #[arg(long)]
    pub paths: Option<u64>,
    /// Seed (overrides the file).
    #[arg(long)]
    pub seed: Option<u64>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Run only part K of N (1 <= K <= N) of every point's paths and write a mergeable shard to
    /// OUT/NAME/shards/part-K-of-N.json; `levylab merge OUT/NAME` combines the N parts.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Continue an interrupted or killed run (of this part, with --shard) from its checkpoint in
    /// OUT/NAME.partial/ (OUT/NAME/shards/part-K-of-N.partial.json): its finished points are kept
    /// after checking the scenario text, seed, paths and version; the others run. Without a
    /// checkpoint the run starts from the beginning.
    #[arg(long)]
    pub resume: bool,
}

/// Arguments of `levylab merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// A run's result directory (OUT/NAME) holding shards/part-K-of-N.json for K = 1..N.
    pub dir: PathBuf,
}

/// Arguments of `levylab validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Arguments of `levylab theory`.
#[derive(Debug, Args)]
pub struct TheoryArgs {
    /// Scenario file.
    pub scenario: PathBuf,
    /// Print `{"points": [{"label": …, "theory": {…}}, …]}` (the same theory objects as
    /// summary.json) instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn run(a: RunArgs) -> anyhow::Result<()> {
    let mut s = scenario::load(&a.scenario)?;
    if let Some(n) = a.paths {
        anyhow::ensure!(n >= 1, "--paths must be >= 1, got 0");
        s.paths = n;
    }
    if let Some(seed) = a.seed {
        s.seed = seed;
    }
    if let Some(t) = a.threads {
        anyhow::ensure!(t >= 1, "--threads must be >= 1, got 0");
    }
    let shard: Option<Part> = match &a.shard {
        Some(text) => Some(text.parse().map_err(|e| anyhow::anyhow!("--shard: {e}"))?),
        None => None,
    };
    #[cfg(feature = "mpi")]
    if under_mpirun() {
        anyhow::ensure!(
            shard.is_none(),
            "--shard splits a run into separate jobs; under mpirun the ranks already split it"
        );
        anyhow::ensure!(
            !a.resume,
            "--resume runs in one process: continue a killed MPI run with `levylab run --resume` (the numbers do not depend on the ranks)"
        );
        return run_mpi(&a, &s);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let layout = experiment::staging::Layout::new(&a.out, &s.name);
    let checkpoint = match shard {
        Some(p) => layout.part_checkpoint(p),
        None => layout.checkpoint(),
    };
    if !a.resume && checkpoint.exists() {
        eprintln!(
            "levylab: note: starting afresh; the unfinished run in {} is discarded (--resume continues it)",
            checkpoint.parent().unwrap_or(&checkpoint).display()
        );
    }
    let opts = experiment::RunOptions {
        shard,
        resume: a.resume,
    };
    let ctl = Control::default();
    let _ = ctrlc::set_handler(stop_all);
    let (lo, hi) = shard.unwrap_or(Part::WHOLE).range(s.paths);
    let total = (hi - lo) * s.points.len() as u64;
    let started = Instant::now();
    let (res, figure) = with_progress(
        &ctl,
        total,
        a.quiet,
        |i| {
            format!(
                "point {}/{}: {}",
                i + 1,
                s.points.len(),
                s.points[i].label()
            )
        },
        || pool.install(|| experiment::run_with(&s, opts, &a.out, &ctl)),
    )?;
    report(&res, figure, started, &s, shard)
}

/// Whether this process was started by an MPI launcher (Open MPI, MPICH, or any PMIx launcher).
#[cfg(feature = "mpi")]
fn under_mpirun() -> bool {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

/// `levylab run` under mpirun: every rank simulates its part of every point, rank 0 merges,
/// writes and prints.
#[cfg(feature = "mpi")]
fn run_mpi(a: &RunArgs, s: &Scenario) -> anyhow::Result<()> {
    use mpi::traits::Communicator;
    // MPI is called from this thread only; the simulation runs on rayon's global pool.
    rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build_global()
        .context("cannot start worker threads")?;
    let universe = mpi::initialize().context("cannot initialize MPI")?;
    let world = universe.world();
    let is_root = world.rank() == 0;
    let part = experiment::mpi::part(&world);
    let ctl = Control::default();
    let _ = ctrlc::set_handler(stop_all);
    let (lo, hi) = part.range(s.paths);
    let started = Instant::now();
    let ranks = world.size();
    let res = with_progress(
        &ctl,
        (hi - lo) * s.points.len() as u64,
        a.quiet || !is_root,
        |i| format!("rank 0 of {ranks}: point {}/{}", i + 1, s.points.len()),
        || experiment::mpi::run(&world, s, &a.out, &ctl),
    )?;
    match res {
        Some((res, figure)) => report(&res, figure, started, s, None),
        None => Ok(()),
    }
}

/// Runs `work` on this thread while a progress bar over `total` paths follows `ctl` from another
/// (hidden when `quiet` or when stdout is not a terminal); Ctrl-C sets `ctl.stop`.
pub(super) fn with_progress<T>(
    ctl: &Control,
    total: u64,
    quiet: bool,
    message: impl Fn(usize) -> String + Sync,
    work: impl FnOnce() -> T,
) -> T {
    let bar = ProgressBar::with_draw_target(
        Some(total),
        if quiet || !std::io::stdout().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} paths  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let finished = AtomicBool::new(false);
    let out = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !finished.load(Ordering::SeqCst) {
                if STOP.load(Ordering::SeqCst) {
                    ctl.stop.store(true, Ordering::SeqCst);
                }
                bar.set_position(ctl.done.load(Ordering::Relaxed));
                bar.set_message(message(ctl.point.load(Ordering::Relaxed)));
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let out = work();
        finished.store(true, Ordering::SeqCst);
        out
    });
    bar.finish_and_clear();
    out
}

/// Prints the table and where the results went; an interrupted run becomes [`Interrupted`].
pub(super) fn report(
    res: &experiment::Outcomes,
    figure: Option<experiment::ExperimentError>,
    started: Instant,
    s: &Scenario,
    shard: Option<Part>,
) -> anyhow::Result<()> {
    let points = &res.summary.points;
    let resumed = match res.resumed {
        0 => String::new(),
        k => format!(" ({k} kept from the checkpoint)"),
    };
    if let Some(part) = shard {
        let (lo, hi) = part.range(s.paths);
        println!(
            "part {part}: paths [{lo}, {hi}) of {} points{resumed} in {:.1} s; shard {}",
            points.len(),
            started.elapsed().as_secs_f64(),
            res.dir
                .join("shards")
                .join(if res.interrupted() {
                    experiment::shard::partial_file_name(part)
                } else {
                    experiment::shard::file_name(part)
                })
                .display()
        );
    } else {
        print!("{}", table(points));
        let ams = points.iter().filter(|p| p.ams.is_some()).count();
        let paths = if ams == 0 {
            format!("{} paths each", s.paths)
        } else {
            format!("{ams} by AMS, {} paths per direct point", s.paths)
        };
        println!(
            "{} points ({paths}){resumed} in {:.1} s; results in {}",
            points.len(),
            started.elapsed().as_secs_f64(),
            res.dir.display()
        );
    }
    if let Some(e) = figure {
        eprintln!("levylab: warning: exit_times.png not written: {e}");
    }
    if res.interrupted() {
        return Err(Interrupted {
            finished: points.len(),
            total: s.points.len(),
            dir: res.dir.display().to_string(),
        }
        .into());
    }
    Ok(())
}

/// `levylab merge DIR`.
pub(super) fn merge(a: MergeArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let (res, figure) = experiment::shard::merge(&a.dir)?;
    let points = &res.summary.points;
    print!("{}", table(points));
    println!(
        "merged {} points, {} paths each, in {:.1} s; results in {}",
        points.len(),
        res.summary.paths_per_point,
        started.elapsed().as_secs_f64(),
        res.dir.display()
    );
    if let Some(e) = figure {
        eprintln!("levylab: warning: exit_times.png not written: {e}");
    }
    Ok(())
}

/// A training configuration has `[model]` and `[train]` tables (scenario files have neither).
fn is_training_config(f: &Path) -> bool {
    std::fs::read_to_string(f)
        .ok()
        .and_then(|s| toml::from_str::<toml::Table>(&s).ok())
        .is_some_and(|t| t.contains_key("model") && t.contains_key("train"))
}

pub(super) fn validate(a: ValidateArgs) -> anyhow::Result<()> {
    let mut bad = 0;
    for f in &a.files {
        if is_training_config(f) {
            match crate::trainer::TrainConfig::load(f) {
                Ok(c) => println!(
                    "ok: {} (training configuration, {} runs)",
                    f.display(),
                    c.runs.len()
                ),
                Err(e) => {
                    eprintln!("levylab: {e}");
                    bad += 1;
                }
            }
            continue;
        }
        match scenario::load(f) {
            Ok(s) => {
                let variants: Vec<&str> = s
                    .points
                    .iter()
                    .map(|p| p.variant.as_str())
                    .filter(|v| !v.is_empty())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                println!(
                    "ok: {} ({} points{})",
                    f.display(),
                    s.points.len(),
                    if variants.is_empty() {
                        String::new()
                    } else {
                        format!("; variants: {}", variants.join(", "))
                    }
                );
            }
            Err(e) => {
                eprintln!("levylab: {e}");
                bad += 1;
            }
        }
    }
    anyhow::ensure!(
        bad == 0,
        "{bad} of {} scenario files are invalid",
        a.files.len()
    );
    Ok(())
}

pub(super) fn theory(a: TheoryArgs) -> anyhow::Result<()> {
    let s = scenario::load(&a.scenario)?;
    let preds: Vec<(String, scenario::Predictions)> = s
        .points
        .iter()
        .map(|p| (p.label(), predictions(p)))
        .collect();
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&scenario::theory_json(&s))?
        );
        return Ok(());
    }
    let critical: Vec<_> = scenario::surfaces(&s)
        .into_iter()
        .map(|(label, u)| (label, u.kind(), u.dim(), u.critical_points()))
        .collect();
    let keys: std::collections::BTreeSet<scenario::Prediction> =
        preds.iter().flat_map(|p| p.1.keys().copied()).collect();
    let mut rows = vec![
        std::iter::once("point".to_string())
            .chain(keys.iter().map(|k| k.to_string()))
            .collect::<Vec<_>>(),
    ];
    for (label, p) in &preds {
        rows.push(
            std::iter::once(label.clone())
                .chain(keys.iter().map(|k| opt(p.get(k).copied())))
                .collect(),
        );
    }
    println!("{}: theory only (no simulation)", s.name);
    print!("{}", render(&rows));
    if keys.is_empty() {
        println!("(no closed-form or exact prediction applies to this scenario)");
    }
    for (label, kind, dim, cp) in &critical {
        println!("\ncritical points of the {kind} landscape (d = {dim}) of {label}:");
        let mut rows = vec![
            ["name", "x", "U", "Hessian eigenvalues"]
                .map(String::from)
                .to_vec(),
        ];
        let (mut nmin, mut nsad) = (0, 0);
        for p in cp {
            let name = if p.index == 0 {
                nmin += 1;
                format!("min:{}", nmin - 1)
            } else {
                nsad += 1;
                format!("saddle {}", nsad - 1)
            };
            let list = |v: &[f64]| {
                format!(
                    "[{}]",
                    v.iter()
                        .map(|x| format!("{x:.4}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            rows.push(vec![
                name,
                list(&p.x),
                format!("{:.6}", p.value),
                list(&p.eigenvalues),
            ]);
        }
        if cp.is_empty() {
            println!("(none found)");
        } else {
            print!("{}", render(&rows));
        }
    }
    Ok(())
}
