//! What a run reports: the per-point summary, summary.json, the comparison table, exit_times.csv
//! and exit_times.png.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ExperimentError;
use crate::io::write_atomic;
use crate::plot::{self, Axis, Series};
use crate::scenario::{self, Point, Prediction, Predictions, Scenario, predictions};
use crate::sde::Outcome;
use crate::stats::ExitStats;
use crate::stats::streaming::QUANTILES;

/// The summary of one point, as written to summary.json.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    pub paths: u64,
    /// Paths whose event happened.
    pub exited: u64,
    /// Paths still running at the horizon (or at the interruption).
    pub censored: u64,
    /// Paths whose state became NaN or ±∞.
    pub non_finite: u64,
    /// Mean exit time (sample mean, or exponential MLE under censoring).
    pub mean: Option<f64>,
    /// Its standard error.
    pub mean_se: Option<f64>,
    /// "sample" or "exponential-mle".
    pub mean_estimator: Option<String>,
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
    /// The adaptive-multilevel-splitting estimate, for a point with `[rare_event]` (then `mean` is
    /// its estimate and the path counts are 0).
    pub ams: Option<AmsSummary>,
    /// Whether the quantiles, the median and the KS distance come from every exit time (true) or
    /// from the log-binned histogram (relative error ≤ 4.9·10⁻⁴; points of over 10⁶ paths).
    pub quantiles_exact: bool,
    /// Total steps simulated.
    pub steps: u64,
    /// Wall time of this point.
    pub wall_seconds: f64,
    /// Applicable theory predictions.
    pub theory: Predictions,
    /// Monte Carlo / theory for each time prediction (exit fraction / probability for the exit-side keys).
    pub ratio: Predictions,
    /// For an event with several targets (a `transition` or `reach` of minima in ℝᵈ): per target,
    /// the exits that reached it, their share of all exits, and that share's small-noise theory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<TargetShare>>,
}

/// One target of an event with several targets, in a point summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetShare {
    /// `min:K` (minimum K of the landscape, deepest first) or the target's coordinates.
    pub target: String,
    /// The target point.
    pub at: Vec<f64>,
    /// Exits that reached it.
    pub reached: u64,
    /// reached / exits (None without exits).
    pub share: Option<f64>,
    /// Its binomial standard error √(p(1 − p)/exits).
    pub share_se: Option<f64>,
    /// The small-noise probability of reaching this target first, by law (`kramers`, `levy_ip`).
    pub theory: Predictions,
}

/// The per-target shares of point `p`'s exits, beside their theory (None for single-target events).
fn target_shares(p: &Point, stats: &ExitStats, exited: u64) -> Option<Vec<TargetShare>> {
    let theory = crate::scenario::target_shares(p)?;
    let counts = stats.target_counts();
    Some(
        theory
            .into_iter()
            .enumerate()
            .map(|(k, t)| {
                let reached = counts.get(k).copied().unwrap_or(0);
                let n = exited as f64;
                let share = (exited > 0).then(|| reached as f64 / n);
                TargetShare {
                    target: t.label,
                    at: t.at,
                    reached,
                    share,
                    share_se: share.map(|p| (p * (1.0 - p) / n).sqrt()),
                    theory: t.theory,
                }
            })
            .collect(),
    )
}

