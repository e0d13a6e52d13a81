//! Landscapes in ℝᵈ (d ≥ 1): the potential surfaces U: ℝᵈ → ℝ of the d-dimensional engine, with
//! their critical points.
//!
//! | kind | U(x) |
//! |---|---|
//! | `separable` | Σᵢ Uᵢ(yᵢ), y = Q(x − c), each Uᵢ a 1-D [`Landscape`], Q orthogonal (rows = axes) |
//! | `quadratic` | ½(x − c)ᵀH(x − c), H symmetric positive definite |
//! | `wells` | ½κ\|x\|² − Σₖ hₖ exp(−\|x − mₖ\|²/(2wₖ²)) |
//! | `muller-brown` | s·Σₖ Aₖ exp(aₖ(x − x⁰ₖ)² + bₖ(x − x⁰ₖ)(y − y⁰ₖ) + cₖ(y − y⁰ₖ)²), d = 2 |
//! | `flat` | 0 |
//!
//! Müller–Brown uses the standard constants of Müller & Brown (Theor. Chim. Acta 53, 75, 1979):
//! A = (−200, −100, −170, 15), a = (−1, −1, −6.5, 0.7), b = (0, 0, 11, 0.6), c = (−10, −10, −6.5,
//! 0.7), x⁰ = (1, 0, −0.5, −1), y⁰ = (0, 0.5, 1.5, 1); its minima are near (−0.558, 1.442),
//! (0.623, 0.028) and (−0.050, 0.467), its saddles near (−0.822, 0.624) and (0.212, 0.293).
//!
//! Critical points come from the axes' own (separable: every combination of axis minima is a
//! minimum; one axis at a maximum and the others at minima is an index-1 saddle), from the formula
//! (quadratic), or numerically (wells, Müller–Brown): Newton's method on ∇U = 0 with a backtracking
//! line search on |∇U|, started from seeds that cover the region where the wells are, then
//! classified by the eigenvalues of the Hessian.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use super::{Landscape, Potential};
use crate::numeric::norm;

/// An invalid surface, with the field (relative to `landscape`) it is about.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SurfaceError {
    /// The field, e.g. `rotation`, `hessian`, `axes[1].width`, `wells[0].center`.
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> SurfaceError {
    SurfaceError {
        field: field.into(),
        message: message.into(),
    }
}

/// A d × d matrix given as rows: checked square, finite, and returned row-major.
pub fn square_matrix(field: &str, rows: &[Vec<f64>], dim: usize) -> Result<Vec<f64>, SurfaceError> {
    if rows.len() != dim {
        return Err(err(
            field,
            format!(
                "must have {dim} rows (one per dimension), got {}",
                rows.len()
            ),
        ));
    }
    let mut m = Vec::with_capacity(dim * dim);
    for (i, r) in rows.iter().enumerate() {
        if r.len() != dim {
            return Err(err(
                format!("{field}[{i}]"),
                format!("must have {dim} entries, got {}", r.len()),
            ));
        }
        if let Some(v) = r.iter().find(|v| !v.is_finite()) {
            return Err(err(
                format!("{field}[{i}]"),
                format!("must be finite, got {v}"),
            ));
        }
        m.extend_from_slice(r);
    }
    Ok(m)
}

/// A vector of length `dim` with finite entries.
pub fn vector(field: &str, v: &[f64], dim: usize) -> Result<Vec<f64>, SurfaceError> {
    if v.len() != dim {
        return Err(err(
            field,
            format!("must have {dim} entries (the dimension), got {}", v.len()),
        ));
    }
    if let Some(x) = v.iter().find(|x| !x.is_finite()) {
        return Err(err(field, format!("must be finite, got {x}")));
    }
    Ok(v.to_vec())
}

