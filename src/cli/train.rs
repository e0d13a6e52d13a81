//! `levylab train`: train networks, measure their gradient noise, write summary.json and CSV.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use super::gradient_noise::tests_text;
use crate::io::write_atomic;
use crate::stats::gradient_noise::NoiseReport;
use crate::trainer::config::{self, Checkpoint};
use crate::trainer::model::Model;
use crate::trainer::{DatasetKind, RunReport, TrainConfig};

/// Arguments of `levylab train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training configuration (TOML).
    pub config: PathBuf,
    /// Output directory; results go to DIR/NAME/ (NAME = the configuration name).
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Override the number of SGD iterations of every run (checkpoints are capped to it).
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Serialize)]
struct Summary<'a> {
    config: &'a str,
    source: String,
    dataset: DatasetKind,
    train_examples: usize,
    test_examples: usize,
    version: &'static str,
    runs: &'a [RunReport],
}

fn fmt(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or("-".into(), |x| format!("{x:.3}"))
}

fn last_noise(n: Option<&NoiseReport>) -> String {
    match n {
        Some(n) => {
            let paper = n.paper.map_or("-".to_string(), |p| {
                format!("{:.3} [{:.3}, {:.3}]", p.alpha, p.ci_low, p.ci_high)
            });
            let pp = n.per_parameter.as_ref().and_then(|p| p.alpha_median);
            format!(
                "{paper:<24} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7.2}",
                fmt(n.gaussian_null),
                fmt(n.standardized.map(|e| e.alpha)),
                fmt(n.hill),
                fmt(n.mcculloch),
                fmt(pp),
                100.0 * n.zero_fraction
            )
        }
        None => "-".into(),
    }
}

/// The table printed after training: one row per run, last checkpoint.
pub fn table(runs: &[RunReport]) -> String {
    let suffix = |r: &RunReport| {
        let random = r
            .checkpoints
            .last()
            .is_some_and(|c| c.noise_random.is_some());
        if random { RANDOM_SUFFIX.len() } else { 0 }
    };
    let w = runs
        .iter()
        .map(|r| r.label.len() + suffix(r))
        .max()
        .unwrap_or(5)
        .max(5);
    let mut s = format!(
        "{:<w$} {:>7} {:>6} {:>6}  {:<24} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7}\n",
        "run",
        "params",
        "iter",
        "test%",
        "alpha paper [95% CI]",
        "null",
        "std",
        "hill",
        "mcc",
        "per-par",
        "zeros%"
    );
    let mut tests = String::new();
    for r in runs {
        if let Some(c) = r.checkpoints.last() {
            for (suffix, n) in sets(c) {
                if suffix.is_empty() || n.is_some() {
                    s += &format!(
                        "{:<w$} {:>7} {:>6} {:>6.1}  {}\n",
                        format!("{}{suffix}", r.label),
                        r.n_params,
                        c.iteration,
                        100.0 * c.test_accuracy,
                        last_noise(n)
                    );
                }
                if let Some(n) = n {
                    let text = tests_text(n);
                    if !text.is_empty() {
                        tests += &format!(
                            "{} ({} minibatches, P = {}):\n",
                            r.label,
                            n.sampling.name(),
                            n.batches
                        );
                        for line in text.lines() {
                            tests += &format!("  {line}\n");
                        }
                    }
                }
            }
        }
    }
    if !tests.is_empty() {
        s += "\nIteration-wise tests at the last checkpoint (training set):\n";
        s += &tests;
    }
    s
}

/// The row suffix of a random-minibatch report.
const RANDOM_SUFFIX: &str = " [random]";

