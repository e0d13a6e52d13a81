//! Scenario files: TOML → raw serde types → a validated [`Scenario`] of simulation points.
//!
//! A file describes one model (landscape, noise, integrator, event, horizon). Optional
//! `[[variants]]` replace whole sections for side-by-side comparisons, and an optional `[sweep]`
//! (top level, or inside a variant) varies any numeric field by its dotted path. Every point of every
//! variant is validated before anything runs. Errors name the file, line:column (where the field
//! can be found in the text), the field path and what is allowed.

mod predict;
mod raw;
mod space;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use predict::{
    Prediction, PredictionKind, Predictions, TargetTheory, predictions, target_shares,
};

use crate::config::{ConfigError, combine, locate, parent_table, read_source, toml_error};
use crate::landscape::{self, CriticalPoints, Landscape, LandscapeError, Potential};
use crate::noise::{Noise, NoiseError};
use crate::sde::{AmsConfig, Event, Scheme, SdeError, Simulation, SimulationSpec, SpaceSimulation};
use raw::{AlphaSpec, RawEvent, RawLandscape, RawNoise, RawPoint, RawScenario};

/// The simulation behind one point.
#[derive(Clone, Debug)]
// One model per point and a handful of points: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Model {
    /// A 1-D SDE with an exit event.
    Line(Simulation),
    /// An SDE in ℝᵈ with a d-dimensional event.
    Space(SpaceSimulation),
}

impl Model {
    /// Time step.
    pub fn dt(&self) -> f64 {
        match self {
            Model::Line(s) => s.dt(),
            Model::Space(b) => b.dt(),
        }
    }
    /// Horizon.
    pub fn horizon(&self) -> f64 {
        match self {
            Model::Line(s) => s.horizon(),
            Model::Space(b) => b.horizon(),
        }
    }
}

/// One simulation point: a variant at one set of swept values.
#[derive(Clone, Debug)]
pub struct Point {
    /// Variant label ("" without variants).
    pub variant: String,
    /// Swept fields and their values at this point, in sweep order.
    pub params: Vec<(String, f64)>,
    /// The validated model.
    pub model: Model,
    /// Paths advanced together per lane set.
    pub lane_width: usize,
    /// How the noise was specified (for the summary).
    pub noise: NoiseSpec,
    /// `[rare_event]`: the mean exit time by adaptive multilevel splitting instead of direct paths.
    pub rare_event: Option<AmsConfig>,
}

/// The noise kinds of a scenario's `[noise]` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoiseKind {
    /// Brownian motion, `sigma` (in ℝᵈ with an optional covariance).
    Brownian,
    /// α-stable, `alpha`, `beta`, `epsilon` (in ℝᵈ with a `shape`).
    Stable,
    /// Brownian plus α-stable.
    Mixed,
}

/// The noise of a point as the user gave it (plus what was derived from an `[sgd]` table).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct NoiseSpec {
    /// Which noise it is.
    pub kind: NoiseKind,
    /// The noise parameters by name.
    pub values: Vec<(String, f64)>,
    /// Where α came from, when it was read from a training summary.
    pub alpha_source: Option<String>,
}

impl Point {
    /// A short label: the variant and the swept values.
    pub fn label(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if !self.variant.is_empty() {
            parts.push(self.variant.clone());
        }
        parts.extend(
            self.params
                .iter()
                .map(|(k, v)| format!("{k}={}", fmt_num(*v))),
        );
        if parts.is_empty() {
            "base".to_string()
        } else {
            parts.join(" ")
        }
    }
}

/// A number printed compactly (shortest round-trip form).
pub fn fmt_num(v: f64) -> String {
    format!("{v}")
}

/// A validated scenario: header and every point.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Name (output directory name).
    pub name: String,
    /// Free text.
    pub description: String,
    /// Seed of the path streams.
    pub seed: u64,
    /// Paths per point.
    pub paths: u64,
    /// The file it came from.
    pub source: PathBuf,
    /// The file's text (shards carry it, so that `merge` rebuilds exactly this scenario).
    pub text: String,
    /// All points, variants outermost, in sweep order.
    pub points: Vec<Point>,
    /// `[output] exit_times`: write exit_times.csv (one row per path); None = only when a point
    /// has at most [`EXIT_TIMES_DEFAULT_MAX_PATHS`] paths.
    pub exit_times: Option<bool>,
}