/// The `ams` object of a point summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AmsSummary {
    /// p: probability to exit from the entrance surface Σ before returning to the start region.
    pub p: f64,
    /// Its standard error (spread of the runs).
    pub p_se: f64,
    /// q: share of cycles that exit from the start region without entering Σ (jumps).
    pub q: f64,
    /// P = q + (1 − q)·p: a cycle's probability to end in the exit.
    pub cycle_exit: f64,
    /// Its standard error.
    pub cycle_exit_se: f64,
    /// Independent AMS runs.
    pub runs: usize,
    /// Replicas per run.
    pub replicas: usize,
    /// Failed cycles simulated directly (all runs).
    pub loops: u64,
    /// Mean duration of a failed cycle, with its standard error.
    pub loop_mean: f64,
    /// Standard error of `loop_mean`.
    pub loop_se: f64,
    /// Mean duration from the start region to Σ.
    pub entrance_mean: f64,
    /// Mean duration of a jump exit (start region to the exit).
    pub jump_mean: f64,
    /// Mean reactive duration (Σ to the exit).
    pub reactive_mean: f64,
    /// AMS iterations (all runs).
    pub iterations: u64,
    /// Steps simulated (all runs).
    pub steps: u64,
    /// Segments cut by the horizon (should be 0).
    pub capped: u64,
    /// Levels: the start region ξ ≤ (1 − return_level)·ξ₀, Σ at (1 − entrance_level)·ξ₀.
    pub return_level: f64,
    /// See `return_level`.
    pub entrance_level: f64,
}

/// summary.json.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Its description.
    pub description: String,
    /// The scenario file.
    pub source: String,
    /// Seed of the path streams.
    pub seed: u64,
    /// Paths per point.
    pub paths_per_point: u64,
    /// Whether exit_times.csv was written.
    pub exit_times_csv: bool,
    /// levylab version.
    pub version: String,
    /// Whether the run was stopped before the end (the last point's unfinished paths censored).
    pub interrupted: bool,
    /// Whether every point finished: `false` in every summary written while the run is in progress
    /// (and so in the file a killed run leaves behind) and after an interruption. summary.json is
    /// the last file written after each point, so `true` also means that table.txt and
    /// exit_times.csv beside it are final.
    #[serde(default)]
    pub complete: bool,
    /// Points of the scenario (finished or not).
    #[serde(default)]
    pub points_total: usize,
    /// The points finished, in scenario order.
    pub points: Vec<PointSummary>,
}

