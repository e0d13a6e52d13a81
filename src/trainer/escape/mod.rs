//! SGD's own escapes from a network's minimum, beside the Lévy and the Gaussian models of them.
//!
//! 1. Train (the run's `[train]` settings) until the `[escape]` criterion; the parameters are θ₀.
//! 2. Measure at θ₀: loss and accuracy, the full-batch gradient, the noise report (K random
//!    minibatches), the per-coordinate noise law ([`fit`]), the leading Hessian eigenvalues and
//!    the Hutchinson trace ([`curvature`]).
//! 3. Run R replicas from θ₀ under each noise ([`spec::NoiseKind`]): SGD itself, and the
//!    full-batch gradient plus (a) Gaussian noise of the measured variance, (b) Gaussian noise of
//!    the log-law scale, (c) independent-coordinate SαS noise, (d) isotropic SαS noise ([`replica`]).
//! 4. Put each beside the predictions of [`crate::theory::escape`]: the one-jump law and the
//!    Gaussian quadratic law with the measured spectrum.
//!
//! Every number is a pure function of (configuration, seed, replica): the same on any number of
//! threads.

pub mod curvature;
pub mod fit;
pub mod objective;
pub mod replica;
pub mod spec;
mod summary;

use super::TrainError;
use super::config::{self, Schedule, TrainRun};
use super::data::Dataset;
use super::gradient_noise::{self, NoiseReport};
use super::model::{Model, ModelSpec};
use crate::theory::escape as law;

pub use curvature::Curvature;
pub use fit::NoiseFit;
pub use objective::{Network, Objective, Quadratic};
pub use replica::{Drive, Passage, ReplicaRecord, Walk};
pub use spec::{AlphaSource, EscapeSpec, NoiseKind, Until};
pub use summary::{RadiusStats, Slope, ols_slope as summary_slope, radius_stats, slope};

/// Where the replicas start.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Start {
    /// SGD iterations trained.
    pub iterations: usize,
    /// Training loss on the experiment's data (the training set or its first `train_subset`).
    pub train_loss: f64,
    /// Training accuracy.
    pub train_accuracy: f64,
    /// Test loss.
    pub test_loss: f64,
    /// Test accuracy.
    pub test_accuracy: f64,
    /// Examples of the escape data (the training set or its first `train_subset`).
    pub examples: usize,
    /// ‖∇f(θ₀)‖ on the escape data.
    pub gradient_norm: f64,
    /// Seconds per full-batch gradient on the escape data (measured, machine-dependent).
    pub seconds_per_full_gradient: f64,
    /// Seconds per minibatch gradient.
    pub seconds_per_minibatch_gradient: f64,
}

/// The α of the stable model noises.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AlphaUsed {
    /// The value used (clamped to [0.1, 2]).
    pub value: f64,
    /// "standardized", "paper" or "given".
    pub source: &'static str,
    /// The estimate before clamping (None when the estimator had no value).
    pub estimate: Option<f64>,
    /// With `alpha_per_layer`: each layer's log-moment α of the independent SαS noise, in layer
    /// order (empty otherwise).
    pub per_layer: Vec<f64>,
}

/// Summary of the noise law that built the model noises.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FitSummary {
    /// Minibatches K of the fit.
    pub minibatches: usize,
    /// Σⱼ vⱼ over all coordinates (E‖U‖²).
    pub total_variance: f64,
    /// Σⱼ 2cⱼ(2)² (the same from the log-law scales).
    pub total_scale_variance: f64,
    /// Σⱼ cⱼ(αⱼ)^αⱼ over the measured coordinates (the one-jump mass; αⱼ the pooled α, or with
    /// `alpha_per_layer` the α of j's layer).
    pub stable_mass: f64,
    /// The isotropic scale c = (mean over all coordinates of cⱼ(α)^α)^{1/α}.
    pub isotropic_scale: f64,
    /// Share of coordinates that were zero in every minibatch.
    pub dead_share: f64,
}

/// The predictions at one radius.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Prediction {
    /// The radius.
    pub radius: f64,
    /// One-jump law, independent coordinates (None when α = 2).
    pub levy_independent: Option<f64>,
    /// One-jump law, isotropic.
    pub levy_isotropic: Option<f64>,
    /// Gaussian quadratic law with the measured variances.
    pub gaussian_variance: Option<law::GaussianEscape>,
    /// Gaussian quadratic law with the log-law scales.
    pub gaussian_scale: Option<law::GaussianEscape>,
    /// Gaussian quadratic law with the empirical noise covariance.
    pub gaussian_covariance: Option<law::GaussianEscape>,
}

