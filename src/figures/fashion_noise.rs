//! The noise tests the critiques ask for, drawn on Fashion-MNIST (`levylab figures --dataset
//! fashion-mnist --only noise-…`): one fully connected 784-512-512-10 net (the paper's), trained by
//! SGD (cross-entropy, η = 0.1, batch 100), measured iteration-wise on K random minibatches drawn
//! with replacement at five checkpoints (two with `--quick`; b = 128) and, at the trained θ, for b = 32 … 512.
//!
//! * `noise-gaussianity` — share of coordinates rejected as Gaussian (Anderson–Darling,
//!   Benjamini–Hochberg at 5 %) against b and along training (Panigrahi et al. 2019);
//! * `noise-alpha-per-layer` — the per-coordinate α̂ distribution per layer and its quantiles
//!   against b (Battash, Wolf & Lindenbaum 2024);
//! * `noise-power-law` — per-coordinate (iteration-wise) power-law p-values beside the pooled
//!   (dimension-wise) one (Xie, Tang, Sun & Li 2023);
//! * `noise-spectrum` — the leading eigenvalues of the noise covariance on log-log axes with the
//!   fitted power law.

use super::fashion::Lab;
use super::gallery::{axis, base_run, panel};
use super::{GalleryError, Result};
use crate::plot::{Panel, Trace, steps};
use crate::rng;
use crate::stats::coordinates::Check;
use crate::trainer::config::{RunReport, train_model};
use crate::trainer::gradient_noise::{NoiseReport, NoiseTests, SamplingPlan, measure_random};
use crate::trainer::mlp::Loss;

/// Noise batch sizes of the b sweep.
const BATCHES: [usize; 5] = [32, 64, 128, 256, 512];
/// The b of the checkpoints and of the spectrum.
const B_REF: usize = 128;

/// The measurements behind the four figures, computed once.
pub(super) struct NoiseStudy {
    /// The training run, with a random-sampling report at each checkpoint (b = 128).
    pub run: RunReport,
    /// At the trained θ: (b, report), the b = 128 one with the spectrum.
    pub by_batch: Vec<(usize, NoiseReport)>,
    /// K.
    pub minibatches: usize,
}

impl NoiseStudy {
    /// The measurement at the trained θ with b = 128 (the one with the spectrum).
    fn at_ref(&self) -> Result<&NoiseReport> {
        self.by_batch
            .iter()
            .find(|(b, _)| *b == B_REF)
            .map(|(_, n)| n)
            .ok_or_else(|| GalleryError::Missing("no b = 128 measurement".into()))
    }
}

/// The study, computed on first use.
pub(super) fn study(lab: &Lab) -> Result<&NoiseStudy> {
    let cell = &lab.noise;
    if let Some(s) = cell.get() {
        return Ok(s);
    }
    let iters = lab.fc_iterations();
    let k = lab.c.q(100, 1000);
    let mut r = base_run(
        512,
        3,
        Loss::CrossEntropy,
        100,
        iters,
        iters / lab.c.q(2, 5),
    );
    r.label = "fc w512 d3 cross-entropy (noise tests)".into();
    r.noise_batch_size = B_REF;
    r.tests = NoiseTests {
        sampling: SamplingPlan::Random,
        minibatches: k,
        ..NoiseTests::default()
    };
    let (run, net) = train_model(&r, &lab.tr, &lab.te, |_| {})?;
    let mut by_batch = Vec::new();
    for b in BATCHES {
        let tests = NoiseTests {
            spectrum: if b == B_REF { 20 } else { 0 },
            spectrum_passes: 6,
            ..r.tests
        };
        let key = rng::mix64(r.seed ^ rng::mix64(0xF1A1 + b as u64));
        let rep = measure_random(
            &net,
            &lab.tr.x,
            &lab.tr.y,
            b,
            r.loss,
            r.subsample,
            key,
            &tests,
        )
        .ok_or_else(|| GalleryError::Missing(format!("no noise measurement at b = {b}")))?;
        by_batch.push((b, rep));
    }
    lab.keep(run.clone());
    Ok(cell.get_or_init(|| NoiseStudy {
        run,
        by_batch,
        minibatches: k,
    }))
}

