//! The `[escape]` section of a training file: when to stop training, which radii, how many
//! replicas under which noises.

use serde::Deserialize;

use crate::config::ConfigError;

/// The noise that drives one set of replicas from θ₀.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum NoiseKind {
    /// SGD itself: minibatch gradients, each replica its own minibatch order.
    Sgd,
    /// Full-batch gradient plus Gaussian noise of the measured per-coordinate variance.
    GaussianVariance,
    /// Full-batch gradient plus Gaussian noise of the per-coordinate scale read from E ln|U|
    /// (robust to heavy tails: equal to `gaussian-variance` when the noise is Gaussian).
    GaussianScale,
    /// Full-batch gradient plus SαS noise with independent coordinates: the measured α and
    /// per-coordinate scales.
    StableIndependent,
    /// Full-batch gradient plus isotropic (sub-Gaussian) SαS noise with the measured α and one scale.
    StableIsotropic,
    /// SGD with minibatches drawn with replacement, independently at every step: the same
    /// gradient noise law as `sgd` without its correlation within an epoch (a shuffled epoch's
    /// minibatch noises sum to zero), i.e. the i.i.d. noise that the model noises assume.
    SgdReplacement,
    /// Full-batch gradient plus Gaussian noise with the empirical covariance of the K measured
    /// noise vectors (rank ≤ K): the noise's correlations across coordinates kept, so its
    /// alignment with the Hessian (Xie, Sato & Sugiyama's model) too.
    GaussianCovariance,
}

impl NoiseKind {
    /// Every kind, in table order.
    pub const ALL: [NoiseKind; 7] = [
        NoiseKind::Sgd,
        NoiseKind::SgdReplacement,
        NoiseKind::GaussianVariance,
        NoiseKind::GaussianScale,
        NoiseKind::GaussianCovariance,
        NoiseKind::StableIndependent,
        NoiseKind::StableIsotropic,
    ];

    /// The name used in files and tables.
    pub fn name(self) -> &'static str {
        match self {
            NoiseKind::Sgd => "sgd",
            NoiseKind::SgdReplacement => "sgd-replacement",
            NoiseKind::GaussianVariance => "gaussian-variance",
            NoiseKind::GaussianScale => "gaussian-scale",
            NoiseKind::GaussianCovariance => "gaussian-covariance",
            NoiseKind::StableIndependent => "stable-independent",
            NoiseKind::StableIsotropic => "stable-isotropic",
        }
    }

    /// A number distinguishing the kinds' random streams (the declaration order, so a new kind
    /// goes last and leaves the others' streams alone).
    pub(super) fn domain(self) -> u64 {
        debug_assert!((self as u64) < crate::rng::domain::ESCAPE_NOISE_KINDS);
        crate::rng::domain::ESCAPE_NOISE_BASE + self as u64
    }
}

/// Where θ₀ is taken.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "until", rename_all = "kebab-case")]
pub enum Until {
    /// After `train.iterations` SGD steps.
    Iterations,
    /// At the first checkpoint (every `train.checkpoint_every` steps) whose training accuracy is
    /// at least this; an error if `train.iterations` pass without it.
    Accuracy {
        /// The training accuracy to reach, in (0, 1].
        accuracy: f64,
    },
}

/// Where α of the stable model noises comes from.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlphaSource {
    /// The standardized pooled estimate (each coordinate divided by its scale: the calibrated
    /// per-coordinate tail index).
    Standardized,
    /// The paper's pooled estimate.
    Paper,
    /// A given value.
    Given(f64),
}