/// Paths per point up to which exit_times.csv is written by default.
pub const EXIT_TIMES_DEFAULT_MAX_PATHS: u64 = 1_000_000;

impl Scenario {
    /// Whether a run of this scenario writes exit_times.csv.
    pub fn writes_exit_times(&self) -> bool {
        self.exit_times
            .unwrap_or(self.paths <= EXIT_TIMES_DEFAULT_MAX_PATHS)
    }
}

struct Ctx<'a> {
    src: &'a str,
    file: &'a Path,
    prefix: String,
    sweep_note: String,
    sweep_locator: Option<String>,
}

impl Ctx<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> ConfigError {
        let full = format!("{}{}", self.prefix, field);
        let position = self
            .sweep_locator
            .as_deref()
            .and_then(|s| locate(self.src, s))
            .or_else(|| locate(self.src, &full));
        ConfigError {
            file: self.file.to_path_buf(),
            position,
            field: Some(full),
            message: format!("{}{}", message.into(), self.sweep_note),
        }
    }
}

/// The distinct d-dimensional landscapes of a scenario, each with the label of the first point
/// that uses it.
pub fn surfaces(s: &Scenario) -> Vec<(String, &crate::landscape::surface::Surface)> {
    let mut out: Vec<(String, &crate::landscape::surface::Surface)> = Vec::new();
    for p in &s.points {
        if let Model::Space(sim) = &p.model
            && !out.iter().any(|(_, u)| **u == sim.spec().surface)
        {
            out.push((p.label(), &sim.spec().surface));
        }
    }
    out
}

