//! Noise in ℝᵈ: Brownian with a covariance, α-stable with independent or isotropic components,
//! and their sum.
//!
//! * Brownian: σ dW with Cov(W_t) = tC (C = `covariance`, or diag(`sigmas`²), or I); the increment
//!   over dt is √dt·L z with LLᵀ = σ²C (Cholesky) and z standard normal.
//! * Stable, `independent` (the paper's L): coordinates i.i.d. standard SαS Lévy motions times
//!   per-axis scales sᵢ, E e^{i⟨u,L_t⟩} = exp(−t Σᵢ|sᵢuᵢ|^α); increment ε dt^{1/α} sᵢ Sᵢ.
//! * Stable, `isotropic`: E e^{i⟨u,L_t⟩} = exp(−t|u|^α), sampled as √A·G with G ~ N(0, 2I) and
//!   A ~ S_{α/2}(cos(πα/4)^{2/α}, 1, 0) (sub-Gaussian representation, Samorodnitsky & Taqqu 1994,
//!   Prop. 2.5.2).
//! * Mixed: εσ_B dW + ε dL (the Brownian part with covariance σ_B²C).
//!
//! Only symmetric stable laws (β = 0) exist in ℝᵈ here.

use nalgebra::DMatrix;

use super::NoiseError;
use super::stable::check_alpha_beta;
use crate::landscape::surface::{SurfaceError, square_matrix, symmetric_positive_definite};

/// How the stable components are coupled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// i.i.d. SαS coordinates: jumps along the axes.
    Independent,
    /// Rotationally invariant: jumps in every direction.
    Isotropic,
}

impl Shape {
    /// The name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Independent => "independent",
            Shape::Isotropic => "isotropic",
        }
    }
}

/// The α-stable part of a [`VectorNoise`].
#[derive(Clone, Debug, PartialEq)]
pub struct VectorStable {
    /// α ∈ (0, 2].
    pub alpha: f64,
    /// ε > 0.
    pub epsilon: f64,
    /// Independent or isotropic.
    pub shape: Shape,
    /// Per-axis scales sᵢ (independent only; all 1 for isotropic).
    pub scales: Vec<f64>,
}

/// A noise in ℝᵈ: a Brownian part, a stable part, or both.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorNoise {
    dim: usize,
    /// The Brownian covariance per unit time (row-major), None when there is no Brownian part.
    covariance: Option<Vec<f64>>,
    stable: Option<VectorStable>,
}