/// Checks that a row-major matrix is symmetric positive definite; returns its eigen-decomposition.
pub fn symmetric_positive_definite(
    field: &str,
    m: &[f64],
    dim: usize,
) -> Result<SymmetricEigen<f64, nalgebra::Dyn>, SurfaceError> {
    let a = DMatrix::from_row_slice(dim, dim, m);
    let scale = a.amax().max(f64::MIN_POSITIVE);
    let asym = (&a - a.transpose()).amax();
    if asym > 1e-12 * scale {
        return Err(err(
            field,
            format!("must be symmetric, got max |a_ij − a_ji| = {asym:.3e}"),
        ));
    }
    let e = SymmetricEigen::new(a);
    let min = e.eigenvalues.min();
    if !(min > 1e-14 * scale) {
        return Err(err(
            field,
            format!("must be positive definite, got smallest eigenvalue {min:.6e}"),
        ));
    }
    Ok(e)
}

/// U = Σᵢ Uᵢ(yᵢ) with y = Q(x − c).
#[derive(Clone, Debug, PartialEq)]
pub struct Separable {
    axes: Vec<Landscape>,
    /// Rows of Q, row-major; None = identity.
    rotation: Option<Vec<f64>>,
    center: Vec<f64>,
}

impl Separable {
    /// One 1-D landscape per axis, an optional orthogonal Q (rows = the axes' directions) and a
    /// centre c.
    pub fn new(
        axes: Vec<Landscape>,
        rotation: Option<&[Vec<f64>]>,
        center: Option<&[f64]>,
    ) -> Result<Separable, SurfaceError> {
        let d = axes.len();
        if d == 0 {
            return Err(err("axes", "needs at least one axis"));
        }
        let rotation = match rotation {
            None => None,
            Some(rows) => {
                let q = square_matrix("rotation", rows, d)?;
                let qm = DMatrix::from_row_slice(d, d, &q);
                let residual = (&qm * qm.transpose() - DMatrix::identity(d, d)).amax();
                if residual > 1e-9 {
                    return Err(err(
                        "rotation",
                        format!("must be orthogonal (QQᵀ = I), got max |QQᵀ − I| = {residual:.3e}"),
                    ));
                }
                Some(q)
            }
        };
        let center = match center {
            None => vec![0.0; d],
            Some(c) => vector("center", c, d)?,
        };
        Ok(Separable {
            axes,
            rotation,
            center,
        })
    }

    /// The axes' landscapes.
    pub fn axes(&self) -> &[Landscape] {
        &self.axes
    }
    /// Q row-major (None: identity).
    pub fn rotation(&self) -> Option<&[f64]> {
        self.rotation.as_deref()
    }
    /// The centre c.
    pub fn center(&self) -> &[f64] {
        &self.center
    }

    /// y = Q(x − c).
    pub fn to_axes(&self, x: &[f64]) -> Vec<f64> {
        let d = self.axes.len();
        let z: Vec<f64> = x.iter().zip(&self.center).map(|(a, c)| a - c).collect();
        match &self.rotation {
            None => z,
            Some(q) => (0..d)
                .map(|i| (0..d).map(|j| q[i * d + j] * z[j]).sum())
                .collect(),
        }
    }

    /// x = c + Qᵀy.
    pub fn from_axes(&self, y: &[f64]) -> Vec<f64> {
        let d = self.axes.len();
        match &self.rotation {
            None => y.iter().zip(&self.center).map(|(a, c)| a + c).collect(),
            Some(q) => (0..d)
                .map(|j| self.center[j] + (0..d).map(|i| q[i * d + j] * y[i]).sum::<f64>())
                .collect(),
        }
    }

    /// Row i of Q (the direction of axis i in x coordinates).
    pub fn axis_direction(&self, i: usize) -> Vec<f64> {
        let d = self.axes.len();
        match &self.rotation {
            None => (0..d).map(|j| f64::from(u8::from(i == j))).collect(),
            Some(q) => q[i * d..(i + 1) * d].to_vec(),
        }
    }
}

/// U = ½(x − c)ᵀH(x − c).
#[derive(Clone, Debug, PartialEq)]
pub struct QuadraticForm {
    hessian: Vec<f64>,
    center: Vec<f64>,
    eigenvalues: Vec<f64>,
    /// Eigenvectors as columns, row-major.
    eigenvectors: Vec<f64>,
}