fn caption(lab: &Lab, s: &NoiseStudy, what: &str) -> String {
    format!(
        "levylab figures --dataset fashion-mnist {}: Fashion-MNIST, {} train images; FC 784-512-512-10 (M = {}), cross-entropy, SGD η = 0.1, batch 100, {} iterations, seed 0; noise on K = {} minibatches drawn with replacement; {what}",
        lab.c.mode(),
        lab.tr.len(),
        s.run.n_params,
        lab.fc_iterations(),
        s.minibatches
    )
}

fn share_panel(title: &str, x: crate::plot::Axis, pts: &[(f64, &NoiseReport)]) -> Panel {
    let g = |f: &dyn Fn(&crate::stats::coordinates::Gaussianity) -> f64| -> Vec<(f64, f64)> {
        pts.iter()
            .filter_map(|(x, n)| n.tests.gaussianity.done().map(|g| (*x, f(g))))
            .collect()
    };
    let bh = g(&|g| g.rejected_fraction)
        .into_iter()
        .map(|(x, y)| (x, y, y, y))
        .collect();
    Panel {
        y_range: Some((0.0, 1.3)),
        ..panel(
            title,
            x,
            axis("share of coordinates rejected as Gaussian", false),
            vec![
                Trace {
                    label: "Anderson–Darling, Benjamini–Hochberg 5 %".into(),
                    markers: bh,
                    line: g(&|g| g.rejected_fraction),
                    color: 0,
                    ..Default::default()
                },
                Trace {
                    label: "uncorrected p < 5 %".into(),
                    line: g(&|g| g.rejected_fraction_uncorrected),
                    color: 1,
                    ..Default::default()
                },
                Trace {
                    dashed: vec![(
                        "5 %: the share if every coordinate were Gaussian".into(),
                        pts.iter().map(|(x, _)| (*x, 0.05)).collect(),
                    )],
                    color: 6,
                    ..Default::default()
                },
            ],
        )
    }
}

/// (a) Panigrahi et al.: Gaussianity of single coordinates against b and along training.
pub(super) fn fig_gaussianity(lab: &Lab) -> Result<()> {
    let s = study(lab)?;
    let by_b: Vec<(f64, &NoiseReport)> = s.by_batch.iter().map(|(b, n)| (*b as f64, n)).collect();
    let along: Vec<(f64, &NoiseReport)> = s
        .run
        .checkpoints
        .iter()
        .filter_map(|c| Some((c.iteration as f64, c.noise_random.as_ref()?)))
        .collect();
    lab.c.save(
        "noise-gaussianity",
        "Is each coordinate of SGD's gradient noise Gaussian across minibatches? (Fashion-MNIST, FC)",
        &caption(
            lab,
            s,
            "Anderson–Darling on each of ≈ 2000 coordinates (weighted to the whole net), at the trained θ against the noise batch size b, and along training at b = 128",
        ),
        (1, 2),
        &[
            share_panel(
                "at the trained θ, against b",
                axis("noise minibatch size b (examples)", true),
                &by_b,
            ),
            share_panel(
                "along training (b = 128)",
                axis("SGD iteration", false),
                &along,
            ),
        ],
    )
}