/// One noise's replicas and their statistics.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct NoiseEscapes {
    /// The noise.
    pub noise: NoiseKind,
    /// Per radius.
    pub radii: Vec<RadiusStats>,
    /// Fitted slope of ln(mean escape step) on ln r.
    pub slope: Option<Slope>,
    /// Every replica.
    pub replicas: Vec<ReplicaRecord>,
    /// Wall time of these replicas.
    pub wall_seconds: f64,
}

/// One sweep point's escape experiment.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EscapeReport {
    /// Label of the sweep point.
    pub label: String,
    /// Swept values.
    pub params: std::collections::BTreeMap<String, String>,
    /// The network.
    pub model: ModelSpec,
    /// Parameters M.
    pub n_params: usize,
    /// Parameters the distance is measured on.
    pub measured_params: usize,
    /// The experiment's settings.
    pub escape: EscapeSpec,
    /// θ₀.
    pub start: Start,
    /// The noise report at θ₀ (K random minibatches of b).
    pub noise: Option<NoiseReport>,
    /// α of the stable noises.
    pub alpha: AlphaUsed,
    /// The noise law of the model noises.
    pub fit: FitSummary,
    /// Curvature at θ₀.
    pub curvature: Curvature,
    /// Gaussian-model directions: the leading Hessian eigenvectors and one block for the rest.
    pub modes: Vec<law::Mode>,
    /// The predictions, one per radius.
    pub predictions: Vec<Prediction>,
    /// The replicas of each noise.
    pub noises: Vec<NoiseEscapes>,
    /// Wall time.
    pub wall_seconds: f64,
}

/// Trains `run` until the escape criterion. Returns the network, the iterations done, and the
/// training accuracy at the end.
pub fn train_until(
    run: &TrainRun,
    until: Until,
    train: &Dataset,
    mut progress: impl FnMut(usize),
) -> Result<(Model, usize), TrainError> {
    let mut net = Model::build(&run.model, train, run.seed)?;
    let mut ws = super::mlp::Workspace::default();
    let mut grad = vec![0f32; net.n_params()];
    let n = train.len();
    let b = run.batch_size.min(n);
    let mut schedule = Schedule::new(run.order, n, b, run.seed);
    let (mut xb, mut yb) = (vec![0f32; b * train.dim], vec![0u8; b]);
    let mut best = (0.0, 0);
    for it in 0..run.iterations {
        let lr = config::learning_rate(run, it);
        let (bx, by) = config::gather(schedule.next_batch(), train, &mut xb, &mut yb);
        // As the trainer: dropout masks from (seed, iteration).
        net.loss_grad(
            bx,
            by,
            run.loss,
            &mut ws,
            &mut grad,
            Some((run.seed, it as u64)),
        );
        net.add_weight_decay(&mut grad, run.weight_decay);
        net.step(&grad, lr as f32);
        progress(it + 1);
        if let Until::Accuracy { accuracy } = until
            && ((it + 1) % run.checkpoint_every == 0 || it + 1 == run.iterations)
        {
            let acc = net.evaluate(&train.x, &train.y, run.loss).1;
            if acc >= accuracy {
                return Ok((net, it + 1));
            }
            if acc > best.0 {
                best = (acc, it + 1);
            }
        }
    }
    match until {
        Until::Iterations => Ok((net, run.iterations)),
        Until::Accuracy { accuracy } => Err(TrainError::AccuracyNotReached {
            accuracy,
            iterations: run.iterations,
            best: best.0,
            at: best.1,
        }),
    }
}

fn seconds(mut f: impl FnMut(), reps: usize) -> f64 {
    let t = std::time::Instant::now();
    for _ in 0..reps {
        f();
    }
    t.elapsed().as_secs_f64() / reps as f64
}

/// The noise variance uᵀCu along a unit vector u of a Gaussian model with covariance C.
pub type VarianceAlong<'a> = &'a dyn Fn(&[f64]) -> f64;

/// The one-jump law's mean escape step for independent coordinates in ranges of different α:
/// 1/min(Σ rates, 1), `masses` holding (α, Σ cⱼ^α) per range (None when some α is 2: no jumps).
fn levy_independent(masses: &[(f64, f64)], eta: f64, r: f64) -> Option<f64> {
    let mut rate = 0.0;
    for &(a, mass) in masses {
        rate += law::one_jump_rate(a, mass, eta, r).ok()?;
    }
    Some(1.0 / rate.min(1.0))
}

