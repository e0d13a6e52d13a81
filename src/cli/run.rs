//! `levylab run`, `levylab validate` and `levylab theory`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::figures::{self, Axis, Series};
use crate::io::write_atomic;
use crate::scenario::{
    self, Model, Point, Scenario, is_exit_side_prediction, is_time_prediction, predictions,
};
use crate::sde::{Outcome, RunConfig, exit_sample};

/// Set by Ctrl-C: running paths are censored where they are, no new point starts.
static STOP: AtomicBool = AtomicBool::new(false);

/// A run stopped by Ctrl-C after saving what it finished (exit code 130).
#[derive(Debug, thiserror::Error)]
#[error(
    "interrupted: {finished} of {total} points saved in {dir} (the last one with unfinished paths censored)"
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

/// The summary of one point, as written to summary.json.
#[derive(Debug, Serialize)]
pub struct PointSummary {
    /// Variant and swept values.
    pub label: String,
    /// Variant label.
    pub variant: String,
    /// Swept fields at this point.
    pub params: BTreeMap<String, f64>,
    /// The noise as specified.
    pub noise: BTreeMap<String, serde_json::Value>,
    /// Time step.
    pub dt: f64,
    /// Horizon (censoring time).
    pub horizon: f64,
    /// Paths simulated (all of them, whatever their outcome).
    pub paths: usize,
    /// Paths whose event happened.
    pub exited: usize,
    /// Paths still running at the horizon (or at the interruption).
    pub censored: usize,
    /// Paths whose state became NaN or ±∞.
    pub non_finite: usize,
    /// Mean exit time (sample mean, or exponential MLE under censoring).
    pub mean: Option<f64>,
    /// Its standard error.
    pub mean_se: Option<f64>,
    /// "sample" or "exponential-mle".
    pub mean_estimator: Option<&'static str>,
    /// Share of paths censored.
    pub censored_fraction: f64,
    /// Under censoring: the restricted mean, area under the Kaplan–Meier curve up to
    /// `restricted_horizon` — E[min(τ, L)], a model-free lower bound of the mean.
    pub restricted_mean: Option<f64>,
    /// Its standard error.
    pub restricted_mean_se: Option<f64>,
    /// L: the largest censoring time.
    pub restricted_horizon: Option<f64>,
    /// Under censoring: false when the exponential MLE should not be trusted (see `mle_warning`).
    pub mle_reliable: Option<bool>,
    /// Why the MLE is unreliable: too large a censored share, or a law that is not exponential.
    pub mle_warning: Option<String>,
    /// Kaplan–Meier median.
    pub median: Option<f64>,
    /// Kaplan–Meier quantiles q10, q25, q75, q90.
    pub quantiles: BTreeMap<String, Option<f64>>,
    /// Coefficient of variation (uncensored only; Exp(1) has 1).
    pub cv: Option<f64>,
    /// KS distance of τ/mean from Exp(1) (uncensored only).
    pub ks_exponential: Option<f64>,
    /// Fraction of exits through the upper side.
    pub exit_right_fraction: Option<f64>,
    /// Its standard error.
    pub exit_right_se: Option<f64>,
    /// Total steps simulated.
    pub steps: u64,
    /// Wall time of this point.
    pub wall_seconds: f64,
    /// Applicable theory predictions.
    pub theory: BTreeMap<&'static str, f64>,
    /// Monte Carlo / theory for each time prediction (exit fraction / probability for the exit-side keys).
    pub ratio: BTreeMap<&'static str, f64>,
}

#[derive(Serialize)]
struct Summary<'a> {
    scenario: &'a str,
    description: &'a str,
    source: String,
    seed: u64,
    paths_per_point: u64,
    exit_times_csv: bool,
    version: &'static str,
    interrupted: bool,
    points: &'a [PointSummary],
}

