//! `levylab escape`: train to θ₀, then SGD's escapes and the model noises' beside their laws.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::io::write_atomic;
use crate::trainer::escape::{self, EscapeReport, NoiseKind};
use crate::trainer::model::Model;
use crate::trainer::{DatasetKind, TrainConfig};

/// Arguments of `levylab escape`.
#[derive(Debug, Args)]
pub struct EscapeArgs {
    /// Training configuration (TOML) with an `[escape]` section.
    pub config: PathBuf,
    /// Output directory; results go to DIR/NAME/ (NAME = the configuration name).
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Override the replicas per noise of every point.
    #[arg(long)]
    pub replicas: Option<usize>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// ln(mean escape step) against B/η across the sweep points at one radius.
#[derive(Clone, Debug, Serialize)]
pub struct StepSizeFit {
    /// The noise.
    pub noise: NoiseKind,
    /// The radius.
    pub radius: f64,
    /// Points used (those where every replica passed the radius).
    pub points: usize,
    /// Least-squares slope of ln(mean step) on B/η.
    pub slope: f64,
    /// Its standard error from the residuals (None with two points).
    pub std_err: Option<f64>,
}

#[derive(Serialize)]
struct Summary<'a> {
    config: &'a str,
    source: String,
    dataset: DatasetKind,
    train_examples: usize,
    test_examples: usize,
    version: &'static str,
    complete: bool,
    points_total: usize,
    runs: &'a [EscapeReport],
    step_size_fits: Vec<StepSizeFit>,
}

/// Fits ln(mean step) on B/η across the points with the same noise and radius list.
pub fn step_size_fits(reports: &[EscapeReport]) -> Vec<StepSizeFit> {
    let mut out = Vec::new();
    let Some(first) = reports.first() else {
        return out;
    };
    for kind in &first.escape.noises {
        for (i, &radius) in first.escape.radii.iter().enumerate() {
            let mut xy = Vec::new();
            for r in reports {
                let Some(n) = r.noises.iter().find(|n| n.noise == *kind) else {
                    continue;
                };
                let Some(s) = n.radii.get(i).filter(|s| s.radius == radius) else {
                    continue;
                };
                if let (0, Some(m)) = (s.censored, s.mean_steps) {
                    xy.push((
                        r.escape.batch_size as f64 / r.escape.learning_rate,
                        m.value.ln(),
                    ));
                }
            }
            let distinct = {
                let mut x: Vec<f64> = xy.iter().map(|p| p.0).collect();
                x.sort_by(f64::total_cmp);
                x.dedup();
                x.len()
            };
            if distinct < 2 {
                continue;
            }
            let (x, y): (Vec<f64>, Vec<f64>) = xy.iter().copied().unzip();
            let slope = escape::summary_slope(&x, &y);
            let n = x.len() as f64;
            let std_err = (x.len() > 2).then(|| {
                let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
                let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
                let rss: f64 = x
                    .iter()
                    .zip(&y)
                    .map(|(a, b)| (b - my - slope * (a - mx)).powi(2))
                    .sum();
                (rss / (n - 2.0) / sxx).sqrt()
            });
            out.push(StepSizeFit {
                noise: *kind,
                radius,
                points: x.len(),
                slope,
                std_err,
            });
        }
    }
    out
}

fn steps(s: &escape::RadiusStats) -> String {
    match (s.mean_steps, s.censored) {
        (Some(m), 0) => format!("{}±{}", sig(m.value), sig(m.std_err)),
        (Some(m), c) => format!("{}* ({c} cens)", sig(m.value)),
        (None, c) => format!("- ({c} cens)"),
    }
}

/// A number to 3 significant digits.
fn sig(x: f64) -> String {
    if !x.is_finite() {
        return if x == f64::INFINITY {
            "inf".into()
        } else {
            "-".into()
        };
    }
    if x == 0.0 {
        return "0".into();
    }
    let e = x.abs().log10().floor();
    if !(-3.0..6.0).contains(&e) {
        return format!("{x:.2e}");
    }
    format!("{x:.*}", (2.0 - e).max(0.0) as usize)
}

fn opt(v: Option<f64>) -> String {
    v.map_or("-".into(), sig)
}