/// What `levylab theory --json` prints (and the Python module's `theory` returns): every point's
/// predictions and, when the scenario has d-dimensional landscapes, their critical points.
pub fn theory_json(s: &Scenario) -> serde_json::Value {
    let points: Vec<serde_json::Value> = s
        .points
        .iter()
        .map(|p| {
            let mut v = serde_json::json!({ "label": p.label(), "theory": predictions(p) });
            if let Some(ts) = target_shares(p) {
                v["targets"] = ts
                    .iter()
                    .map(
                        |t| serde_json::json!({ "target": t.label, "at": t.at, "share": t.theory }),
                    )
                    .collect();
            }
            v
        })
        .collect();
    let landscapes: Vec<serde_json::Value> = surfaces(s)
        .into_iter()
        .map(|(label, u)| {
            serde_json::json!({
                "first_point": label,
                "kind": u.kind(),
                "dim": u.dim(),
                "critical_points": u.critical_points(),
            })
        })
        .collect();
    if landscapes.is_empty() {
        serde_json::json!({ "points": points })
    } else {
        serde_json::json!({ "points": points, "landscapes": landscapes })
    }
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ConfigError> {
    parse(&read_source(path)?, path)
}

/// Validates scenario text; `file` is used in messages.
pub fn parse(src: &str, file: &Path) -> Result<Scenario, ConfigError> {
    let doc: toml::Table = toml::from_str(src).map_err(|e| toml_error(src, file, &e))?;
    let raw: RawScenario = toml::from_str(src).map_err(|e| toml_error(src, file, &e))?;
    let top = Ctx {
        src,
        file,
        prefix: String::new(),
        sweep_note: String::new(),
        sweep_locator: None,
    };
    if raw.name.trim().is_empty() || raw.name.contains(['/', '\\']) || raw.name.starts_with('.') {
        return Err(top.err(
            "name",
            format!(
                "must be a non-empty file name without '/' or a leading '.', got {:?}",
                raw.name
            ),
        ));
    }
    if raw.paths == 0 {
        return Err(top.err("paths", "must be >= 1, got 0"));
    }
    let mut base = doc.clone();
    base.remove("sweep");
    base.remove("variants");
    let variants: Vec<toml::Table> = match doc.get("variants") {
        Some(toml::Value::Array(a)) => a.iter().filter_map(|v| v.as_table().cloned()).collect(),
        _ => vec![toml::Table::new()],
    };
    let mut points = Vec::new();
    for (vi, v) in variants.iter().enumerate() {
        let in_variant = doc.contains_key("variants");
        let vctx = Ctx {
            src,
            file,
            prefix: if in_variant {
                format!("variants[{vi}].")
            } else {
                String::new()
            },
            sweep_note: String::new(),
            sweep_locator: None,
        };
        let label = match v.get("label") {
            Some(toml::Value::String(s)) => s.clone(),
            Some(_) => return Err(vctx.err("label", "must be a string")),
            None if in_variant => {
                return Err(vctx.err("label", "is required for every [[variants]] entry"));
            }
            None => String::new(),
        };
        let mut table = base.clone();
        for (k, val) in v {
            match k.as_str() {
                "label" | "sweep" => {}
                "horizon" | "landscape" | "noise" | "integrator" | "event" | "sgd"
                | "rare_event" => {
                    table.insert(k.clone(), val.clone());
                }
                other => {
                    return Err(vctx.err(other, "is not a variant key (allowed: label, sweep, horizon, landscape, noise, integrator, event, sgd, rare_event)"));
                }
            }
        }
        let (sweep, sweep_prefix) = match (v.get("sweep"), doc.get("sweep")) {
            (Some(s), _) => (s.as_table().cloned(), vctx.prefix.clone()),
            (None, Some(s)) => (s.as_table().cloned(), String::new()),
            (None, None) => (None, String::new()),
        };
        let assignments = expand_sweep(
            sweep.as_ref(),
            &Ctx {
                prefix: format!("{sweep_prefix}sweep."),
                ..vctx_clone(&vctx)
            },
        )?;
        for assign in assignments {
            let mut t = table.clone();
            let note = if assign.is_empty() {
                String::new()
            } else {
                format!(
                    " (at sweep point {})",
                    assign
                        .iter()
                        .map(|(k, x)| format!("{k} = {}", fmt_num(*x)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            for (key, x) in &assign {
                set_path(&mut t, key, *x).map_err(|m| {
                    Ctx {
                        prefix: format!("{sweep_prefix}sweep."),
                        ..vctx_clone(&vctx)
                    }
                    .err(&format!("\"{key}\""), m)
                })?;
            }
            let ctx = Ctx {
                src,
                file,
                prefix: vctx.prefix.clone(),
                sweep_note: note,
                sweep_locator: assign
                    .first()
                    .map(|(k, _)| format!("{sweep_prefix}sweep.\"{k}\"")),
            };
            let rp = RawScenario::deserialize(toml::Value::Table(t))
                .map_err(|e| ctx.err("", e.message().lines().next().unwrap_or("").to_string()))?;
            points.push(validate_point(&rp, &label, assign, &ctx)?);
        }
    }
    Ok(Scenario {
        name: raw.name,
        description: raw.description,
        seed: raw.seed,
        paths: raw.paths,
        source: file.to_path_buf(),
        text: src.to_string(),
        points,
        exit_times: raw.output.exit_times,
    })
}

fn vctx_clone<'a>(c: &Ctx<'a>) -> Ctx<'a> {
    Ctx {
        src: c.src,
        file: c.file,
        prefix: c.prefix.clone(),
        sweep_note: String::new(),
        sweep_locator: None,
    }
}

/// Expands a `[sweep]` table into assignments (grid: Cartesian product in key order; zip: i-th values together).
fn expand_sweep(
    sweep: Option<&toml::Table>,
    ctx: &Ctx,
) -> Result<Vec<Vec<(String, f64)>>, ConfigError> {
    let Some(sweep) = sweep else {
        return Ok(vec![vec![]]);
    };
    let mut mode = "grid".to_string();
    let mut axes: Vec<(String, Vec<f64>)> = Vec::new();
    for (key, v) in sweep {
        if key == "mode" {
            match v.as_str() {
                Some(m @ ("grid" | "zip")) => mode = m.to_string(),
                _ => return Err(ctx.err("mode", format!("must be \"grid\" or \"zip\", got {v}"))),
            }
            continue;
        }
        let field = format!("\"{key}\"");
        let values: Vec<f64> = match v {
            toml::Value::Array(a) => a
                .iter()
                .map(|x| x.as_float().or_else(|| x.as_integer().map(|i| i as f64)).ok_or_else(|| ctx.err(&field, format!("values must be numbers, got {x}"))))
                .collect::<Result<_, _>>()?,
            toml::Value::Table(t) => {
                let n = t.get("points").and_then(|p| p.as_integer()).filter(|&n| n >= 2).ok_or_else(|| ctx.err(&field, "needs points = <integer >= 2>"))? as usize;
                let (range, log) = match (t.get("linear"), t.get("log")) {
                    (Some(r), None) => (r, false),
                    (None, Some(r)) => (r, true),
                    _ => return Err(ctx.err(&field, "needs exactly one of linear = [a, b] or log = [a, b]")),
                };
                let ab: Vec<f64> = range.as_array().map(|a| a.iter().filter_map(|x| x.as_float().or_else(|| x.as_integer().map(|i| i as f64))).collect()).unwrap_or_default();
                if ab.len() != 2 || !ab.iter().all(|x| x.is_finite()) {
                    return Err(ctx.err(&field, "range must be two finite numbers [a, b]"));
                }
                if log && !(ab[0] > 0.0 && ab[1] > 0.0) {
                    return Err(ctx.err(&field, format!("log range must be positive, got [{}, {}]", ab[0], ab[1])));
                }
                (0..n)
                    .map(|i| {
                        let f = i as f64 / (n - 1) as f64;
                        if log { (ab[0].ln() + f * (ab[1].ln() - ab[0].ln())).exp() } else { ab[0] + f * (ab[1] - ab[0]) }
                    })
                    .collect()
            }
            other => return Err(ctx.err(&field, format!("must be a list of numbers or {{ linear|log = [a, b], points = n }}, got {other}"))),
        };
        if values.is_empty() {
            return Err(ctx.err(&field, "has no values"));
        }
        axes.push((key.clone(), values));
    }
    if axes.is_empty() {
        return Ok(vec![vec![]]);
    }
    combine(&axes, mode == "zip").map_err(
        |crate::config::ZipMismatch {
             key: k,
             expected: n,
             got: len,
         }| {
            ctx.err(
                &format!("\"{k}\""),
                format!("has {len} values but zip mode needs {n} like the first key"),
            )
        },
    )
}

/// One point of a sweep: each swept key with its value.
/// Sets an existing numeric field at a dotted path.
fn set_path(t: &mut toml::Table, path: &str, x: f64) -> Result<(), String> {
    let (table, key) = parent_table(t, path, "scenario")?;
    match table.get_mut(key) {
        Some(v @ toml::Value::Float(_)) => {
            *v = toml::Value::Float(x);
            Ok(())
        }
        Some(v @ toml::Value::Integer(_)) if x.fract() == 0.0 && x.abs() < 9e15 => {
            *v = toml::Value::Integer(x as i64);
            Ok(())
        }
        Some(toml::Value::Integer(_)) => Err(format!(
            "sweeps an integer field with the non-integer value {x}"
        )),
        Some(other) => Err(format!("names a {} field, not a number", other.type_str())),
        None => Err(format!(
            "does not name a field of this scenario (no `{key}` in `{}`)",
            path.rsplit_once('.').map_or("", |(head, _)| head)
        )),
    }
}

fn landscape_field(e: &LandscapeError) -> (String, String) {
    match e {
        LandscapeError::NotPositive { name, value } => (
            format!("landscape.{name}"),
            format!("must be finite and > 0, got {value}"),
        ),
        LandscapeError::NotFinite { name, value } => (
            format!("landscape.{name}"),
            format!("must be finite, got {value}"),
        ),
        LandscapeError::Shape { kind, message } => {
            ("landscape".into(), format!("(kind \"{kind}\"): {message}"))
        }
    }
}

fn noise_field(e: &NoiseError) -> (String, String) {
    match e {
        NoiseError::AlphaOutOfRange(v) => {
            ("noise.alpha".into(), format!("must be in (0, 2], got {v}"))
        }
        NoiseError::BetaOutOfRange(v) => {
            ("noise.beta".into(), format!("must be in [-1, 1], got {v}"))
        }
        NoiseError::AmplitudeNotPositive { name, value } => (
            format!("noise.{name}"),
            format!("must be finite and > 0, got {value}"),
        ),
        NoiseError::StepNotPositive(v) => (
            "integrator.dt".into(),
            format!("must be finite and > 0, got {v}"),
        ),
        other => ("noise".into(), other.to_string()),
    }
}

fn build_landscape(l: &RawLandscape) -> Result<(Landscape, usize), LandscapeError> {
    Ok(match l.clone() {
        RawLandscape::Quartic { width, height } => (
            Landscape::Quartic(landscape::Quartic::new(width, height)?),
            1,
        ),
        RawLandscape::Tilted {
            width,
            height,
            tilt,
        } => (
            Landscape::Tilted(landscape::TiltedQuartic::new(width, height, tilt)?),
            1,
        ),
        RawLandscape::Asymmetric { k, left, right } => (
            Landscape::Asymmetric(landscape::Asymmetric::new(k, left, right)?),
            1,
        ),
        RawLandscape::PiecewiseQuadratic {
            width,
            height,
            well_curvature,
            saddle_curvature,
        } => (
            Landscape::PiecewiseQuadratic(landscape::PiecewiseQuadratic::new(
                width,
                height,
                well_curvature,
                saddle_curvature,
            )?),
            1,
        ),
        RawLandscape::Polynomial { coefficients } => (
            Landscape::Polynomial(landscape::Polynomial::new(coefficients)?),
            1,
        ),
        RawLandscape::Quadratic {
            center, curvature, ..
        } => {
            let center = match center {
                None => 0.0,
                Some(RawPoint::Number(c)) => c,
                Some(_) => f64::NAN,
            };
            (
                Landscape::Quadratic(landscape::Quadratic::new(
                    landscape::finite("center", center)?,
                    curvature.unwrap_or(f64::NAN),
                )?),
                1,
            )
        }
        RawLandscape::Flat { dim } => (Landscape::Flat(landscape::Flat), dim),
        RawLandscape::Separable { .. }
        | RawLandscape::Wells { .. }
        | RawLandscape::MullerBrown { .. } => {
            return Err(LandscapeError::Shape {
                kind: "separable",
                message: "is a d-dimensional landscape, not a 1-D one".into(),
            });
        }
    })
}

fn validate_point(
    r: &RawScenario,
    variant: &str,
    params: Vec<(String, f64)>,
    ctx: &Ctx,
) -> Result<Point, ConfigError> {
    if !(r.horizon > 0.0 && r.horizon.is_finite()) {
        return Err(ctx.err(
            "horizon",
            format!("must be finite and > 0, got {}", r.horizon),
        ));
    }
    let integ = r.integrator.clone().unwrap_or(raw::RawIntegrator {
        scheme: None,
        dt: None,
        bridge: true,
        lane_width: 8,
    });
    if integ.lane_width == 0 {
        return Err(ctx.err("integrator.lane_width", "must be >= 1, got 0"));
    }
    let PointNoise {
        noise,
        dt,
        scheme,
        spec,
    } = point_noise(r, &integ, ctx)?;
    let rare_event = r
        .rare_event
        .as_ref()
        .map(|re| rare_event(re, ctx))
        .transpose()?;
    let model = if space::is_space(r) {
        if rare_event.is_some() {
            return Err(ctx.err(
                "rare_event",
                "is supported for 1-D events (transition, interval, reach), not yet in more dimensions",
            ));
        }
        Model::Space(space::space_model(
            space::SpaceParts {
                raw: r,
                noise,
                dt,
                scheme,
                bridge: integ.bridge,
            },
            ctx,
        )?)
    } else {
        let (land, dim) = build_landscape(&r.landscape).map_err(|e| {
            let (f, m) = landscape_field(&e);
            ctx.err(&f, m)
        })?;
        if let (_, Some(name)) = r.noise.vector_extras() {
            return Err(ctx.err(
                &format!("noise.{name}"),
                "applies only to d-dimensional models (a surface landscape, or a ball, box or halfspace event)",
            ));
        }
        let parts = ModelParts {
            land,
            dim,
            noise,
            dt,
            horizon: r.horizon,
            scheme,
            bridge: integ.bridge,
        };
        Model::Line(line_model(parts, &r.event, ctx)?)
    };
    Ok(Point {
        variant: variant.to_string(),
        params,
        model,
        lane_width: integ.lane_width,
        noise: spec,
        rare_event,
    })
}

/// The α of a stable noise: given, or read from a training summary (with where it came from).
fn alpha_of(r: &RawScenario, ctx: &Ctx) -> Result<(Option<f64>, Option<String>), ConfigError> {
    Ok(match &r.noise {
        RawNoise::Stable {
            alpha: AlphaSpec::Value(a),
            ..
        } => (Some(*a), None),
        RawNoise::Stable {
            alpha: AlphaSpec::From(f),
            ..
        } => {
            let at = crate::trainer::alpha_handoff::AlphaSelector {
                run: f.run,
                checkpoint: f.checkpoint,
                method: f.method,
                set: f.set,
            };
            let (a, desc) = crate::trainer::measured_alpha(Path::new(&f.from), at)
                .map_err(|e| ctx.err("noise.alpha", e.to_string()))?;
            if !(a > 0.0 && a <= 2.0) {
                return Err(ctx.err(
                    "noise.alpha",
                    format!("measured value {a} ({desc}) is outside (0, 2]"),
                ));
            }
            (Some(a), Some(desc))
        }
        _ => (None, None),
    })
}

/// How a noise was specified, for the summary.
fn noise_spec(kind: NoiseKind, values: &[(&str, f64)]) -> NoiseSpec {
    NoiseSpec {
        kind,
        values: values.iter().map(|&(k, v)| (k.to_string(), v)).collect(),
        alpha_source: None,
    }
}

/// The SGD recursion's noise: ε = η^{(α−1)/α}·σ with dt = η and explicit Euler (the recursion
/// itself), or with `sgd.dt` the same SDE on a finer step (its continuous-time limit).
fn sgd_noise(
    alpha: f64,
    beta: f64,
    sgd: &raw::RawSgd,
    integ: &raw::RawIntegrator,
    ctx: &Ctx,
) -> Result<(Noise, f64, Option<Scheme>, NoiseSpec), ConfigError> {
    if integ.dt.is_some() {
        return Err(ctx.err(
            "integrator.dt",
            "must not be set with [sgd]: the step is sgd.step_size",
        ));
    }
    if !(sgd.step_size > 0.0 && sgd.step_size.is_finite()) {
        return Err(ctx.err(
            "sgd.step_size",
            format!("must be finite and > 0, got {}", sgd.step_size),
        ));
    }
    if !(sgd.noise_scale > 0.0 && sgd.noise_scale.is_finite()) {
        return Err(ctx.err(
            "sgd.noise_scale",
            format!("must be finite and > 0, got {}", sgd.noise_scale),
        ));
    }
    if !(alpha > 0.0 && alpha <= 2.0) {
        return Err(ctx.err("noise.alpha", format!("must be in (0, 2], got {alpha}")));
    }
    let epsilon = sgd.step_size.powf((alpha - 1.0) / alpha) * sgd.noise_scale;
    let noise = Noise::Stable {
        alpha,
        beta,
        epsilon,
    };
    let mut spec = noise_spec(
        NoiseKind::Stable,
        &[
            ("alpha", alpha),
            ("beta", beta),
            ("epsilon", epsilon),
            ("sgd.step_size", sgd.step_size),
            ("sgd.noise_scale", sgd.noise_scale),
        ],
    );
    Ok(match sgd.dt {
        Some(fine) => {
            spec.values.push(("sgd.dt".into(), fine));
            (noise, fine, integ.scheme, spec)
        }
        None => (noise, sgd.step_size, Some(Scheme::Euler), spec),
    })
}

/// A point's validated noise: the noise, its time step, the scheme it asks for (an `[sgd]` table
/// asks for Euler) and how it was given.
struct PointNoise {
    noise: Noise,
    dt: f64,
    scheme: Option<Scheme>,
    spec: NoiseSpec,
}

/// The noise of a point, with the SGD reparametrization ε = η^{(α−1)/α}·σ, dt = η.
fn point_noise(
    r: &RawScenario,
    integ: &raw::RawIntegrator,
    ctx: &Ctx,
) -> Result<PointNoise, ConfigError> {
    let (alpha_value, alpha_source) = alpha_of(r, ctx)?;
    let (noise, dt, scheme, spec) = match (&r.noise, &r.sgd) {
        (
            RawNoise::Stable {
                epsilon: None,
                beta,
                ..
            },
            Some(sgd),
        ) => {
            let alpha = alpha_value.unwrap_or(f64::NAN);
            sgd_noise(alpha, *beta, sgd, integ, ctx)?
        }
        (_, Some(_)) => {
            return Err(ctx.err(
                "sgd",
                "needs noise kind \"stable\" without noise.epsilon (ε = step_size^((α−1)/α)·noise_scale)",
            ));
        }
        (RawNoise::Stable { epsilon: None, .. }, None) => {
            return Err(ctx.err(
                "noise.epsilon",
                "is required for stable noise (or give an [sgd] table)",
            ));
        }
        (n, None) => {
            let dt = integ
                .dt
                .ok_or_else(|| ctx.err("integrator.dt", "is required"))?;
            let (noise, spec) = match n.clone() {
                RawNoise::Brownian { sigma, .. } => (
                    Noise::Brownian { sigma },
                    noise_spec(NoiseKind::Brownian, &[("sigma", sigma)]),
                ),
                RawNoise::Stable { epsilon, beta, .. } => {
                    let alpha = alpha_value.unwrap_or(f64::NAN);
                    let epsilon = epsilon.unwrap_or(f64::NAN);
                    (
                        Noise::Stable {
                            alpha,
                            beta,
                            epsilon,
                        },
                        noise_spec(
                            NoiseKind::Stable,
                            &[("alpha", alpha), ("beta", beta), ("epsilon", epsilon)],
                        ),
                    )
                }
                RawNoise::Mixed {
                    alpha,
                    epsilon,
                    sigma_b,
                    beta,
                    ..
                } => (
                    Noise::Mixed {
                        alpha,
                        beta,
                        epsilon,
                        sigma_b,
                    },
                    noise_spec(
                        NoiseKind::Mixed,
                        &[
                            ("alpha", alpha),
                            ("beta", beta),
                            ("epsilon", epsilon),
                            ("sigma_b", sigma_b),
                        ],
                    ),
                ),
            };
            (noise, dt, integ.scheme, spec)
        }
    };
    let spec = NoiseSpec {
        alpha_source,
        ..spec
    };
    noise.validate().map_err(|e| {
        let (f, m) = noise_field(&e);
        ctx.err(&f, m)
    })?;
    if !(dt > 0.0 && dt.is_finite()) {
        return Err(ctx.err("integrator.dt", format!("must be finite and > 0, got {dt}")));
    }
    if dt >= r.horizon {
        return Err(ctx.err(
            "integrator.dt",
            format!("must be below the horizon {}, got {dt}", r.horizon),
        ));
    }
    Ok(PointNoise {
        noise,
        dt,
        scheme,
        spec,
    })
}

/// What a point's model is built from, once the landscape and the noise are valid.
struct ModelParts {
    land: Landscape,
    dim: usize,
    noise: Noise,
    dt: f64,
    horizon: f64,
    scheme: Option<Scheme>,
    bridge: bool,
}

/// A 1-D SDE with its exit event.
fn line_model(parts: ModelParts, event: &RawEvent, ctx: &Ctx) -> Result<Simulation, ConfigError> {
    let ModelParts {
        land,
        dim,
        noise,
        dt,
        horizon,
        scheme,
        bridge,
    } = parts;
    if dim != 1 {
        return Err(ctx.err(
            "landscape.dim",
            format!("is {dim}: more than one dimension needs a d-dimensional event (ball, box, halfspace, transition, reach)"),
        ));
    }
    let scheme = scheme.unwrap_or(if land.drift_flow(0.5, dt).is_some() {
        Scheme::Split
    } else {
        Scheme::Implicit
    });
    let cp = land.critical_points();
    let (start, event) = build_event(event, &cp, ctx)?;
    let sim = Simulation::new(SimulationSpec {
        landscape: land,
        noise,
        scheme,
        dt,
        horizon,
        start,
        event,
        bridge,
    })
    .map_err(|e| sde_error(&e, ctx))?;
    Ok(sim)
}

/// A simulation set-up error as a scenario error on the field it is about.
fn sde_error(e: &SdeError, ctx: &Ctx) -> ConfigError {
    ctx.err(e.field(), e.to_string())
}

/// Validates `[rare_event]`.
fn rare_event(re: &raw::RawRareEvent, ctx: &Ctx) -> Result<AmsConfig, ConfigError> {
    // The only method; serde refuses any other name.
    let raw::RareEventMethod::Ams = re.method;
    let d = AmsConfig::default();
    let count = |field: &str, v: Option<i64>, default: usize, min: i64| match v {
        None => Ok(default),
        Some(n) if n >= min && n <= 100_000_000 => Ok(n as usize),
        Some(n) => Err(ctx.err(
            &format!("rare_event.{field}"),
            format!("must be an integer in [{min}, 10^8], got {n}"),
        )),
    };
    let cfg = AmsConfig {
        replicas: count("replicas", re.replicas, d.replicas, 2)?,
        runs: count("runs", re.runs, d.runs, 2)?,
        loops: count("loops", re.loops, d.loops, 1)?,
        return_level: re.return_level.unwrap_or(d.return_level),
        entrance_level: re.entrance_level.unwrap_or(d.entrance_level),
    };
    if !(cfg.return_level > 0.0 && cfg.return_level < 1.0) {
        return Err(ctx.err(
            "rare_event.return_level",
            format!("must be in (0, 1), got {}", cfg.return_level),
        ));
    }
    if !(cfg.entrance_level > cfg.return_level && cfg.entrance_level < 1.0) {
        return Err(ctx.err(
            "rare_event.entrance_level",
            format!(
                "must be in (return_level = {}, 1), got {}",
                cfg.return_level, cfg.entrance_level
            ),
        ));
    }
    Ok(cfg)
}

fn build_event(e: &RawEvent, cp: &CriticalPoints, ctx: &Ctx) -> Result<(f64, Event), ConfigError> {
    match e.clone() {
        RawEvent::Transition {
            start,
            direction,
            radius,
        } => {
            if radius.is_some() {
                return Err(ctx.err(
                    "event.radius",
                    "applies to transitions in ℝᵈ; a 1-D transition ends at the saddle",
                ));
            }
            let start = start.map(|p| number("event.start", &p, ctx)).transpose()?;
            if cp.minima.len() < 2 {
                return Err(ctx.err(
                    "event.kind",
                    "\"transition\" needs a landscape with at least two minima",
                ));
            }
            let start = start.unwrap_or(cp.minima[0]);
            if !start.is_finite() {
                return Err(ctx.err("event.start", format!("must be finite, got {start}")));
            }
            let basin = cp.basin_of(start).ok_or_else(|| {
                ctx.err(
                    "event.start",
                    format!("{start} lies on a saddle, not inside a basin"),
                )
            })?;
            let (lo, hi) = cp.basin(basin);
            let dir = direction.unwrap_or(if hi.is_finite() {
                raw::Direction::Right
            } else {
                raw::Direction::Left
            });
            let ev = match dir {
                raw::Direction::Right if hi.is_finite() => Event::Boundaries {
                    lo: f64::NEG_INFINITY,
                    hi,
                },
                raw::Direction::Left if lo.is_finite() => Event::Boundaries {
                    lo,
                    hi: f64::INFINITY,
                },
                _ => {
                    let name = if dir == raw::Direction::Right {
                        "right"
                    } else {
                        "left"
                    };
                    return Err(ctx.err(
                        "event.direction",
                        format!("{name:?}: the basin of {start} has no saddle on that side"),
                    ));
                }
            };
            Ok((start, ev))
        }
        RawEvent::Interval {
            domain: [lo, hi],
            start,
        } => {
            if !(lo < hi) || lo.is_nan() || hi.is_nan() {
                return Err(ctx.err(
                    "event.domain",
                    format!("must be [lo, hi] with lo < hi, got [{lo}, {hi}]"),
                ));
            }
            let start = start.unwrap_or_else(|| {
                cp.minima
                    .iter()
                    .copied()
                    .find(|m| lo < *m && *m < hi)
                    .unwrap_or(0.5 * (lo + hi))
            });
            if !(lo < start && start < hi) {
                return Err(ctx.err(
                    "event.start",
                    format!("{start} is not inside the domain ({lo}, {hi})"),
                ));
            }
            Ok((start, Event::Boundaries { lo, hi }))
        }
        RawEvent::Reach {
            target,
            tolerance,
            start,
        } => {
            let target = number("event.target", &target, ctx)?;
            let start = number("event.start", &start, ctx)?;
            if !(tolerance > 0.0 && tolerance.is_finite() && target.is_finite()) {
                return Err(ctx.err(
                    "event.tolerance",
                    format!("must be finite and > 0, got {tolerance}"),
                ));
            }
            Ok((
                start,
                Event::Window {
                    lo: target - tolerance,
                    hi: target + tolerance,
                },
            ))
        }
        RawEvent::Ball { .. } | RawEvent::Box { .. } | RawEvent::Halfspace { .. } => {
            unreachable!("d-dimensional events are built by space::space_model")
        }
    }
}

/// A 1-D model's point: a number.
fn number(field: &str, p: &RawPoint, ctx: &Ctx) -> Result<f64, ConfigError> {
    match p {
        RawPoint::Number(x) => Ok(*x),
        _ => Err(ctx.err(
            field,
            "must be a number for a 1-D landscape (arrays and minimum names are for d-dimensional ones)",
        )),
    }
}