pub(super) fn summarize(p: &Point, outcomes: &[Outcome], steps: u64, wall: f64) -> PointSummary {
    let e = exit_sample(outcomes);
    let best = e.best_mean().ok();
    let restricted = (e.censored() > 0).then(|| e.restricted_mean()).flatten();
    let mle_warning = e.mle_check();
    let theory = predictions(p);
    let high = e.high_fraction();
    let mut ratio = BTreeMap::new();
    for (&k, &v) in &theory {
        let mc = if is_time_prediction(k) {
            best.map(|b| b.0.value)
        } else if is_exit_side_prediction(k) {
            high.map(|h| h.value)
        } else {
            None
        };
        if let Some(m) = mc {
            ratio.insert(k, m / v);
        }
    }
    let mut noise = BTreeMap::new();
    noise.insert(
        "kind".to_string(),
        serde_json::Value::from(p.noise.kind.clone()),
    );
    for (k, v) in &p.noise.values {
        noise.insert(k.clone(), serde_json::Value::from(*v));
    }
    if let Some(src) = &p.noise.alpha_source {
        noise.insert(
            "alpha_source".to_string(),
            serde_json::Value::from(src.clone()),
        );
    }
    PointSummary {
        label: p.label(),
        variant: p.variant.clone(),
        params: p.params.iter().cloned().collect(),
        noise,
        dt: p.model.dt(),
        horizon: p.model.horizon(),
        paths: e.paths(),
        exited: e.exited(),
        censored: e.censored(),
        non_finite: e.non_finite(),
        mean: best.map(|b| b.0.value),
        mean_se: best.map(|b| b.0.std_err),
        mean_estimator: best.map(|b| b.1),
        censored_fraction: e.censored() as f64 / e.paths().max(1) as f64,
        restricted_mean: restricted.map(|r| r.0.value),
        restricted_mean_se: restricted.map(|r| r.0.std_err),
        restricted_horizon: restricted.map(|r| r.1),
        mle_reliable: (e.censored() > 0).then_some(mle_warning.is_none()),
        mle_warning,
        median: e.median(),
        quantiles: [("q10", 0.1), ("q25", 0.25), ("q75", 0.75), ("q90", 0.9)]
            .into_iter()
            .map(|(k, q)| (k.to_string(), e.km_quantile(q)))
            .collect(),
        cv: e.coefficient_of_variation().ok(),
        ks_exponential: e.ks_exponential().ok(),
        exit_right_fraction: high.map(|h| h.value),
        exit_right_se: high.map(|h| h.std_err),
        steps,
        wall_seconds: wall,
        theory,
        ratio,
    }
}

pub(super) fn run_point(p: &Point, s: &Scenario, done: &AtomicU64) -> (Vec<Outcome>, u64) {
    match &p.model {
        Model::Line(sim) => {
            let cfg = RunConfig {
                lane_width: p.lane_width,
                ..RunConfig::new(s.paths, s.seed)
            };
            let r = sim.run(&cfg, done, &STOP);
            (r.outcomes, r.steps)
        }
        Model::Ball(b) => b.run(s.paths, s.seed, done, &STOP),
    }
}

fn csv(points: &[PointSummary], outcomes: &[Vec<Outcome>]) -> String {
    let mut s = String::from("point,label,path,time,outcome\n");
    for (i, (p, os)) in points.iter().zip(outcomes).enumerate() {
        let label = p.label.replace('"', "'");
        for (j, o) in os.iter().enumerate() {
            s += &format!("{i},\"{label}\",{j},{},{}\n", o.time(), o.label());
        }
    }
    s
}

/// Formats a value with 4 significant digits.
fn sig(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        return format!("{v:.3e}");
    }
    let decimals = if a == 0.0 {
        0
    } else {
        (3 - a.log10().floor() as i32).max(0) as usize
    };
    format!("{v:.decimals$}")
}

fn opt(v: Option<f64>) -> String {
    v.map_or("-".to_string(), sig)
}

