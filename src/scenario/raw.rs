//! Raw serde types of a scenario file: what the TOML says, before any checking of meaning.

use serde::Deserialize;

use crate::noise::vector::Shape;
use crate::sde::Scheme;
use crate::trainer::alpha_handoff::{AlphaMethod, MeasurementSet};

/// `[output]`: which files a run writes beyond summary.json and the PNG.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOutput {
    pub exit_times: Option<bool>,
}

/// A point in ℝᵈ: a number (1-D, or the first coordinate of a ball's start), an array, or the
/// name of a minimum of the landscape (`"min:0"` is the deepest).
#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(untagged)]
pub(crate) enum RawPoint {
    Number(f64),
    Vector(Vec<f64>),
    Name(String),
}

/// One Gaussian well of a `wells` landscape.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWell {
    pub center: Vec<f64>,
    pub depth: f64,
    pub width: f64,
}

/// Which saddle a transition crosses.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Direction {
    Right,
    Left,
}

/// `[rare_event] method`.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RareEventMethod {
    /// Adaptive multilevel splitting.
    Ams,
}

/// `[rare_event]`: estimate the mean exit time by adaptive multilevel splitting.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRareEvent {
    pub method: RareEventMethod,
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
        center: Option<RawPoint>,
        curvature: Option<f64>,
        dim: Option<usize>,
        hessian: Option<Vec<Vec<f64>>>,
        curvatures: Option<Vec<f64>>,
    },
    Flat {
        #[serde(default = "one_usize")]
        dim: usize,
    },
    Separable {
        axes: Vec<RawLandscape>,
        rotation: Option<Vec<Vec<f64>>>,
        center: Option<Vec<f64>>,
    },
    Wells {
        #[serde(default)]
        confinement: f64,
        wells: Vec<RawWell>,
    },
    MullerBrown {
        #[serde(default = "one")]
        scale: f64,
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
        covariance: Option<Vec<Vec<f64>>>,
        sigmas: Option<Vec<f64>>,
    },
    Stable {
        alpha: AlphaSpec,
        epsilon: Option<f64>,
        #[serde(default)]
        beta: f64,
        shape: Option<Shape>,
        scales: Option<Vec<f64>>,
    },
    Mixed {
        alpha: f64,
        epsilon: f64,
        sigma_b: f64,
        #[serde(default)]
        beta: f64,
        shape: Option<Shape>,
        scales: Option<Vec<f64>>,
        covariance: Option<Vec<Vec<f64>>>,
        sigmas: Option<Vec<f64>>,
    },
}

/// The parts of a noise table that only a d-dimensional model uses.
#[derive(Debug, Default, Clone)]
pub(crate) struct VectorExtras {
    pub shape: Option<Shape>,
    pub scales: Option<Vec<f64>>,
    pub covariance: Option<Vec<Vec<f64>>>,
    pub sigmas: Option<Vec<f64>>,
}

impl RawNoise {
    /// The d-dimensional keys that were given, and the name of the first (for a 1-D model's error).
    pub(crate) fn vector_extras(&self) -> (VectorExtras, Option<&'static str>) {
        let e = match self.clone() {
            RawNoise::Brownian {
                covariance, sigmas, ..
            } => VectorExtras {
                covariance,
                sigmas,
                ..Default::default()
            },
            RawNoise::Stable { shape, scales, .. } => VectorExtras {
                shape,
                scales,
                ..Default::default()
            },
            RawNoise::Mixed {
                shape,
                scales,
                covariance,
                sigmas,
                ..
            } => VectorExtras {
                shape,
                scales,
                covariance,
                sigmas,
            },
        };
        let first = [
            ("shape", e.shape.is_some()),
            ("scales", e.scales.is_some()),
            ("covariance", e.covariance.is_some()),
            ("sigmas", e.sigmas.is_some()),
        ]
        .into_iter()
        .find(|(_, given)| *given)
        .map(|(name, _)| name);
        (e, first)
    }
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIntegrator {
    pub scheme: Option<Scheme>,
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
        start: Option<RawPoint>,
        direction: Option<Direction>,
        radius: Option<f64>,
    },
    Interval {
        domain: [f64; 2],
        start: Option<f64>,
    },
    Reach {
        target: RawPoint,
        tolerance: f64,
        start: RawPoint,
    },
    Ball {
        radius: f64,
        start: Option<RawPoint>,
        center: Option<Vec<f64>>,
    },
    Box {
        low: Vec<f64>,
        high: Vec<f64>,
        start: Option<RawPoint>,
    },
    Halfspace {
        normal: Vec<f64>,
        offset: f64,
        start: Option<RawPoint>,
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
    #[serde(default)]
    pub method: AlphaMethod,
    #[serde(default)]
    pub set: MeasurementSet,
}

fn last() -> i64 {
    -1
}
