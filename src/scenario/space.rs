//! Scenario points in ℝᵈ: surfaces, vector noise and d-dimensional events from the raw tables.

use super::raw::{RawEvent, RawLandscape, RawNoise, RawPoint, RawScenario};
use super::{Ctx, build_landscape, landscape_field};
use crate::config::ConfigError;
use crate::landscape::surface::{
    CriticalPoint, QuadraticForm, Separable, Surface, SurfaceError, Well, Wells,
};
use crate::noise::Noise;
use crate::noise::vector::{Shape, VectorNoise, VectorNoiseError};
use crate::numeric::distance as dist;
use crate::sde::{Region, Scheme, SpaceSimulation, SpaceSpec};

/// Whether a point is d-dimensional: a surface kind, a quadratic or flat landscape given in
/// several dimensions, or an event that only exists in ℝᵈ (ball, box, halfspace).
pub(super) fn is_space(r: &RawScenario) -> bool {
    let surface = match &r.landscape {
        RawLandscape::Separable { .. }
        | RawLandscape::Wells { .. }
        | RawLandscape::MullerBrown { .. } => true,
        RawLandscape::Quadratic {
            hessian,
            curvatures,
            dim,
            center,
            ..
        } => {
            hessian.is_some()
                || curvatures.is_some()
                || dim.is_some_and(|d| d != 1)
                || matches!(center, Some(RawPoint::Vector(_)))
        }
        RawLandscape::Flat { dim } => *dim != 1,
        _ => false,
    };
    let event = matches!(
        r.event,
        RawEvent::Ball { .. } | RawEvent::Box { .. } | RawEvent::Halfspace { .. }
    );
    surface || event
}

fn surface_error(prefix: &str, e: SurfaceError, ctx: &Ctx) -> ConfigError {
    ctx.err(&format!("{prefix}.{}", e.field), e.message)
}