/// (b) Battash et al.: the per-coordinate α̂ per layer.
pub(super) fn fig_alpha_per_layer(lab: &Lab) -> Result<()> {
    let s = study(lab)?;
    let at_ref = s.at_ref()?;
    let Check::Done(a) = &at_ref.tests.per_coordinate_alpha else {
        return Err(GalleryError::Missing(
            "no per-coordinate α at b = 128".into(),
        ));
    };
    let hist = Trace {
        label: format!("all layers ({} coordinates)", a.coordinates),
        line: steps(&a.histogram_edges, &a.histogram),
        color: 0,
        ..Default::default()
    };
    let sd = a.sampling_sd;
    let layers: Vec<Trace> = a
        .per_layer
        .iter()
        .enumerate()
        .map(|(i, l)| Trace {
            label: format!("layer {} ({} coordinates)", l.layer, l.coordinates),
            markers: vec![(
                l.layer as f64,
                l.quantiles.q50,
                l.quantiles.q25,
                l.quantiles.q75,
            )],
            color: i + 1,
            ..Default::default()
        })
        .collect();
    let mut against_b: Vec<(f64, f64, f64, f64)> = Vec::new();
    for (b, n) in &s.by_batch {
        if let Check::Done(x) = &n.tests.per_coordinate_alpha {
            against_b.push((*b as f64, x.quantiles.q50, x.quantiles.q25, x.quantiles.q75));
        }
    }
    let spread: Vec<(f64, f64)> = against_b.iter().map(|p| (p.0, p.1 - sd)).collect();
    lab.c.save(
        "noise-alpha-per-layer",
        "Each parameter its own α: per-coordinate SαS fits (Fashion-MNIST, FC)",
        &caption(
            lab,
            s,
            &format!(
                "α̂ by characteristic-function regression on each coordinate's K values; median with the 25–75 % range; sampling SD of α̂ at this K on SαS columns: {sd:.3}"
            ),
        ),
        (1, 3),
        &[
            Panel {
                y_range: None,
                ..panel(
                    "distribution over coordinates (b = 128)",
                    axis("per-coordinate α̂", false),
                    axis("share of coordinates per 0.1 bin", false),
                    vec![hist],
                )
            },
            Panel {
                y_range: Some((0.5, 2.4)),
                ..panel(
                    "per layer (b = 128): median, 25–75 %",
                    axis("layer", false),
                    axis("per-coordinate α̂", false),
                    layers,
                )
            },
            Panel {
                y_range: Some((0.5, 2.4)),
                ..panel(
                    "all layers, against b",
                    axis("noise minibatch size b (examples)", true),
                    axis("per-coordinate α̂", false),
                    vec![
                        Trace {
                            label: "median, 25–75 %".into(),
                            markers: against_b,
                            color: 0,
                            ..Default::default()
                        },
                        Trace {
                            dashed: vec![("median − sampling SD".into(), spread)],
                            color: 6,
                            ..Default::default()
                        },
                    ],
                )
            },
        ],
    )
}

/// (c) Xie et al.: iteration-wise vs dimension-wise power-law tests.
pub(super) fn fig_power_law(lab: &Lab) -> Result<()> {
    let s = study(lab)?;
    let at_ref = s.at_ref()?;
    let Check::Done(p) = &at_ref.tests.power_law else {
        return Err(GalleryError::Missing("no power-law test at b = 128".into()));
    };
    let Check::Done(iw) = &p.iteration_wise else {
        return Err(GalleryError::Missing(
            "no iteration-wise power-law test at b = 128".into(),
        ));
    };
    let edges: Vec<f64> = (0..=10).map(|i| 0.1 * i as f64).collect();
    let mut ruled: Vec<(f64, f64, f64, f64)> = Vec::new();
    let mut dim: Vec<(f64, f64)> = Vec::new();
    for (b, n) in &s.by_batch {
        if let Check::Done(q) = &n.tests.power_law {
            if let Check::Done(i) = &q.iteration_wise {
                let v = i.ruled_out_fraction;
                ruled.push((*b as f64, v, v, v));
            }
            if q.p_value.is_finite() {
                dim.push((*b as f64, q.p_value));
            }
        }
    }
    lab.c.save(
        "noise-power-law",
        "Power-law tails dimension-wise and iteration-wise (Clauset–Shalizi–Newman, Fashion-MNIST, FC)",
        &caption(
            lab,
            s,
            &format!(
                "bootstrap p-values ({} replicates) of a power-law tail of |U|: per coordinate across the K minibatches ({} coordinates), and for the pooled vector across coordinates; p ≤ 0.1 rules the power law out",
                p.bootstrap, iw.coordinates
            ),
        ),
        (1, 2),
        &[
            Panel {
                y_range: None,
                ..panel(
                    "p-values at b = 128",
                    axis("power-law p-value", false),
                    axis("share of coordinates per 0.1 bin", false),
                    vec![
                        Trace {
                            label: "iteration-wise (one coordinate, K minibatches)".into(),
                            line: steps(&edges, &iw.p_value_histogram),
                            color: 0,
                            ..Default::default()
                        },
                        Trace {
                            dashed: vec![(
                                format!("dimension-wise (pooled): p = {:.2}", p.p_value),
                                vec![(p.p_value, 0.0), (p.p_value, 1.0)],
                            )],
                            color: 3,
                            ..Default::default()
                        },
                    ],
                )
            },
            Panel {
                y_range: Some((0.0, 1.3)),
                ..panel(
                    "against b",
                    axis("noise minibatch size b (examples)", true),
                    axis("share ruled out / p-value", false),
                    vec![
                        Trace {
                            label: "iteration-wise: share of coordinates ruled out".into(),
                            markers: ruled,
                            color: 0,
                            ..Default::default()
                        },
                        Trace {
                            label: "dimension-wise: p-value of the pooled vector".into(),
                            line: dim,
                            color: 3,
                            ..Default::default()
                        },
                    ],
                )
            },
        ],
    )
}

