//! Raw serde types of a scenario file: what the TOML says, before any checking of meaning.

use serde::Deserialize;

/// `[output]`: which files a run writes beyond summary.json and the PNG.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOutput {
    pub exit_times: Option<bool>,
}

/// The law of a ball's noise vector: isotropic (rotation invariant) or independent coordinates.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum BallShape {
    Isotropic,
    Independent,
}

/// Which saddle a transition crosses.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Direction {
    Right,
    Left,
}

/// `[rare_event]`: estimate the mean exit time by adaptive multilevel splitting.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRareEvent {
    pub method: String,
    pub replicas: Option<i64>,
    pub runs: Option<i64>,
    pub loops: Option<i64>,
    pub return_level: Option<f64>,
    pub entrance_level: Option<f64>,
}

/// The whole file (variants and sweeps still unexpanded).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub seed: u64,
    pub paths: u64,
    pub horizon: f64,
    pub landscape: RawLandscape,
    pub noise: RawNoise,
    pub integrator: Option<RawIntegrator>,
    pub event: RawEvent,
    pub sgd: Option<RawSgd>,
    #[serde(default)]
    pub output: RawOutput,
    pub rare_event: Option<RawRareEvent>,
    #[allow(dead_code)]
    // expanded from the document table, read here only to reject unknown fields early
    pub sweep: Option<toml::Table>,
    #[allow(dead_code)]
    pub variants: Option<Vec<toml::Table>>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum RawLandscape {
    Quartic {
        width: f64,
        height: f64,
    },
    Tilted {
        width: f64,
        height: f64,
        tilt: f64,
    },
    Asymmetric {
        #[serde(default = "one")]
        k: f64,
        left: f64,
        right: f64,
    },
    PiecewiseQuadratic {
        width: f64,
        height: f64,
        well_curvature: f64,
        saddle_curvature: f64,
    },
    Polynomial {
        coefficients: Vec<f64>,
    },
    Quadratic {
        #[serde(default)]
        center: f64,
        curvature: f64,
        #[serde(default = "one_usize")]
        dim: usize,
    },
    Flat {
        #[serde(default = "one_usize")]
        dim: usize,
    },
}

fn one() -> f64 {
    1.0
}
fn one_usize() -> usize {
    1
}

#[derive(Debug, Deserialize, Clone)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum RawNoise {
    Brownian {
        sigma: f64,
    },
    Stable {
        alpha: AlphaSpec,
        epsilon: Option<f64>,
        #[serde(default)]
        beta: f64,
        shape: Option<BallShape>,
    },
    Mixed {
        alpha: f64,
        epsilon: f64,
        sigma_b: f64,
        #[serde(default)]
        beta: f64,
    },
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIntegrator {
    pub scheme: Option<String>,
    pub dt: Option<f64>,
    #[serde(default = "yes")]
    pub bridge: bool,
    #[serde(default = "eight")]
    pub lane_width: usize,
}

fn yes() -> bool {
    true
}
fn eight() -> usize {
    8
}

#[derive(Debug, Deserialize, Clone)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum RawEvent {
    Transition {
        start: Option<f64>,
        direction: Option<Direction>,
    },
    Interval {
        domain: [f64; 2],
        start: Option<f64>,
    },
    Reach {
        target: f64,
        tolerance: f64,
        start: f64,
    },
    Ball {
        radius: f64,
        #[serde(default)]
        start: f64,
    },
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSgd {
    pub step_size: f64,
    pub noise_scale: f64,
    pub dt: Option<f64>,
}

/// α given as a number, or read from a `levylab train` summary.
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub(crate) enum AlphaSpec {
    Value(f64),
    From(RawAlphaFrom),
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlphaFrom {
    pub from: String,
    #[serde(default)]
    pub run: usize,
    #[serde(default = "last")]
    pub checkpoint: i64,
    #[serde(default = "paper")]
    pub method: String,
    #[serde(default = "train_set")]
    pub set: String,
}

fn last() -> i64 {
    -1
}
fn paper() -> String {
    "paper".into()
}
fn train_set() -> String {
    "train".into()
}