/// The surface of a d-dimensional point.
fn build_surface(l: &RawLandscape, ctx: &Ctx) -> Result<Surface, ConfigError> {
    let se = |e| surface_error("landscape", e, ctx);
    Ok(match l {
        RawLandscape::Separable {
            axes,
            rotation,
            center,
        } => {
            let mut lines = Vec::with_capacity(axes.len());
            for (i, a) in axes.iter().enumerate() {
                if matches!(
                    a,
                    RawLandscape::Separable { .. }
                        | RawLandscape::Wells { .. }
                        | RawLandscape::MullerBrown { .. }
                ) {
                    return Err(ctx.err(
                        &format!("landscape.axes[{i}].kind"),
                        "must be a 1-D landscape kind",
                    ));
                }
                let (u, dim) = build_landscape(a).map_err(|e| {
                    let (f, m) = landscape_field(&e);
                    ctx.err(
                        &f.replacen("landscape", &format!("landscape.axes[{i}]"), 1),
                        m,
                    )
                })?;
                if dim != 1 {
                    return Err(
                        ctx.err(&format!("landscape.axes[{i}].dim"), "must be 1 for an axis")
                    );
                }
                lines.push(u);
            }
            Surface::Separable(
                Separable::new(lines, rotation.as_deref(), center.as_deref()).map_err(se)?,
            )
        }
        RawLandscape::Quadratic {
            center,
            curvature,
            dim,
            hessian,
            curvatures,
        } => {
            let center = match center {
                None => None,
                Some(RawPoint::Vector(v)) => Some(v.clone()),
                Some(RawPoint::Number(v)) if *v == 0.0 => None,
                Some(_) => {
                    return Err(ctx.err(
                        "landscape.center",
                        "must be an array of one number per dimension in more than one dimension",
                    ));
                }
            };
            let given = [hessian.is_some(), curvatures.is_some(), curvature.is_some()]
                .iter()
                .filter(|g| **g)
                .count();
            if given != 1 {
                return Err(ctx.err(
                    "landscape.hessian",
                    "give exactly one of hessian (a matrix), curvatures (its diagonal) or curvature (with dim: κ·I)",
                ));
            }
            let q = if let Some(h) = hessian {
                QuadraticForm::new(h, center.as_deref())
            } else if let Some(k) = curvatures {
                QuadraticForm::diagonal(k, center.as_deref())
            } else {
                let d = dim.unwrap_or_else(|| center.as_ref().map_or(1, Vec::len));
                if d == 0 {
                    return Err(ctx.err("landscape.dim", "must be >= 1, got 0"));
                }
                QuadraticForm::diagonal(&vec![curvature.unwrap_or(f64::NAN); d], center.as_deref())
                    .map_err(|e| SurfaceError {
                        field: "curvature".into(),
                        message: e.message,
                    })
            }
            .map_err(se)?;
            if let Some(d) = dim
                && *d != q.center().len()
            {
                return Err(ctx.err(
                    "landscape.dim",
                    format!("is {d} but the matrix is {0} × {0}", q.center().len()),
                ));
            }
            Surface::Quadratic(q)
        }
        RawLandscape::Flat { dim } => {
            if *dim == 0 {
                return Err(ctx.err("landscape.dim", "must be >= 1, got 0"));
            }
            Surface::Flat { dim: *dim }
        }
        RawLandscape::Wells { confinement, wells } => {
            let d = wells.first().map_or(0, |w| w.center.len());
            if d == 0 {
                return Err(ctx.err(
                    "landscape.wells",
                    "needs at least one well with a non-empty center",
                ));
            }
            Surface::Wells(
                Wells::new(
                    *confinement,
                    wells
                        .iter()
                        .map(|w| Well {
                            center: w.center.clone(),
                            depth: w.depth,
                            width: w.width,
                        })
                        .collect(),
                    d,
                )
                .map_err(se)?,
            )
        }
        RawLandscape::MullerBrown { scale } => {
            if !(*scale > 0.0 && scale.is_finite()) {
                return Err(ctx.err(
                    "landscape.scale",
                    format!("must be finite and > 0, got {scale}"),
                ));
            }
            Surface::MullerBrown { scale: *scale }
        }
        RawLandscape::Quartic { .. }
        | RawLandscape::Tilted { .. }
        | RawLandscape::Asymmetric { .. }
        | RawLandscape::PiecewiseQuadratic { .. }
        | RawLandscape::Polynomial { .. } => {
            // A 1-D landscape with a d-dimensional event: it is its own one axis.
            let (u, _) = build_landscape(l).map_err(|e| {
                let (f, m) = landscape_field(&e);
                ctx.err(&f, m)
            })?;
            Surface::Separable(Separable::new(vec![u], None, None).map_err(se)?)
        }
    })
}

/// The vector noise from the validated 1-D noise and the d-dimensional keys.
///
/// A stable or mixed noise in more than one dimension must name its shape, except with a `ball`
/// event, where isotropic noise is the default (as it was before other d-dimensional events
/// existed).
fn build_noise(
    raw: &RawNoise,
    noise: Noise,
    dim: usize,
    ball: bool,
    ctx: &Ctx,
) -> Result<VectorNoise, ConfigError> {
    let (x, _) = raw.vector_extras();
    let shape = x.shape.unwrap_or(Shape::Isotropic);
    let ve = |e: VectorNoiseError| match e {
        VectorNoiseError::Field(f) => surface_error("noise", f, ctx),
        VectorNoiseError::Scalar(s) => ctx.err("noise", s.to_string()),
    };
    let beta_zero = |beta: f64| {
        if beta == 0.0 {
            Ok(())
        } else {
            Err(ctx.err(
                "noise.beta",
                format!(
                    "must be 0 in more than one dimension (symmetric stable noise only), got {beta}"
                ),
            ))
        }
    };
    match noise {
        Noise::Brownian { sigma } => {
            if let Some(name) = [("shape", x.shape.is_some()), ("scales", x.scales.is_some())]
                .iter()
                .find(|(_, g)| *g)
                .map(|(n, _)| *n)
            {
                return Err(ctx.err(
                    &format!("noise.{name}"),
                    "applies to stable and mixed noise only",
                ));
            }
            VectorNoise::brownian(dim, sigma, x.covariance.as_deref(), x.sigmas.as_deref())
                .map_err(ve)
        }
        Noise::Stable {
            alpha,
            beta,
            epsilon,
        } => {
            beta_zero(beta)?;
            if x.covariance.is_some() || x.sigmas.is_some() {
                return Err(ctx.err(
                    "noise.covariance",
                    "applies to the Brownian part (brownian or mixed noise); stable coordinates take scales",
                ));
            }
            if dim > 1 && x.shape.is_none() && !ball {
                return Err(ctx.err(
                    "noise.shape",
                    "is required for stable noise in more than one dimension: \"independent\" (i.i.d. coordinates, the paper's L) or \"isotropic\"",
                ));
            }
            VectorNoise::stable(dim, alpha, epsilon, shape, x.scales.as_deref()).map_err(ve)
        }
        Noise::Mixed {
            alpha,
            beta,
            epsilon,
            sigma_b,
        } => {
            beta_zero(beta)?;
            if dim > 1 && x.shape.is_none() && !ball {
                return Err(ctx.err(
                    "noise.shape",
                    "is required for mixed noise in more than one dimension: \"independent\" or \"isotropic\"",
                ));
            }
            VectorNoise::mixed(
                dim,
                alpha,
                epsilon,
                sigma_b,
                shape,
                x.scales.as_deref(),
                x.covariance.as_deref(),
                x.sigmas.as_deref(),
            )
            .map_err(ve)
        }
    }
}