/// The training-set reports of a checkpoint with their row suffixes: fixed, then random.
fn sets(c: &Checkpoint) -> [(&'static str, Option<&NoiseReport>); 2] {
    [
        ("", c.noise_train.as_ref()),
        (RANDOM_SUFFIX, c.noise_random.as_ref()),
    ]
}

fn csv(runs: &[RunReport]) -> String {
    let mut s = String::from(
        "run,label,iteration,set,train_loss,train_accuracy,test_accuracy,alpha_paper,ci_low,ci_high,alpha_null,alpha_standardized,alpha_hill,alpha_mcculloch,per_parameter_median,zero_fraction\n",
    );
    for (i, r) in runs.iter().enumerate() {
        for c in &r.checkpoints {
            for (set, n) in [
                ("train", &c.noise_train),
                ("test", &c.noise_test),
                ("random", &c.noise_random),
            ] {
                if let Some(n) = n {
                    let o = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
                    s += &format!(
                        "{i},\"{}\",{},{set},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                        r.label,
                        c.iteration,
                        c.train_loss,
                        c.train_accuracy,
                        c.test_accuracy,
                        o(n.paper.map(|p| p.alpha)),
                        o(n.paper.map(|p| p.ci_low)),
                        o(n.paper.map(|p| p.ci_high)),
                        o(n.gaussian_null),
                        o(n.standardized.map(|e| e.alpha)),
                        o(n.hill),
                        o(n.mcculloch),
                        o(n.per_parameter.as_ref().and_then(|p| p.alpha_median)),
                        n.zero_fraction
                    );
                }
            }
        }
    }
    s
}

pub(super) fn run(a: TrainArgs) -> anyhow::Result<()> {
    let mut cfg = TrainConfig::load(&a.config)?;
    if let Some(n) = a.iterations {
        anyhow::ensure!(n >= 1, "--iterations must be >= 1, got 0");
        for r in &mut cfg.runs {
            r.iterations = n;
            r.checkpoint_every = r.checkpoint_every.min(n);
        }
    }
    let (train, test) = cfg
        .load_data()
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.config.display()))?;
    // Every run's network must fit the data before the first one trains.
    for r in &cfg.runs {
        let net = Model::build(&r.model, &train, r.seed)
            .map_err(|e| anyhow::anyhow!("{}: model ({}): {e}", a.config.display(), r.label))?;
        anyhow::ensure!(
            !r.tests.coordinates_given || r.tests.coordinates <= net.n_params(),
            "{}: noise.coordinates: {} is more than the {} parameters of the network ({})",
            a.config.display(),
            r.tests.coordinates,
            net.n_params(),
            r.label
        );
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let dir = a.out.join(&cfg.name);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let total: usize = cfg.runs.iter().map(|r| r.iterations).sum();
    let bar = ProgressBar::with_draw_target(
        Some(total as u64),
        if a.quiet || !std::io::stdout().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} iterations  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let mut reports = Vec::new();
    let mut base = 0u64;
    for (i, r) in cfg.runs.iter().enumerate() {
        bar.set_message(format!("run {}/{}: {}", i + 1, cfg.runs.len(), r.label));
        let rep = pool
            .install(|| config::train(r, &train, &test, |k| bar.set_position(base + k as u64)))
            .map_err(|e| anyhow::anyhow!("{}: {e}", a.config.display()))?;
        base += r.iterations as u64;
        reports.push(rep);
        let summary = Summary {
            config: &cfg.name,
            source: cfg.source.display().to_string(),
            dataset: cfg.dataset,
            train_examples: train.len(),
            test_examples: test.len(),
            version: env!("CARGO_PKG_VERSION"),
            runs: &reports,
        };
        write_atomic(
            &dir.join("summary.json"),
            (serde_json::to_string_pretty(&summary)? + "\n").as_bytes(),
        )?;
        write_atomic(&dir.join("alpha.csv"), csv(&reports).as_bytes())?;
    }
    bar.finish_and_clear();
    print!("{}", table(&reports));
    println!(
        "{} runs on {} ({} train / {} test examples) in {:.1} s; results in {}",
        reports.len(),
        cfg.dataset,
        train.len(),
        test.len(),
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    Ok(())
}