/// A validated `[escape]` section.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EscapeSpec {
    /// Where θ₀ is taken.
    pub until: Until,
    /// Radii of the balls around θ₀, increasing.
    pub radii: Vec<f64>,
    /// Replicas per noise.
    pub replicas: usize,
    /// Step budget of a replica.
    pub budget: usize,
    /// The noises, in table order.
    pub noises: Vec<NoiseKind>,
    /// Learning rate η of the replicas.
    pub learning_rate: f64,
    /// Minibatch size b of the SGD replicas and of the noise measurement.
    pub batch_size: usize,
    /// 1-based layers whose parameters the distance is measured on (empty: all).
    pub layers: Vec<usize>,
    /// The experiment's data: the first N training examples (None: all). Training to θ₀, the
    /// full-batch gradients, the SGD replicas and the noise fit all use it.
    pub train_subset: Option<usize>,
    /// Random minibatches of the noise measurement at θ₀.
    pub noise_minibatches: usize,
    /// α of the stable model noises.
    pub alpha: AlphaSource,
    /// The independent SαS noise with each layer's own α (the log-moment estimate of the layer's
    /// noise at θ₀) instead of the pooled one; the isotropic noise keeps the pooled α.
    pub alpha_per_layer: bool,
    /// Leading Hessian eigenvalues computed at θ₀.
    pub hessian_top: usize,
    /// Power iterations per eigenvalue.
    pub hessian_iterations: usize,
    /// Finite-difference step h of the Hessian-vector products (Hv ≈ (∇f(θ+hv) − ∇f(θ−hv))/2h, ‖v‖ = 1).
    pub hessian_step: f64,
    /// Rademacher probes of the Hutchinson trace.
    pub hutchinson: usize,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEscape {
    #[serde(default = "iterations")]
    until: String,
    accuracy: Option<f64>,
    radii: Vec<f64>,
    #[serde(default = "replicas")]
    replicas: i64,
    budget: i64,
    noises: Option<Vec<NoiseKind>>,
    learning_rate: Option<f64>,
    batch_size: Option<i64>,
    #[serde(default)]
    layers: Vec<i64>,
    train_subset: Option<i64>,
    #[serde(default = "minibatches")]
    noise_minibatches: i64,
    alpha: Option<toml::Value>,
    #[serde(default)]
    alpha_per_layer: bool,
    #[serde(default = "top")]
    hessian_top: i64,
    #[serde(default = "power")]
    hessian_iterations: i64,
    #[serde(default = "step")]
    hessian_step: f64,
    #[serde(default = "probes")]
    hutchinson: i64,
}

fn iterations() -> String {
    "iterations".into()
}
fn replicas() -> i64 {
    200
}
fn minibatches() -> i64 {
    200
}
fn top() -> i64 {
    4
}
fn power() -> i64 {
    20
}
fn step() -> f64 {
    1e-2
}
fn probes() -> i64 {
    8
}

/// The `[escape]` keys that have defaults (they may be swept without being in the file).
pub(crate) const DEFAULTED: &[&str] = &[
    "until",
    "accuracy",
    "replicas",
    "noises",
    "learning_rate",
    "batch_size",
    "layers",
    "train_subset",
    "noise_minibatches",
    "alpha",
    "alpha_per_layer",
    "hessian_top",
    "hessian_iterations",
    "hessian_step",
    "hutchinson",
];

