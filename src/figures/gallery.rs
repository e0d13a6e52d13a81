//! The figure gallery behind `levylab figures`: computes the data for every figure (simulations,
//! training runs, estimator calibrations) and draws it with [`crate::plot::panels`]. Each figure also
//! gets a JSON file with exactly the numbers drawn.

use super::{GalleryError, Result};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::distr::Distribution;
use rand_distr::{StandardNormal, StudentT};

use crate::experiment::{self, PointSummary};
use crate::io::write_atomic;
use crate::landscape::{Landscape, Potential, Quartic};
use crate::noise::{Noise, Param, Stable, StandardStable};
use crate::plot::{Axis, Panel, Trace};
use crate::scenario::{self, Prediction, Scenario};
use crate::sde::{Event, Outcome, Scheme, Simulation, SimulationSpec, exit_sample};
use crate::stats::tail_index::zero_fraction;
use crate::stats::{HillK, block_sum, hill, mcculloch};
use crate::trainer::config::{RunReport, TrainRun, train};
use crate::trainer::data;
use crate::trainer::escape::EscapeReport;
use crate::trainer::mlp::Loss;
use crate::trainer::model::ModelSpec;

/// A figure's drawing function.
type Draw = DrawWith<Ctx>;

/// Every figure, in order: its name (the stem of its PNG and JSON files) and what draws it.
const FIGURES: [(&str, Draw); 15] = [
    ("noise-norms", fig_noise_norms),
    ("stable-densities-paths", fig_densities_paths),
    ("alpha-width-depth", fig_width_depth),
    ("alpha-batch-size", fig_batch_size),
    ("alpha-iterations", fig_iterations),
    ("estimator-calibration", fig_calibration),
    ("double-well-paths", fig_double_well_paths),
    ("exit-time-vs-noise", fig_exit_vs_noise_run),
    ("width-vs-height", fig_width_height),
    ("exit-time-distribution", fig_distribution_run),
    ("sgd-step-size", fig_sgd),
    ("paths-2d", super::space::fig_paths_2d),
    ("exit-directions", super::space::fig_exit_directions),
    ("escape-radius", super::escape::fig_radius_digits),
    ("escape-step-size", super::escape::fig_step_size_digits),
];

/// Every figure's name, in order.
pub const NAMES: [&str; FIGURES.len()] = {
    let mut names = [""; FIGURES.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = FIGURES[i].0;
        i += 1;
    }
    names
};

pub(super) struct Ctx {
    pub(super) out: PathBuf,
    pub(super) quick: bool,
    /// The escape experiments run so far (keyed by configuration, η and b), shared by the escape
    /// figures.
    pub(super) escape_runs: RefCell<BTreeMap<String, EscapeReport>>,
}

impl Ctx {
    pub(super) fn q<T>(&self, quick: T, full: T) -> T {
        if self.quick { quick } else { full }
    }
    pub(super) fn save(
        &self,
        name: &str,
        title: &str,
        caption: &str,
        layout: (usize, usize),
        panels: &[Panel],
    ) -> Result<()> {
        let png = self.out.join(format!("{name}.png"));
        crate::plot::panels(&png, title, caption, layout, panels)?;
        let json = serde_json::to_string(
            &serde_json::json!({ "figure": name, "title": title, "caption": caption, "panels": panels }),
        )?;
        write_atomic(
            &self.out.join(format!("{name}.json")),
            (json + "\n").as_bytes(),
        )?;
        Ok(())
    }
    pub(super) fn mode(&self) -> &'static str {
        if self.quick { "--quick" } else { "full" }
    }
}

pub(super) fn axis(label: &str, log: bool) -> Axis {
    Axis {
        label: label.into(),
        log,
    }
}

pub(super) fn panel(title: &str, x: Axis, y: Axis, traces: Vec<Trace>) -> Panel {
    Panel {
        title: title.into(),
        x,
        y,
        traces,
        y_range: None,
        x_range: None,
        legend: Default::default(),
    }
}

/// Histogram densities over `bins` bins (log-spaced if `log`) between the data's extremes.
pub(super) fn histogram(v: &[f64], bins: usize, log: bool) -> (Vec<f64>, Vec<f64>) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (a, b) = if log {
        (lo.max(1e-300).ln(), hi.ln())
    } else {
        (lo, hi)
    };
    let b = if b > a { b } else { a + 1.0 };
    let edges: Vec<f64> = (0..=bins)
        .map(|i| a + (b - a) * i as f64 / bins as f64)
        .map(|e| if log { e.exp() } else { e })
        .collect();
    let mut counts = vec![0usize; bins];
    for &x in v {
        let t = if log { x.max(1e-300).ln() } else { x };
        let i = (((t - a) / (b - a)) * bins as f64)
            .floor()
            .clamp(0.0, (bins - 1) as f64) as usize;
        counts[i] += 1;
    }
    let n = v.len() as f64;
    let d = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| c as f64 / (n * (edges[i + 1] - edges[i])))
        .collect();
    (edges, d)
}

fn embedded(name: &str) -> Result<Scenario> {
    let text = match name {
        "gaussian-vs-levy" => include_str!("../../scenarios/gaussian-vs-levy.toml"),
        "width-vs-height" => include_str!("../../scenarios/width-vs-height.toml"),
        "sgd-step-size" => include_str!("../../scenarios/sgd-step-size.toml"),
        "small-noise" => include_str!("../../scenarios/small-noise.toml"),
        other => unreachable!("no embedded scenario {other}"),
    };
    Ok(scenario::parse(
        text,
        Path::new(&format!("scenarios/{name}.toml")),
    )?)
}