/// A point of ℝᵈ from the scenario: an array, a number (1-D), or a minimum's name.
fn point(
    field: &str,
    p: &RawPoint,
    dim: usize,
    minima: &[CriticalPoint],
    ctx: &Ctx,
) -> Result<Vec<f64>, ConfigError> {
    match p {
        RawPoint::Vector(v) => {
            if v.len() != dim {
                return Err(ctx.err(
                    field,
                    format!("must have {dim} entries (the dimension), got {}", v.len()),
                ));
            }
            if let Some(x) = v.iter().find(|x| !x.is_finite()) {
                return Err(ctx.err(field, format!("must be finite, got {x}")));
            }
            Ok(v.clone())
        }
        RawPoint::Number(x) if dim == 1 => Ok(vec![*x]),
        RawPoint::Number(_) => Err(ctx.err(
            field,
            format!("must be an array of {dim} numbers or the name of a minimum (\"min:0\")"),
        )),
        RawPoint::Name(name) => {
            let k = name
                .strip_prefix("min:")
                .and_then(|k| k.parse::<usize>().ok())
                .ok_or_else(|| {
                    ctx.err(
                        field,
                        format!("{name:?} is not a point: give an array or \"min:K\""),
                    )
                })?;
            minima.get(k).map(|m| m.x.clone()).ok_or_else(|| {
                ctx.err(
                    field,
                    format!(
                        "{name:?}: the landscape has {} minima (min:0 … min:{})",
                        minima.len(),
                        minima.len().saturating_sub(1)
                    ),
                )
            })
        }
    }
}

/// Everything a d-dimensional point is built from once the noise is valid.
pub(super) struct SpaceParts<'a> {
    pub raw: &'a RawScenario,
    pub noise: Noise,
    pub dt: f64,
    pub scheme: Option<Scheme>,
    pub bridge: bool,
}