impl QuadraticForm {
    /// From a symmetric positive-definite H (row-major rows) and a centre.
    pub fn new(
        hessian: &[Vec<f64>],
        center: Option<&[f64]>,
    ) -> Result<QuadraticForm, SurfaceError> {
        let d = hessian.len();
        if d == 0 {
            return Err(err("hessian", "needs at least one row"));
        }
        let h = square_matrix("hessian", hessian, d)?;
        let e = symmetric_positive_definite("hessian", &h, d)?;
        let center = match center {
            None => vec![0.0; d],
            Some(c) => vector("center", c, d)?,
        };
        let mut vecs = Vec::with_capacity(d * d);
        for i in 0..d {
            for j in 0..d {
                vecs.push(e.eigenvectors[(i, j)]);
            }
        }
        Ok(QuadraticForm {
            hessian: h,
            center,
            eigenvalues: e.eigenvalues.iter().copied().collect(),
            eigenvectors: vecs,
        })
    }

    /// H = diag(curvatures).
    pub fn diagonal(
        curvatures: &[f64],
        center: Option<&[f64]>,
    ) -> Result<QuadraticForm, SurfaceError> {
        if let Some((i, k)) = curvatures
            .iter()
            .enumerate()
            .find(|(_, k)| !(**k > 0.0 && k.is_finite()))
        {
            return Err(err(
                format!("curvatures[{i}]"),
                format!("must be finite and > 0, got {k}"),
            ));
        }
        let d = curvatures.len();
        let rows: Vec<Vec<f64>> = (0..d)
            .map(|i| {
                (0..d)
                    .map(|j| if i == j { curvatures[i] } else { 0.0 })
                    .collect()
            })
            .collect();
        QuadraticForm::new(&rows, center)
    }

    /// H row-major.
    pub fn hessian(&self) -> &[f64] {
        &self.hessian
    }
    /// The centre.
    pub fn center(&self) -> &[f64] {
        &self.center
    }
    /// e^{−Ht} row-major (the exact drift flow of x − c over time t).
    pub fn flow_matrix(&self, t: f64) -> Vec<f64> {
        let d = self.center.len();
        let v = &self.eigenvectors;
        let mut m = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                m[i * d + j] = (0..d)
                    .map(|k| v[i * d + k] * (-self.eigenvalues[k] * t).exp() * v[j * d + k])
                    .sum();
            }
        }
        m
    }
}

/// One Gaussian well of a [`Wells`] surface.
#[derive(Clone, Debug, PartialEq)]
pub struct Well {
    /// mₖ.
    pub center: Vec<f64>,
    /// hₖ > 0.
    pub depth: f64,
    /// wₖ > 0.
    pub width: f64,
}

/// U = ½κ|x|² − Σₖ hₖ exp(−|x − mₖ|²/(2wₖ²)): sharp (small w) and wide (large w) minima.
#[derive(Clone, Debug, PartialEq)]
pub struct Wells {
    confinement: f64,
    wells: Vec<Well>,
}

impl Wells {
    /// Validates κ ≥ 0 (κ > 0 keeps the process confined) and every well.
    pub fn new(confinement: f64, wells: Vec<Well>, dim: usize) -> Result<Wells, SurfaceError> {
        if !(confinement >= 0.0 && confinement.is_finite()) {
            return Err(err(
                "confinement",
                format!("must be finite and >= 0, got {confinement}"),
            ));
        }
        if wells.is_empty() {
            return Err(err("wells", "needs at least one well"));
        }
        for (k, w) in wells.iter().enumerate() {
            vector(&format!("wells[{k}].center"), &w.center, dim)?;
            for (name, v) in [("depth", w.depth), ("width", w.width)] {
                if !(v > 0.0 && v.is_finite()) {
                    return Err(err(
                        format!("wells[{k}].{name}"),
                        format!("must be finite and > 0, got {v}"),
                    ));
                }
            }
        }
        Ok(Wells { confinement, wells })
    }
    /// κ.
    pub fn confinement(&self) -> f64 {
        self.confinement
    }
    /// The wells.
    pub fn wells(&self) -> &[Well] {
        &self.wells
    }
}