impl RawEscape {
    /// Validates the section; `layers` is the number of layers with parameters of the run's
    /// network (checked later, when the network is built, by [`EscapeSpec::check_layers`]).
    pub(crate) fn validate(
        &self,
        train_lr: f64,
        train_batch: usize,
        bad: &impl Fn(&str, String) -> ConfigError,
    ) -> Result<EscapeSpec, ConfigError> {
        let pos = |field: &str, v: i64| -> Result<usize, ConfigError> {
            if v >= 1 {
                Ok(v as usize)
            } else {
                Err(bad(field, format!("must be >= 1, got {v}")))
            }
        };
        let until = match self.until.as_str() {
            "iterations" => {
                if self.accuracy.is_some() {
                    return Err(bad(
                        "escape.accuracy",
                        "is only read with until = \"accuracy\"".into(),
                    ));
                }
                Until::Iterations
            }
            "accuracy" => match self.accuracy {
                Some(a) if a > 0.0 && a <= 1.0 => Until::Accuracy { accuracy: a },
                Some(a) => {
                    return Err(bad(
                        "escape.accuracy",
                        format!("must be in (0, 1], got {a}"),
                    ));
                }
                None => {
                    return Err(bad(
                        "escape.until",
                        "\"accuracy\" needs escape.accuracy (a training accuracy in (0, 1])".into(),
                    ));
                }
            },
            other => {
                return Err(bad(
                    "escape.until",
                    format!("must be \"iterations\" or \"accuracy\", got {other:?}"),
                ));
            }
        };
        if self.radii.is_empty() {
            return Err(bad("escape.radii", "must list at least one radius".into()));
        }
        for (i, r) in self.radii.iter().enumerate() {
            if !(*r > 0.0 && r.is_finite()) {
                return Err(bad(
                    "escape.radii",
                    format!("radius {} must be finite and > 0, got {r}", i + 1),
                ));
            }
            if i > 0 && *r <= self.radii[i - 1] {
                return Err(bad(
                    "escape.radii",
                    format!(
                        "must be increasing: radius {} ({r}) is not larger than radius {} ({})",
                        i + 1,
                        i,
                        self.radii[i - 1]
                    ),
                ));
            }
        }
        let noises = self
            .noises
            .clone()
            .unwrap_or_else(|| NoiseKind::ALL.to_vec());
        if noises.is_empty() {
            return Err(bad("escape.noises", "must list at least one noise".into()));
        }
        for (i, n) in noises.iter().enumerate() {
            if noises[..i].contains(n) {
                return Err(bad("escape.noises", format!("lists {:?} twice", n.name())));
            }
        }
        let learning_rate = self.learning_rate.unwrap_or(train_lr);
        if !(learning_rate > 0.0 && learning_rate.is_finite()) {
            return Err(bad(
                "escape.learning_rate",
                format!("must be finite and > 0, got {learning_rate}"),
            ));
        }
        let mut layers = Vec::new();
        for &l in &self.layers {
            let l = pos("escape.layers", l)?;
            if layers.contains(&l) {
                return Err(bad("escape.layers", format!("lists layer {l} twice")));
            }
            layers.push(l);
        }
        layers.sort_unstable();
        let alpha = match &self.alpha {
            None => AlphaSource::Standardized,
            Some(toml::Value::String(s)) if s == "standardized" => AlphaSource::Standardized,
            Some(toml::Value::String(s)) if s == "paper" => AlphaSource::Paper,
            Some(v) => match v.as_float().or(v.as_integer().map(|i| i as f64)) {
                Some(a) if a > 0.0 && a <= 2.0 => AlphaSource::Given(a),
                _ => {
                    return Err(bad(
                        "escape.alpha",
                        format!(
                            "must be \"standardized\", \"paper\" or a number in (0, 2], got {v}"
                        ),
                    ));
                }
            },
        };
        if !(self.hessian_step > 0.0 && self.hessian_step.is_finite()) {
            return Err(bad(
                "escape.hessian_step",
                format!("must be finite and > 0, got {}", self.hessian_step),
            ));
        }
        let count = |field: &str, v: i64| -> Result<usize, ConfigError> {
            usize::try_from(v).map_err(|_| bad(field, format!("must be >= 0, got {v}")))
        };
        Ok(EscapeSpec {
            until,
            radii: self.radii.clone(),
            replicas: pos("escape.replicas", self.replicas)?,
            budget: pos("escape.budget", self.budget)?,
            noises,
            learning_rate,
            batch_size: match self.batch_size {
                Some(b) => pos("escape.batch_size", b)?,
                None => train_batch,
            },
            layers,
            train_subset: self
                .train_subset
                .map(|n| pos("escape.train_subset", n))
                .transpose()?,
            noise_minibatches: {
                let k = pos("escape.noise_minibatches", self.noise_minibatches)?;
                if k < 2 {
                    return Err(bad(
                        "escape.noise_minibatches",
                        format!("must be >= 2, got {k}"),
                    ));
                }
                k
            },
            alpha,
            alpha_per_layer: self.alpha_per_layer,
            hessian_top: count("escape.hessian_top", self.hessian_top)?,
            hessian_iterations: pos("escape.hessian_iterations", self.hessian_iterations)?,
            hessian_step: self.hessian_step,
            hutchinson: count("escape.hutchinson", self.hutchinson)?,
        })
    }
}

impl EscapeSpec {
    /// Checks `layers` against the network's number of layers with parameters.
    pub fn check_layers(&self, n_layers: usize) -> Result<(), crate::trainer::TrainError> {
        match self.layers.iter().find(|&&l| l > n_layers) {
            Some(&layer) => Err(crate::trainer::TrainError::NoSuchLayer {
                layer,
                layers: n_layers,
            }),
            None => Ok(()),
        }
    }
}
