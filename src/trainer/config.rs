//! Training configuration files, their sweeps, and the training loop.

use std::path::{Path, PathBuf};

use rand::RngExt;
use serde::Deserialize;

use super::TrainError;
use super::data::{self, Dataset};
use super::gradient_noise::{self, NoiseReport, NoiseTests, SamplingPlan};
use super::mlp::{Loss, Workspace};
use super::model::{Model, ModelSpec};
use crate::config::{ConfigError, locate};
use crate::rng;

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawTrain {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    data: RawData,
    model: RawModel,
    train: RawTrainOpts,
    #[serde(default)]
    noise: RawNoiseOpts,
    escape: Option<super::escape::spec::RawEscape>,
    #[allow(dead_code)] // expanded from the document table
    sweep: Option<toml::Table>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawData {
    #[serde(default)]
    dataset: DatasetKind,
    train_images: Option<PathBuf>,
    train_labels: Option<PathBuf>,
    test_images: Option<PathBuf>,
    test_labels: Option<PathBuf>,
    #[serde(default = "fifth")]
    test_fraction: f64,
    #[serde(default = "yes")]
    normalize: bool,
}

impl Default for RawData {
    fn default() -> Self {
        RawData {
            dataset: DatasetKind::Digits,
            train_images: None,
            train_labels: None,
            test_images: None,
            test_labels: None,
            test_fraction: 0.2,
            normalize: true,
        }
    }
}

/// Where a configuration's examples come from: `[data] dataset`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetKind {
    /// The embedded 8 × 8 digits, split by `test_fraction`.
    #[default]
    Digits,
    /// Four IDX files (MNIST's format): training and test images and labels.
    Idx,
}

impl DatasetKind {
    /// The name in configuration files and summaries.
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Digits => "digits",
            DatasetKind::Idx => "idx",
        }
    }
}

impl std::fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `[model] kind`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ModelKind {
    /// Fully connected (width, depth).
    #[default]
    Fc,
    /// AlexNet-style convolutional (channels, dropout).
    Alexnet,
}

impl ModelKind {
    fn name(self) -> &'static str {
        match self {
            ModelKind::Fc => "fc",
            ModelKind::Alexnet => "alexnet",
        }
    }
}
fn fifth() -> f64 {
    0.2
}
fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawModel {
    #[serde(default)]
    kind: ModelKind,
    width: Option<i64>,
    depth: Option<i64>,
    bias: Option<bool>,
    channels: Option<i64>,
    dropout: Option<f64>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawTrainOpts {
    #[serde(default)]
    loss: Loss,
    #[serde(default = "lr")]
    learning_rate: f64,
    #[serde(default = "hundred")]
    batch_size: i64,
    iterations: i64,
    checkpoint_every: i64,
    #[serde(default)]
    halve_step: bool,
    #[serde(default)]
    order: Order,
    #[serde(default)]
    weight_decay: f64,
}

/// The order in which SGD visits the training examples.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// The paper's: the data in its fixed order, cut into consecutive minibatches of b, cycled
    /// epoch after epoch; when b does not divide n the last minibatch of every epoch is the short
    /// remainder of n mod b examples (as PyTorch's DataLoader with `shuffle=False`,
    /// `drop_last=False`). The first ⌊n/b⌋ of these are exactly the minibatches whose gradients the
    /// noise measurement uses.
    #[default]
    Cyclic,
    /// A fresh seeded permutation every epoch, cut into ⌊n/b⌋ full minibatches; the n mod b examples
    /// left at the end of a permutation sit out that epoch.
    Shuffled,
}

impl Default for RawNoiseOpts {
    fn default() -> Self {
        RawNoiseOpts {
            batch_size: None,
            subsample: None,
            on_test: true,
            sampling: SamplingPlan::Fixed,
            minibatches: None,
            coordinates: None,
            bootstrap: None,
            spectrum: None,
            spectrum_passes: None,
        }
    }
}