/// Why a vector noise is invalid: a scalar parameter, or a vector/matrix field.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum VectorNoiseError {
    /// α, ε, σ out of range.
    #[error(transparent)]
    Scalar(#[from] NoiseError),
    /// `covariance`, `sigmas` or `scales` wrong.
    #[error(transparent)]
    Field(#[from] SurfaceError),
}

fn positive_entries(field: &str, v: &[f64], dim: usize) -> Result<Vec<f64>, SurfaceError> {
    let v = crate::landscape::surface::vector(field, v, dim)?;
    if let Some((i, x)) = v.iter().enumerate().find(|(_, x)| **x <= 0.0) {
        return Err(SurfaceError {
            field: format!("{field}[{i}]"),
            message: format!("must be > 0, got {x}"),
        });
    }
    Ok(v)
}

/// The Brownian covariance C from `covariance` or `sigmas` (identity when neither), times `amp`².
pub fn brownian_covariance(
    dim: usize,
    amp: f64,
    covariance: Option<&[Vec<f64>]>,
    sigmas: Option<&[f64]>,
) -> Result<Vec<f64>, VectorNoiseError> {
    let c = match (covariance, sigmas) {
        (Some(_), Some(_)) => {
            return Err(SurfaceError {
                field: "sigmas".into(),
                message: "give either covariance or sigmas, not both".into(),
            }
            .into());
        }
        (Some(rows), None) => {
            let m = square_matrix("covariance", rows, dim)?;
            symmetric_positive_definite("covariance", &m, dim)?;
            m
        }
        (None, Some(s)) => {
            let s = positive_entries("sigmas", s, dim)?;
            let mut m = vec![0.0; dim * dim];
            for i in 0..dim {
                m[i * dim + i] = s[i] * s[i];
            }
            m
        }
        (None, None) => {
            let mut m = vec![0.0; dim * dim];
            for i in 0..dim {
                m[i * dim + i] = 1.0;
            }
            m
        }
    };
    Ok(c.into_iter().map(|v| v * amp * amp).collect())
}

/// A lower-triangular L with LLᵀ = C for a symmetric C with eigenvalues ≥ 0 (negative ones, from
/// rounding, are taken as 0): B = V·Λ^{1/2} has BBᵀ = C, and the QR factorization Bᵀ = QR gives
/// C = RᵀR, so L = Rᵀ with its columns' signs made positive on the diagonal.
fn eigen_lower_factor(c: &DMatrix<f64>) -> DMatrix<f64> {
    let d = c.nrows();
    let e = c.clone().symmetric_eigen();
    let root = e.eigenvalues.map(|l| l.max(0.0).sqrt());
    let b = &e.eigenvectors * DMatrix::from_diagonal(&root);
    let mut l = b.transpose().qr().r().transpose();
    for j in 0..d {
        if l[(j, j)] < 0.0 {
            for i in j..d {
                l[(i, j)] = -l[(i, j)];
            }
        }
    }
    l
}

impl VectorNoise {
    /// σ dW with covariance σ²C (C from `covariance` or `sigmas`, identity when neither).
    pub fn brownian(
        dim: usize,
        sigma: f64,
        covariance: Option<&[Vec<f64>]>,
        sigmas: Option<&[f64]>,
    ) -> Result<VectorNoise, VectorNoiseError> {
        super::check_amplitude("sigma", sigma)?;
        Ok(VectorNoise {
            dim,
            covariance: Some(brownian_covariance(dim, sigma, covariance, sigmas)?),
            stable: None,
        })
    }

    /// ε dL^α with the given shape (β = 0); `scales` only for independent components.
    pub fn stable(
        dim: usize,
        alpha: f64,
        epsilon: f64,
        shape: Shape,
        scales: Option<&[f64]>,
    ) -> Result<VectorNoise, VectorNoiseError> {
        Ok(VectorNoise {
            dim,
            covariance: None,
            stable: Some(stable_part(dim, alpha, epsilon, shape, scales)?),
        })
    }

    /// εσ_B dW + ε dL^α.
    #[allow(clippy::too_many_arguments)]
    pub fn mixed(
        dim: usize,
        alpha: f64,
        epsilon: f64,
        sigma_b: f64,
        shape: Shape,
        scales: Option<&[f64]>,
        covariance: Option<&[Vec<f64>]>,
        sigmas: Option<&[f64]>,
    ) -> Result<VectorNoise, VectorNoiseError> {
        super::check_amplitude("sigma_b", sigma_b)?;
        let stable = stable_part(dim, alpha, epsilon, shape, scales)?;
        Ok(VectorNoise {
            dim,
            covariance: Some(brownian_covariance(
                dim,
                epsilon * sigma_b,
                covariance,
                sigmas,
            )?),
            stable: Some(stable),
        })
    }

    /// d.
    pub fn dim(&self) -> usize {
        self.dim
    }
    /// The Brownian part's covariance per unit time, row-major.
    pub fn covariance(&self) -> Option<&[f64]> {
        self.covariance.as_deref()
    }
    /// The stable part.
    pub fn stable_part(&self) -> Option<&VectorStable> {
        self.stable.as_ref()
    }

    /// Whether paths are continuous (no stable part, or α = 2).
    pub fn is_continuous(&self) -> bool {
        self.stable.as_ref().is_none_or(|s| s.alpha == 2.0)
    }

    /// The covariance per unit time of the continuous part, row-major: the Brownian part plus a
    /// stable part at α = 2 (which is Brownian with covariance 2ε²diag(sᵢ²)). None if there is
    /// none. The Brownian-bridge test uses it.
    pub fn continuous_covariance(&self) -> Option<Vec<f64>> {
        let d = self.dim;
        let mut c = self.covariance.clone();
        if let Some(s) = &self.stable
            && s.alpha == 2.0
        {
            let m = c.get_or_insert_with(|| vec![0.0; d * d]);
            for i in 0..d {
                m[i * d + i] += 2.0 * s.epsilon * s.epsilon * s.scales[i] * s.scales[i];
            }
        }
        c
    }

    /// The 1-D noise of the projection ⟨v, X⟩ on a unit vector v, as (Brownian σ, stable (α, ε)):
    /// σ² = vᵀΣv; the isotropic stable projection is SαS with the same ε, the independent one
    /// has ε·(Σᵢ|vᵢsᵢ|^α)^{1/α}.
    pub fn projection(&self, v: &[f64]) -> (Option<f64>, Option<(f64, f64)>) {
        let d = self.dim;
        let sigma = self.covariance.as_ref().map(|c| {
            (0..d)
                .map(|i| v[i] * (0..d).map(|j| c[i * d + j] * v[j]).sum::<f64>())
                .sum::<f64>()
                .sqrt()
        });
        let stable = self.stable.as_ref().map(|s| {
            let eps = match s.shape {
                Shape::Isotropic => s.epsilon,
                Shape::Independent => {
                    s.epsilon
                        * v.iter()
                            .zip(&s.scales)
                            .map(|(a, b)| (a * b).abs().powf(s.alpha))
                            .sum::<f64>()
                            .powf(1.0 / s.alpha)
                }
            };
            (s.alpha, eps)
        });
        (sigma, stable)
    }

    /// The Cholesky factor L (row-major, lower) of the Brownian covariance times dt.
    pub fn brownian_factor(&self, dt: f64) -> Option<Vec<f64>> {
        let d = self.dim;
        self.covariance.as_ref().map(|c| {
            let c = DMatrix::from_row_slice(d, d, c);
            // Cholesky of C·dt; where C·dt under- or overflows (a tiny or huge dt or amplitude),
            // √dt times a factor of C: Cholesky, or from C's eigen-decomposition when C is
            // positive definite only by a margin Cholesky cannot resolve.
            let l = (c.clone() * dt)
                .cholesky()
                .map(|ch| ch.l())
                .or_else(|| c.clone().cholesky().map(|ch| ch.l() * dt.sqrt()))
                .unwrap_or_else(|| eigen_lower_factor(&c) * dt.sqrt());
            let mut out = vec![0.0; d * d];
            for i in 0..d {
                for j in 0..=i {
                    out[i * d + j] = l[(i, j)];
                }
            }
            out
        })
    }
}

fn stable_part(
    dim: usize,
    alpha: f64,
    epsilon: f64,
    shape: Shape,
    scales: Option<&[f64]>,
) -> Result<VectorStable, VectorNoiseError> {
    check_alpha_beta(alpha, 0.0)?;
    super::check_amplitude("epsilon", epsilon)?;
    let scales = match (shape, scales) {
        (_, None) => vec![1.0; dim],
        (Shape::Independent, Some(s)) => positive_entries("scales", s, dim)?,
        (Shape::Isotropic, Some(_)) => {
            return Err(SurfaceError {
                field: "scales".into(),
                message: "applies to shape = \"independent\" only (isotropic noise has one scale, epsilon)".into(),
            }
            .into());
        }
    };
    Ok(VectorStable {
        alpha,
        epsilon,
        shape,
        scales,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_eigen_factor_is_the_cholesky_factor() {
        let c =
            nalgebra::DMatrix::from_row_slice(3, 3, &[4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0]);
        let l = super::eigen_lower_factor(&c);
        for i in 0..3 {
            for j in i + 1..3 {
                assert_eq!(l[(i, j)], 0.0);
            }
        }
        assert!((&l * l.transpose() - &c).abs().max() < 1e-12);
        // The lower factor with a positive diagonal is unique: Cholesky's.
        assert!((c.cholesky().unwrap().l() - l).abs().max() < 1e-12);
    }
}