/// The Müller–Brown constants (A, a, b, c, x⁰, y⁰), one entry per term.
pub const MULLER_BROWN: [[f64; 6]; 4] = [
    [-200.0, -1.0, 0.0, -10.0, 1.0, 0.0],
    [-100.0, -1.0, 0.0, -10.0, 0.0, 0.5],
    [-170.0, -6.5, 11.0, -6.5, -0.5, 1.5],
    [15.0, 0.7, 0.6, 0.7, -1.0, 1.0],
];

/// A landscape in ℝᵈ.
#[derive(Clone, Debug, PartialEq)]
pub enum Surface {
    /// Σᵢ Uᵢ((Q(x − c))ᵢ).
    Separable(Separable),
    /// ½(x − c)ᵀH(x − c).
    Quadratic(QuadraticForm),
    /// Gaussian wells in a quadratic confinement.
    Wells(Wells),
    /// The Müller–Brown surface times `scale` (d = 2).
    MullerBrown {
        /// The factor s multiplying U.
        scale: f64,
    },
    /// U ≡ 0 in d dimensions.
    Flat {
        /// d.
        dim: usize,
    },
}

/// A critical point of a surface.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CriticalPoint {
    /// Where.
    pub x: Vec<f64>,
    /// U(x).
    pub value: f64,
    /// The number of negative Hessian eigenvalues (0 = minimum, 1 = index-1 saddle).
    pub index: usize,
    /// The Hessian's eigenvalues, increasing.
    pub eigenvalues: Vec<f64>,
}