fn lr() -> f64 {
    0.1
}
fn hundred() -> i64 {
    100
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawNoiseOpts {
    batch_size: Option<i64>,
    subsample: Option<i64>,
    #[serde(default = "yes")]
    on_test: bool,
    #[serde(default)]
    sampling: SamplingPlan,
    minibatches: Option<i64>,
    coordinates: Option<i64>,
    bootstrap: Option<i64>,
    spectrum: Option<i64>,
    spectrum_passes: Option<i64>,
}

/// One validated training run (one point of the sweep).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainRun {
    /// The swept values, e.g. `model.width=64 model.depth=3`.
    pub label: String,
    /// Swept fields and their values.
    pub params: Vec<(String, String)>,
    /// Seed (initialization, minibatch order, null draws).
    pub seed: u64,
    /// The network.
    pub model: ModelSpec,
    /// Loss.
    pub loss: Loss,
    /// Learning rate η.
    pub learning_rate: f64,
    /// Training minibatch size.
    pub batch_size: usize,
    /// SGD iterations.
    pub iterations: usize,
    /// Measure every this many iterations (and at the end).
    pub checkpoint_every: usize,
    /// Halve η at 1/3 and 2/3 of the iterations.
    pub halve_step: bool,
    /// L2 penalty λ: SGD descends f + (λ/2)‖θ‖² (every parameter). The noise measurement is
    /// unchanged by it (the penalty's gradient is the same on every minibatch); the reported losses
    /// are the data loss alone.
    pub weight_decay: f64,
    /// Order of the training examples.
    pub order: Order,
    /// Minibatch size of the noise measurement.
    pub noise_batch_size: usize,
    /// Hill/McCulloch subsample size.
    pub subsample: usize,
    /// Also measure on the test set.
    pub on_test: bool,
    /// Sampling plan and the tests beyond the paper's estimate.
    pub tests: NoiseTests,
    /// The `[escape]` experiment, if the file has one.
    pub escape: Option<super::escape::EscapeSpec>,
}

/// A validated configuration.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Name (output directory).
    pub name: String,
    /// Free text.
    pub description: String,
    /// The file.
    pub source: PathBuf,
    /// Where the examples come from.
    pub dataset: DatasetKind,
    data: DataSource,
    normalize: bool,
    /// Runs in sweep order.
    pub runs: Vec<TrainRun>,
}

fn err(src: &str, file: &Path, field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        file: file.to_path_buf(),
        position: locate(src, field),
        field: Some(field.to_string()),
        message: message.into(),
    }
}

fn set_value(t: &mut toml::Table, path: &str, v: &toml::Value) -> Result<(), String> {
    let (table, key) = crate::config::parent_table(t, path, "configuration")?;
    match table.get_mut(key) {
        Some(slot) => *slot = v.clone(),
        // Keys with defaults may be absent from the file and still be swept.
        None if super::escape::spec::DEFAULTED.contains(&key) && path.starts_with("escape.") => {
            table.insert(key.to_string(), v.clone());
        }
        None if matches!(
            key,
            "seed"
                | "bias"
                | "halve_step"
                | "weight_decay"
                | "learning_rate"
                | "batch_size"
                | "loss"
                | "order"
                | "kind"
                | "dropout"
        ) =>
        {
            table.insert(key.to_string(), v.clone());
        }
        None => {
            return Err(format!(
                "does not name a field of this configuration (no `{key}`)"
            ));
        }
    }
    Ok(())
}

/// The validated `[data]` table.
#[derive(Clone, Debug)]
enum DataSource {
    /// The embedded digits, this share held out for testing.
    Digits { test_fraction: f64 },
    /// IDX files: (images, labels) for training and for testing.
    Idx {
        train: (PathBuf, PathBuf),
        test: (PathBuf, PathBuf),
    },
}

