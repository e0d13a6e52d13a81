//! Exit from a ball in d dimensions under a radial landscape (nalgebra vectors).

use std::f64::consts::PI;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use nalgebra::DVector;
use rand::RngExt;
use rand::distr::Distribution;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::{Outcome, RunConfig, RunResult, SdeError, Side};
use crate::noise::{NoiseError, Stable, StandardStable};
use crate::rng::{self, PathRng};
use crate::stats::ExitStats;

/// A radial landscape in ℝᵈ.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RadialLandscape {
    /// U ≡ 0.
    Flat,
    /// U = ½κ|x|²; exact drift flow x·e^{−κt}.
    Quadratic {
        /// κ > 0.
        curvature: f64,
    },
}

/// Noise in ℝᵈ.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BallNoise {
    /// σ dW, W a standard d-dimensional Brownian motion.
    Brownian {
        /// σ.
        sigma: f64,
    },
    /// ε dL, L the isotropic α-stable motion with E e^{i⟨u, L_t⟩} = exp(−t|u|^α), sampled as
    /// √A·G with G ~ N(0, 2I) and A ~ S_{α/2}(cos(πα/4)^{2/α}, 1, 0) (sub-Gaussian representation,
    /// Samorodnitsky & Taqqu 1994, Prop. 2.5.2).
    Isotropic {
        /// α ∈ (0, 2].
        alpha: f64,
        /// ε > 0.
        epsilon: f64,
    },
    /// ε dL with independent SαS coordinates (the Lévy measure lives on the axes).
    Independent {
        /// α ∈ (0, 2].
        alpha: f64,
        /// ε > 0.
        epsilon: f64,
    },
}

/// First exit of `dX = −∇U(X)dt + noise` from the ball |x| < radius, started at `start`.
#[derive(Clone, Debug)]
pub struct BallSimulation {
    landscape: RadialLandscape,
    noise: BallNoise,
    dim: usize,
    radius: f64,
    start: DVector<f64>,
    dt: f64,
    max_steps: u64,
    horizon: f64,
    scale: f64,
    subordinator: Option<Stable>,
    coord: Option<StandardStable>,
    flow: f64,
}

impl BallSimulation {
    /// Validates the set-up.
    pub fn new(
        landscape: RadialLandscape,
        noise: BallNoise,
        radius: f64,
        start: Vec<f64>,
        dt: f64,
        horizon: f64,
    ) -> Result<Self, SdeError> {
        let dim = start.len();
        if dim == 0 {
            return Err(SdeError::NoDimensions);
        }
        if !(radius > 0.0 && radius.is_finite()) {
            return Err(SdeError::Radius(radius));
        }
        let start = DVector::from_vec(start);
        if !(start.norm() < radius) {
            return Err(SdeError::StartOutsideBall {
                norm: start.norm(),
                radius,
            });
        }
        if !(dt > 0.0 && dt.is_finite()) {
            return Err(SdeError::Step(dt));
        }
        if !(horizon > dt && horizon.is_finite()) {
            return Err(SdeError::Horizon { horizon, dt });
        }
        let flow = match landscape {
            RadialLandscape::Flat => 1.0,
            RadialLandscape::Quadratic { curvature }
                if curvature > 0.0 && curvature.is_finite() =>
            {
                (-curvature * dt).exp()
            }
            RadialLandscape::Quadratic { curvature } => {
                return Err(SdeError::Landscape(
                    crate::landscape::LandscapeError::NotPositive {
                        name: "curvature",
                        value: curvature,
                    },
                ));
            }
        };
        let (scale, subordinator, coord) = match noise {
            BallNoise::Brownian { sigma } => {
                if !(sigma > 0.0 && sigma.is_finite()) {
                    return Err(NoiseError::AmplitudeNotPositive {
                        name: "sigma",
                        value: sigma,
                    }
                    .into());
                }
                (sigma * dt.sqrt(), None, None)
            }
            BallNoise::Isotropic { alpha, epsilon } | BallNoise::Independent { alpha, epsilon } => {
                if !(epsilon > 0.0 && epsilon.is_finite()) {
                    return Err(NoiseError::AmplitudeNotPositive {
                        name: "epsilon",
                        value: epsilon,
                    }
                    .into());
                }
                let coord = StandardStable::new(alpha, 0.0)?;
                let sub = match noise {
                    BallNoise::Isotropic { .. } if alpha < 2.0 => Some(Stable::new(
                        alpha / 2.0,
                        1.0,
                        (PI * alpha / 4.0).cos().powf(2.0 / alpha),
                        0.0,
                        crate::noise::Param::S1,
                    )?),
                    _ => None,
                };
                (epsilon * dt.powf(1.0 / alpha), sub, Some(coord))
            }
        };
        Ok(Self {
            landscape,
            noise,
            dim,
            radius,
            start,
            dt,
            max_steps: (horizon / dt).round() as u64,
            horizon,
            scale,
            subordinator,
            coord,
            flow,
        })
    }