impl Surface {
    /// The scenario-file name of the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Surface::Separable(_) => "separable",
            Surface::Quadratic(_) => "quadratic",
            Surface::Wells(_) => "wells",
            Surface::MullerBrown { .. } => "muller-brown",
            Surface::Flat { .. } => "flat",
        }
    }

    /// The dimension d.
    pub fn dim(&self) -> usize {
        match self {
            Surface::Separable(s) => s.axes.len(),
            Surface::Quadratic(q) => q.center.len(),
            Surface::Wells(w) => w.wells[0].center.len(),
            Surface::MullerBrown { .. } => 2,
            Surface::Flat { dim } => *dim,
        }
    }

    /// U(x).
    pub fn value(&self, x: &[f64]) -> f64 {
        match self {
            Surface::Separable(s) => {
                let y = s.to_axes(x);
                s.axes.iter().zip(&y).map(|(u, &yi)| u.value(yi)).sum()
            }
            Surface::Quadratic(q) => {
                let d = q.center.len();
                let z: Vec<f64> = x.iter().zip(&q.center).map(|(a, c)| a - c).collect();
                0.5 * (0..d)
                    .map(|i| z[i] * (0..d).map(|j| q.hessian[i * d + j] * z[j]).sum::<f64>())
                    .sum::<f64>()
            }
            Surface::Wells(w) => {
                let r2: f64 = x.iter().map(|v| v * v).sum();
                0.5 * w.confinement * r2
                    - w.wells
                        .iter()
                        .map(|k| k.depth * (-dist2(x, &k.center) / (2.0 * k.width * k.width)).exp())
                        .sum::<f64>()
            }
            Surface::MullerBrown { scale } => {
                scale
                    * MULLER_BROWN
                        .iter()
                        .map(|&[a, aa, b, c, x0, y0]| {
                            let (dx, dy) = (x[0] - x0, x[1] - y0);
                            a * (aa * dx * dx + b * dx * dy + c * dy * dy).exp()
                        })
                        .sum::<f64>()
            }
            Surface::Flat { .. } => 0.0,
        }
    }

    /// ∇U(x).
    pub fn grad(&self, x: &[f64]) -> Vec<f64> {
        let d = self.dim();
        match self {
            Surface::Separable(s) => {
                let y = s.to_axes(x);
                let gy: Vec<f64> = s.axes.iter().zip(&y).map(|(u, &yi)| u.grad(yi)).collect();
                match &s.rotation {
                    None => gy,
                    Some(q) => (0..d)
                        .map(|j| (0..d).map(|i| q[i * d + j] * gy[i]).sum())
                        .collect(),
                }
            }
            Surface::Quadratic(q) => (0..d)
                .map(|i| {
                    (0..d)
                        .map(|j| q.hessian[i * d + j] * (x[j] - q.center[j]))
                        .sum()
                })
                .collect(),
            Surface::Wells(w) => {
                let mut g: Vec<f64> = x.iter().map(|v| w.confinement * v).collect();
                for k in &w.wells {
                    let s2 = k.width * k.width;
                    let f = k.depth / s2 * (-dist2(x, &k.center) / (2.0 * s2)).exp();
                    for i in 0..d {
                        g[i] += f * (x[i] - k.center[i]);
                    }
                }
                g
            }
            Surface::MullerBrown { scale } => {
                let mut g = [0.0; 2];
                for &[a, aa, b, c, x0, y0] in &MULLER_BROWN {
                    let (dx, dy) = (x[0] - x0, x[1] - y0);
                    let e = a * (aa * dx * dx + b * dx * dy + c * dy * dy).exp();
                    g[0] += e * (2.0 * aa * dx + b * dy);
                    g[1] += e * (b * dx + 2.0 * c * dy);
                }
                g.iter().map(|v| scale * v).collect()
            }
            Surface::Flat { .. } => vec![0.0; d],
        }
    }

    /// The Hessian ∇²U(x).
    pub fn hessian(&self, x: &[f64]) -> DMatrix<f64> {
        let d = self.dim();
        match self {
            Surface::Separable(s) => {
                let y = s.to_axes(x);
                let k = DMatrix::from_diagonal(&DVector::from_iterator(
                    d,
                    s.axes.iter().zip(&y).map(|(u, &yi)| u.hess(yi)),
                ));
                match &s.rotation {
                    None => k,
                    Some(q) => {
                        let q = DMatrix::from_row_slice(d, d, q);
                        q.transpose() * k * q
                    }
                }
            }
            Surface::Quadratic(q) => DMatrix::from_row_slice(d, d, &q.hessian),
            Surface::Wells(w) => {
                let mut h = DMatrix::identity(d, d) * w.confinement;
                for k in &w.wells {
                    let s2 = k.width * k.width;
                    let f = k.depth / s2 * (-dist2(x, &k.center) / (2.0 * s2)).exp();
                    for i in 0..d {
                        for j in 0..d {
                            let zi = x[i] - k.center[i];
                            let zj = x[j] - k.center[j];
                            h[(i, j)] += f * (f64::from(u8::from(i == j)) - zi * zj / s2);
                        }
                    }
                }
                h
            }
            Surface::MullerBrown { scale } => {
                let mut h = DMatrix::zeros(2, 2);
                for &[a, aa, b, c, x0, y0] in &MULLER_BROWN {
                    let (dx, dy) = (x[0] - x0, x[1] - y0);
                    let e = a * (aa * dx * dx + b * dx * dy + c * dy * dy).exp();
                    let (ex, ey) = (2.0 * aa * dx + b * dy, b * dx + 2.0 * c * dy);
                    h[(0, 0)] += e * (ex * ex + 2.0 * aa);
                    h[(0, 1)] += e * (ex * ey + b);
                    h[(1, 1)] += e * (ey * ey + 2.0 * c);
                }
                h[(1, 0)] = h[(0, 1)];
                h * *scale
            }
            Surface::Flat { .. } => DMatrix::zeros(d, d),
        }
    }

    /// Whether the exact drift flow exists (the split scheme needs it): quadratic, flat, and
    /// separable surfaces whose every axis has one.
    pub fn has_drift_flow(&self) -> bool {
        match self {
            Surface::Separable(s) => s.axes.iter().all(|u| u.drift_flow(0.5, 0.01).is_some()),
            Surface::Quadratic(_) | Surface::Flat { .. } => true,
            Surface::Wells(_) | Surface::MullerBrown { .. } => false,
        }
    }

    /// Minima (index 0) then index-1 saddles, each sorted by U and then by coordinates. Higher
    /// index points are left out.
    pub fn critical_points(&self) -> Vec<CriticalPoint> {
        let mut pts: Vec<Vec<f64>> = match self {
            Surface::Separable(s) => separable_points(s),
            Surface::Quadratic(q) => vec![q.center.clone()],
            Surface::Flat { .. } => Vec::new(),
            Surface::Wells(w) => {
                let mut seeds = vec![vec![0.0; self.dim()]];
                for (i, a) in w.wells.iter().enumerate() {
                    seeds.push(a.center.clone());
                    for b in &w.wells[i + 1..] {
                        for t in [0.25, 0.5, 0.75] {
                            seeds.push(
                                a.center
                                    .iter()
                                    .zip(&b.center)
                                    .map(|(p, q)| p + t * (q - p))
                                    .collect(),
                            );
                        }
                    }
                }
                newton_points(self, &seeds)
            }
            Surface::MullerBrown { .. } => {
                let mut seeds = Vec::new();
                for i in 0..=24 {
                    for j in 0..=24 {
                        seeds.push(vec![
                            -1.5 + 2.7 * i as f64 / 24.0,
                            -0.3 + 2.4 * j as f64 / 24.0,
                        ]);
                    }
                }
                newton_points(self, &seeds)
            }
        };
        pts.retain(|p| p.iter().all(|v| v.is_finite()));
        let mut out: Vec<CriticalPoint> = pts
            .into_iter()
            .map(|x| {
                let e = SymmetricEigen::new(self.hessian(&x));
                let mut ev: Vec<f64> = e.eigenvalues.iter().copied().collect();
                ev.sort_by(f64::total_cmp);
                let scale = ev.iter().map(|v| v.abs()).fold(0.0, f64::max);
                CriticalPoint {
                    value: self.value(&x),
                    index: ev.iter().filter(|v| **v < -1e-9 * scale).count(),
                    eigenvalues: ev,
                    x,
                }
            })
            .filter(|p| p.index <= 1 && p.eigenvalues.iter().all(|v| v.abs() > 1e-12))
            .collect();
        out.sort_by(|a, b| {
            a.index
                .cmp(&b.index)
                .then(a.value.total_cmp(&b.value))
                .then_with(|| {
                    a.x.iter()
                        .zip(&b.x)
                        .map(|(p, q)| p.total_cmp(q))
                        .find(|o| o.is_ne())
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
        });
        out
    }

    /// The minima (index 0 critical points), deepest first.
    pub fn minima(&self) -> Vec<CriticalPoint> {
        self.critical_points()
            .into_iter()
            .filter(|p| p.index == 0)
            .collect()
    }
}

fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum()
}

