//! Noise: the α-stable law, Gaussian increments, and the [`Noise`] that drives an SDE.
//!
//! * [`Stable`] — `S_α(σ, β, μ)` in parametrization S1 or S0, sampled by Chambers–Mallows–Stuck.
//! * [`Noise`] — Brownian `σ dW`, stable `ε dL^α`, or mixed `εσ_B dW + ε dL^α`; its
//!   [`Noise::increment`] gives the exact law of the increment over a step dt.

pub mod cdf;
mod stable;
pub mod vector;

use crate::simd::math::{self, Cms};
use crate::simd::{Lanes, Scalar};

pub use stable::{Param, Stable, StandardStable, c_alpha};

/// Invalid noise or stable-law parameters.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NoiseError {
    /// α outside (0, 2] or NaN.
    #[error("stability index alpha must be in (0, 2], got {0}")]
    AlphaOutOfRange(f64),
    /// |β| > 1 or NaN.
    #[error("skewness beta must be in [-1, 1], got {0}")]
    BetaOutOfRange(f64),
    /// σ ≤ 0, NaN or ±∞.
    #[error("scale must be finite and > 0, got {0}")]
    ScaleNotPositive(f64),
    /// μ NaN or ±∞.
    #[error("location must be finite, got {0}")]
    LocationNotFinite(f64),
    /// Noise amplitude (σ or ε) ≤ 0, NaN or ±∞.
    #[error("noise amplitude {name} must be finite and > 0, got {value}")]
    AmplitudeNotPositive {
        /// `sigma`, `epsilon` or `sigma_b`.
        name: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// dt ≤ 0, NaN or ±∞.
    #[error("time step dt must be finite and > 0, got {0}")]
    StepNotPositive(f64),
}

/// The driving noise of `dX = −U′(X) dt + noise`.
///
/// * `Brownian { sigma }`: `σ dW`.
/// * `Stable { alpha, beta, epsilon }`: `ε dL^α`, L the standard (β-skewed) α-stable Lévy motion
///   with `E e^{iuL_t} = exp(−t|u|^α (1 − iβ sign(u) tan(πα/2)))`; at α = 2, `L = √2·W`.
/// * `Mixed { alpha, beta, epsilon, sigma_b }`: `εσ_B dW + ε dL^α` (Nguyen et al. 2019).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Noise {
    /// Brownian motion with amplitude σ.
    Brownian {
        /// σ.
        sigma: f64,
    },
    /// α-stable Lévy motion with amplitude ε.
    Stable {
        /// α ∈ (0, 2].
        alpha: f64,
        /// β ∈ [−1, 1].
        beta: f64,
        /// ε > 0.
        epsilon: f64,
    },
    /// Brownian plus α-stable.
    Mixed {
        /// α ∈ (0, 2].
        alpha: f64,
        /// β ∈ [−1, 1].
        beta: f64,
        /// ε > 0 (multiplies both parts).
        epsilon: f64,
        /// σ_B > 0, the Brownian amplitude relative to ε.
        sigma_b: f64,
    },
}

fn check_amplitude(name: &'static str, value: f64) -> Result<(), NoiseError> {
    if value > 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(NoiseError::AmplitudeNotPositive { name, value })
    }
}

impl Noise {
    /// Checks every parameter.
    pub fn validate(&self) -> Result<(), NoiseError> {
        match *self {
            Noise::Brownian { sigma } => check_amplitude("sigma", sigma),
            Noise::Stable {
                alpha,
                beta,
                epsilon,
            } => {
                stable::check_alpha_beta(alpha, beta)?;
                check_amplitude("epsilon", epsilon)
            }
            Noise::Mixed {
                alpha,
                beta,
                epsilon,
                sigma_b,
            } => {
                stable::check_alpha_beta(alpha, beta)?;
                check_amplitude("epsilon", epsilon)?;
                check_amplitude("sigma_b", sigma_b)
            }
        }
    }

    /// The law of the increment over one step of length `dt`.
    ///
    /// # Formula
    /// ```text
    /// Brownian: σ√dt · Z
    /// stable:   ε · (dt^{1/α} · S + [α = 1] (2/π) β dt ln dt),   S ~ S_α(1, β, 0) (S1)
    /// mixed:    εσ_B√dt · Z + the stable part
    /// ```
    pub fn increment(&self, dt: f64) -> Result<Increment, NoiseError> {
        self.validate()?;
        if !(dt > 0.0 && dt.is_finite()) {
            return Err(NoiseError::StepNotPositive(dt));
        }
        let stable_part = |alpha: f64, beta: f64, eps: f64| -> Result<StablePart, NoiseError> {
            let drift = if alpha == 1.0 {
                eps * std::f64::consts::FRAC_2_PI * beta * dt * dt.ln()
            } else {
                0.0
            };
            Ok(StablePart {
                law: StandardStable::new(alpha, beta)?,
                scale: eps * dt.powf(1.0 / alpha),
                drift,
            })
        };
        Ok(match *self {
            Noise::Brownian { sigma } => Increment {
                gauss_scale: sigma * dt.sqrt(),
                stable: None,
            },
            Noise::Stable {
                alpha,
                beta,
                epsilon,
            } => Increment {
                gauss_scale: 0.0,
                stable: Some(stable_part(alpha, beta, epsilon)?),
            },
            Noise::Mixed {
                alpha,
                beta,
                epsilon,
                sigma_b,
            } => Increment {
                gauss_scale: epsilon * sigma_b * dt.sqrt(),
                stable: Some(stable_part(alpha, beta, epsilon)?),
            },
        })
    }