/// Checks the name of a configuration and validates its data section.
fn check_header(raw: &RawTrain, src: &str, file: &Path) -> Result<DataSource, ConfigError> {
    if raw.name.trim().is_empty() || raw.name.contains(['/', '\\']) || raw.name.starts_with('.') {
        return Err(err(
            src,
            file,
            "name",
            format!(
                "must be a non-empty file name without '/', got {:?}",
                raw.name
            ),
        ));
    }
    let d = &raw.data;
    match d.dataset {
        DatasetKind::Digits => {
            if !(d.test_fraction > 0.0 && d.test_fraction < 1.0) {
                return Err(err(
                    src,
                    file,
                    "data.test_fraction",
                    format!("must be in (0, 1), got {}", d.test_fraction),
                ));
            }
            Ok(DataSource::Digits {
                test_fraction: d.test_fraction,
            })
        }
        DatasetKind::Idx => {
            let need = |k: &str, v: &Option<PathBuf>| {
                v.clone().ok_or_else(|| {
                    err(src, file, "data.dataset", format!("\"idx\" needs data.{k}"))
                })
            };
            let train = (
                need("train_images", &d.train_images)?,
                need("train_labels", &d.train_labels)?,
            );
            let test = (
                need("test_images", &d.test_images)?,
                need("test_labels", &d.test_labels)?,
            );
            Ok(DataSource::Idx { train, test })
        }
    }
}

/// Swept keys with their values, in file order.
type Axes = Vec<(String, Vec<toml::Value>)>;

/// The sweep axes (lists of numbers or strings) and whether they are zipped (else a grid).
fn sweep_axes(doc: &toml::Table, src: &str, file: &Path) -> Result<(Axes, bool), ConfigError> {
    let mut axes: Axes = Vec::new();
    let mut zip = false;
    if let Some(toml::Value::Table(sw)) = doc.get("sweep") {
        for (k, v) in sw {
            if k == "mode" {
                zip = match v.as_str() {
                    Some("zip") => true,
                    Some("grid") => false,
                    _ => {
                        return Err(err(
                            src,
                            file,
                            "sweep.mode",
                            format!("must be \"grid\" or \"zip\", got {v}"),
                        ));
                    }
                };
                continue;
            }
            match v {
                toml::Value::Array(a) if !a.is_empty() => axes.push((k.clone(), a.clone())),
                _ => {
                    return Err(err(
                        src,
                        file,
                        &format!("sweep.\"{k}\""),
                        "must be a non-empty list of values",
                    ));
                }
            }
        }
    }
    Ok((axes, zip))
}

