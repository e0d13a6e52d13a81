//! The α figures on real data: `levylab figures --dataset fashion-mnist` trains fully connected
//! nets and the paper's AlexNet on Fashion-MNIST (60 000 training images of 28×28) and draws the
//! tail-index estimates of their gradient noise — the paper's estimator with its 95 % interval,
//! the Gaussian null, the standardized estimate and Hill side by side — into
//! `figures/fashion-mnist/`, each PNG with a JSON file of the numbers drawn.
//!
//! `runs.json` holds every training run behind them in full (`runs-only.json` after `--only`).
//! Runs are shared between figures: the AlexNet with 32 channels and cross-entropy, checkpointed
//! along training, gives the α-against-iterations figure, its channel point, and the noise norms.

use super::{GalleryError, Result};
use std::cell::{OnceCell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::gallery::{
    Ctx, DrawWith, axis, base_run, check_only, draw_each, noise_norms_figure, panel,
};
use crate::plot::{Panel, Trace};
use crate::trainer::config::{RunReport, TrainRun, train};
use crate::trainer::data::{self, Dataset};
use crate::trainer::gradient_noise::NoiseReport;
use crate::trainer::mlp::Loss;
use crate::trainer::model::ModelSpec;

/// The figures, in the order they are drawn.
pub const NAMES: [&str; 10] = [
    "alpha-channels",
    "alpha-iterations",
    "noise-norms",
    "alpha-width-depth",
    "noise-gaussianity",
    "noise-alpha-per-layer",
    "noise-power-law",
    "noise-spectrum",
    "escape-radius",
    "escape-step-size",
];

/// Where Debian's `dataset-fashion-mnist` package puts the IDX files.
pub const DEFAULT_DIR: &str = "/usr/share/datasets/fashion-mnist";

const FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// Fashion-MNIST from `dir` (the four gzip IDX files), pixels standardized with the training
/// set's statistics; `quick` keeps the first 6000 training and 1000 test images.
pub fn load(dir: &Path, quick: bool) -> Result<(Dataset, Dataset)> {
    let path = |f: &str| dir.join(f);
    for f in FILES {
        if !path(f).is_file() {
            return Err(GalleryError::FashionMissing(path(f)));
        }
    }
    let mut tr = data::read_idx(&path(FILES[0]), &path(FILES[1]))?;
    let mut te = data::read_idx(&path(FILES[2]), &path(FILES[3]))?;
    if quick {
        tr = tr.subset(&(0..tr.len().min(6000)).collect::<Vec<_>>());
        te = te.subset(&(0..te.len().min(1000)).collect::<Vec<_>>());
    }
    data::normalize(&mut tr, &mut te);
    Ok((tr, te))
}

/// The training runs behind the figures, computed once.
pub(super) struct Lab {
    pub(super) c: Ctx,
    pub(super) tr: Dataset,
    pub(super) te: Dataset,
    runs: RefCell<BTreeMap<String, RunReport>>,
    /// The measurements of the noise-test figures ([`super::fashion_noise`]).
    pub(super) noise: OnceCell<super::fashion_noise::NoiseStudy>,
}

impl Lab {
    /// Iterations of the AlexNet runs: 10 000 SGD steps of 100 ≈ 17 epochs (quick: 200).
    fn iterations(&self) -> usize {
        self.c.q(200, 10_000)
    }

    /// Iterations of the FC runs: 5000 steps ≈ 8 epochs (quick: 200).
    pub(super) fn fc_iterations(&self) -> usize {
        self.c.q(200, 5000)
    }

    /// Records a run trained elsewhere, for runs.json.
    pub(super) fn keep(&self, r: RunReport) {
        self.runs.borrow_mut().insert(r.label.clone(), r);
    }

    /// The run `r`, trained on first use.
    fn run(&self, r: &TrainRun) -> Result<RunReport> {
        if let Some(rep) = self.runs.borrow().get(&r.label) {
            return Ok(rep.clone());
        }
        let rep = train(r, &self.tr, &self.te, |_| {})?;
        self.runs.borrow_mut().insert(r.label.clone(), rep.clone());
        Ok(rep)
    }

    /// An AlexNet run; the 32-channel (quick: 8) cross-entropy run is checkpointed 10 times.
    fn alexnet(&self, channels: usize, loss: Loss) -> Result<RunReport> {
        let iters = self.iterations();
        let every = if channels == self.tracked_channels() && loss == Loss::CrossEntropy {
            iters / 10
        } else {
            iters
        };
        let mut r = base_run(0, 0, loss, 100, iters, every);
        r.model = ModelSpec::Alexnet {
            channels,
            dropout: 0.5,
            bias: true,
        };
        r.label = format!("alexnet ch{channels} {}", loss.name());
        r.noise_batch_size = 100;
        self.run(&r)
    }

    fn tracked_channels(&self) -> usize {
        self.c.q(8, 32)
    }
}

fn last_noise(r: &RunReport) -> Option<&NoiseReport> {
    r.checkpoints.last()?.noise_train.as_ref()
}

/// The estimators of each report against x: the paper's (markers, 95 % CI), the standardized
/// estimate, Hill (k = 1 %), and the Gaussian null (dashed).
fn estimators(points: &[(f64, Option<&NoiseReport>)]) -> Vec<Trace> {
    let pick = |f: &dyn Fn(&NoiseReport) -> Option<f64>| -> Vec<(f64, f64)> {
        points
            .iter()
            .filter_map(|&(x, n)| Some((x, f(n?)?)))
            .collect()
    };
    let paper = points
        .iter()
        .filter_map(|&(x, n)| {
            let p = n?.paper?;
            Some((x, p.alpha, p.ci_low, p.ci_high.min(4.0)))
        })
        .collect();
    vec![
        Trace {
            label: "paper's estimator (95 % CI)".into(),
            markers: paper,
            color: 0,
            ..Default::default()
        },
        Trace {
            label: "standardized noise".into(),
            line: pick(&|n| n.standardized.map(|e| e.alpha)),
            color: 1,
            ..Default::default()
        },
        Trace {
            label: "Hill (k = 1 %)".into(),
            line: pick(&|n| n.hill),
            color: 3,
            ..Default::default()
        },
        Trace {
            dashed: vec![(
                "Gaussian null (same scales and layout)".into(),
                pick(&|n| n.gaussian_null),
            )],
            color: 6,
            ..Default::default()
        },
    ]
}

fn alpha_axis() -> crate::plot::Axis {
    axis("estimated tail index α", false)
}

/// A panel of α estimates with room above the data for the legend (upper right).
fn alpha_panel(title: &str, x: crate::plot::Axis, traces: Vec<Trace>) -> Panel {
    let ys: Vec<f64> = traces
        .iter()
        .flat_map(|t| {
            let marks = t.markers.iter().flat_map(|m| [m.2, m.3]);
            let line = t.line.iter().map(|p| p.1);
            let dashed = t.dashed.iter().flat_map(|d| d.1.iter().map(|p| p.1));
            marks.chain(line).chain(dashed).collect::<Vec<_>>()
        })
        .filter(|y| y.is_finite())
        .collect();
    let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = (hi - lo).max(0.2);
    Panel {
        y_range: (lo <= hi).then_some((lo - 0.05 * span, hi + 0.6 * span)),
        ..panel(title, x, alpha_axis(), traces)
    }
}

fn data_note(lab: &Lab) -> String {
    format!(
        "Fashion-MNIST, {} train / {} test images",
        lab.tr.len(),
        lab.te.len()
    )
}

fn fig_channels(lab: &Lab) -> Result<()> {
    let channels: Vec<usize> = lab.c.q(vec![4, 8], vec![8, 16, 32, 64]);
    let mut panels: Vec<Panel> = Vec::new();
    let mut accuracy = Vec::new();
    for (k, loss) in [Loss::CrossEntropy, Loss::Hinge].into_iter().enumerate() {
        let reps = channels
            .iter()
            .map(|&ch| lab.alexnet(ch, loss))
            .collect::<Result<Vec<_>>>()?;
        let pts: Vec<(f64, Option<&NoiseReport>)> = channels
            .iter()
            .zip(&reps)
            .map(|(&ch, r)| (ch as f64, last_noise(r)))
            .collect();
        panels.push(alpha_panel(
            &format!("{}: α of the gradient noise against channels", loss.name()),
            axis("channels ch (every convolution)", true),
            estimators(&pts),
        ));
        accuracy.push(Trace {
            label: loss.name().into(),
            markers: channels
                .iter()
                .zip(&reps)
                .filter_map(|(&ch, r)| {
                    let a = r.checkpoints.last()?.test_accuracy;
                    Some((ch as f64, a, a, a))
                })
                .collect(),
            color: 4 + k,
            ..Default::default()
        });
    }
    // Accuracies lie in [0, 1]: the range above leaves the upper right to the legend.
    panels.push(Panel {
        y_range: Some((0.0, 1.25)),
        ..panel(
            "test accuracy after training",
            axis("channels ch (every convolution)", true),
            axis("test accuracy", false),
            accuracy,
        )
    });
    lab.c.save(
        "alpha-channels",
        "Tail index of SGD gradient noise against AlexNet channels (Fashion-MNIST)",
        &format!(
            "levylab figures --dataset fashion-mnist {}: {}; AlexNet (5 conv + 3 linear, dropout 0.5 in training, off when measuring), SGD η = 0.1, batch 100, {} iterations, seed 0; noise of P = {} minibatches of 100 of the training set",
            lab.c.mode(),
            data_note(lab),
            lab.iterations(),
            lab.tr.len() / 100
        ),
        (1, 3),
        &panels,
    )
}

fn fig_iterations(lab: &Lab) -> Result<()> {
    let ch = lab.tracked_channels();
    let rep = lab.alexnet(ch, Loss::CrossEntropy)?;
    let pts: Vec<(f64, Option<&NoiseReport>)> = rep
        .checkpoints
        .iter()
        .map(|k| (k.iteration as f64, k.noise_train.as_ref()))
        .collect();
    let acc = |f: &dyn Fn(&crate::trainer::config::Checkpoint) -> f64| -> Vec<(f64, f64)> {
        rep.checkpoints
            .iter()
            .map(|k| (k.iteration as f64, f(k)))
            .collect()
    };
    lab.c.save(
        "alpha-iterations",
        &format!("Tail index and accuracy along training (Fashion-MNIST, AlexNet ch = {ch})"),
        &format!(
            "levylab figures --dataset fashion-mnist {}: {}; AlexNet ch = {ch} (M = {}), cross-entropy, SGD η = 0.1, batch 100, checkpoints every {} iterations; noise of the training set",
            lab.c.mode(),
            data_note(lab),
            rep.n_params,
            lab.iterations() / 10
        ),
        (1, 2),
        &[
            alpha_panel(
                "estimated α along training",
                axis("SGD iteration", false),
                estimators(&pts),
            ),
            panel(
                "accuracy",
                axis("SGD iteration", false),
                axis("accuracy", false),
                vec![
                    Trace {
                        label: "train".into(),
                        line: acc(&|k| k.train_accuracy),
                        color: 4,
                        ..Default::default()
                    },
                    Trace {
                        label: "test".into(),
                        line: acc(&|k| k.test_accuracy),
                        color: 5,
                        ..Default::default()
                    },
                ],
            ),
        ],
    )
}

fn fig_noise_norms(lab: &Lab) -> Result<()> {
    let ch = lab.tracked_channels();
    let rep = lab.alexnet(ch, Loss::CrossEntropy)?;
    let n = last_noise(&rep).ok_or_else(|| GalleryError::Missing("no noise measurement".into()))?;
    let what = format!(
        "{}; AlexNet ch = {ch} (M = {}), cross-entropy, SGD η = 0.1, {} iterations; noise of {} minibatches of 100",
        data_note(lab),
        rep.n_params,
        lab.iterations(),
        n.noise_norms.len()
    );
    let command = format!("levylab figures --dataset fashion-mnist {}", lab.c.mode());
    noise_norms_figure(
        &lab.c,
        &command,
        n,
        rep.n_params,
        "Fashion-MNIST, AlexNet",
        &what,
    )
}

fn fig_width_depth(lab: &Lab) -> Result<()> {
    let widths: Vec<usize> = lab.c.q(vec![32, 128], vec![64, 128, 256, 512, 1024]);
    let depths: Vec<usize> = lab.c.q(vec![2, 3], vec![2, 3, 4]);
    let iters = lab.fc_iterations();
    let mut panels = Vec::new();
    for loss in [Loss::CrossEntropy, Loss::Hinge] {
        for &d in &depths {
            let reps = widths
                .iter()
                .map(|&w| {
                    let mut r = base_run(w, d, loss, 100, iters, iters);
                    r.label = format!("fc w{w} d{d} {}", loss.name());
                    r.noise_batch_size = 100;
                    lab.run(&r)
                })
                .collect::<Result<Vec<_>>>()?;
            let pts: Vec<(f64, Option<&NoiseReport>)> = widths
                .iter()
                .zip(&reps)
                .map(|(&w, r)| (w as f64, last_noise(r)))
                .collect();
            panels.push(alpha_panel(
                &format!("{}, depth {d}", loss.name()),
                axis("width (units per hidden layer)", true),
                estimators(&pts),
            ));
        }
    }
    lab.c.save(
        "alpha-width-depth",
        "Tail index of SGD gradient noise against width and depth (Fashion-MNIST, FC ReLU nets)",
        &format!(
            "levylab figures --dataset fashion-mnist {}: {}; bias-free FC ReLU nets 784-w-…-10 (depth = linear layers), SGD η = 0.1, batch 100, {iters} iterations, seed 0; noise of P = {} minibatches of 100 of the training set",
            lab.c.mode(),
            data_note(lab),
            lab.tr.len() / 100
        ),
        (2, depths.len()),
        &panels,
    )
}

/// Draws the Fashion-MNIST figures (or only `only`) into `out`, reading the data from `dir`;
/// `done(name, seconds)` is called after each figure (training runs shared between figures are
/// counted where they are first needed).
pub fn draw(
    out: &Path,
    dir: &Path,
    only: Option<&str>,
    quick: bool,
    done: &mut dyn FnMut(&str, f64),
) -> Result<()> {
    check_only(&NAMES, only, " with --dataset fashion-mnist")?;
    let (tr, te) = load(dir, quick)?;
    std::fs::create_dir_all(out).map_err(|source| GalleryError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let lab = Lab {
        c: Ctx {
            out: PathBuf::from(out),
            quick,
            escape_runs: Default::default(),
        },
        tr,
        te,
        runs: RefCell::new(BTreeMap::new()),
        noise: OnceCell::new(),
    };
    use super::fashion_noise as nt;
    let figures: [(&str, DrawWith<Lab>); 10] = [
        (NAMES[0], fig_channels),
        (NAMES[1], fig_iterations),
        (NAMES[2], fig_noise_norms),
        (NAMES[3], fig_width_depth),
        (NAMES[4], nt::fig_gaussianity),
        (NAMES[5], nt::fig_alpha_per_layer),
        (NAMES[6], nt::fig_power_law),
        (NAMES[7], nt::fig_spectrum),
        (NAMES[8], super::escape::fig_radius_fashion),
        (NAMES[9], super::escape::fig_step_size_fashion),
    ];
    draw_each(&figures, &lab, only, done)?;
    // Every training run behind the figures, in full (checkpoints, noise reports, wall times).
    let runs: Vec<RunReport> = lab.runs.into_inner().into_values().collect();
    let json = serde_json::to_string(&serde_json::json!({
        "dataset": "fashion-mnist",
        "mode": lab.c.mode(),
        "train_examples": lab.tr.len(),
        "test_examples": lab.te.len(),
        "runs": runs,
    }))?;
    let name = if only.is_some() {
        "runs-only.json"
    } else {
        "runs.json"
    };
    crate::io::write_atomic(&out.join(name), (json + "\n").as_bytes())?;
    Ok(())
}