impl Summary {
    /// The header of a scenario's summary, with no points yet.
    pub fn new(s: &Scenario) -> Self {
        Summary {
            scenario: s.name.clone(),
            description: s.description.clone(),
            source: s.source.display().to_string(),
            seed: s.seed,
            paths_per_point: s.paths,
            exit_times_csv: s.writes_exit_times(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            interrupted: false,
            complete: s.points.is_empty(),
            points_total: s.points.len(),
            points: Vec::new(),
        }
    }

    /// Appends a finished point; `interrupted` says whether the run stopped during it. The summary
    /// is complete when every point is in and none was interrupted.
    pub fn add_point(&mut self, point: PointSummary, interrupted: bool) {
        self.points.push(point);
        self.interrupted = interrupted;
        self.complete = !interrupted && self.points.len() == self.points_total;
    }
}

/// The summary of a point's run: from its AMS estimate when it has one, else from its statistics.
pub fn summarize_run(p: &Point, r: &super::PointRun) -> PointSummary {
    let mut s = summarize(p, &r.stats, r.steps, r.wall);
    if let (Some(e), Some(cfg)) = (&r.ams, &p.rare_event) {
        s.mean = Some(e.mean);
        s.mean_se = Some(e.mean_se);
        s.mean_estimator = Some("ams".into());
        s.quantiles_exact = false;
        s.ratio = s
            .theory
            .iter()
            .filter(|(k, _)| k.is_time())
            .map(|(&k, v)| (k, e.mean / v))
            .collect();
        s.ams = Some(AmsSummary {
            p: e.p,
            p_se: e.p_se,
            q: e.q,
            cycle_exit: e.success,
            cycle_exit_se: e.success_se,
            runs: cfg.runs,
            replicas: cfg.replicas,
            loops: e.loops(),
            loop_mean: e.loop_mean,
            loop_se: e.loop_se,
            entrance_mean: e.entrance_mean,
            jump_mean: e.jump_mean,
            reactive_mean: e.reactive_mean,
            iterations: e.iterations(),
            steps: e.steps(),
            capped: e.capped(),
            return_level: cfg.return_level,
            entrance_level: cfg.entrance_level,
        });
    }
    s
}

/// The summary of point `p` from its statistics, total steps and wall time.
pub fn summarize(p: &Point, stats: &ExitStats, steps: u64, wall: f64) -> PointSummary {
    let e = stats.summary();
    let theory = predictions(p);
    let mut ratio = BTreeMap::new();
    for (&k, &v) in &theory {
        let mc = if k.is_time() {
            e.mean.map(|b| b.0.value)
        } else if k.is_exit_side() {
            e.high_fraction.map(|h| h.value)
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
        serde_json::to_value(p.noise.kind).expect("noise kinds serialize"),
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
    let [q10, q25, median, q75, q90] = e.quantiles;
    debug_assert_eq!(QUANTILES[2], 0.5);
    PointSummary {
        label: p.label(),
        variant: p.variant.clone(),
        params: p.params.iter().cloned().collect(),
        noise,
        dt: p.model.dt(),
        horizon: p.model.horizon(),
        paths: e.paths,
        exited: e.exited,
        censored: e.censored,
        non_finite: e.non_finite,
        mean: e.mean.map(|b| b.0.value),
        mean_se: e.mean.map(|b| b.0.std_err),
        mean_estimator: e.mean.map(|b| b.1.to_string()),
        censored_fraction: e.censored as f64 / e.paths.max(1) as f64,
        restricted_mean: e.restricted.map(|r| r.0.value),
        restricted_mean_se: e.restricted.map(|r| r.0.std_err),
        restricted_horizon: e.restricted.map(|r| r.1),
        mle_reliable: (e.censored > 0).then_some(e.mle_warning.is_none()),
        mle_warning: e.mle_warning,
        median,
        quantiles: [("q10", q10), ("q25", q25), ("q75", q75), ("q90", q90)]
            .into_iter()
            .map(|(k, q)| (k.to_string(), q))
            .collect(),
        cv: e.cv,
        ks_exponential: e.ks_exponential,
        exit_right_fraction: e.high_fraction.map(|h| h.value),
        exit_right_se: e.high_fraction.map(|h| h.std_err),
        quantiles_exact: stats.is_exact(),
        ams: None,
        steps,
        wall_seconds: wall,
        theory,
        ratio,
        targets: target_shares(p, stats, e.exited),
    }
}

/// exit_times.csv: one row per path of every point whose outcomes were kept.
fn csv(points: &[PointSummary], outcomes: &[&[Outcome]]) -> String {
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

pub(crate) fn opt(v: Option<f64>) -> String {
    v.map_or("-".to_string(), sig)
}

/// The comparison table: one row per point.
pub fn table(points: &[PointSummary]) -> String {
    // Error estimates stay in summary.json; the table shows the values and their ratios.
    let keys: BTreeSet<Prediction> = points
        .iter()
        .flat_map(|p| p.theory.keys().copied())
        .filter(|k| k.kind() != scenario::PredictionKind::Error)
        .collect();
    let two_sided = points.iter().any(|p| {
        p.exit_right_fraction.is_some_and(|f| f > 0.0 && f < 1.0)
            || p.theory.keys().any(|k| k.is_exit_side())
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
        if k.has_ratio() {
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
                    match (p.mean_estimator.as_deref(), p.mle_reliable) {
                        (Some("exponential-mle"), Some(false)) => " (mle!)",
                        (Some("exponential-mle"), _) => " (mle)",
                        (Some("ams"), _) => " (ams)",
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
        if let Some(a) = &p.ams {
            r[1] = format!("{}×{}", a.runs, a.replicas);
            r[2] = "-".into();
            r[3] = "-".into();
        }
        for k in &keys {
            r.push(opt(p.theory.get(k).copied()));
            if k.has_ratio() {
                r.push(opt(p.ratio.get(k).copied()));
            }
        }
        rows.push(r);
    }
    let mut out = render(&rows);
    if censoring {
        out += "(mle): mean from the exponential MLE under censoring; rmean(L): area under the Kaplan–Meier curve up to the largest censoring time L, a lower bound of the mean\n";
    }
    if points.iter().any(|p| p.ams.is_some()) {
        out += "(ams): mean from adaptive multilevel splitting, runs×replicas in the paths column; p, loop durations and iterations in summary.json's ams object\n";
    }
    for p in points {
        if let Some(ts) = &p.targets {
            let parts: Vec<String> = ts
                .iter()
                .map(|t| {
                    let mc = match (t.share, t.share_se) {
                        (Some(v), Some(se)) => format!("{v:.3} ± {se:.3}"),
                        _ => "-".into(),
                    };
                    let law: Vec<String> = t
                        .theory
                        .iter()
                        .map(|(k, v)| format!("{k} {v:.3}"))
                        .collect();
                    if law.is_empty() {
                        format!("{} {mc}", t.target)
                    } else {
                        format!("{} {mc} ({})", t.target, law.join(", "))
                    }
                })
                .collect();
            out += &format!("reached, {}: {}\n", p.label, parts.join("; "));
        }
        if let Some(w) = &p.mle_warning {
            out += &format!(
                "(mle!) {}: {w}; rmean(L) is a lower bound of the mean; raise the horizon\n",
                p.label
            );
        }
    }
    let bare: Vec<&str> = points
        .iter()
        .filter(|p| p.theory.is_empty())
        .map(|p| p.label.as_str())
        .collect();
    if !bare.is_empty() {
        out += &format!(
            "no theory: no closed-form or exact prediction applies to {}\n",
            if bare.len() == points.len() {
                "these points".to_string()
            } else {
                bare.join(", ")
            }
        );
    }
    out
}

/// Aligned columns: the first left-aligned, the rest right-aligned, a rule under the header row.
pub(crate) fn render(rows: &[Vec<String>]) -> String {
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

/// Writes summary.json and table.txt, and exit_times.csv when the scenario keeps per-path
/// outcomes (`outcomes` holds them, point by point) — or removes a stale one when it does not.
pub fn write_outputs(
    dir: &Path,
    summary: &Summary,
    outcomes: &[&[Outcome]],
) -> Result<(), ExperimentError> {
    let mut text = table(&summary.points);
    if !summary.complete {
        text += &format!(
            "incomplete: {} of {} points{}\n",
            summary.points.len(),
            summary.points_total,
            if summary.interrupted {
                " (interrupted)"
            } else {
                " (the run is in progress, or was killed)"
            }
        );
    }
    write_atomic(&dir.join("table.txt"), text.as_bytes())?;
    let csv_path = dir.join("exit_times.csv");
    if summary.exit_times_csv {
        write_atomic(&csv_path, csv(&summary.points, outcomes).as_bytes())?;
    } else {
        // No stale per-path file from an earlier run of the same scenario beside this summary.
        match std::fs::remove_file(&csv_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(ExperimentError::Io {
                    path: csv_path,
                    source: e,
                });
            }
            _ => {}
        }
    }
    // Last, so that a summary saying `complete` vouches for the files beside it.
    let json = serde_json::to_string_pretty(summary).expect("summaries serialize") + "\n";
    write_atomic(&dir.join("summary.json"), json.as_bytes())?;
    Ok(())
}

/// Mean exit time against the first swept field, one series per variant, theory beside it.
pub fn plot(dir: &Path, s: &Scenario, points: &[PointSummary]) -> Result<(), ExperimentError> {
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
        let mut theory: BTreeMap<Prediction, Vec<(f64, f64)>> = BTreeMap::new();
        for &i in &idx {
            for (&k, &val) in &points[i].theory {
                if k.is_time() {
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
    plot::series_plot(
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
