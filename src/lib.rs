//! # levylab
//!
//! A laboratory for one question: is the gradient noise of SGD heavy-tailed (α-stable) rather than
//! Gaussian, and what does that change about how long the dynamics stay in a minimum?
//! (Şimşekli, Sagun & Gürbüzbalaban, ICML 2019.)
//!
//! ## Conventions
//! * Stable law `S_α(σ, β, μ)`, α ∈ (0, 2], β ∈ [−1, 1], in parametrization S1 (default) or S0;
//!   symmetric: `E e^{iuX} = exp(−|σu|^α)`, so α = 2 is `N(0, 2σ²)` and α = 1, β = 0 is Cauchy(0, σ).
//! * Standard Lévy motion: `E e^{iuL_t} = exp(−t|u|^α)`; its increment over dt is `dt^{1/α}·S`.
//! * All simulation and statistics in `f64`; every random result is a pure function of
//!   (seed, stream index), see [`rng`].
//!
//! ## Modules
//! * [`noise`] — the α-stable law (CMS sampler, CDF, quantiles) and SDE noise increments.
//! * [`landscape`] — 1-D potentials (quartic, tilted, asymmetric, piecewise-quadratic, polynomial,
//!   quadratic, flat) with their critical points and exact drift flows where they exist.
//! * [`sde`] — schemes (Euler, drift-implicit, tamed, Strang splitting), exit events, the lane kernel
//!   and the deterministic parallel runner; exits from a ball in ℝᵈ.
//! * [`stats`] — exit-time statistics under censoring; tail-index estimators (the paper's block-sum,
//!   Hill, McCulloch) with bootstrap intervals; the streamed gradient-noise report with its
//!   iteration-wise tests (Anderson–Darling with Benjamini–Hochberg, per-coordinate α by
//!   characteristic-function regression, Clauset–Shalizi–Newman power laws) and the covariance
//!   spectrum by subspace iteration.
//! * [`theory`] — Kramers, exact mean first-passage times, Imkeller–Pavlyukevich, Getoor and its
//!   skewed generalization, the nonlocal solver for Lévy noise, the multi-well Markov chains, the
//!   d-dimensional laws: pure functions.
//! * [`config`] — the reader below scenario and training files: one-line errors with file, line and
//!   field; sweeps.
//! * [`scenario`] — scenario TOML → validated simulation points, and which theory applies to each.
//! * [`experiment`] — running a scenario (or one shard of it), merging shards, writing the results.
//! * [`trainer`] — the embedded digits set, IDX files, f32 FC nets and AlexNets on levylab's own
//!   GEMM, SGD, and the
//!   streamed gradient-noise measurement.
//! * [`plot`] — PNG drawing with the embedded font; takes finished data only.
//! * [`figures`] — the figure gallery above [`experiment`] and [`trainer`]: computes the paper's
//!   figures (runs scenarios, trains networks) and draws them with [`plot`].
//! * [`io`] — reading and writing samples (text, CSV column, `.npy`), atomic writes.
//! * [`numeric`] — quadrature, root finding, special functions.
//! * [`rng`] — per-stream random generators.
//! * [`simd`] — vector lanes (scalar, AVX2, AVX-512) with bit-identical math for the engine's kernel.
//! * [`cli`] — the `levylab` command line (the only module that prints).

#![deny(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]
// `!(x > 0.0)` is the house idiom for "not positive, or NaN": parameter checks must reject NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod cli;
pub mod config;
pub mod error;
pub mod experiment;
pub mod figures;
pub mod io;
pub mod landscape;
pub mod noise;
pub mod numeric;
pub mod plot;
pub mod rng;
pub mod scenario;
pub mod sde;
pub mod simd;
pub mod stats;
pub mod theory;
pub mod trainer;

pub use error::Error;
