//! The escape figures: SGD's own escapes from a trained network's minimum beside the Gaussian and
//! α-stable model noises and their laws (`levylab figures --only escape-radius,escape-step-size`;
//! the same with `--dataset fashion-mnist`).
//!
//! Each experiment is the one `levylab escape` runs on the embedded configuration
//! (`scenarios/escape-digits.toml`, `scenarios/escape-fashion-mnist.toml`); the step-size and
//! batch-size points change only the replicas' η or b, from the same θ₀. `--quick` runs fewer
//! replicas, a shorter budget and cruder measurements at θ₀. Experiments are computed once per
//! invocation and shared between the figures.

use super::Result;
use std::path::Path;

use super::gallery::{Ctx, axis, histogram, panel};
use crate::plot::{LegendCorner, Trace};
use crate::trainer::TrainConfig;
use crate::trainer::data::Dataset;
use crate::trainer::escape::{self, EscapeReport, NoiseEscapes, NoiseKind};

/// The learning rates of the step-size panel, and the minibatch sizes of the batch-size panel (the
/// embedded configurations' own η = 0.1 and b = 50 are among them).
const ETAS: [f64; 3] = [0.05, 0.1, 0.2];
const BATCHES: [usize; 3] = [25, 50, 100];

/// One embedded escape configuration with its data, and the experiments run on it so far.
pub(super) struct EscapeLab<'a> {
    /// Where the figures go and how thoroughly.
    pub(super) c: &'a Ctx,
    /// The configuration's text and its name for messages.
    pub(super) text: &'static str,
    pub(super) source: &'static str,
    /// "digits" or "Fashion-MNIST" (for captions).
    pub(super) dataset: &'static str,
    pub(super) train: &'a Dataset,
    pub(super) test: &'a Dataset,
}

