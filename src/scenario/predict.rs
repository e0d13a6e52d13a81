//! Which theory applies to a point, and its predictions.
//!
//! | key | when | what |
//! |---|---|---|
//! | `mfpt_exact` | Brownian (or stable α = 2, σ = √2ε), 1-D | exact mean first-passage time to the event |
//! | `kramers` | Brownian, `transition` or `reach` of another minimum | Eyring–Kramers; for `transition` (saddle crossing) half the well-to-well time |
//! | `levy_ip` | symmetric stable α < 2, a landscape with a minimum in the start basin | Imkeller–Pavlyukevich mean exit / transition time |
//! | `levy_ip_right` | same, `interval` event | IP probability to leave through the upper end |
//! | `markov_occupancy` | stable α < 2, ≥ 2 minima | stationary weight of the start basin in the ε → 0 Markov chain |
//! | `getoor` | stable (any α ≤ 2, β = 0), flat landscape, `interval` or `ball` | exact mean exit time |
//! | `mfpt_exact` (ball) | Brownian, flat, `ball` | (r² − \|x\|²)/(dσ²) |

use std::collections::BTreeMap;

use super::{Model, Point};
use crate::landscape::{Landscape, Potential};
use crate::noise::Noise;
use crate::sde::{BallNoise, Event, RadialLandscape};
use crate::theory;

/// Every applicable theory prediction for a point, by name. Predictions that fail numerically (e.g.
/// an exact time beyond the f64 range) are left out.
pub fn predictions(p: &Point) -> BTreeMap<&'static str, f64> {
    let mut out = BTreeMap::new();
    match &p.model {
        Model::Ball(b) => {
            let (r, x, d) = (b.radius(), b.start_radius(), b.dim());
            if b.landscape() == RadialLandscape::Flat {
                match b.noise() {
                    BallNoise::Brownian { sigma } => put(
                        &mut out,
                        "mfpt_exact",
                        theory::brownian_ball_exit_time(sigma, r, x, d).ok(),
                    ),
                    BallNoise::Isotropic { alpha, epsilon } => put(
                        &mut out,
                        "getoor",
                        theory::getoor_exit_time(alpha, epsilon, r, x, d).ok(),
                    ),
                    BallNoise::Independent { alpha, epsilon } if d == 1 || alpha == 2.0 => put(
                        &mut out,
                        "getoor",
                        theory::getoor_exit_time(alpha, epsilon, r, x, d).ok(),
                    ),
                    BallNoise::Independent { .. } => {}
                }
            }
        }
        Model::Line(sim) => {
            let u = sim.landscape();
            let x0 = sim.start();
            let ev = sim.event();
            let cp = u.critical_points();
            let basin_min = cp.basin_of(x0).and_then(|i| cp.minima.get(i).copied());
            let flat = matches!(u, Landscape::Flat(_));
            // Brownian amplitude, if the noise is Brownian (or stable at α = 2).
            let sigma = match *sim.noise() {
                Noise::Brownian { sigma } => Some(sigma),
                Noise::Stable {
                    alpha: 2.0,
                    epsilon,
                    ..
                } => Some(std::f64::consts::SQRT_2 * epsilon),
                _ => None,
            };
            if let Some(s) = sigma {
                match ev {
                    Event::Boundaries { lo, hi } => {
                        put(
                            &mut out,
                            "mfpt_exact",
                            theory::mean_first_passage_interval(u, x0, lo, hi, s).ok(),
                        );
                        let saddle = if lo.is_infinite() {
                            Some(hi)
                        } else if hi.is_infinite() {
                            Some(lo)
                        } else {
                            None
                        };
                        if let (Some(sd), Some(m)) = (saddle, basin_min)
                            && cp.saddles.contains(&sd)
                        {
                            put(
                                &mut out,
                                "kramers",
                                theory::kramers_time(u, m, sd, s).ok().map(|k| k / 2.0),
                            );
                        }
                    }
                    Event::Window { lo, hi } => {
                        let edge = if x0 < lo { lo } else { hi };
                        if !flat {
                            put(
                                &mut out,
                                "mfpt_exact",
                                theory::mean_first_passage(u, x0, edge, s).ok(),
                            );
                        }
                        // Reaching another minimum: the full Eyring–Kramers time over the saddle between.
                        if let (Some(m), Some(target)) = (
                            basin_min,
                            cp.minima.iter().copied().find(|t| lo <= *t && *t <= hi),
                        ) && let Some(&sd) = cp
                            .saddles
                            .iter()
                            .find(|sd| (m < **sd && **sd < target) || (target < **sd && **sd < m))
                        {
                            put(&mut out, "kramers", theory::kramers_time(u, m, sd, s).ok());
                        }
                    }
                }
            }
            if let Noise::Stable {
                alpha,
                beta,
                epsilon,
            } = *sim.noise()
            {
                if beta == 0.0 && flat {
                    if let Event::Boundaries { lo, hi } = ev
                        && lo.is_finite()
                        && hi.is_finite()
                    {
                        let c = 0.5 * (lo + hi);
                        put(
                            &mut out,
                            "getoor",
                            theory::getoor_exit_time(alpha, epsilon, 0.5 * (hi - lo), x0 - c, 1)
                                .ok(),
                        );
                    }
                } else if beta == 0.0 && alpha < 2.0 {
                    if let Some(m) = basin_min {
                        match ev {
                            Event::Boundaries { lo, hi } => {
                                put(
                                    &mut out,
                                    "levy_ip",
                                    theory::levy_exit_time(alpha, epsilon, hi - m, m - lo).ok(),
                                );
                                if lo.is_finite() && hi.is_finite() {
                                    out.insert(
                                        "levy_ip_right",
                                        theory::levy_exit_right_probability(alpha, hi - m, m - lo),
                                    );
                                }
                            }
                            Event::Window { lo, hi } if cp.minima.len() == 2 => {
                                if let Ok(mc) = theory::levy_markov_chain(alpha, epsilon, &cp)
                                    && let (Some(i), Some(j)) =
                                        (cp.basin_of(x0), cp.basin_of(0.5 * (lo + hi)))
                                    && i != j
                                {
                                    out.insert("levy_ip", 1.0 / mc.rates[i][j]);
                                }
                            }
                            _ => {}
                        }
                    }
                    // The chain's occupancy is informative only when the basins differ (a symmetric
                    // double well gives 1/2 by symmetry).
                    if cp.minima.len() >= 2
                        && let (Ok(mc), Some(i)) = (
                            theory::levy_markov_chain(alpha, epsilon, &cp),
                            cp.basin_of(x0),
                        )
                        && (cp.minima.len() > 2 || (mc.stationary[i] - 0.5).abs() > 1e-9)
                    {
                        out.insert("markov_occupancy", mc.stationary[i]);
                    }
                }
            }
        }
    }
    out
}

fn put(out: &mut BTreeMap<&'static str, f64>, key: &'static str, v: Option<f64>) {
    if let Some(v) = v.filter(|v| v.is_finite()) {
        out.insert(key, v);
    }
}