    /// The Brownian amplitude (σ; εσ_B for mixed noise; √2·ε for stable noise at α = 2, which is
    /// Brownian; 0 for stable noise with α < 2), used by the Brownian-bridge crossing correction.
    pub fn brownian_amplitude(&self) -> f64 {
        match *self {
            Noise::Brownian { sigma } => sigma,
            Noise::Stable {
                alpha: 2.0,
                epsilon,
                ..
            } => std::f64::consts::SQRT_2 * epsilon,
            Noise::Stable { .. } => 0.0,
            Noise::Mixed {
                alpha: 2.0,
                epsilon,
                sigma_b,
                ..
            } => epsilon * (sigma_b * sigma_b + 2.0).sqrt(),
            Noise::Mixed {
                epsilon, sigma_b, ..
            } => epsilon * sigma_b,
        }
    }

    /// Whether paths are continuous (Brownian, or stable/mixed at α = 2).
    pub fn is_continuous(&self) -> bool {
        match *self {
            Noise::Brownian { .. } => true,
            Noise::Stable { alpha, .. } | Noise::Mixed { alpha, .. } => alpha == 2.0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct StablePart {
    law: StandardStable,
    scale: f64,
    drift: f64,
}

/// The increment of a [`Noise`] over one fixed step; sampling cannot fail.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Increment {
    gauss_scale: f64,
    stable: Option<StablePart>,
}

impl Increment {
    /// Standard deviation of the Gaussian part (0 if there is none).
    pub fn gauss_scale(&self) -> f64 {
        self.gauss_scale
    }

    /// The stable part as (α, β, scale, drift): the increment adds scale·S + drift, S ~ S_α(1, β, 0).
    pub fn stable_part(&self) -> Option<(f64, f64, f64, f64)> {
        self.stable
            .map(|s| (s.law.alpha(), s.law.beta(), s.scale, s.drift))
    }
}

impl Increment {
    /// The coefficients the lane kernels draw this increment with.
    pub(crate) fn lanes(&self) -> LaneIncrement {
        LaneIncrement {
            gauss: self.gauss_scale,
            stable: self
                .stable
                .map(|s| (Cms::new(s.law.alpha(), s.law.beta()), s.scale, s.drift)),
        }
    }

    /// `n` consecutive increments of path `path`'s stream of `seed`, drawn exactly as the
    /// simulation kernel draws them (the same words of [`crate::rng::stream_state`], the same
    /// functions): the increments of a simulated path, without the scheme and the event. Bridge
    /// words, when a simulation uses them, come after each increment and are not drawn here.
    pub fn draws(&self, seed: u64, path: u64, n: usize) -> Vec<f64> {
        let l = self.lanes();
        let mut s = crate::rng::stream_state(seed, path);
        (0..n).map(|_| l.draw::<Scalar>(&mut s).0).collect()
    }
}

/// An increment's coefficients for the lane kernels: the Gaussian part's SD and the stable part as
/// (CMS constants, scale, drift).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LaneIncrement {
    gauss: f64,
    stable: Option<(Cms, f64, f64)>,
}

impl LaneIncrement {
    /// One increment per lane: two words for the Gaussian part (Box–Muller), then two for the
    /// stable part (V and W of Chambers–Mallows–Stuck), in this order.
    #[inline(always)]
    pub(crate) fn draw<V: Lanes>(&self, s: &mut [V::U; 4]) -> V {
        let mut dl = V::splat(0.0);
        if self.gauss > 0.0 {
            let w1 = math::xoshiro::<V>(s);
            let w2 = math::xoshiro::<V>(s);
            dl = V::splat(self.gauss).mul(math::normal::<V>(w1, w2));
        }
        if let Some((cms, scale, drift)) = &self.stable {
            let w1 = math::xoshiro::<V>(s);
            let w2 = math::xoshiro::<V>(s);
            let x = cms.sample::<V>(w1, w2);
            dl = dl.add(V::splat(*scale).mul_add(x, V::splat(*drift)));
        }
        dl
    }
}

/// Samples per random stream: sample i comes from stream ⌊i / DRAW_CHUNK⌋ of the seed, so the output is
/// the same for any thread count.
const DRAW_CHUNK: usize = 1 << 16;

/// Draws `n` samples of `law`: a pure function of (law, n, seed).
pub fn draw(law: &Stable, n: usize, seed: u64) -> Vec<f64> {
    use rand::distr::Distribution;
    use rayon::prelude::*;
    let mut xs = vec![0.0; n];
    xs.par_chunks_mut(DRAW_CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            let mut r = crate::rng::stream(seed, c as u64);
            for x in chunk {
                *x = law.sample(&mut r);
            }
        });
    xs
}