/// The d-dimensional simulation of a point.
pub(super) fn space_model(parts: SpaceParts, ctx: &Ctx) -> Result<SpaceSimulation, ConfigError> {
    let SpaceParts {
        raw,
        noise,
        dt,
        scheme,
        bridge,
    } = parts;
    let surface = build_surface(&raw.landscape, ctx)?;
    let d = surface.dim();
    let noise = build_noise(
        &raw.noise,
        noise,
        d,
        matches!(raw.event, RawEvent::Ball { .. }),
        ctx,
    )?;
    let minima = surface.minima();
    let re = |e: SurfaceError| surface_error("event", e, ctx);
    // The default start: the deepest minimum.
    let deepest = || {
        minima.first().map(|m| m.x.clone()).ok_or_else(|| {
            ctx.err(
                "event.start",
                "is required: the landscape has no minimum to start from",
            )
        })
    };
    let start_of =
        |s: &Option<RawPoint>, default: &dyn Fn() -> Result<Vec<f64>, ConfigError>| match s {
            Some(p) => point("event.start", p, d, &minima, ctx),
            None => default(),
        };
    let (start, region) = match &raw.event {
        RawEvent::Ball {
            radius,
            start,
            center,
        } => {
            let region = Region::ball(d, center.as_deref(), *radius).map_err(re)?;
            let c = match &region {
                Region::Ball { center, .. } => center.clone(),
                _ => unreachable!(),
            };
            let start = match start {
                // A number is the first coordinate relative to the centre (the other ones 0).
                Some(RawPoint::Number(x)) => {
                    let mut s = c.clone();
                    s[0] += x;
                    s
                }
                other => start_of(other, &|| Ok(c.clone()))?,
            };
            (start, region)
        }
        RawEvent::Box { low, high, start } => {
            let region = Region::boxed(d, low, high).map_err(re)?;
            (start_of(start, &deepest)?, region)
        }
        RawEvent::Halfspace {
            normal,
            offset,
            start,
        } => {
            let region = Region::halfspace(d, normal, *offset).map_err(re)?;
            (start_of(start, &deepest)?, region)
        }
        RawEvent::Reach {
            target,
            tolerance,
            start,
        } => {
            let t = point("event.target", target, d, &minima, ctx)?;
            let s = point("event.start", start, d, &minima, ctx)?;
            let region = Region::near(d, vec![t], *tolerance).map_err(|e| {
                ctx.err(
                    &format!(
                        "event.{}",
                        if e.field == "radius" {
                            "tolerance"
                        } else {
                            &e.field
                        }
                    ),
                    e.message,
                )
            })?;
            (s, region)
        }
        RawEvent::Transition {
            start,
            direction,
            radius,
        } => {
            if direction.is_some() {
                return Err(ctx.err(
                    "event.direction",
                    "is 1-D only: in ℝᵈ a transition ends near any other minimum",
                ));
            }
            if minima.len() < 2 {
                return Err(ctx.err(
                    "event.kind",
                    format!(
                        "\"transition\" needs a landscape with at least two minima, this one has {}",
                        minima.len()
                    ),
                ));
            }
            let s = start_of(start, &deepest)?;
            // The start's minimum is the nearest one; the targets are all the others.
            let own = (0..minima.len())
                .min_by(|&i, &j| dist(&minima[i].x, &s).total_cmp(&dist(&minima[j].x, &s)))
                .unwrap_or(0);
            let targets: Vec<Vec<f64>> = minima
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != own)
                .map(|(_, m)| m.x.clone())
                .collect();
            let nearest = targets
                .iter()
                .map(|t| dist(t, &minima[own].x))
                .fold(f64::INFINITY, f64::min);
            let r = radius.unwrap_or(0.1 * nearest);
            (s, Region::near(d, targets, r).map_err(re)?)
        }
        RawEvent::Interval { .. } => {
            return Err(ctx.err(
                "event.kind",
                "\"interval\" is 1-D; in ℝᵈ use \"box\", \"ball\" or \"halfspace\"",
            ));
        }
    };
    let scheme = match scheme {
        None if surface.has_drift_flow() => Scheme::Split,
        None => Scheme::Tamed,
        Some(Scheme::Implicit) => {
            return Err(ctx.err(
                "integrator.scheme",
                "\"implicit\" is 1-D only; in ℝᵈ use \"euler\", \"tamed\" or \"split\"",
            ));
        }
        Some(s) => s,
    };
    SpaceSimulation::new(SpaceSpec {
        surface,
        noise,
        scheme,
        dt,
        horizon: raw.horizon,
        start,
        region,
        bridge,
    })
    .map_err(|e| {
        let f = if e.field.contains('.')
            || e.field == "horizon"
            || e.field == "noise"
            || e.field == "event"
        {
            e.field.clone()
        } else {
            format!("event.{}", e.field)
        };
        ctx.err(&f, e.message)
    })
}