/// The `[model]` table of one run: `kind = "fc"` (default; width, depth, bias = false) or
/// `kind = "alexnet"` (channels, dropout = 0.5, bias = true); a key of the other kind is refused.
fn model_spec(
    m: &RawModel,
    pos: &impl Fn(&str, i64) -> Result<usize, ConfigError>,
    bad: &impl Fn(&str, String) -> ConfigError,
) -> Result<ModelSpec, ConfigError> {
    let (own, foreign): (&[&str], _) = match m.kind {
        ModelKind::Fc => (
            &["width", "depth"],
            [
                ("channels", m.channels.is_some()),
                ("dropout", m.dropout.is_some()),
            ],
        ),
        ModelKind::Alexnet => (
            &["channels"],
            [("width", m.width.is_some()), ("depth", m.depth.is_some())],
        ),
    };
    if let Some((key, _)) = foreign.iter().find(|(_, present)| *present) {
        return Err(bad(
            &format!("model.{key}"),
            format!(
                "is not a setting of kind = {:?} (it takes {})",
                m.kind.name(),
                own.iter()
                    .map(|k| format!("model.{k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let need = |key: &str, v: Option<i64>| -> Result<usize, ConfigError> {
        let field = format!("model.{key}");
        match v {
            Some(v) => pos(&field, v),
            None => Err(bad(
                "model",
                format!("kind = {:?} needs {field}", m.kind.name()),
            )),
        }
    };
    if m.kind == ModelKind::Fc {
        return Ok(ModelSpec::Fc {
            width: need("width", m.width)?,
            depth: need("depth", m.depth)?,
            bias: m.bias.unwrap_or(false),
        });
    }
    let dropout = m.dropout.unwrap_or(0.5);
    if !(0.0..1.0).contains(&dropout) {
        return Err(bad(
            "model.dropout",
            format!("must be in [0, 1), got {dropout}"),
        ));
    }
    Ok(ModelSpec::Alexnet {
        channels: need("channels", m.channels)?,
        dropout,
        bias: m.bias.unwrap_or(true),
    })
}

/// One run of a sweep from its raw table and its sweep assignment; `bad(field, message)` makes
/// the error (with the sweep point noted).
fn train_run(
    r: &RawTrain,
    assign: &[(String, toml::Value)],
    bad: impl Fn(&str, String) -> ConfigError,
) -> Result<TrainRun, ConfigError> {
    let pos = |field: &str, v: i64| -> Result<usize, ConfigError> {
        if v >= 1 {
            Ok(v as usize)
        } else {
            Err(bad(field, format!("must be >= 1, got {v}")))
        }
    };
    let model = model_spec(&r.model, &pos, &bad)?;
    let batch_size = pos("train.batch_size", r.train.batch_size)?;
    let iterations = pos("train.iterations", r.train.iterations)?;
    let checkpoint_every = pos("train.checkpoint_every", r.train.checkpoint_every)?;
    let noise_batch_size = pos(
        "noise.batch_size",
        r.noise.batch_size.unwrap_or(r.train.batch_size),
    )?;
    let subsample = pos("noise.subsample", r.noise.subsample.unwrap_or(1_000_000))?;
    let tests = noise_tests(&r.noise, &pos, &bad)?;
    if !(r.train.learning_rate > 0.0 && r.train.learning_rate.is_finite()) {
        return Err(bad(
            "train.learning_rate",
            format!("must be finite and > 0, got {}", r.train.learning_rate),
        ));
    }
    if !(r.train.weight_decay >= 0.0 && r.train.weight_decay.is_finite()) {
        return Err(bad(
            "train.weight_decay",
            format!("must be finite and >= 0, got {}", r.train.weight_decay),
        ));
    }
    let loss = r.train.loss;
    let params: Vec<(String, String)> = assign
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            )
        })
        .collect();
    let label = if params.is_empty() {
        "base".into()
    } else {
        params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    Ok(TrainRun {
        label,
        params,
        seed: r.seed,
        model,
        loss,
        learning_rate: r.train.learning_rate,
        batch_size,
        iterations,
        checkpoint_every,
        halve_step: r.train.halve_step,
        weight_decay: r.train.weight_decay,
        order: r.train.order,
        noise_batch_size,
        subsample,
        on_test: r.noise.on_test,
        tests,
        escape: r
            .escape
            .as_ref()
            .map(|e| e.validate(r.train.learning_rate, batch_size, &bad))
            .transpose()?,
    })
}

/// The `[noise]` keys of the tests beyond the paper's estimate.
fn noise_tests(
    n: &RawNoiseOpts,
    pos: &dyn Fn(&str, i64) -> Result<usize, ConfigError>,
    bad: &dyn Fn(&str, String) -> ConfigError,
) -> Result<NoiseTests, ConfigError> {
    let d = NoiseTests::default();
    let count = |field: &str, v: Option<i64>, default: usize| -> Result<usize, ConfigError> {
        match v {
            None => Ok(default),
            Some(v) if v >= 0 => Ok(v as usize),
            Some(v) => Err(bad(field, format!("must be >= 0, got {v}"))),
        }
    };
    let coordinates = count("noise.coordinates", n.coordinates, d.coordinates)?;
    let minibatches = pos(
        "noise.minibatches",
        n.minibatches.unwrap_or(d.minibatches as i64),
    )?;
    // Every per-coordinate test must be able to run on K random minibatches.
    let need = if coordinates > 0 {
        crate::stats::power_law::MIN_SAMPLES
    } else {
        2
    };
    if n.sampling.random() && minibatches < need {
        return Err(bad(
            "noise.minibatches",
            format!(
                "must be >= {need} (the power-law test's minimum with coordinates > 0), got {minibatches}"
            ),
        ));
    }
    Ok(NoiseTests {
        sampling: n.sampling,
        minibatches,
        coordinates,
        coordinates_given: n.coordinates.is_some(),
        bootstrap: count("noise.bootstrap", n.bootstrap, d.bootstrap)?,
        spectrum: count("noise.spectrum", n.spectrum, d.spectrum)?,
        spectrum_passes: pos(
            "noise.spectrum_passes",
            n.spectrum_passes.unwrap_or(d.spectrum_passes as i64),
        )?,
    })
}

impl TrainConfig {
    /// Reads and validates a training configuration.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::parse(&crate::config::read_source(path)?, path)
    }

    /// Validates configuration text.
    pub fn parse(src: &str, file: &Path) -> Result<Self, ConfigError> {
        let terr = |e: toml::de::Error| crate::config::toml_error(src, file, &e);
        let doc: toml::Table = toml::from_str(src).map_err(terr)?;
        let raw: RawTrain = toml::from_str(src).map_err(terr)?;
        let data = check_header(&raw, src, file)?;
        let (axes, zip) = sweep_axes(&doc, src, file)?;
        let points = crate::config::combine(&axes, zip).map_err(
            |crate::config::ZipMismatch {
                 key: k,
                 expected: n,
                 ..
             }| {
                err(
                    src,
                    file,
                    &format!("sweep.\"{k}\""),
                    format!("zip mode needs {n} values like the first key"),
                )
            },
        )?;
        let mut base = doc.clone();
        base.remove("sweep");
        let mut runs = Vec::new();
        for assign in points {
            let mut t = base.clone();
            for (k, v) in &assign {
                set_value(&mut t, k, v)
                    .map_err(|m| err(src, file, &format!("sweep.\"{k}\""), m))?;
            }
            let note = if assign.is_empty() {
                String::new()
            } else {
                format!(
                    " (at sweep point {})",
                    assign
                        .iter()
                        .map(|(k, v)| format!("{k} = {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let r = RawTrain::deserialize(toml::Value::Table(t)).map_err(|e| {
                let msg = e.message().lines().next().unwrap_or("");
                // A swept keyword outside its set (`sweep."train.loss" = ["mse"]`): serde names
                // the word but not the key, so blame the swept key that holds it.
                let blamed = msg.strip_prefix("unknown variant ").and_then(|rest| {
                    let (word, expected) = rest.split_once(", expected ")?;
                    let word = word.trim_matches('`');
                    let (key, _) = assign.iter().find(|(_, v)| v.as_str() == Some(word))?;
                    Some((key, format!("expected {expected}, got {word:?}")))
                });
                match blamed {
                    Some((key, m)) => err(src, file, &format!("sweep.\"{key}\""), m + &note),
                    None => err(src, file, "", format!("{msg}{note}")),
                }
            })?;
            runs.push(train_run(&r, &assign, |field, msg| {
                err(src, file, field, format!("{msg}{note}"))
            })?);
        }
        Ok(TrainConfig {
            name: raw.name,
            description: raw.description,
            source: file.into(),
            dataset: raw.data.dataset,
            data,
            normalize: raw.data.normalize,
            runs,
        })
    }

    /// Loads the data: (train, test), normalized if requested. The digits split is seeded by the
    /// configuration's first run seed so every run of a sweep sees the same split.
    pub fn load_data(&self) -> Result<(Dataset, Dataset), TrainError> {
        let (mut tr, mut te) = match &self.data {
            DataSource::Idx { train, test } => (
                data::read_idx(&train.0, &train.1)?,
                data::read_idx(&test.0, &test.1)?,
            ),
            DataSource::Digits { test_fraction } => {
                data::split(&data::digits()?, *test_fraction, 0)
            }
        };
        if self.normalize {
            data::normalize(&mut tr, &mut te);
        }
        Ok((tr, te))
    }
}

/// One checkpoint of a run.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Checkpoint {
    /// SGD iterations done.
    pub iteration: usize,
    /// Learning rate in force.
    pub learning_rate: f64,
    /// Mean training loss over the full training set.
    pub train_loss: f64,
    /// Training accuracy.
    pub train_accuracy: f64,
    /// Test loss.
    pub test_loss: f64,
    /// Test accuracy.
    pub test_accuracy: f64,
    /// Noise measured on the training set.
    pub noise_train: Option<NoiseReport>,
    /// Noise measured on the test set.
    pub noise_test: Option<NoiseReport>,
    /// Noise measured on K random minibatches of the training set (`noise.sampling = "random"`
    /// or `"both"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_random: Option<NoiseReport>,
}

/// A finished run.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RunReport {
    /// Label.
    pub label: String,
    /// Swept values.
    pub params: std::collections::BTreeMap<String, String>,
    /// The `[model]` of the run.
    pub model: ModelSpec,
    /// One line per layer with its output shape.
    pub architecture: Vec<String>,
    /// Values put out by each layer, the input first (for an FC net its layer sizes).
    pub sizes: Vec<usize>,
    /// Parameters M.
    pub n_params: usize,
    /// Loss name.
    pub loss: &'static str,
    /// Seed.
    pub seed: u64,
    /// Checkpoints in order.
    pub checkpoints: Vec<Checkpoint>,
    /// Wall time.
    pub wall_seconds: f64,
}

/// Trains one run, measuring the noise at every checkpoint. `progress(iterations done)` is called
/// after every step. Fails only when the model does not fit the data (an AlexNet on vectors or on
/// images smaller than 28×28).
pub fn train(
    run: &TrainRun,
    train: &Dataset,
    test: &Dataset,
    progress: impl FnMut(usize),
) -> Result<RunReport, TrainError> {
    train_model(run, train, test, progress).map(|(report, _)| report)
}

/// [`train`], also returning the trained network (for measurements beyond the checkpoints').
pub fn train_model(
    run: &TrainRun,
    train: &Dataset,
    test: &Dataset,
    mut progress: impl FnMut(usize),
) -> Result<(RunReport, Model), TrainError> {
    let t0 = std::time::Instant::now();
    let mut net = Model::build(&run.model, train, run.seed)?;
    let mut ws = Workspace::default();
    let mut grad = vec![0f32; net.n_params()];
    let n = train.len();
    let b = run.batch_size.min(n);
    let mut schedule = Schedule::new(run.order, n, b, run.seed);
    let (mut xb, mut yb) = (vec![0f32; b * train.dim], vec![0u8; b]);
    let mut checkpoints = Vec::new();
    let measure = |net: &Model, it: usize, lr: f64| {
        let (train_loss, train_accuracy) = net.evaluate(&train.x, &train.y, run.loss);
        let (test_loss, test_accuracy) = net.evaluate(&test.x, &test.y, run.loss);
        let nb = run.noise_batch_size;
        let tests = &run.tests;
        let fixed = |x: &[f32], y: &[u8], seed: u64| {
            if tests.sampling.fixed() {
                gradient_noise::measure_fixed(net, x, y, nb, run.loss, run.subsample, seed, tests)
            } else {
                None
            }
        };
        Checkpoint {
            iteration: it,
            learning_rate: lr,
            train_loss,
            train_accuracy,
            test_loss,
            test_accuracy,
            noise_train: fixed(&train.x, &train.y, run.seed ^ it as u64),
            noise_test: if run.on_test {
                fixed(&test.x, &test.y, run.seed ^ it as u64 ^ 0x7E57)
            } else {
                None
            },
            noise_random: tests
                .sampling
                .random()
                .then(|| {
                    gradient_noise::measure_random(
                        net,
                        &train.x,
                        &train.y,
                        nb,
                        run.loss,
                        run.subsample,
                        rng::mix64(run.seed ^ rng::mix64(it as u64)),
                        tests,
                    )
                })
                .flatten(),
        }
    };
    for it in 0..run.iterations {
        let lr = learning_rate(run, it);
        let (bx, by) = gather(schedule.next_batch(), train, &mut xb, &mut yb);
        // Dropout masks (AlexNet) are a function of (seed, iteration).
        let dropout = Some((run.seed, it as u64));
        net.loss_grad(bx, by, run.loss, &mut ws, &mut grad, dropout);
        net.add_weight_decay(&mut grad, run.weight_decay);
        net.step(&grad, lr as f32);
        progress(it + 1);
        if (it + 1) % run.checkpoint_every == 0 || it + 1 == run.iterations {
            checkpoints.push(measure(&net, it + 1, lr));
        }
    }
    let report = RunReport {
        label: run.label.clone(),
        params: run.params.iter().cloned().collect(),
        model: run.model,
        architecture: net.describe(),
        sizes: net.sizes(),
        n_params: net.n_params(),
        loss: run.loss.name(),
        seed: run.seed,
        checkpoints,
        wall_seconds: t0.elapsed().as_secs_f64(),
    };
    Ok((report, net))
}

/// The examples of one SGD step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Minibatch<'a> {
    /// Consecutive examples (cyclic order).
    Range(std::ops::Range<usize>),
    /// Examples by index (shuffled order).
    Indices(&'a [usize]),
}

/// The examples of one minibatch as slices: a range of the data, or gathered into `xb`/`yb`
/// (which hold at least the minibatch).
pub(crate) fn gather<'a>(
    batch: Minibatch<'_>,
    d: &'a Dataset,
    xb: &'a mut [f32],
    yb: &'a mut [u8],
) -> (&'a [f32], &'a [u8]) {
    match batch {
        Minibatch::Range(r) => (&d.x[r.start * d.dim..r.end * d.dim], &d.y[r]),
        Minibatch::Indices(idx) => {
            for (k, &i) in idx.iter().enumerate() {
                xb[k * d.dim..(k + 1) * d.dim].copy_from_slice(&d.x[i * d.dim..(i + 1) * d.dim]);
                yb[k] = d.y[i];
            }
            (&xb[..idx.len() * d.dim], &yb[..idx.len()])
        }
    }
}

/// Which examples each SGD step uses (see [`Order`]).
#[derive(Clone, Debug)]
pub struct Schedule {
    order: Order,
    n: usize,
    b: usize,
    pos: usize,
    perm: Vec<usize>,
    rng: rng::PathRng,
}

impl Schedule {
    /// The schedule for n examples in minibatches of b (1 ≤ b ≤ n), seeded for `Shuffled`.
    pub fn new(order: Order, n: usize, b: usize, seed: u64) -> Self {
        Schedule {
            order,
            n,
            b: b.clamp(1, n.max(1)),
            // Shuffled: pos = n forces a permutation before the first step; cyclic: wraps to 0.
            pos: n,
            perm: (0..n).collect(),
            rng: rng::aux_stream(seed, rng::domain::TRAIN_MINIBATCHES, 0),
        }
    }

    /// The next step's minibatch.
    pub fn next_batch(&mut self) -> Minibatch<'_> {
        match self.order {
            Order::Cyclic => {
                if self.pos >= self.n {
                    self.pos = 0;
                }
                let end = (self.pos + self.b).min(self.n);
                let r = self.pos..end;
                self.pos = end;
                Minibatch::Range(r)
            }
            Order::Shuffled => {
                if self.pos + self.b > self.n {
                    for i in (1..self.n).rev() {
                        self.perm.swap(i, self.rng.random_range(0..=i));
                    }
                    self.pos = 0;
                }
                let start = self.pos;
                self.pos += self.b;
                Minibatch::Indices(&self.perm[start..start + self.b])
            }
        }
    }
}