/// The comparison table: one row per point.
pub fn table(points: &[PointSummary]) -> String {
    let keys: Vec<&str> = {
        // Error estimates stay in summary.json; the table shows the values and their ratios.
        let mut k: Vec<&str> = points
            .iter()
            .flat_map(|p| p.theory.keys().copied())
            .filter(|k| *k != "levy_exact_error")
            .collect();
        k.sort_unstable();
        k.dedup();
        k
    };
    let two_sided = points.iter().any(|p| {
        p.exit_right_fraction.is_some_and(|f| f > 0.0 && f < 1.0)
            || p.theory.keys().any(|k| is_exit_side_prediction(k))
    });
    let censoring = points.iter().any(|p| p.restricted_mean.is_some());
    let mut head = vec![
        "point".to_string(),
        "paths".into(),
        "exited".into(),
        "cens".into(),
        "mean ± se".into(),
        "median".into(),
    ];
    if censoring {
        head.push("rmean(L) ± se".into());
    }
    if two_sided {
        head.push("P(right)".into());
    }
    for k in &keys {
        head.push(k.to_string());
        if is_time_prediction(k) || is_exit_side_prediction(k) {
            head.push(format!("MC/{k}"));
        }
    }
    let mut rows = vec![head];
    for p in points {
        let mut r = vec![
            p.label.clone(),
            p.paths.to_string(),
            p.exited.to_string(),
            p.censored.to_string(),
            match (p.mean, p.mean_se) {
                (Some(m), Some(se)) => format!(
                    "{} ± {}{}",
                    sig(m),
                    sig(se),
                    match (p.mean_estimator, p.mle_reliable) {
                        (Some("exponential-mle"), Some(false)) => " (mle!)",
                        (Some("exponential-mle"), _) => " (mle)",
                        _ => "",
                    }
                ),
                _ => "-".into(),
            },
            opt(p.median),
        ];
        if censoring {
            r.push(match (p.restricted_mean, p.restricted_mean_se) {
                (Some(m), Some(se)) => format!("{} ± {}", sig(m), sig(se)),
                _ => "-".into(),
            });
        }
        if two_sided {
            r.push(opt(p.exit_right_fraction));
        }
        if p.non_finite > 0 {
            r[3] = format!("{} (+{} non-finite)", p.censored, p.non_finite);
        }
        for k in &keys {
            r.push(opt(p.theory.get(k).copied()));
            if is_time_prediction(k) || is_exit_side_prediction(k) {
                r.push(opt(p.ratio.get(k).copied()));
            }
        }
        rows.push(r);
    }
    let mut out = render(&rows);
    if censoring {
        out += "(mle): mean from the exponential MLE under censoring; rmean(L): area under the Kaplan–Meier curve up to the largest censoring time L, a lower bound of the mean\n";
    }
    for p in points {
        if let Some(w) = &p.mle_warning {
            out += &format!(
                "(mle!) {}: {w}; rmean(L) is a lower bound of the mean; raise the horizon\n",
                p.label
            );
        }
    }
    out
}

/// Aligned columns: the first left-aligned, the rest right-aligned, a rule under the header row.
fn render(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (v, w))| {
                if c == 0 {
                    format!("{v:<w$}")
                } else {
                    format!("{v:>w$}")
                }
            })
            .collect();
        out += line.join("  ").trim_end();
        out.push('\n');
        if i == 0 {
            out += &"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1));
            out.push('\n');
        }
    }
    out
}