/// Runs every point of a scenario with `paths` paths: (summaries, outcomes) in point order.
fn run_scenario(s: &mut Scenario, paths: u64) -> (Vec<PointSummary>, Vec<Vec<Outcome>>) {
    s.paths = paths;
    experiment::simulate(s).into_iter().unzip()
}

fn digits_data() -> Result<(data::Dataset, data::Dataset)> {
    let (mut tr, mut te) = data::split(&data::digits()?, 0.2, 0);
    data::normalize(&mut tr, &mut te);
    Ok((tr, te))
}

pub(super) fn base_run(
    width: usize,
    depth: usize,
    loss: Loss,
    batch: usize,
    iterations: usize,
    every: usize,
) -> TrainRun {
    TrainRun {
        label: format!("w{width} d{depth} {} b{batch}", loss.name()),
        params: vec![],
        seed: 0,
        model: ModelSpec::Fc {
            width,
            depth,
            bias: false,
        },
        loss,
        learning_rate: 0.1,
        batch_size: batch,
        iterations,
        checkpoint_every: every,
        halve_step: false,
        weight_decay: 0.0,
        order: crate::trainer::config::Order::Cyclic,
        noise_batch_size: batch,
        subsample: 200_000,
        on_test: false,
        // The gallery's figures use the paper's estimators only.
        tests: crate::trainer::gradient_noise::NoiseTests {
            coordinates: 0,
            ..Default::default()
        },
        escape: None,
    }
}

pub(super) fn paper_marker(x: f64, r: &RunReport) -> Option<(f64, f64, f64, f64)> {
    let p = r.checkpoints.last()?.noise_train.as_ref()?.paper?;
    Some((x, p.alpha, p.ci_low, p.ci_high.min(4.0)))
}

pub(super) fn null_of(r: &RunReport) -> Option<f64> {
    r.checkpoints.last()?.noise_train.as_ref()?.gaussian_null
}

fn fig_noise_norms(c: &Ctx) -> Result<()> {
    let (tr, te) = digits_data()?;
    let mut run = base_run(
        64,
        3,
        Loss::CrossEntropy,
        100,
        c.q(300, 1500),
        c.q(300, 1500),
    );
    run.noise_batch_size = 10;
    let rep = train(&run, &tr, &te, |_| {})?;
    let n = rep
        .checkpoints
        .last()
        .and_then(|k| k.noise_train.clone())
        .ok_or_else(|| GalleryError::Missing("no noise measurement".into()))?;
    let what = format!(
        "digits, FC 64×3 net (M = {}), SGD η = 0.1, {} iterations; noise of {} minibatches of 10",
        rep.n_params,
        run.iterations,
        n.noise_norms.len()
    );
    let command = format!("levylab figures {}", c.mode());
    noise_norms_figure(c, &command, &n, rep.n_params, "digits", &what)
}

