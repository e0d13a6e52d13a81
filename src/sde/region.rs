//! Events in ℝᵈ: when a d-dimensional path ends.

use crate::landscape::surface::{SurfaceError, vector};

/// When a path in ℝᵈ ends.
///
/// * `Ball`: the first time |X − c| ≥ r (exit from the open ball).
/// * `Box`: the first time some coordinate Xᵢ ≤ lowᵢ or Xᵢ ≥ highᵢ (bounds may be infinite).
/// * `Halfspace`: the first time ⟨n, X⟩ ≥ offset (n a unit vector).
/// * `Near`: the first time |X − mₖ| ≤ r for one of the targets mₖ (a `transition` to another
///   minimum, or `reach` a point); the outcome records which target (the lowest index if several).
///
/// For noise with a continuous part, `Ball`, `Box` and `Halfspace` exits between two grid points
/// are caught by the Brownian-bridge test: exact for a halfspace (the projection ⟨n, X⟩ is a 1-D
/// Brownian motion plus drift), per coordinate for a box, and with the sphere taken as locally
/// flat for a ball (an O(dt/r²) error). `Near` counts grid-time entries only.
#[derive(Clone, Debug, PartialEq)]
pub enum Region {
    /// Leave the ball |x − center| < radius.
    Ball {
        /// c.
        center: Vec<f64>,
        /// r > 0.
        radius: f64,
    },
    /// Leave the box Πᵢ (lowᵢ, highᵢ).
    Box {
        /// Lower bounds (may be −∞).
        low: Vec<f64>,
        /// Upper bounds (may be +∞).
        high: Vec<f64>,
    },
    /// Reach ⟨normal, x⟩ ≥ offset.
    Halfspace {
        /// Unit normal n.
        normal: Vec<f64>,
        /// The offset.
        offset: f64,
    },
    /// Come within `radius` of one of `targets`.
    Near {
        /// The target points.
        targets: Vec<Vec<f64>>,
        /// r > 0.
        radius: f64,
    },
}

fn err(field: impl Into<String>, message: impl Into<String>) -> SurfaceError {
    SurfaceError {
        field: field.into(),
        message: message.into(),
    }
}

fn positive(field: &str, v: f64) -> Result<f64, SurfaceError> {
    if v > 0.0 && v.is_finite() {
        Ok(v)
    } else {
        Err(err(field, format!("must be finite and > 0, got {v}")))
    }
}

impl Region {
    /// A ball; `center` defaults to the origin.
    pub fn ball(dim: usize, center: Option<&[f64]>, radius: f64) -> Result<Region, SurfaceError> {
        Ok(Region::Ball {
            center: match center {
                Some(c) => vector("center", c, dim)?,
                None => vec![0.0; dim],
            },
            radius: positive("radius", radius)?,
        })
    }

    /// A box with lowᵢ < highᵢ (infinite bounds allowed).
    pub fn boxed(dim: usize, low: &[f64], high: &[f64]) -> Result<Region, SurfaceError> {
        for (name, v) in [("low", low), ("high", high)] {
            if v.len() != dim {
                return Err(err(
                    name,
                    format!("must have {dim} entries (the dimension), got {}", v.len()),
                ));
            }
            if let Some(x) = v.iter().find(|x| x.is_nan()) {
                return Err(err(name, format!("must not be NaN, got {x}")));
            }
        }
        if let Some(i) = (0..dim).find(|&i| !(low[i] < high[i])) {
            return Err(err(
                "high",
                format!("needs low[{i}] < high[{i}], got {} and {}", low[i], high[i]),
            ));
        }
        Ok(Region::Box {
            low: low.to_vec(),
            high: high.to_vec(),
        })
    }

    /// ⟨n, x⟩ ≥ offset, n normalized here.
    pub fn halfspace(dim: usize, normal: &[f64], offset: f64) -> Result<Region, SurfaceError> {
        let n = vector("normal", normal, dim)?;
        let len = n.iter().map(|v| v * v).sum::<f64>().sqrt();
        if !(len > 0.0) {
            return Err(err("normal", "must not be the zero vector"));
        }
        if !offset.is_finite() {
            return Err(err("offset", format!("must be finite, got {offset}")));
        }
        Ok(Region::Halfspace {
            normal: n.iter().map(|v| v / len).collect(),
            offset: offset / len,
        })
    }

    /// Within `radius` of one of `targets`.
    pub fn near(dim: usize, targets: Vec<Vec<f64>>, radius: f64) -> Result<Region, SurfaceError> {
        if targets.is_empty() {
            return Err(err("target", "needs at least one target point"));
        }
        for (k, t) in targets.iter().enumerate() {
            vector(&format!("target[{k}]"), t, dim)?;
        }
        Ok(Region::Near {
            targets,
            radius: positive("radius", radius)?,
        })
    }

    /// The event's name in scenario files.
    pub fn kind(&self) -> &'static str {
        match self {
            Region::Ball { .. } => "ball",
            Region::Box { .. } => "box",
            Region::Halfspace { .. } => "halfspace",
            Region::Near { .. } => "reach",
        }
    }

    /// The dimension the region lives in.
    pub fn dim(&self) -> usize {
        match self {
            Region::Ball { center, .. } => center.len(),
            Region::Box { low, .. } => low.len(),
            Region::Halfspace { normal, .. } => normal.len(),
            Region::Near { targets, .. } => targets[0].len(),
        }
    }

    /// Whether `x` already satisfies the event (the target index for `Near`).
    pub fn hit(&self, x: &[f64]) -> Option<usize> {
        let d2 = |c: &[f64]| x.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
        match self {
            Region::Ball { center, radius } => (d2(center) >= radius * radius).then_some(0),
            Region::Box { low, high } => (0..x.len())
                .any(|i| x[i] <= low[i] || x[i] >= high[i])
                .then_some(0),
            Region::Halfspace { normal, offset } => {
                (x.iter().zip(normal).map(|(a, b)| a * b).sum::<f64>() >= *offset).then_some(0)
            }
            Region::Near { targets, radius } => {
                targets.iter().position(|t| d2(t) <= radius * radius)
            }
        }
    }
}