/// (d) The covariance spectrum.
pub(super) fn fig_spectrum(lab: &Lab) -> Result<()> {
    let s = study(lab)?;
    let at_ref = s.at_ref()?;
    let Some(Check::Done(sp)) = &at_ref.spectrum else {
        return Err(GalleryError::Missing("no spectrum at b = 128".into()));
    };
    let conv: Vec<(f64, f64, f64, f64)> = sp
        .eigenvalues
        .iter()
        .take(sp.converged)
        .enumerate()
        .map(|(i, &v)| ((i + 1) as f64, v, v, v))
        .collect();
    let rest: Vec<(f64, f64)> = sp
        .eigenvalues
        .iter()
        .enumerate()
        .skip(sp.converged.saturating_sub(1))
        .map(|(i, &v)| ((i + 1) as f64, v))
        .filter(|p| p.1 > 0.0)
        .collect();
    let mut traces = vec![
        Trace {
            label: format!("converged Ritz values ({} passes)", sp.passes),
            markers: conv,
            color: 0,
            ..Default::default()
        },
        Trace {
            label: "not converged (lower bounds)".into(),
            line: rest,
            color: 1,
            ..Default::default()
        },
    ];
    if let Some(f) = sp.power_law {
        // The least-squares line through the fitted range, drawn from its own intercept.
        let n = (f.to - f.from + 1) as f64;
        let (mx, my) = (
            (f.from..=f.to).map(|j| (j as f64).ln()).sum::<f64>() / n,
            sp.eigenvalues[f.from - 1..f.to]
                .iter()
                .map(|v| v.ln())
                .sum::<f64>()
                / n,
        );
        let line = (f.from..=f.to)
            .map(|j| {
                let x = (j as f64).ln();
                (j as f64, (my - f.exponent * (x - mx)).exp())
            })
            .collect();
        traces.push(Trace {
            dashed: vec![(
                format!(
                    "fit λ_k ∝ k^−{:.2} ± {:.2} (k = {}–{})",
                    f.exponent, f.exponent_se, f.from, f.to
                ),
                line,
            )],
            color: 3,
            ..Default::default()
        });
    }
    let share = sp.eigenvalues.iter().sum::<f64>() / sp.trace;
    lab.c.save(
        "noise-spectrum",
        "Spectrum of the gradient-noise covariance (Fashion-MNIST, FC, b = 128)",
        &caption(
            lab,
            s,
            &format!(
                "top {} eigenvalues of the M × M noise covariance by block subspace iteration over the K rows (never formed); they carry {:.1} % of its trace",
                sp.eigenvalues.len(),
                100.0 * share
            ),
        ),
        (1, 1),
        &[panel(
            "leading eigenvalues",
            axis("index k", true),
            axis("eigenvalue λ_k (squared gradient units)", true),
            traces,
        )],
    )
}