pub(crate) fn learning_rate(run: &TrainRun, it: usize) -> f64 {
    if !run.halve_step {
        return run.learning_rate;
    }
    let third = run.iterations as f64 / 3.0;
    run.learning_rate
        * if (it as f64) < third {
            1.0
        } else if (it as f64) < 2.0 * third {
            0.5
        } else {
            0.25
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyclic_order_cycles_consecutive_batches_with_a_short_last_one() {
        let mut s = Schedule::new(Order::Cyclic, 10, 4, 0);
        for want in [0..4, 4..8, 8..10, 0..4, 4..8] {
            assert_eq!(s.next_batch(), Minibatch::Range(want));
        }
    }

    #[test]
    fn shuffled_order_uses_full_batches_of_a_fresh_permutation() {
        let mut s = Schedule::new(Order::Shuffled, 10, 4, 3);
        let mut epochs = Vec::new();
        for _ in 0..3 {
            let mut seen: Vec<usize> = Vec::new();
            for _ in 0..2 {
                match s.next_batch() {
                    Minibatch::Indices(i) => seen.extend_from_slice(i),
                    Minibatch::Range(r) => panic!("shuffled gave a range {r:?}"),
                }
            }
            let mut sorted = seen.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(
                sorted.len(),
                8,
                "two full batches of distinct examples: {seen:?}"
            );
            epochs.push(seen);
        }
        assert_ne!(epochs[0], epochs[1]);
    }

    #[test]
    fn model_kinds_are_read_and_channels_sweep() {
        let text = "name = \"t\"\n[model]\nkind = \"alexnet\"\nchannels = 8\n[train]\niterations = 1\ncheckpoint_every = 1\n[sweep]\n\"model.channels\" = [16, 32]\n\"model.dropout\" = [0.0, 0.25]\nmode = \"zip\"\n";
        let c = TrainConfig::parse(text, Path::new("t.toml")).unwrap();
        let models: Vec<ModelSpec> = c.runs.iter().map(|r| r.model).collect();
        assert_eq!(
            models,
            vec![
                ModelSpec::Alexnet {
                    channels: 16,
                    dropout: 0.0,
                    bias: true
                },
                ModelSpec::Alexnet {
                    channels: 32,
                    dropout: 0.25,
                    bias: true
                }
            ]
        );
        let fc = "name = \"t\"\n[model]\nwidth = 4\ndepth = 2\n[train]\niterations = 1\ncheckpoint_every = 1\n";
        let c = TrainConfig::parse(fc, Path::new("t.toml")).unwrap();
        assert_eq!(
            c.runs[0].model,
            ModelSpec::Fc {
                width: 4,
                depth: 2,
                bias: false
            }
        );
    }

    #[test]
    fn order_is_read_and_checked() {
        let base = "name = \"t\"\n[model]\nwidth = 4\ndepth = 2\n[train]\niterations = 1\ncheckpoint_every = 1\n";
        let c = TrainConfig::parse(base, Path::new("t.toml")).unwrap();
        assert_eq!(c.runs[0].order, Order::Cyclic);
        let c = TrainConfig::parse(
            &format!("{base}order = \"shuffled\"\n"),
            Path::new("t.toml"),
        )
        .unwrap();
        assert_eq!(c.runs[0].order, Order::Shuffled);
        let e = TrainConfig::parse(&format!("{base}order = \"random\"\n"), Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.toml:8") && e.contains("cyclic"), "{e}");
    }
}