    /// Dimension d.
    pub fn dim(&self) -> usize {
        self.dim
    }
    /// Radius r.
    pub fn radius(&self) -> f64 {
        self.radius
    }
    /// |start|.
    pub fn start_radius(&self) -> f64 {
        self.start.norm()
    }
    /// The noise.
    pub fn noise(&self) -> BallNoise {
        self.noise
    }
    /// Time step.
    pub fn dt(&self) -> f64 {
        self.dt
    }
    /// Horizon.
    pub fn horizon(&self) -> f64 {
        self.horizon
    }
    /// The landscape.
    pub fn landscape(&self) -> RadialLandscape {
        self.landscape
    }

    fn increment(&self, rng: &mut PathRng, dx: &mut DVector<f64>) {
        match self.noise {
            BallNoise::Brownian { .. } => dx
                .iter_mut()
                .for_each(|v| *v = self.scale * rng.sample::<f64, _>(StandardNormal)),
            BallNoise::Isotropic { alpha, .. } => {
                // √A·G, G ~ N(0, 2I); at α = 2, A ≡ 1.
                let a = if alpha < 2.0 {
                    self.subordinator.map_or(1.0, |s| s.sample(rng))
                } else {
                    1.0
                };
                let f = self.scale * (2.0 * a).sqrt();
                dx.iter_mut()
                    .for_each(|v| *v = f * rng.sample::<f64, _>(StandardNormal));
            }
            BallNoise::Independent { .. } => {
                let c = self.coord.expect("validated in new");
                dx.iter_mut().for_each(|v| *v = self.scale * c.sample(rng));
            }
        }
    }

    fn simulate(&self, seed: u64, path: u64) -> (Outcome, u64) {
        let mut r = rng::stream(seed, path);
        let mut x = self.start.clone();
        let mut dx = DVector::zeros(self.dim);
        let bridge_var = match self.noise {
            BallNoise::Brownian { sigma } => Some(sigma * sigma * self.dt),
            BallNoise::Isotropic { alpha, epsilon } | BallNoise::Independent { alpha, epsilon }
                if alpha == 2.0 =>
            {
                Some(2.0 * epsilon * epsilon * self.dt)
            }
            _ => None,
        };
        for n in 0..self.max_steps {
            let before = x.norm();
            self.increment(&mut r, &mut dx);
            x *= self.flow;
            x += &dx;
            let t = (n + 1) as f64 * self.dt;
            let rad = x.norm();
            if !rad.is_finite() {
                return (Outcome::NonFinite { time: t }, n + 1);
            }
            // Exit at the grid point, or (Brownian part) by the bridge test on the distance to the
            // sphere, the boundary taken as locally flat.
            let bridged = rad < self.radius
                && bridge_var.is_some_and(|v| {
                    let e = 2.0 * (self.radius - before) * (self.radius - rad) / v;
                    e < super::runner::BRIDGE_CUTOFF && r.random::<f64>() < (-e).exp()
                });
            if rad >= self.radius || bridged {
                return (
                    Outcome::Exited {
                        time: t,
                        side: Side::High,
                        from: before,
                    },
                    n + 1,
                );
            }
        }
        (Outcome::Censored { time: self.horizon }, self.max_steps)
    }

    /// Runs paths `cfg.first_path .. cfg.first_path + cfg.paths` in parallel (the lane width,
    /// instruction set and recording fields of `cfg` do not apply). `done` counts finished paths;
    /// once `stop` is set, paths not yet started are censored at time 0.
    pub fn run(&self, cfg: &RunConfig, done: &AtomicU64, stop: &AtomicBool) -> RunResult {
        const CHUNK: u64 = 1024;
        let empty = || {
            (
                ExitStats::new(self.dt, self.horizon, cfg.exact_times),
                0u64,
                Vec::new(),
            )
        };
        let (mut stats, steps, mut parts) = (0..cfg.paths.div_ceil(CHUNK))
            .into_par_iter()
            .fold(empty, |(mut st, mut steps, mut parts), c| {
                let lo = cfg.first_path + c * CHUNK;
                let hi = (lo + CHUNK).min(cfg.first_path + cfg.paths);
                let outs: Vec<Outcome> = (lo..hi)
                    .map(|p| {
                        if stop.load(Ordering::Relaxed) {
                            return Outcome::Censored { time: 0.0 };
                        }
                        let (o, n) = self.simulate(cfg.seed, p);
                        steps += n;
                        done.fetch_add(1, Ordering::Relaxed);
                        o
                    })
                    .collect();
                outs.iter().for_each(|o| st.push(o));
                if cfg.outcomes {
                    parts.push((c, outs));
                }
                (st, steps, parts)
            })
            .reduce(empty, super::runner::merge_parts);
        stats.normalize();
        parts.sort_unstable_by_key(|p| p.0);
        RunResult {
            outcomes: parts.into_iter().flat_map(|p| p.1).collect(),
            stats,
            steps,
            interrupted: stop.load(Ordering::Relaxed),
            trajectories: Vec::new(),
        }
    }
}