/// The Gaussian-model directions: each leading eigenvector uⱼ with its curvature, the noise
/// variance along it (`variance_along(uⱼ)`: uⱼᵀdiag(v)uⱼ for a diagonal model, uⱼᵀĈuⱼ for a
/// covariance; `total_v` is the trace), the gradient ⟨uⱼ, ∇f⟩ and its measured weight; then one block for the
/// other M − k directions with their mean curvature (trace − Σλⱼ)/(M − k) (0 without a trace,
/// never negative) and their share of the variance, gradient and weight.
pub fn modes(
    curvature: &Curvature,
    (total_v, variance_along): (f64, VarianceAlong<'_>),
    gradient: &[f64],
    measured: &[std::ops::Range<usize>],
) -> Vec<law::Mode> {
    let m = gradient.len();
    let mask: Vec<bool> = {
        let mut v = vec![false; m];
        for r in measured {
            v[r.clone()].iter_mut().for_each(|x| *x = true);
        }
        v
    };
    let measured_count = mask.iter().filter(|&&b| b).count() as f64;
    let mut out = Vec::new();
    let (mut v_top, mut g2_top, mut w_top, mut l_top) = (0.0, 0.0, 0.0, 0.0);
    for (lambda, u) in curvature.eigenvalues.iter().zip(&curvature.eigenvectors) {
        let v = variance_along(u);
        let g: f64 = u.iter().zip(gradient).map(|(a, b)| a * b).sum();
        let w: f64 = u
            .iter()
            .zip(&mask)
            .filter(|(_, m)| **m)
            .map(|(a, _)| a * a)
            .sum();
        out.push(law::Mode {
            curvature: lambda.max(0.0),
            variance: v,
            gradient: g,
            weight: w,
            multiplicity: 1.0,
        });
        v_top += v;
        g2_top += g * g;
        w_top += w;
        l_top += lambda;
    }
    let rest = (m - out.len()) as f64;
    if rest > 0.0 {
        let total_g2: f64 = gradient.iter().map(|g| g * g).sum();
        let lambda = curvature
            .trace
            .map_or(0.0, |t| ((t.value - l_top) / rest).max(0.0));
        out.push(law::Mode {
            curvature: lambda,
            variance: ((total_v - v_top) / rest).max(0.0),
            gradient: ((total_g2 - g2_top) / rest).max(0.0).sqrt(),
            weight: ((measured_count - w_top) / rest).clamp(0.0, 1.0),
            multiplicity: rest,
        });
    }
    out
}

/// The parameter ranges of `layers` (1-based; all when empty).
pub fn measured_ranges(
    layers: &[usize],
    all: &[std::ops::Range<usize>],
    n_params: usize,
) -> Vec<std::ops::Range<usize>> {
    if layers.is_empty() {
        return std::iter::once(0..n_params).collect();
    }
    layers.iter().map(|&l| all[l - 1].clone()).collect()
}

/// The escape experiment of one sweep point. `progress(phase, done, total)` reports training
/// iterations (phase "train") and finished replicas (phase = the noise's name).
pub fn run(
    run: &TrainRun,
    spec: &EscapeSpec,
    train: &Dataset,
    test: &Dataset,
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<EscapeReport, TrainError> {
    let t0 = std::time::Instant::now();
    // The experiment's data, training to θ₀ included: the training set or its first N examples.
    let data = match spec.train_subset {
        Some(n) if n < train.len() => train.subset(&(0..n).collect::<Vec<_>>()),
        _ => train.clone(),
    };
    let (net, iterations) = train_until(run, spec.until, &data, |k| {
        progress("train", k, run.iterations)
    })?;
    spec.check_layers(net.layer_ranges().len())?;
    let (train_loss, train_accuracy) = net.evaluate(&data.x, &data.y, run.loss);
    let (test_loss, test_accuracy) = net.evaluate(&test.x, &test.y, run.loss);
    let m = net.n_params();
    let b = spec.batch_size.min(data.len());
    let objective = Network {
        net: &net,
        data: &data,
        loss: run.loss,
        batch_size: b,
        seed: run.seed,
        weight_decay: run.weight_decay,
    };
    let mut state = objective.start(0);
    let mut full = vec![0f32; m];
    objective.full_gradient(&mut state, &mut full);
    let full64: Vec<f64> = full.iter().map(|&g| f64::from(g)).collect();
    // The noise is a minibatch's data gradient minus the full data gradient: the penalty's λθ is
    // the same in both and is left out of both.
    let mut full_data = full.clone();
    for (g, &t) in full_data.iter_mut().zip(net.params()) {
        *g -= (run.weight_decay as f32) * t;
    }
    let mut scratch = vec![0f32; m];
    let seconds_per_full_gradient =
        seconds(|| _ = objective.full_gradient(&mut state, &mut scratch), 3);
    let seconds_per_minibatch_gradient = seconds(
        || _ = objective.minibatch_gradient(&mut state, 0, false, &mut scratch),
        5,
    );
    drop(state);
    let start = Start {
        iterations,
        train_loss,
        train_accuracy,
        test_loss,
        test_accuracy,
        examples: data.len(),
        gradient_norm: crate::numeric::norm(&full64),
        seconds_per_full_gradient,
        seconds_per_minibatch_gradient,
    };

    // The noise at θ₀.
    let key = crate::rng::mix64(
        run.seed ^ crate::rng::domain::ESCAPE_NOISE_AT_THETA0 ^ iterations as u64,
    );
    let report = gradient_noise::measure_random(
        &net,
        &data.x,
        &data.y,
        b,
        run.loss,
        run.subsample,
        key,
        &super::gradient_noise::NoiseTests {
            minibatches: spec.noise_minibatches,
            ..run.tests
        },
    );
    let mut fit = NoiseFit::measure(
        &net,
        &data.x,
        &data.y,
        run.loss,
        &full_data,
        b,
        spec.noise_minibatches,
        key,
        spec.noises.contains(&NoiseKind::GaussianCovariance),
    );
    let (estimate, source) = match spec.alpha {
        AlphaSource::Standardized => (
            report
                .as_ref()
                .and_then(|r| r.standardized)
                .map(|e| e.alpha),
            "standardized",
        ),
        AlphaSource::Paper => (
            report.as_ref().and_then(|r| r.paper).map(|e| e.alpha),
            "paper",
        ),
        AlphaSource::Given(a) => (Some(a), "given"),
    };
    let mut alpha = AlphaUsed {
        value: estimate
            .filter(|a| a.is_finite())
            .unwrap_or(2.0)
            .clamp(0.1, 2.0),
        source,
        estimate,
        per_layer: Vec::new(),
    };
    let layer_ranges = net.layer_ranges();
    // The α of every coordinate's range for the independent noise: one pooled range, or the
    // layers with their own log-moment α (the pooled α where a layer has no usable values).
    let alphas: Vec<(std::ops::Range<usize>, f64)> = if spec.alpha_per_layer {
        layer_ranges
            .iter()
            .map(|r| {
                (
                    r.clone(),
                    fit.log_moment_alpha(r.clone()).unwrap_or(alpha.value),
                )
            })
            .collect()
    } else {
        std::iter::once((0..m, alpha.value)).collect()
    };
    if spec.alpha_per_layer {
        alpha.per_layer = alphas.iter().map(|a| a.1).collect();
    }
    let measured = measured_ranges(&spec.layers, &layer_ranges, m);
    let measured_params: usize = measured.iter().map(|r| r.len()).sum();
    let pooled_scales = fit.stable_scales(alpha.value);
    let mut scales = pooled_scales.clone();
    if spec.alpha_per_layer {
        for (range, a) in &alphas {
            for j in range.clone() {
                scales[j] = fit::stable_scale(fit.log_scale[j], fit.zero_share[j], *a);
            }
        }
    }
    let in_measured = |j: usize| measured.iter().any(|r| r.contains(&j));
    // Per range: (α, Σ cⱼ^α over its measured coordinates): the one-jump rates add up.
    let masses: Vec<(f64, f64)> = alphas
        .iter()
        .map(|(range, a)| {
            let mass = range
                .clone()
                .filter(|&j| in_measured(j))
                .map(|j| scales[j].powf(*a))
                .sum();
            (*a, mass)
        })
        .collect();
    let stable_mass: f64 = masses.iter().map(|p| p.1).sum();
    let isotropic_scale = (pooled_scales
        .iter()
        .map(|c| c.powf(alpha.value))
        .sum::<f64>()
        / m as f64)
        .powf(1.0 / alpha.value);
    let scale_std = fit.gaussian_scale_std();
    let fit_summary = FitSummary {
        minibatches: fit.minibatches,
        total_variance: fit.variance.iter().sum(),
        total_scale_variance: scale_std.iter().map(|s| s * s).sum(),
        stable_mass,
        isotropic_scale,
        dead_share: fit.zero_share.iter().filter(|&&z| z == 1.0).count() as f64 / m as f64,
    };

    let curvature = curvature::curvature(
        &objective,
        spec.hessian_step,
        spec.hessian_top,
        spec.hessian_iterations,
        spec.hutchinson,
        run.seed,
    );
    let diagonal = |v: &[f64]| {
        let v = v.to_vec();
        move |u: &[f64]| u.iter().zip(&v).map(|(a, s)| a * a * s).sum::<f64>()
    };
    let modes_var = modes(
        &curvature,
        (fit.variance.iter().sum(), &diagonal(&fit.variance)),
        &full64,
        &measured,
    );
    let scale_var: Vec<f64> = scale_std.iter().map(|s| s * s).collect();
    let modes_scale = modes(
        &curvature,
        (scale_var.iter().sum(), &diagonal(&scale_var)),
        &full64,
        &measured,
    );
    // uᵀĈu = (1/K)Σ_p ⟨U_p, u⟩²; the trace of Ĉ is Σⱼvⱼ.
    let covariance_along = |u: &[f64]| {
        fit.samples
            .iter()
            .map(|s| {
                s.iter()
                    .zip(u)
                    .map(|(&a, b)| f64::from(a) * b)
                    .sum::<f64>()
                    .powi(2)
            })
            .sum::<f64>()
            / fit.samples.len().max(1) as f64
    };
    let modes_cov = (!fit.samples.is_empty()).then(|| {
        modes(
            &curvature,
            (fit.variance.iter().sum(), &covariance_along),
            &full64,
            &measured,
        )
    });
    let eta = spec.learning_rate;
    let stable = alpha.value < 2.0;
    let predictions = spec
        .radii
        .iter()
        .map(|&r| Prediction {
            radius: r,
            levy_independent: levy_independent(&masses, eta, r),
            levy_isotropic: stable
                .then(|| {
                    let mass = isotropic_scale.powf(alpha.value)
                        * law::isotropic_norm_factor(alpha.value, measured_params);
                    law::one_jump_mean_steps(alpha.value, mass, eta, r).ok()
                })
                .flatten(),
            gaussian_variance: law::gaussian_escape(&modes_var, eta, r).ok(),
            gaussian_scale: law::gaussian_escape(&modes_scale, eta, r).ok(),
            gaussian_covariance: modes_cov
                .as_ref()
                .and_then(|mc| law::gaussian_escape(mc, eta, r).ok()),
        })
        .collect();

    let walk = Walk {
        eta,
        radii: &spec.radii,
        budget: spec.budget as u64,
        measured: &measured,
        seed: run.seed,
    };
    let mut noises = Vec::new();
    for &kind in &spec.noises {
        let drive = match kind {
            NoiseKind::Sgd => Drive::Sgd { replacement: false },
            NoiseKind::SgdReplacement => Drive::Sgd { replacement: true },
            NoiseKind::GaussianVariance => Drive::Gaussian {
                std: fit.variance.iter().map(|v| v.sqrt()).collect(),
            },
            NoiseKind::GaussianScale => Drive::Gaussian {
                std: scale_std.clone(),
            },
            // Each kind is listed at most once (checked): the K·M samples move, not copied.
            NoiseKind::GaussianCovariance => Drive::Covariance {
                samples: std::mem::take(&mut fit.samples),
            },
            NoiseKind::StableIndependent => Drive::Independent {
                alphas: alphas.clone(),
                scales: scales.clone(),
            },
            NoiseKind::StableIsotropic => Drive::Isotropic {
                alpha: alpha.value,
                scale: isotropic_scale,
            },
        };
        let t = std::time::Instant::now();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let records = replica::replicas(&objective, &drive, kind, &walk, spec.replicas, &|| {
            let k = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress(kind.name(), k, spec.replicas);
        });
        let radii: Vec<RadiusStats> = (0..spec.radii.len())
            .map(|i| radius_stats(&records, i, spec.radii[i], spec.budget as f64))
            .collect();
        noises.push(NoiseEscapes {
            noise: kind,
            slope: slope(&records, &spec.radii, run.seed),
            radii,
            replicas: records,
            wall_seconds: t.elapsed().as_secs_f64(),
        });
    }
    Ok(EscapeReport {
        label: run.label.clone(),
        params: run.params.iter().cloned().collect(),
        model: run.model,
        n_params: m,
        measured_params,
        escape: spec.clone(),
        start,
        noise: report,
        alpha,
        fit: fit_summary,
        curvature,
        modes: modes_var,
        predictions,
        noises,
        wall_seconds: t0.elapsed().as_secs_f64(),
    })
}