/// The noise-norm histogram of a measurement beside those of Gaussian and SαS vectors of the same
/// dimension `m` (α = the measured paper estimate), all scaled to the measured median; `data`
/// names the data set, `command` (what drew it) and `what` (the run) go into the caption.
pub(super) fn noise_norms_figure(
    c: &Ctx,
    command: &str,
    n: &crate::trainer::gradient_noise::NoiseReport,
    m: usize,
    data: &str,
    what: &str,
) -> Result<()> {
    let norms = n.noise_norms.clone();
    let mut sorted = norms.clone();
    sorted.sort_unstable_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    // SαS vectors with α < 1 have norms spread over tens of decades: the comparison law is kept
    // in [1, 1.99] and the caption says when the measured value was clamped.
    let measured = n.paper.map(|p| p.alpha);
    let alpha = measured.unwrap_or(1.5).clamp(1.0, 1.99);
    let source = match measured {
        Some(a) if a == alpha => "the measured value".to_string(),
        Some(a) => format!("the measured {a:.2} clamped to [1, 1.99]"),
        None => "no estimate measured".to_string(),
    };
    let count = c.q(300, 2000);
    let mut r = crate::rng::stream(11, 0);
    let gauss: Vec<f64> = (0..count)
        .map(|_| {
            (0..m)
                .map(|_| StandardNormal.sample(&mut r))
                .map(|z: f64| z * z)
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let law = StandardStable::new(alpha, 0.0)?;
    let sas: Vec<f64> = (0..count)
        .map(|_| {
            (0..m)
                .map(|_| law.sample(&mut r).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let scale = |v: &[f64]| {
        let mut s = v.to_vec();
        s.sort_unstable_by(f64::total_cmp);
        let med = s[s.len() / 2];
        v.iter().map(|x| x * median / med).collect::<Vec<f64>>()
    };
    let mk = |title: &str, v: &[f64], col: usize| {
        let (e, d) = histogram(v, 30, true);
        panel(
            title,
            axis("noise norm ‖U‖ (scaled to the measured median)", true),
            axis("density", true),
            vec![Trace {
                line: crate::plot::steps(&e, &d),
                color: col,
                ..Default::default()
            }],
        )
    };
    c.save(
        "noise-norms",
        "Norms of gradient noise vs Gaussian and SαS vectors of the same dimension",
        &format!("{command}: {what}; vectors: {count} draws, SαS with α = {alpha:.2} ({source})",),
        (1, 3),
        &[
            mk(&format!("gradient noise ‖Uₚ‖ ({data})"), &norms, 0),
            mk("Gaussian vectors", &scale(&gauss), 2),
            mk(&format!("SαS vectors, α = {alpha:.2}"), &scale(&sas), 1),
        ],
    )
}

fn fig_densities_paths(c: &Ctx) -> Result<()> {
    let alphas = [1.2, 1.6, 2.0];
    let xs: Vec<f64> = (0..=400).map(|i| -10.0 + 20.0 * i as f64 / 400.0).collect();
    let mut dens = Vec::new();
    let mut paths = Vec::new();
    for (k, &a) in alphas.iter().enumerate() {
        let law = Stable::new(a, 0.0, 1.0, 0.0, Param::S1)?;
        let pdf: Vec<(f64, f64)> = xs
            .iter()
            .map(|&x| (x, (law.cdf(x + 1e-3) - law.cdf(x - 1e-3)) / 2e-3))
            .collect();
        dens.push(Trace {
            label: format!("α = {a}"),
            line: pdf,
            color: k,
            ..Default::default()
        });
        let inc = Noise::Stable {
            alpha: a,
            beta: 0.0,
            epsilon: 1.0,
        }
        .increment(0.01)?;
        let steps = inc.draws(5, k as u64, 1000);
        let mut x = 0.0;
        let path: Vec<(f64, f64)> = (0..=1000)
            .map(|i| {
                if i > 0 {
                    x += steps[i - 1];
                }
                (i as f64 * 0.01, x)
            })
            .collect();
        paths.push(Trace {
            label: format!("α = {a}"),
            line: path,
            color: k,
            ..Default::default()
        });
    }
    c.save(
        "stable-densities-paths",
        "Symmetric α-stable laws: densities and Lévy-motion paths",
        "levylab figures: SαS(1) densities from the stable CDF (Nolan's integral, S1); paths of Lₜ with E exp(iuLₜ) = exp(−t|u|^α), dt = 0.01, seed 5 (α = 2 is √2·W)",
        (1, 2),
        &[
            Panel { y_range: Some((1e-5, 1.0)), ..panel("densities (log scale): power-law tails for α < 2", axis("x", false), axis("density", true), dens) },
            panel("Lévy motion sample paths: jumps for α < 2", axis("time t", false), axis("L_t", false), paths),
        ],
    )
}

fn sweep_runs(tr: &data::Dataset, te: &data::Dataset, runs: &[TrainRun]) -> Result<Vec<RunReport>> {
    Ok(runs
        .iter()
        .map(|r| train(r, tr, te, |_| {}))
        .collect::<Result<_, _>>()?)
}

fn fig_width_depth(c: &Ctx) -> Result<()> {
    let (tr, te) = digits_data()?;
    let widths: Vec<usize> = c.q(vec![16, 64], vec![16, 32, 64, 128, 256]);
    let depths: Vec<usize> = c.q(vec![2, 3], vec![2, 3, 4]);
    let iters = c.q(200, 3000);
    let mut ps = Vec::new();
    for loss in [Loss::CrossEntropy, Loss::Hinge] {
        let mut by_w: Vec<Trace> = Vec::new();
        let mut by_d: Vec<Trace> = Vec::new();
        let mut grid = Vec::new();
        for &d in &depths {
            let runs: Vec<TrainRun> = widths
                .iter()
                .map(|&w| base_run(w, d, loss, 100, iters, iters))
                .collect();
            grid.push(sweep_runs(&tr, &te, &runs)?);
        }
        for (di, &d) in depths.iter().enumerate() {
            let markers: Vec<_> = widths
                .iter()
                .zip(&grid[di])
                .filter_map(|(&w, r)| paper_marker(w as f64, r))
                .collect();
            let null: Vec<(f64, f64)> = widths
                .iter()
                .zip(&grid[di])
                .filter_map(|(&w, r)| Some((w as f64, null_of(r)?)))
                .collect();
            by_w.push(Trace {
                label: format!("depth {d}"),
                markers,
                dashed: vec![(
                    if di == 0 {
                        "Gaussian null (dashed)".into()
                    } else {
                        String::new()
                    },
                    null,
                )],
                color: di,
                ..Default::default()
            });
        }
        for (wi, &w) in widths.iter().enumerate() {
            let markers: Vec<_> = depths
                .iter()
                .enumerate()
                .filter_map(|(di, &d)| paper_marker(d as f64, &grid[di][wi]))
                .collect();
            let null: Vec<(f64, f64)> = depths
                .iter()
                .enumerate()
                .filter_map(|(di, &d)| Some((d as f64, null_of(&grid[di][wi])?)))
                .collect();
            by_d.push(Trace {
                label: format!("width {w}"),
                markers,
                dashed: vec![(String::new(), null)],
                color: wi,
                ..Default::default()
            });
        }
        ps.push(panel(
            &format!("{}: estimated α against width", loss.name()),
            axis("width (units per hidden layer)", true),
            axis("estimated α (paper, 95 % CI)", false),
            by_w,
        ));
        ps.push(panel(
            &format!("{}: estimated α against depth", loss.name()),
            axis("depth (linear layers)", false),
            axis("estimated α (paper, 95 % CI)", false),
            by_d,
        ));
    }
    c.save(
        "alpha-width-depth",
        "Tail index of SGD gradient noise against width and depth (digits)",
        &format!("levylab figures {}: digits, FC ReLU nets, SGD η = 0.1, batch 100, {iters} iterations, noise on the training set; dashed: Gaussian null (same per-coordinate scales and layout)", c.mode()),
        (2, 2),
        &ps,
    )
}

fn fig_batch_size(c: &Ctx) -> Result<()> {
    let (tr, te) = digits_data()?;
    // b ≤ 200 keeps P = ⌊1438/b⌋ ≥ 7 minibatches in the noise measurement (at P = 2, U₁ = −U₂ exactly).
    let batches: Vec<usize> = c.q(vec![20, 100], vec![10, 20, 50, 100, 200]);
    let iters = c.q(200, 3000);
    let runs: Vec<TrainRun> = batches
        .iter()
        .map(|&b| base_run(64, 3, Loss::CrossEntropy, b, iters, iters))
        .collect();
    let reps = sweep_runs(&tr, &te, &runs)?;
    let markers: Vec<_> = batches
        .iter()
        .zip(&reps)
        .filter_map(|(&b, r)| paper_marker(b as f64, r))
        .collect();
    let null: Vec<(f64, f64)> = batches
        .iter()
        .zip(&reps)
        .filter_map(|(&b, r)| Some((b as f64, null_of(r)?)))
        .collect();
    let std: Vec<(f64, f64)> = batches
        .iter()
        .zip(&reps)
        .filter_map(|(&b, r)| {
            Some((
                b as f64,
                r.checkpoints
                    .last()?
                    .noise_train
                    .as_ref()?
                    .standardized?
                    .alpha,
            ))
        })
        .collect();
    let acc: Vec<(f64, f64, f64, f64)> = batches
        .iter()
        .zip(&reps)
        .filter_map(|(&b, r)| {
            let a = r.checkpoints.last()?.test_accuracy;
            Some((b as f64, a, a, a))
        })
        .collect();
    c.save(
        "alpha-batch-size",
        "Tail index of the gradient noise against minibatch size (digits, 64×3 net)",
        &format!("levylab figures {}: digits, FC 64×3, cross-entropy, SGD η = 0.1, {iters} iterations, seed 0 (same initialization for every b); noise measured with the training batch size", c.mode()),
        (1, 2),
        &[
            panel(
                "estimated α against batch size",
                axis("batch size b", true),
                axis("estimated α", false),
                vec![Trace { label: "paper (95 % CI)".into(), markers, dashed: vec![("Gaussian null".into(), null)], ..Default::default() },
                    Trace { dashed: vec![("standardized noise".into(), std)], color: 3, ..Default::default() }],
            ),
            panel("test accuracy", axis("batch size b", true), axis("test accuracy", false), vec![Trace { label: "test accuracy".into(), markers: acc, color: 2, ..Default::default() }]),
        ],
    )
}

fn fig_iterations(c: &Ctx) -> Result<()> {
    let (tr, te) = digits_data()?;
    let (iters, every) = c.q((400, 100), (5000, 250));
    let rep = train(
        &base_run(128, 3, Loss::CrossEntropy, 100, iters, every),
        &tr,
        &te,
        |_| {},
    )?;
    let cps = &rep.checkpoints;
    let paper: Vec<_> = cps
        .iter()
        .filter_map(|k| {
            let p = k.noise_train.as_ref()?.paper?;
            Some((k.iteration as f64, p.alpha, p.ci_low, p.ci_high.min(4.0)))
        })
        .collect();
    let null: Vec<(f64, f64)> = cps
        .iter()
        .filter_map(|k| Some((k.iteration as f64, k.noise_train.as_ref()?.gaussian_null?)))
        .collect();
    let hill_: Vec<(f64, f64)> = cps
        .iter()
        .filter_map(|k| Some((k.iteration as f64, k.noise_train.as_ref()?.hill?)))
        .collect();
    let train_acc: Vec<(f64, f64)> = cps
        .iter()
        .map(|k| (k.iteration as f64, k.train_accuracy))
        .collect();
    let test_acc: Vec<(f64, f64)> = cps
        .iter()
        .map(|k| (k.iteration as f64, k.test_accuracy))
        .collect();
    c.save(
        "alpha-iterations",
        "Tail index and accuracy along training (digits, 128×3 net)",
        &format!("levylab figures {}: digits, FC 128×3, cross-entropy, SGD η = 0.1, batch 100, checkpoints every {every} iterations", c.mode()),
        (1, 2),
        &[
            panel(
                "estimated α along training",
                axis("SGD iteration", false),
                axis("estimated α", false),
                vec![
                    Trace { label: "paper (95 % CI)".into(), markers: paper, dashed: vec![("Gaussian null".into(), null)], ..Default::default() },
                    Trace { label: "Hill (k = 1 %)".into(), line: hill_, color: 3, ..Default::default() },
                ],
            ),
            panel("accuracy", axis("SGD iteration", false), axis("accuracy", false), vec![
                Trace { label: "train".into(), line: train_acc, color: 2, ..Default::default() },
                Trace { label: "test".into(), line: test_acc, color: 1, ..Default::default() },
            ]),
        ],
    )
}

fn fig_calibration(c: &Ctx) -> Result<()> {
    let n = c.q(20_000, 1_000_000);
    let alphas: Vec<f64> = c.q(
        vec![0.8, 1.4, 2.0],
        (0..=7).map(|i| 0.6 + 0.2 * i as f64).collect(),
    );
    let mut tr = [Vec::new(), Vec::new(), Vec::new()];
    for (i, &a) in alphas.iter().enumerate() {
        let law = Stable::new(a, 0.0, 1.0, 0.0, Param::S1)?;
        let xs = crate::noise::draw(&law, n, 100 + i as u64);
        tr[0].push((a, block_sum(&xs, None)?.alpha));
        tr[1].push((a, hill(&xs, &HillK::Fraction(0.01))?.alpha));
        tr[2].push((a, mcculloch::fit(&xs)?.alpha));
    }
    let m = |v: &Vec<(f64, f64)>| v.iter().map(|&(x, y)| (x, y, y, y)).collect::<Vec<_>>();
    let diag = vec![(0.5, 0.5), (2.0, 2.0)];
    let names = ["paper (block sums)", "Hill (k = 1 %)", "McCulloch"];
    let mut t1: Vec<Trace> = (0..3)
        .map(|k| Trace {
            label: names[k].into(),
            markers: m(&tr[k]),
            color: k,
            ..Default::default()
        })
        .collect();
    t1[0].dashed = vec![("α̂ = α".into(), diag)];
    // Artifacts of the paper's estimator, each against its analytic prediction (see stats::block_sum).
    let mut r = crate::rng::stream(7, 0);
    let gauss: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut r)).collect();
    let k1 = crate::stats::tail_index::largest_divisor_below_sqrt(n) as f64;
    const E_LN_Z: f64 = -0.635_181_422_730_739_1;
    let mut zeros = Vec::new();
    let mut zeros_pred = Vec::new();
    for f in [0.0, 0.005, 0.01, 0.02, 0.05] {
        let xs: Vec<f64> = gauss
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                if (i as f64 * 0.618_033_988_7).fract() < f {
                    0.0
                } else {
                    x
                }
            })
            .collect();
        let fz = zero_fraction(&xs);
        zeros.push((100.0 * fz, block_sum(&xs, None)?.alpha));
        let inv = 0.5 + (0.5 * (1.0 - fz).ln() + fz * E_LN_Z - fz * f64::EPSILON.ln()) / k1.ln();
        zeros_pred.push((100.0 * fz, 1.0 / inv));
    }
    let mut tnu = [Vec::new(), Vec::new(), Vec::new()];
    for nu in [2.5, 3.0, 4.0, 6.0, 10.0, 30.0] {
        let t = StudentT::new(nu).expect("the degrees of freedom listed are > 0");
        let xs: Vec<f64> = (0..n).map(|_| t.sample(&mut r)).collect();
        tnu[0].push((nu, block_sum(&xs, None)?.alpha));
        tnu[1].push((nu, hill(&xs, &HillK::Fraction(0.01))?.alpha));
        tnu[2].push((nu, mcculloch::fit(&xs)?.alpha));
    }
    let side = (n as f64).sqrt() as usize;
    let mut mix_row = Vec::new();
    let mut mix_col = Vec::new();
    let mut mix_pred = Vec::new();
    for dec in [0.0, 0.5, 1.0, 2.0, 3.0] {
        let scales: Vec<f64> = (0..side)
            .map(|j| 10f64.powf(-dec * j as f64 / (side - 1) as f64))
            .collect();
        let row: Vec<f64> = (0..side * side)
            .map(|i| scales[i % side] * gauss[i])
            .collect();
        let col: Vec<f64> = (0..side * side)
            .map(|i| scales[i / side] * gauss[i])
            .collect();
        mix_row.push((dec, block_sum(&row, Some(side))?.alpha));
        mix_col.push((dec, block_sum(&col, Some(side))?.alpha));
        let mean_ln = scales.iter().map(|s| s.ln()).sum::<f64>() / side as f64;
        let s2: f64 = scales.iter().map(|s| s * s).sum();
        mix_pred.push((dec, 1.0 / ((0.5 * s2.ln() - mean_ln) / (side as f64).ln())));
    }
    c.save(
        "estimator-calibration",
        "Tail-index estimators on synthetic data: calibration and the paper estimator's artifacts",
        &format!("levylab figures {}: N = {n} samples per point; artifacts drawn with their analytic predictions (dashed), see the docs of stats::block_sum", c.mode()),
        (2, 2),
        &[
            Panel { y_range: Some((0.4, 2.6)), ..panel("SαS samples: estimate against the true α (Hill leaves the chart at α = 2)", axis("true α", false), axis("estimated α", false), t1) },
            panel(
                "Gaussian data with exact zeros (paper estimator)",
                axis("exact zeros (%)", false),
                axis("estimated α", false),
                vec![Trace { label: "measured".into(), markers: m(&zeros), dashed: vec![("predicted".into(), zeros_pred)], ..Default::default() }],
            ),
            panel(
                "Student-t_ν (finite variance for ν > 2)",
                axis("degrees of freedom ν", true),
                axis("estimated α", false),
                (0..3).map(|k| Trace { label: names[k].into(), markers: m(&tnu[k]), color: k, ..Default::default() }).collect(),
            ),
            Panel {
                y_range: Some((1.0, 2.35)),
                ..panel(
                "Gaussian scale mixture: pooling order matters",
                axis("spread of the coordinate scales (decades)", false),
                axis("estimated α (paper)", false),
                vec![
                    Trace { label: "row-major pooling (the paper's)".into(), markers: m(&mix_row), dashed: vec![("predicted".into(), mix_pred)], ..Default::default() },
                    Trace { label: "coordinate by coordinate".into(), markers: m(&mix_col), color: 2, ..Default::default() },
                ],
            )
            },
        ],
    )
}

fn fig_double_well_paths(c: &Ctx) -> Result<()> {
    let u = Landscape::Quartic(Quartic::new(1.0, 0.25)?);
    let xs: Vec<(f64, f64)> = (0..=300)
        .map(|i| -1.8 + 3.6 * i as f64 / 300.0)
        .map(|x| (x, u.value(x)))
        .collect();
    let horizon = 300.0;
    let rec = |noise: Noise, seed: u64| -> Result<Vec<(f64, f64)>> {
        let sim = Simulation::new(SimulationSpec {
            landscape: u.clone(),
            noise,
            scheme: Scheme::Split,
            dt: 0.01,
            horizon,
            start: -1.0,
            event: Event::Boundaries {
                lo: f64::NEG_INFINITY,
                hi: f64::INFINITY,
            },
            bridge: false,
        })?;
        let mut t = crate::sde::Trajectory {
            path: 0,
            points: Vec::new(),
        };
        sim.simulate_path(seed, 0, Some((&mut t, 5)));
        Ok(t.points)
    };
    let b = rec(
        Noise::Brownian {
            sigma: 0.2f64.sqrt(),
        },
        3,
    )?;
    let l = rec(
        Noise::Stable {
            alpha: 1.5,
            beta: 0.0,
            epsilon: 0.25,
        },
        4,
    )?;
    let saddle = |t1: f64| vec![("saddle x = 0".to_string(), vec![(0.0, 0.0), (t1, 0.0)])];
    c.save(
        "double-well-paths",
        "The double well and paths in it: Brownian diffusion vs α-stable jumps",
        &format!("levylab figures {}: U(x) = 0.25·(x² − 1)², split scheme dt = 0.01, start −1; Brownian σ² = 0.2 (seed 3), α-stable α = 1.5, ε = 0.25 (seed 4)", c.mode()),
        (3, 1),
        &[
            panel("landscape U(x) = 0.25 (x² − 1)²: minima ±1, barrier 0.25", axis("x", false), axis("U(x)", false), vec![Trace { line: xs, ..Default::default() }]),
            panel("Brownian noise: the path creeps over the barrier", axis("time", false), axis("X_t", false), vec![Trace { label: "σ² = 0.2".into(), line: b, dashed: saddle(horizon), ..Default::default() }]),
            panel("α-stable noise: single jumps carry it across (and far out)", axis("time", false), axis("X_t", false), vec![Trace { label: "α = 1.5, ε = 0.25".into(), line: l, dashed: saddle(horizon), color: 1, ..Default::default() }]),
        ],
    )
}

/// Least-squares slope of ln y against ln x.
fn loglog_slope(pts: &[(f64, f64)]) -> f64 {
    let n = pts.len() as f64;
    let (mx, my) = pts.iter().fold((0.0, 0.0), |a, &(x, y)| {
        (a.0 + x.ln() / n, a.1 + y.ln() / n)
    });
    let (sxy, sxx) = pts.iter().fold((0.0, 0.0), |a, &(x, y)| {
        (
            a.0 + (x.ln() - mx) * (y.ln() - my),
            a.1 + (x.ln() - mx).powi(2),
        )
    });
    sxy / sxx
}

fn marker(p: &PointSummary, x: f64) -> Option<(f64, f64, f64, f64)> {
    let (m, se) = (p.mean?, p.mean_se.unwrap_or(0.0));
    Some((x, m, m - se, m + se))
}

/// Runs the small-noise scenario (fewer AMS replicas with `--quick`) and draws its exit times.
fn fig_exit_vs_noise_run(c: &Ctx) -> Result<()> {
    let mut s = embedded("small-noise")?;
    if c.quick {
        for p in &mut s.points {
            if let Some(a) = &mut p.rare_event {
                (a.replicas, a.runs, a.loops) = (200, 10, 1000);
            }
        }
    }
    let paths = c.q(200, 2000);
    let (sums, _) = run_scenario(&mut s, paths);
    fig_exit_vs_noise(c, &sums, paths)
}

/// Runs the main scenario and draws the laws of its exit times.
fn fig_distribution_run(c: &Ctx) -> Result<()> {
    let mut s = embedded("gaussian-vs-levy")?;
    let paths = c.q(200, 2000);
    let (sums, outs) = run_scenario(&mut s, paths);
    fig_distribution(c, &sums, &outs, paths)
}

fn fig_exit_vs_noise(c: &Ctx, sums: &[PointSummary], paths: u64) -> Result<()> {
    let br: Vec<&PointSummary> = sums.iter().filter(|p| p.variant == "brownian").collect();
    let ams: Vec<&PointSummary> = sums
        .iter()
        .filter(|p| p.variant == "brownian-ams")
        .collect();
    let lv: Vec<&PointSummary> = sums.iter().filter(|p| p.variant == "levy").collect();
    let sig = |p: &PointSummary| p.params.get("noise.sigma").copied().unwrap_or(f64::NAN);
    let eps = |p: &PointSummary| p.params.get("noise.epsilon").copied().unwrap_or(f64::NAN);
    let inv_s2 = |p: &&PointSummary| 1.0 / sig(p).powi(2);
    let th = |v: &[&PointSummary],
              key: Prediction,
              x: &dyn Fn(&&PointSummary) -> f64|
     -> Vec<(f64, f64)> {
        let mut t: Vec<(f64, f64)> = v
            .iter()
            .filter_map(|p| Some((x(p), *p.theory.get(&key)?)))
            .collect();
        t.sort_by(|a, b| a.0.total_cmp(&b.0));
        t.dedup_by(|a, b| a.0 == b.0);
        t
    };
    let all_br: Vec<&PointSummary> = br.iter().chain(&ams).copied().collect();
    // The power law is asymptotic (ε → 0): fit it over the small-noise points only.
    let lv_pts: Vec<(f64, f64)> = lv
        .iter()
        .filter(|p| eps(p) <= 0.1 + 1e-12)
        .filter_map(|p| Some((eps(p), p.mean?)))
        .collect();
    let slope = loglog_slope(&lv_pts);
    let replicas = ams
        .first()
        .and_then(|p| p.ams.as_ref())
        .map_or(String::new(), |a| {
            format!("; AMS {} runs × {} replicas", a.runs, a.replicas)
        });
    c.save(
        "exit-time-vs-noise",
        "Mean exit time against the noise level: Kramers' exponential law vs the Lévy power law",
        &format!("levylab figures {}: scenario small-noise ({paths} paths per direct point{replicas}): quartic well, saddle crossing from −1; error bars ±1 SE", c.mode()),
        (1, 2),
        &[
            Panel {
                // Room above the largest time for the legend.
                y_range: Some((1.0, 1e19)),
                ..panel(
                "Brownian: ln E τ is linear in 1/σ² (slope 2ΔU = 0.5); AMS below σ = 0.3",
                axis("1/σ²", false),
                axis("mean exit time (time units)", true),
                vec![
                    Trace {
                        label: "direct Monte Carlo".into(),
                        markers: br.iter().filter_map(|p| marker(p, inv_s2(p))).collect(),
                        dashed: vec![("exact (quadrature)".into(), th(&all_br, Prediction::MfptExact, &inv_s2)), ("Eyring–Kramers (crossing)".into(), th(&all_br, Prediction::Kramers, &inv_s2))],
                        ..Default::default()
                    },
                    Trace {
                        label: "adaptive multilevel splitting".into(),
                        markers: ams.iter().filter_map(|p| marker(p, inv_s2(p))).collect(),
                        color: 2,
                        ..Default::default()
                    },
                ],
            )
            },
            panel(
                &format!("α-stable (α = 1.5): power law; slope fitted over ε ≤ 0.1: {slope:.2} (−α = −1.5)"),
                axis("ε", true),
                axis("mean exit time (time units)", true),
                vec![Trace {
                    label: "direct Monte Carlo".into(),
                    markers: lv.iter().filter_map(|p| marker(p, eps(p))).collect(),
                    dashed: vec![
                        ("exact (nonlocal solver)".into(), th(&lv, Prediction::LevyExact, &|p| eps(p))),
                        ("Imkeller–Pavlyukevich α/(c_α ε^α)".into(), th(&lv, Prediction::LevyIp, &|p| eps(p))),
                    ],
                    color: 1,
                    ..Default::default()
                }],
            ),
        ],
    )
}

fn fig_distribution(
    c: &Ctx,
    sums: &[PointSummary],
    outs: &[Vec<Outcome>],
    paths: u64,
) -> Result<()> {
    let pick = |variant: &str, key: &str, val: f64| {
        sums.iter().position(|p| {
            p.variant == variant && p.params.get(key).is_some_and(|v| (v - val).abs() < 1e-12)
        })
    };
    let mut ps = Vec::new();
    for (k, (variant, key, val, name)) in [
        ("brownian", "noise.sigma", 0.42, "Brownian, σ = 0.42"),
        ("levy", "noise.epsilon", 0.1, "α-stable α = 1.5, ε = 0.1"),
    ]
    .into_iter()
    .enumerate()
    {
        let i =
            pick(variant, key, val).ok_or_else(|| GalleryError::Missing("point missing".into()))?;
        let e = exit_sample(&outs[i]);
        let m = e.mean()?.value;
        let z: Vec<f64> = e.exit_times().iter().map(|t| t / m).collect();
        let (edges, d) = histogram(&z, 25, false);
        // Empty bins drop to the bottom of the log axis instead of vanishing from the step line.
        let d: Vec<f64> = d
            .into_iter()
            .map(|v| if v > 0.0 { v } else { 1e-12 })
            .collect();
        let expo: Vec<(f64, f64)> = (0..=100)
            .map(|j| edges[edges.len() - 1] * j as f64 / 100.0)
            .map(|x| (x, (-x).exp()))
            .collect();
        ps.push(Panel {
            y_range: Some((1e-3, 1.5)),
            ..panel(
                &format!("{name}: KS distance {:.3}", e.ks_exponential()?),
                axis("τ / mean τ", false),
                axis("density", true),
                vec![Trace {
                    label: "Monte Carlo".into(),
                    line: crate::plot::steps(&edges, &d),
                    dashed: vec![("Exp(1) density e^(−x)".into(), expo)],
                    color: k,
                    ..Default::default()
                }],
            )
        });
    }
    c.save(
        "exit-time-distribution",
        "Exit times are exponential: τ / E τ against Exp(1)",
        &format!(
            "levylab figures {}: scenario gaussian-vs-levy, {paths} paths per point",
            c.mode()
        ),
        (1, 2),
        &ps,
    )
}

fn fig_width_height(c: &Ctx) -> Result<()> {
    let mut s = embedded("width-vs-height")?;
    let paths = c.q(150, 2000);
    let (sums, _) = run_scenario(&mut s, paths);
    let series =
        |variant: &str, key: &str, col: usize, label: &str, theory: &[Prediction]| -> Trace {
            let pts: Vec<&PointSummary> = sums.iter().filter(|p| p.variant == variant).collect();
            Trace {
                label: label.into(),
                markers: pts
                    .iter()
                    .filter_map(|p| marker(p, *p.params.get(key)?))
                    .collect(),
                dashed: theory
                    .iter()
                    .map(|t| {
                        (
                            format!("{label}: {t}"),
                            pts.iter()
                                .filter_map(|p| Some((*p.params.get(key)?, *p.theory.get(t)?)))
                                .collect(),
                        )
                    })
                    .collect(),
                color: col,
                ..Default::default()
            }
        };
    c.save(
        "width-vs-height",
        "Wide minima: Lévy exit times ignore the barrier height; Brownian ones grow exponentially with it",
        &format!("levylab figures {}: scenario width-vs-height ({paths} paths per point): U = H((x/w)² − 1)², Brownian σ = 0.4, α-stable α = 1.5, ε = 0.1", c.mode()),
        (1, 2),
        &[
            panel(
                "against basin width w (H = 0.25)",
                axis("basin width w", true),
                axis("mean exit time (time units)", true),
                vec![series("brownian-width", "landscape.width", 0, "Brownian", &[Prediction::MfptExact]), series("levy-width", "landscape.width", 1, "Lévy", &[Prediction::LevyExact, Prediction::LevyIp])],
            ),
            panel(
                "against barrier height H (w = 1)",
                axis("barrier height H", false),
                axis("mean exit time (time units)", true),
                vec![series("brownian-height", "landscape.height", 0, "Brownian", &[Prediction::MfptExact]), series("levy-height", "landscape.height", 1, "Lévy", &[Prediction::LevyExact, Prediction::LevyIp])],
            ),
        ],
    )
}

fn fig_sgd(c: &Ctx) -> Result<()> {
    let mut s = embedded("sgd-step-size")?;
    let paths = c.q(150, 2000);
    let (sums, _) = run_scenario(&mut s, paths);
    let tr = |variant: &str, col: usize, label: &str, theory: &[(Prediction, &str)]| -> Trace {
        let pts: Vec<&PointSummary> = sums.iter().filter(|p| p.variant == variant).collect();
        let eta = |p: &&PointSummary| p.params.get("sgd.step_size").copied().unwrap_or(f64::NAN);
        Trace {
            label: label.into(),
            markers: pts.iter().filter_map(|p| marker(p, eta(p))).collect(),
            dashed: theory
                .iter()
                .map(|(key, name)| {
                    (
                        name.to_string(),
                        pts.iter()
                            .filter_map(|p| Some((eta(p), *p.theory.get(key)?)))
                            .collect(),
                    )
                })
                .collect(),
            color: col,
            ..Default::default()
        }
    };
    c.save(
        "sgd-step-size",
        "SGD with α-stable gradient noise: exit time (iterations × η) against the step size",
        &format!("levylab figures {}: scenario sgd-step-size ({paths} paths per point): quartic well, α = 1.5, σ = 0.5; recursion = explicit Euler with dt = η; continuous = same SDE with dt = 0.001", c.mode()),
        (1, 1),
        &[panel(
            "discrete recursion vs its continuous-time limit",
            axis("step size η", true),
            axis("exit time = iterations × η", true),
            vec![
                tr("recursion", 0, "SGD recursion", &[(Prediction::LevyIp, "Imkeller–Pavlyukevich at ε = η^((α−1)/α)·σ")]),
                tr("continuous", 1, "continuous SDE", &[(Prediction::LevyExact, "continuous SDE: exact (nonlocal solver)")]),
            ],
        )],
    )
}

/// Draws every figure (or only `only`) into `out` (created if missing), `quick` with fewer paths,
/// iterations and sweep points. `done(name, seconds)` is called after each figure.
pub fn draw(
    out: &Path,
    only: Option<&str>,
    quick: bool,
    done: &mut dyn FnMut(&str, f64),
) -> Result<()> {
    check_only(&NAMES, only, "")?;
    std::fs::create_dir_all(out).map_err(|source| GalleryError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let c = Ctx {
        out: out.to_path_buf(),
        quick,
        escape_runs: RefCell::default(),
    };
    draw_each(&FIGURES, &c, only, done)
}

/// Refuses an `--only` that is not one of `names` (`note` is added to the message).
pub(super) fn check_only(names: &[&str], only: Option<&str>, note: &str) -> Result<()> {
    for o in only.into_iter().flat_map(|o| o.split(',')) {
        if !names.contains(&o) {
            return Err(GalleryError::UnknownFigure {
                got: o.to_string(),
                names: names.join(", "),
                note: note.to_string(),
            });
        }
    }
    Ok(())
}

/// A figure's drawing function with its context.
pub(super) type DrawWith<T> = fn(&T) -> Result<()>;

/// Draws each of `figures` (or only `only`) with `ctx`, timing each; an error names the figure.
pub(super) fn draw_each<T>(
    figures: &[(&str, DrawWith<T>)],
    ctx: &T,
    only: Option<&str>,
    done: &mut dyn FnMut(&str, f64),
) -> Result<()> {
    for &(name, draw) in figures {
        if only.is_none_or(|o| o.split(',').any(|o| o == name)) {
            let t0 = std::time::Instant::now();
            draw(ctx).map_err(|e| GalleryError::Figure {
                name: name.to_string(),
                source: Box::new(e),
            })?;
            done(name, t0.elapsed().as_secs_f64());
        }
    }
    Ok(())
}