/// Most combinations enumerated for a separable surface (beyond it, its minima are not listed).
const MAX_COMBINATIONS: usize = 1 << 14;

fn separable_points(s: &Separable) -> Vec<Vec<f64>> {
    let cps: Vec<_> = s.axes.iter().map(|u| u.critical_points()).collect();
    let count: usize = cps
        .iter()
        .map(|c| c.minima.len())
        .try_fold(1usize, |a, n| a.checked_mul(n))
        .unwrap_or(usize::MAX);
    if count == 0 || count > MAX_COMBINATIONS {
        return Vec::new();
    }
    // Every combination of axis minima, then each with one axis moved to each of its maxima.
    let mut combos: Vec<Vec<f64>> = vec![Vec::new()];
    for c in &cps {
        combos = combos
            .into_iter()
            .flat_map(|p| {
                c.minima.iter().map(move |&m| {
                    let mut q = p.clone();
                    q.push(m);
                    q
                })
            })
            .collect();
    }
    let mut ys = combos.clone();
    for base in &combos {
        for (i, c) in cps.iter().enumerate() {
            for &sd in &c.saddles {
                let mut y = base.clone();
                y[i] = sd;
                ys.push(y);
            }
        }
    }
    ys.sort_by(|a, b| {
        a.iter()
            .zip(b)
            .map(|(p, q)| p.total_cmp(q))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    ys.dedup();
    ys.iter().map(|y| s.from_axes(y)).collect()
}

/// Critical points reached by damped Newton iterations from `seeds`, deduplicated.
fn newton_points(u: &Surface, seeds: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut found: Vec<Vec<f64>> = Vec::new();
    for s in seeds {
        if let Some(x) = newton(u, s.clone())
            && !found
                .iter()
                .any(|p| dist2(p, &x).sqrt() < 1e-6 * (1.0 + norm(&x)))
        {
            found.push(x);
        }
    }
    found
}

/// ∇U = 0 by Newton steps with backtracking on |∇U|; None when it does not converge.
fn newton(u: &Surface, mut x: Vec<f64>) -> Option<Vec<f64>> {
    let d = x.len();
    let scale = u.hessian(&x).amax().max(1.0);
    let mut g = u.grad(&x);
    for _ in 0..100 {
        let gn = norm(&g);
        if gn <= 1e-11 * scale * (1.0 + norm(&x)) {
            return Some(x);
        }
        let h = u.hessian(&x);
        let step = h.lu().solve(&DVector::from_column_slice(&g))?;
        let mut t = 1.0;
        loop {
            let y: Vec<f64> = (0..d).map(|i| x[i] - t * step[i]).collect();
            let gy = u.grad(&y);
            if norm(&gy) < gn || t < 1e-6 {
                x = y;
                g = gy;
                break;
            }
            t *= 0.5;
        }
    }
    (norm(&g) <= 1e-9 * scale * (1.0 + norm(&x))).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::{Quadratic, Quartic};

    #[test]
    fn muller_brown_has_its_three_minima_and_two_saddles() {
        let u = Surface::MullerBrown { scale: 1.0 };
        let cp = u.critical_points();
        let minima: Vec<_> = cp.iter().filter(|p| p.index == 0).collect();
        let saddles: Vec<_> = cp.iter().filter(|p| p.index == 1).collect();
        assert_eq!(minima.len(), 3, "{cp:?}");
        assert_eq!(saddles.len(), 2, "{cp:?}");
        // Published values (Müller & Brown 1979) to the digits they are usually quoted with.
        let near = |p: &CriticalPoint, x: f64, y: f64, v: f64| {
            (p.x[0] - x).abs() < 2e-3 && (p.x[1] - y).abs() < 2e-3 && (p.value - v).abs() < 0.02
        };
        assert!(near(minima[0], -0.558, 1.442, -146.70), "{:?}", minima[0]);
        assert!(near(minima[1], 0.623, 0.028, -108.17), "{:?}", minima[1]);
        assert!(near(minima[2], -0.050, 0.467, -80.77), "{:?}", minima[2]);
        assert!(near(saddles[0], 0.212, 0.293, -72.25), "{:?}", saddles[0]);
        assert!(near(saddles[1], -0.822, 0.624, -40.66), "{:?}", saddles[1]);
    }

    #[test]
    fn gradients_and_hessians_match_finite_differences() {
        let q = [
            vec![0.6, 0.8, 0.0],
            vec![-0.8, 0.6, 0.0],
            vec![0.0, 0.0, 1.0],
        ];
        let surfaces = vec![
            Surface::Separable(
                Separable::new(
                    vec![
                        Landscape::Quartic(Quartic::new(1.0, 0.25).unwrap()),
                        Landscape::Quadratic(Quadratic::new(0.0, 2.0).unwrap()),
                        Landscape::Quartic(Quartic::new(0.7, 0.5).unwrap()),
                    ],
                    Some(&q),
                    Some(&[0.1, -0.2, 0.3]),
                )
                .unwrap(),
            ),
            Surface::Quadratic(
                QuadraticForm::new(
                    &[
                        vec![2.0, 0.5, 0.0],
                        vec![0.5, 1.0, 0.1],
                        vec![0.0, 0.1, 3.0],
                    ],
                    Some(&[0.0, 1.0, 0.0]),
                )
                .unwrap(),
            ),
            Surface::Wells(
                Wells::new(
                    0.1,
                    vec![
                        Well {
                            center: vec![-1.0, 0.0, 0.5],
                            depth: 1.0,
                            width: 0.2,
                        },
                        Well {
                            center: vec![1.0, 0.5, 0.0],
                            depth: 0.7,
                            width: 0.8,
                        },
                    ],
                    3,
                )
                .unwrap(),
            ),
        ];
        let x = [0.3, -0.4, 0.7];
        for u in surfaces {
            let g = u.grad(&x);
            let h = u.hessian(&x);
            for i in 0..3 {
                let e = 1e-6;
                let mut p = x;
                let mut m = x;
                p[i] += e;
                m[i] -= e;
                let fd = (u.value(&p) - u.value(&m)) / (2.0 * e);
                assert!(
                    (fd - g[i]).abs() < 1e-7,
                    "{} ∂{i}U {fd} vs {}",
                    u.kind(),
                    g[i]
                );
                let gp = u.grad(&p);
                let gm = u.grad(&m);
                for j in 0..3 {
                    let fd = (gp[j] - gm[j]) / (2.0 * e);
                    assert!((fd - h[(i, j)]).abs() < 1e-6, "{} H{i}{j}", u.kind());
                }
            }
        }
        let mb = Surface::MullerBrown { scale: 0.1 };
        let x = [-0.3, 0.8];
        let g = mb.grad(&x);
        for i in 0..2 {
            let mut p = x;
            let mut m = x;
            p[i] += 1e-6;
            m[i] -= 1e-6;
            let fd = (mb.value(&p) - mb.value(&m)) / 2e-6;
            assert!((fd - g[i]).abs() < 1e-6 * (1.0 + g[i].abs()));
        }
    }

    #[test]
    fn separable_critical_points_are_the_axes_combinations() {
        let q = [vec![0.6, 0.8], vec![-0.8, 0.6]];
        let s = Separable::new(
            vec![
                Landscape::Quartic(Quartic::new(1.0, 0.25).unwrap()),
                Landscape::Quadratic(Quadratic::new(0.0, 2.0).unwrap()),
            ],
            Some(&q),
            None,
        )
        .unwrap();
        let u = Surface::Separable(s.clone());
        let cp = u.critical_points();
        assert_eq!(cp.iter().filter(|p| p.index == 0).count(), 2);
        assert_eq!(cp.iter().filter(|p| p.index == 1).count(), 1);
        let saddle = cp.iter().find(|p| p.index == 1).unwrap();
        assert!(norm(&saddle.x) < 1e-15);
        for p in &cp {
            assert!(norm(&u.grad(&p.x)) < 1e-12);
            let y = s.to_axes(&p.x);
            assert!((y[0].abs() - 1.0).abs() < 1e-12 || y[0].abs() < 1e-12);
        }
        let bad = Separable::new(
            vec![Landscape::Flat(crate::landscape::Flat); 2],
            Some(&[vec![1.0, 0.1], vec![0.0, 1.0]]),
            None,
        )
        .unwrap_err();
        assert_eq!(bad.field, "rotation");
        assert!(bad.message.contains("orthogonal"), "{}", bad.message);
        let h = QuadraticForm::new(&[vec![1.0, 2.0], vec![2.0, 1.0]], None).unwrap_err();
        assert!(h.message.contains("positive definite"), "{}", h.message);
    }

    #[test]
    fn wells_have_one_minimum_per_well_and_saddles_between() {
        let u = Surface::Wells(
            Wells::new(
                0.05,
                vec![
                    Well {
                        center: vec![-1.0, 0.0],
                        depth: 1.0,
                        width: 0.25,
                    },
                    Well {
                        center: vec![1.0, 0.0],
                        depth: 0.6,
                        width: 0.8,
                    },
                ],
                2,
            )
            .unwrap(),
        );
        let cp = u.critical_points();
        let minima: Vec<_> = cp.iter().filter(|p| p.index == 0).collect();
        assert_eq!(minima.len(), 2, "{cp:?}");
        // The sharp well is deeper here and listed first; its curvature is ≈ depth/width².
        assert!((minima[0].x[0] + 1.0).abs() < 0.05);
        assert!(minima[0].eigenvalues[0] > 10.0);
        assert!(minima[1].eigenvalues[1] < 2.0);
        assert_eq!(cp.iter().filter(|p| p.index == 1).count(), 1, "{cp:?}");
    }
}