/// The table of one point: its θ₀, then per radius every noise's mean escape step and the laws.
pub fn table(r: &EscapeReport) -> String {
    let st = &r.start;
    let mut s = format!(
        "{}: theta0 after {} iterations, train acc {:.4} loss {:.4}, test acc {:.4}; M = {} ({} measured); |grad f| = {:.3e}\n",
        r.label,
        st.iterations,
        st.train_accuracy,
        st.train_loss,
        st.test_accuracy,
        r.n_params,
        r.measured_params,
        st.gradient_norm
    );
    s += &format!(
        "  alpha = {:.3} ({}); top Hessian eigenvalues {}; trace {}; E|U|^2 = {:.3e} (variance), {:.3e} (log-law scale); dead coordinates {:.1} %\n",
        r.alpha.value,
        r.alpha.source,
        r.curvature
            .eigenvalues
            .iter()
            .map(|l| sig(*l))
            .collect::<Vec<_>>()
            .join(", "),
        r.curvature.trace.map_or("-".into(), |t| format!(
            "{}±{}",
            sig(t.value),
            sig(t.std_err)
        )),
        r.fit.total_variance,
        r.fit.total_scale_variance,
        100.0 * r.fit.dead_share
    );
    if !r.alpha.per_layer.is_empty() {
        s += &format!(
            "  alpha per layer (independent SaS, log-moment): {}\n",
            r.alpha
                .per_layer
                .iter()
                .map(|a| format!("{a:.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    s += &format!(
        "  eta = {}, b = {}, {} replicas, budget {} steps; {:.2} ms per full gradient ({} examples), {:.2} ms per minibatch gradient\n",
        r.escape.learning_rate,
        r.escape.batch_size,
        r.escape.replicas,
        r.escape.budget,
        1e3 * st.seconds_per_full_gradient,
        st.examples,
        1e3 * st.seconds_per_minibatch_gradient
    );
    s += "  mean escape step (±SE; * = exponential MLE under censoring) beside the laws:\n";
    let w = 22;
    s += &format!("  {:>8}", "radius");
    for n in &r.noises {
        s += &format!(" {:>w$}", n.noise.name());
    }
    s += &format!(
        " {:>10} {:>10} {:>14} {:>14} {:>14}\n",
        "levy-ind", "levy-iso", "gauss-var", "gauss-scale", "gauss-cov"
    );
    let g = |e: Option<crate::theory::escape::GaussianEscape>| {
        e.map_or("-".into(), |e| {
            format!(
                "{}{}",
                sig(e.steps),
                match e.regime {
                    "fluctuation" => " (fl)",
                    "near-stationary" => " (near)",
                    _ => "",
                }
            )
        })
    };
    for (i, p) in r.predictions.iter().enumerate() {
        s += &format!("  {:>8}", sig(p.radius));
        for n in &r.noises {
            s += &format!(" {:>w$}", steps(&n.radii[i]));
        }
        s += &format!(
            " {:>10} {:>10} {:>14} {:>14} {:>14}\n",
            opt(p.levy_independent),
            opt(p.levy_isotropic),
            g(p.gaussian_variance),
            g(p.gaussian_scale),
            g(p.gaussian_covariance)
        );
    }
    s += &format!("  {:>8}", "slope");
    for n in &r.noises {
        s += &format!(
            " {:>w$}",
            n.slope.as_ref().map_or("-".into(), |sl| format!(
                "{:.2} [{:.2}, {:.2}]",
                sl.slope, sl.ci_low, sl.ci_high
            ))
        );
    }
    s += &format!("   (levy laws: {:.2})\n", r.alpha.value);
    s += &format!("  {:>8}", "jump");
    for n in &r.noises {
        let last = n.radii.iter().rev().find(|x| x.jump_share.is_some());
        s += &format!(
            " {:>w$}",
            last.map_or("-".into(), |x| {
                let q = x.jump_share.unwrap_or([f64::NAN; 3]);
                format!("{:.2} / {}", q[1], opt(x.crossing_step_over_r))
            })
        );
    }
    s +=
        "   (median top-1% share of the largest step / crossing step ÷ r, largest radius passed)\n";
    s
}

fn csv(reports: &[EscapeReport]) -> String {
    let mut s = String::from(
        "run,label,noise,replica,radius,step,censored,loss,largest_step,jump_share,crossing_step,diverged\n",
    );
    for (k, r) in reports.iter().enumerate() {
        for n in &r.noises {
            for rep in &n.replicas {
                for (p, radius) in rep.passages.iter().zip(&r.escape.radii) {
                    match p {
                        Some(p) => {
                            s += &format!(
                                "{k},\"{}\",{},{},{radius},{},false,{},{},{},{},{}\n",
                                r.label,
                                n.noise.name(),
                                rep.replica,
                                p.step,
                                p.loss,
                                p.largest_step,
                                p.jump_share,
                                p.crossing_step,
                                rep.diverged
                            );
                        }
                        None => {
                            s += &format!(
                                "{k},\"{}\",{},{},{radius},{},true,,,,,{}\n",
                                r.label,
                                n.noise.name(),
                                rep.replica,
                                r.escape.budget,
                                rep.diverged
                            );
                        }
                    }
                }
            }
        }
    }
    s
}

pub(super) fn run(a: EscapeArgs) -> anyhow::Result<()> {
    let mut cfg = TrainConfig::load(&a.config)?;
    let file = a.config.display().to_string();
    anyhow::ensure!(
        cfg.runs.iter().all(|r| r.escape.is_some()),
        "{file}: escape: the file has no [escape] section (see scenarios/escape-digits.toml)"
    );
    if let Some(n) = a.replicas {
        anyhow::ensure!(n >= 1, "--replicas must be >= 1, got 0");
        for r in &mut cfg.runs {
            if let Some(e) = &mut r.escape {
                e.replicas = n;
            }
        }
    }
    let (train, test) = cfg
        .load_data()
        .map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    // Every point's network and layer list must fit before the first one trains.
    for r in &cfg.runs {
        let net = Model::build(&r.model, &train, r.seed)
            .map_err(|e| anyhow::anyhow!("{file}: model ({}): {e}", r.label))?;
        if let Some(e) = &r.escape {
            e.check_layers(net.layer_ranges().len())
                .map_err(|m| anyhow::anyhow!("{file}: {m} ({})", r.label))?;
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let dir = a.out.join(&cfg.name);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // One writer per result directory, the same lock as `levylab run` takes for it.
    let _lock = crate::experiment::staging::lock(
        &dir,
        &crate::experiment::staging::Layout::new(&a.out, &cfg.name).lock_file(),
    )?;
    let bar = ProgressBar::with_draw_target(
        None,
        if a.quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let mut reports: Vec<EscapeReport> = Vec::new();
    let total = cfg.runs.len();
    let write = |reports: &[EscapeReport]| -> anyhow::Result<()> {
        write_atomic(&dir.join("passages.csv"), csv(reports).as_bytes())?;
        let text: String = reports.iter().map(|r| table(r) + "\n").collect::<String>()
            + &if reports.len() < total {
                format!("incomplete: {} of {total} points\n", reports.len())
            } else {
                String::new()
            };
        write_atomic(&dir.join("table.txt"), text.as_bytes())?;
        // summary.json last: `complete: true` vouches for the files beside it.
        let summary = Summary {
            config: &cfg.name,
            source: cfg.source.display().to_string(),
            dataset: cfg.dataset,
            train_examples: train.len(),
            test_examples: test.len(),
            version: env!("CARGO_PKG_VERSION"),
            complete: reports.len() == total,
            points_total: total,
            runs: reports,
            step_size_fits: step_size_fits(reports),
        };
        write_atomic(
            &dir.join("summary.json"),
            (serde_json::to_string_pretty(&summary)? + "\n").as_bytes(),
        )?;
        Ok(())
    };
    for (i, r) in cfg.runs.iter().enumerate() {
        let spec = r.escape.as_ref().expect("checked above");
        let point = format!("point {}/{total} ({})", i + 1, r.label);
        let progress = |phase: &str, done: usize, of: usize| {
            bar.set_message(format!("{point}: {phase} {done}/{of}"));
        };
        let rep = pool
            .install(|| escape::run(r, spec, &train, &test, &progress))
            .map_err(|e| anyhow::anyhow!("{file}: {e} ({})", r.label))?;
        reports.push(rep);
        write(&reports)?;
    }
    bar.finish_and_clear();
    for r in &reports {
        println!("{}", table(r));
    }
    println!(
        "{} points on {} ({} train / {} test examples) in {:.1} s; results in {}",
        reports.len(),
        cfg.dataset,
        train.len(),
        test.len(),
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    Ok(())
}