fn write_outputs(
    dir: &Path,
    s: &Scenario,
    points: &[PointSummary],
    outcomes: &[Vec<Outcome>],
    interrupted: bool,
) -> anyhow::Result<()> {
    let summary = Summary {
        scenario: &s.name,
        description: &s.description,
        source: s.source.display().to_string(),
        seed: s.seed,
        paths_per_point: s.paths,
        exit_times_csv: s.writes_exit_times(),
        version: env!("CARGO_PKG_VERSION"),
        interrupted,
        points,
    };
    write_atomic(
        &dir.join("summary.json"),
        (serde_json::to_string_pretty(&summary)? + "\n").as_bytes(),
    )?;
    let csv_path = dir.join("exit_times.csv");
    if s.writes_exit_times() {
        write_atomic(&csv_path, csv(points, outcomes).as_bytes())?;
    } else {
        // No stale per-path file from an earlier run of the same scenario beside this summary.
        match std::fs::remove_file(&csv_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("cannot remove {}", csv_path.display()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Mean exit time against the first swept field, one series per variant, theory beside it.
fn plot(dir: &Path, s: &Scenario, points: &[PointSummary]) -> anyhow::Result<()> {
    // x is the first swept key in sweep order; one series per variant and values of the other keys.
    let params = |i: usize| s.points.get(i).map_or(&[][..], |p| p.params.as_slice());
    let first_param = |i: usize| params(i).first().map_or(i as f64 + 1.0, |kv| kv.1);
    let group = |i: usize| {
        let rest: Vec<String> = params(i)
            .iter()
            .skip(1)
            .map(|(k, v)| format!("{k}={}", scenario::fmt_num(*v)))
            .collect();
        let v = &points[i].variant;
        let name = if v.is_empty() {
            s.name.clone()
        } else {
            v.clone()
        };
        if rest.is_empty() {
            name
        } else {
            format!("{name} {}", rest.join(" "))
        }
    };
    let mut groups: Vec<String> = Vec::new();
    for i in 0..points.len() {
        let g = group(i);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    let mut swept: Vec<String> = (0..points.len())
        .filter_map(|i| params(i).first().map(|kv| kv.0.clone()))
        .collect();
    swept.dedup();
    let mut series = Vec::new();
    let mut all_x = Vec::new();
    for g in &groups {
        let idx: Vec<usize> = (0..points.len()).filter(|&i| group(i) == *g).collect();
        let data: Vec<(f64, f64, f64)> = idx
            .iter()
            .filter_map(|&i| {
                Some((
                    first_param(i),
                    points[i].mean?,
                    points[i].mean_se.unwrap_or(0.0),
                ))
            })
            .collect();
        all_x.extend(data.iter().map(|d| d.0));
        let mut theory: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
        for &i in &idx {
            for (&k, &val) in &points[i].theory {
                if is_time_prediction(k) {
                    theory.entry(k).or_default().push((first_param(i), val));
                }
            }
        }
        series.push(Series {
            label: g.clone(),
            points: data,
            theory: theory
                .into_iter()
                .map(|(k, c)| (k.to_string(), c))
                .collect(),
        });
    }
    let xlog = all_x.iter().all(|&x| x > 0.0)
        && all_x.iter().copied().fold(0.0, f64::max)
            >= 10.0 * all_x.iter().copied().fold(f64::INFINITY, f64::min);
    let xlabel = if swept.is_empty() {
        "variant (index)".to_string()
    } else {
        swept.join(" / ")
    };
    let caption = format!(
        "scenario {} ({}), seed {}, {} paths per point; error bars ±1 SE; dashed: theory",
        s.name,
        s.source.display(),
        s.seed,
        s.paths
    );
    figures::series_plot(
        &dir.join("exit_times.png"),
        &format!("{}: mean exit time", s.name),
        &caption,
        &Axis {
            label: xlabel,
            log: xlog,
        },
        &Axis {
            label: "mean exit time (time units)".into(),
            log: true,
        },
        &series,
    )?;
    Ok(())
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
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let dir = a.out.join(&s.name);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));

    let total = s.paths * s.points.len() as u64;
    let bar = ProgressBar::with_draw_target(
        Some(total),
        if a.quiet || !std::io::stdout().is_terminal() {
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
    let started = Instant::now();
    let mut summaries = Vec::new();
    let mut all_outcomes = Vec::new();
    let mut interrupted = false;
    for (i, p) in s.points.iter().enumerate() {
        bar.set_message(format!("point {}/{}: {}", i + 1, s.points.len(), p.label()));
        let done = AtomicU64::new(0);
        let t0 = Instant::now();
        let base = i as u64 * s.paths;
        let (outcomes, steps) = std::thread::scope(|scope| {
            let h = scope.spawn(|| pool.install(|| run_point(p, &s, &done)));
            while !h.is_finished() {
                bar.set_position(base + done.load(Ordering::Relaxed));
                std::thread::sleep(Duration::from_millis(50));
            }
            h.join()
        })
        .map_err(|_| anyhow::anyhow!("a worker thread panicked"))?;
        interrupted = STOP.load(Ordering::SeqCst);
        summaries.push(summarize(p, &outcomes, steps, t0.elapsed().as_secs_f64()));
        all_outcomes.push(outcomes);
        write_outputs(&dir, &s, &summaries, &all_outcomes, interrupted)?;
        if interrupted {
            break;
        }
    }
    bar.finish_and_clear();
    print!("{}", table(&summaries));
    let plotted = plot(&dir, &s, &summaries);
    println!(
        "{} points, {} paths each, in {:.1} s; results in {}",
        summaries.len(),
        s.paths,
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    if let Err(e) = plotted {
        eprintln!("levylab: warning: exit_times.png not written: {e:#}");
    }
    if interrupted {
        return Err(Interrupted {
            finished: summaries.len(),
            total: s.points.len(),
            dir: dir.display().to_string(),
        }
        .into());
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
    let preds: Vec<(String, BTreeMap<&str, f64>)> = s
        .points
        .iter()
        .map(|p| (p.label(), predictions(p)))
        .collect();
    if a.json {
        let points: Vec<serde_json::Value> = preds
            .iter()
            .map(|(label, t)| serde_json::json!({ "label": label, "theory": t }))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "points": points }))?
        );
        return Ok(());
    }
    let mut keys: Vec<&str> = preds.iter().flat_map(|p| p.1.keys().copied()).collect();
    keys.sort_unstable();
    keys.dedup();
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
    Ok(())
}