impl<'a> EscapeLab<'a> {
    pub(super) fn new(
        c: &'a Ctx,
        (text, source, dataset): (&'static str, &'static str, &'static str),
        train: &'a Dataset,
        test: &'a Dataset,
    ) -> Self {
        EscapeLab {
            c,
            text,
            source,
            dataset,
            train,
            test,
        }
    }

    /// The experiment at replica step size `eta` and minibatch size `batch` (None: the
    /// configuration's own), computed on first use.
    fn experiment(&self, eta: Option<f64>, batch: Option<usize>) -> Result<EscapeReport> {
        let key = format!("{} {eta:?} {batch:?}", self.source);
        if let Some(r) = self.c.escape_runs.borrow().get(&key) {
            return Ok(r.clone());
        }
        let cfg = TrainConfig::parse(self.text, Path::new(self.source))?;
        let run = &cfg.runs[0];
        let mut spec = run.escape.clone().expect("the embedded file has [escape]");
        if let Some(e) = eta {
            spec.learning_rate = e;
        }
        if let Some(b) = batch {
            spec.batch_size = b;
        }
        if self.c.quick {
            // The full-batch gradient dominates: at most 200 examples (≈ 1.7 ms per gradient
            // on Fashion-MNIST's FC net), and half the replicas at the sweep points.
            spec.replicas = if eta.is_some() || batch.is_some() {
                12
            } else {
                24
            };
            spec.train_subset = Some(spec.train_subset.unwrap_or(200).min(200));
            spec.budget = spec.budget.min(300);
            spec.radii.truncate(3);
            spec.noise_minibatches = spec.noise_minibatches.min(60);
            spec.hessian_iterations = spec.hessian_iterations.min(8);
            spec.hutchinson = spec.hutchinson.min(2);
        } else if eta.is_some() || batch.is_some() {
            // The sweep points need the mean at one radius, not the whole radius range.
            spec.replicas = spec.replicas.min(100);
        }
        let report = escape::run(run, &spec, self.train, self.test, &|_, _, _| {})?;
        self.c.escape_runs.borrow_mut().insert(key, report.clone());
        Ok(report)
    }
}

/// The noises' colours and legend names, in the table's order.
fn style(kind: NoiseKind) -> (usize, &'static str) {
    match kind {
        NoiseKind::Sgd => (6, "SGD (shuffled epochs)"),
        NoiseKind::SgdReplacement => (2, "SGD, minibatches with replacement"),
        NoiseKind::GaussianVariance => (0, "Gaussian, measured variance"),
        NoiseKind::GaussianScale => (4, "Gaussian, log-law scale"),
        NoiseKind::GaussianCovariance => (5, "Gaussian, measured covariance"),
        NoiseKind::StableIndependent => (1, "SαS, independent coordinates"),
        NoiseKind::StableIsotropic => (3, "SαS, isotropic"),
    }
}

/// The radius the single-radius panels use: the third of the list (0.08 in the embedded files).
const MID: usize = 2;

fn mean_marker(n: &NoiseEscapes, i: usize, x: f64) -> Option<(f64, f64, f64, f64)> {
    let s = n.radii.get(i)?;
    let m = s.mean_steps?;
    Some((x, m.value, m.value - m.std_err, m.value + m.std_err))
}

/// The law of `kind` at radius `i` of `r` (None for SGD, which has no law of its own, and for the
/// log-law Gaussian, whose law is within a few % of the variance one: one line for both).
fn law(r: &EscapeReport, kind: NoiseKind, i: usize) -> Option<f64> {
    let p = r.predictions.get(i)?;
    let v = match kind {
        NoiseKind::Sgd | NoiseKind::SgdReplacement => None,
        NoiseKind::GaussianVariance => p.gaussian_variance.map(|g| g.steps),
        NoiseKind::GaussianScale => p.gaussian_scale.map(|g| g.steps),
        NoiseKind::GaussianCovariance => p.gaussian_covariance.map(|g| g.steps),
        NoiseKind::StableIndependent => p.levy_independent,
        NoiseKind::StableIsotropic => p.levy_isotropic,
    }?;
    (v.is_finite() && kind != NoiseKind::GaussianScale).then_some(v)
}

/// Puts the legend in the lower right, with the y range extended downwards to leave it room below
/// the markers.
fn legend_below(p: &mut crate::plot::Panel) {
    let values = p.traces.iter().flat_map(|t| t.markers.iter().map(|m| m.1));
    let (lo, hi) = values.fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    if lo > 0.0 && lo.is_finite() && hi > 0.0 {
        p.y_range = Some((lo / 30.0, hi * 2.0));
        p.legend = LegendCorner::LowerRight;
    }
}

/// A law's dashed line, unnamed (no legend entry: the caption says which law each colour's line
/// is).
fn law_line(pts: Vec<(f64, f64)>) -> Vec<(String, Vec<(f64, f64)>)> {
    if pts.is_empty() {
        Vec::new()
    } else {
        vec![(String::new(), pts)]
    }
}

fn passage_steps(n: &NoiseEscapes, i: usize) -> Vec<f64> {
    n.replicas
        .iter()
        .filter_map(|rep| rep.passages.get(i).copied().flatten())
        .map(|p| p.step as f64)
        .collect()
}

fn at_passage(n: &NoiseEscapes, i: usize, f: impl Fn(&escape::Passage) -> f64) -> Vec<f64> {
    n.replicas
        .iter()
        .filter_map(|rep| rep.passages.get(i).copied().flatten())
        .map(|p| f(&p))
        .filter(|v| v.is_finite())
        .collect()
}

/// Kaplan–Meier survival with every censoring at the budget: the share of replicas still inside
/// after step k, drawn as a step function up to the last passage.
fn survival(n: &NoiseEscapes, i: usize) -> Vec<(f64, f64)> {
    let total = n.replicas.len() as f64;
    let mut steps = passage_steps(n, i);
    steps.sort_by(f64::total_cmp);
    let mut line = vec![(0.0, 1.0)];
    for (j, &k) in steps.iter().enumerate() {
        let before = 1.0 - j as f64 / total;
        let after = 1.0 - (j + 1) as f64 / total;
        line.push((k, before));
        if after > 0.0 {
            line.push((k, after));
        }
    }
    line
}

fn density_line(v: &[f64], bins: usize, log: bool) -> Vec<(f64, f64)> {
    if v.len() < 2 {
        return Vec::new();
    }
    let (edges, d) = histogram(v, bins, log);
    d.iter()
        .enumerate()
        .flat_map(|(j, &y)| [(edges[j], y), (edges[j + 1], y)])
        .collect()
}

fn caption(lab: &EscapeLab, r: &EscapeReport) -> String {
    let s = &r.escape;
    format!(
        "levylab figures {}: {} ({}, first {} examples), θ₀ after {} iterations (train loss {:.3}, accuracy {:.3}); \
         η = {}, b = {}, {} replicas per noise, budget {} steps; α = {:.2} ({}); markers: mean escape step ± SE \
         (exponential MLE where some replicas were censored); dashed, in the noise's colour: its law \
         (one-jump law for the SαS noises, Gaussian quadratic law with the diagonal or the measured covariance for the Gaussians)",
        lab.c.mode(),
        lab.source,
        lab.dataset,
        s.train_subset.map_or("all".into(), |n| n.to_string()),
        r.start.iterations,
        r.start.train_loss,
        r.start.train_accuracy,
        s.learning_rate,
        s.batch_size,
        s.replicas,
        s.budget,
        r.alpha.value,
        r.alpha.source,
    )
}

/// Escape step against the radius with the laws, survival, and how the ball is left.
pub(super) fn fig_radius(lab: &EscapeLab) -> Result<()> {
    let r = lab.experiment(None, None)?;
    let radii = &r.escape.radii;
    let mid = MID.min(radii.len() - 1);
    let rm = radii[mid];
    let traces = |f: &dyn Fn(&NoiseEscapes, usize, &'static str) -> Trace| -> Vec<Trace> {
        r.noises
            .iter()
            .map(|n| {
                let (col, name) = style(n.noise);
                f(n, col, name)
            })
            .collect()
    };
    let by_radius = traces(&|n, col, name| Trace {
        label: match &n.slope {
            Some(s) => format!("{name}: slope {:.2}", s.slope),
            None => name.into(),
        },
        markers: (0..radii.len())
            .filter_map(|i| mean_marker(n, i, radii[i]))
            .collect(),
        dashed: law_line(
            (0..radii.len())
                .filter_map(|i| law(&r, n.noise, i).map(|v| (radii[i], v)))
                .collect(),
        ),
        color: col,
        ..Default::default()
    });
    let surv = traces(&|n, col, name| Trace {
        label: name.into(),
        line: survival(n, mid),
        color: col,
        ..Default::default()
    });
    let share = traces(&|n, col, name| Trace {
        label: name.into(),
        line: density_line(&at_passage(n, mid, |p| p.jump_share), 20, false),
        color: col,
        ..Default::default()
    });
    let crossing = traces(&|n, col, name| Trace {
        label: name.into(),
        line: density_line(&at_passage(n, mid, |p| p.crossing_step / rm), 24, true),
        color: col,
        ..Default::default()
    });
    let mut radius_panel = panel(
        "(a) mean escape step against the radius",
        axis("radius r = ‖θ − θ₀‖", true),
        axis("mean escape step (iterations)", true),
        by_radius,
    );
    legend_below(&mut radius_panel);
    let mut survival_panel = panel(
        &format!("(b) survival inside the ball of radius {rm}"),
        axis("step k", false),
        axis("share of replicas with ‖θₖ − θ₀‖ ≤ r", true),
        surv,
    );
    survival_panel.y_range = Some((1.0 / r.escape.replicas as f64, 1.0));
    lab.c.save(
        "escape-radius",
        &format!(
            "Escapes from a minimum of an FC net on {}: SGD beside Gaussian and α-stable model noises",
            lab.dataset
        ),
        &caption(lab, &r),
        (2, 2),
        &[
            radius_panel,
            survival_panel,
            panel(
                &format!("(c) the largest step before leaving r = {rm}: its jump share"),
                axis(
                    "share of the step's squared length in its top 1 % coordinates (1: one jump)",
                    false,
                ),
                axis("density", true),
                share,
            ),
            panel(
                &format!("(d) the step that crossed r = {rm} (≈ 1·r: one jump; ≪ r: creep)"),
                axis("crossing step length / r", true),
                axis("density (per unit of crossing step / r)", true),
                crossing,
            ),
        ],
    )
}

/// Mean escape step at one radius against the replicas' η and against b, with the laws.
pub(super) fn fig_step_size(lab: &EscapeLab) -> Result<()> {
    let base = lab.experiment(None, None)?;
    let mid = MID.min(base.escape.radii.len() - 1);
    let rm = base.escape.radii[mid];
    // The configuration's own η and b are the base experiment (None), computed once.
    let mut by_eta = Vec::new();
    for eta in ETAS {
        let own = eta == base.escape.learning_rate;
        by_eta.push((eta, lab.experiment((!own).then_some(eta), None)?));
    }
    let mut by_b = Vec::new();
    for b in BATCHES {
        let own = b == base.escape.batch_size;
        by_b.push((b as f64, lab.experiment(None, (!own).then_some(b))?));
    }
    let sweep = |points: &[(f64, EscapeReport)]| -> Vec<Trace> {
        base.escape
            .noises
            .iter()
            .map(|&kind| {
                let (col, name) = style(kind);
                let find = |r: &EscapeReport| r.noises.iter().find(|n| n.noise == kind).cloned();
                let markers = points
                    .iter()
                    .filter_map(|(x, r)| mean_marker(&find(r)?, mid, *x))
                    .collect();
                Trace {
                    label: name.into(),
                    markers,
                    dashed: law_line(
                        points
                            .iter()
                            .filter_map(|(x, r)| law(r, kind, mid).map(|v| (*x, v)))
                            .collect(),
                    ),
                    color: col,
                    ..Default::default()
                }
            })
            .collect()
    };
    lab.c.save(
        "escape-step-size",
        &format!(
            "Escapes from a minimum of an FC net on {}: escape step at r = {rm} against η and b",
            lab.dataset
        ),
        &format!(
            "{}. Left: b = {}, η ∈ {:?}; right: η = {}, b ∈ {:?} (the same θ₀ throughout: only the replicas' η or b changes; the noise law is remeasured at each b)",
            caption(lab, &base),
            base.escape.batch_size,
            ETAS,
            base.escape.learning_rate,
            BATCHES
        ),
        (1, 2),
        &[
            {
                let mut p = panel(
                    &format!("(a) mean escape step at r = {rm} against the step size"),
                    axis("step size η", true),
                    axis("mean escape step (iterations)", true),
                    sweep(&by_eta),
                );
                legend_below(&mut p);
                p
            },
            {
                let mut p = panel(
                    &format!("(b) mean escape step at r = {rm} against the minibatch size"),
                    axis("minibatch size b", true),
                    axis("mean escape step (iterations)", true),
                    sweep(&by_b),
                );
                legend_below(&mut p);
                p
            },
        ],
    )
}

/// The digits escape configuration embedded in the binary.
pub(super) const DIGITS: (&str, &str, &str) = (
    include_str!("../../scenarios/escape-digits.toml"),
    "scenarios/escape-digits.toml",
    "digits",
);

fn digits_lab(c: &Ctx, f: impl Fn(&EscapeLab) -> Result<()>) -> Result<()> {
    let cfg = TrainConfig::parse(DIGITS.0, Path::new(DIGITS.1))?;
    let (train, test) = cfg.load_data()?;
    f(&EscapeLab::new(c, DIGITS, &train, &test))
}

/// `escape-radius` on digits.
pub(super) fn fig_radius_digits(c: &Ctx) -> Result<()> {
    digits_lab(c, fig_radius)
}

/// `escape-step-size` on digits.
pub(super) fn fig_step_size_digits(c: &Ctx) -> Result<()> {
    digits_lab(c, fig_step_size)
}

/// The Fashion-MNIST escape configuration embedded in the binary (its data come from
/// `--data-dir`).
const FASHION: (&str, &str, &str) = (
    include_str!("../../scenarios/escape-fashion-mnist.toml"),
    "scenarios/escape-fashion-mnist.toml",
    "Fashion-MNIST",
);

/// `escape-radius` with `--dataset fashion-mnist`.
pub(super) fn fig_radius_fashion(lab: &super::fashion::Lab) -> Result<()> {
    fig_radius(&EscapeLab::new(&lab.c, FASHION, &lab.tr, &lab.te))
}

/// `escape-step-size` with `--dataset fashion-mnist`.
pub(super) fn fig_step_size_fashion(lab: &super::fashion::Lab) -> Result<()> {
    fig_step_size(&EscapeLab::new(&lab.c, FASHION, &lab.tr, &lab.te))
}
