//! Which theory applies to a point, and its predictions.
//!
//! | key | when | what |
//! |---|---|---|
//! | `mfpt_exact` | Brownian (or stable α = 2, σ = √2ε), 1-D | exact mean first-passage time to the event |
//! | `kramers` | Brownian, `transition` or `reach` of another minimum | Eyring–Kramers; for `transition` (saddle crossing) half the well-to-well time |
//! | `levy_ip` | stable α < 2 (any β), a landscape with a minimum in the start basin | Imkeller–Pavlyukevich mean exit / transition time (jumps up weighted 1 + β, down 1 − β) |
//! | `levy_ip_right` | same, `interval` event | IP probability to leave through the upper end |
//! | `markov_occupancy` | stable α < 2 (any β), ≥ 2 minima | stationary weight of the start basin in the ε → 0 Markov chain |
//! | `levy_exact`, `levy_exact_error` | stable or mixed noise, α < 2, any β, 1-D `interval`, `transition` or `reach` | exact mean exit (or reach) time at this ε by the nonlocal solver, and its error estimate |
//! | `levy_exact_right` | same, bounded interval | exact probability to leave through the upper end |
//! | `getoor` | stable, flat landscape, `interval` (β = 0 and any α ≤ 2, or α ∉ {1, 2} and any β) or `ball` (β = 0) | exact mean exit time (Getoor; for β ≠ 0 the strictly stable law of `theory::free`) |
//! | `mfpt_exact` (ball) | Brownian, flat, `ball` | (r² − \|x\|²)/(dσ²) |
//! | every 1-D key | separable landscape in ℝᵈ, `halfspace` normal to one of its axes | the 1-D theory of the projected process (below) |
//!
//! # The projected process (exact in ℝᵈ)
//! For U(x) = Σⱼ Uⱼ(yⱼ), y = Q(x − c), the i-th coordinate yᵢ = ⟨qᵢ, x − c⟩ (qᵢ the i-th row of Q)
//! satisfies dyᵢ = ⟨qᵢ, dX⟩ = −⟨qᵢ, ∇U(X)⟩dt + ⟨qᵢ, dL⟩, and ∇U(X) = Qᵀ(U′ⱼ(yⱼ))ⱼ, so
//! ⟨qᵢ, ∇U⟩ = Uᵢ′(yᵢ) (Q orthogonal): yᵢ is a 1-D SDE on its own, driven by the 1-D Lévy process
//! ⟨qᵢ, L⟩ (a linear image of a Lévy process is one). Its law: Brownian with variance qᵢᵀΣqᵢ for
//! Brownian noise of covariance Σ; for isotropic stable noise E e^{iu⟨qᵢ,L_t⟩} = exp(−t\|uqᵢ\|^α) =
//! exp(−t\|u\|^α), the same ε; for independent coordinates with scales sⱼ,
//! E e^{iu⟨qᵢ,L_t⟩} = Πⱼ exp(−t\|uqᵢⱼsⱼ\|^α), SαS with scale ε(Σⱼ\|qᵢⱼsⱼ\|^α)^{1/α}. A halfspace
//! ⟨±qᵢ, x⟩ ≥ b is the level yᵢ ≥ b − ⟨qᵢ, c⟩ (or yᵢ ≤ −b − ⟨qᵢ, c⟩), so the d-dimensional exit
//! time is the 1-D first-passage time of yᵢ, and the 1-D exact values (quadrature, nonlocal solver)
//! are exact for it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Model, Point};
use crate::landscape::surface::{Separable, Surface};
use crate::landscape::{CriticalPoints, Landscape, Potential};
use crate::noise::Noise;
use crate::noise::vector::Shape;
use crate::numeric::distance as dist;
use crate::sde::{Event, Region, Scheme, Simulation, SimulationSpec, SpaceSimulation};
use crate::theory;

/// Every applicable theory prediction for a point, by name. Predictions that fail numerically (e.g.
/// an exact time beyond the f64 range) are left out.
pub fn predictions(p: &Point) -> Predictions {
    match &p.model {
        Model::Space(sim) => space_predictions(sim),
        Model::Line(sim) => line_predictions(sim),
    }
}

/// The predictions for a d-dimensional point: exact formulas for a flat landscape in a ball, and
/// the exact 1-D theory of the projected process for a separable landscape with a halfspace event
/// on one of its (rotated) axes.
fn space_predictions(sim: &SpaceSimulation) -> Predictions {
    let mut out = BTreeMap::new();
    let spec = sim.spec();
    let d = sim.dim();
    match (&spec.surface, &spec.region) {
        (Surface::Flat { .. }, Region::Ball { center, radius }) => {
            let x = dist(&spec.start, center);
            let noise = &spec.noise;
            let isotropic_cov = noise.covariance().is_some_and(|c| {
                (0..d).all(|i| (0..d).all(|j| c[i * d + j] == if i == j { c[0] } else { 0.0 }))
            });
            match (noise.covariance(), noise.stable_part()) {
                (Some(c), None) if isotropic_cov => put(
                    &mut out,
                    Prediction::MfptExact,
                    theory::brownian_ball_exit_time(c[0].sqrt(), *radius, x, d).ok(),
                ),
                (None, Some(s))
                    if s.scales.iter().all(|v| *v == 1.0)
                        && (s.shape == Shape::Isotropic || d == 1 || s.alpha == 2.0) =>
                {
                    put(
                        &mut out,
                        Prediction::Getoor,
                        theory::getoor_exit_time(s.alpha, s.epsilon, *radius, x, d).ok(),
                    )
                }
                _ => {}
            }
        }
        (Surface::Separable(sep), Region::Halfspace { normal, offset }) => {
            if let Some(line) = projected_line(sim, sep, normal, *offset) {
                out = line_predictions(&line);
            }
        }
        (u, Region::Near { targets, .. }) => minimum_transitions(sim, u, targets, &mut out),
        _ => {}
    }
    out
}

/// The start's minimum and the targets' indices among the minima of `u`, when the start lies
/// nearest a minimum that is not a target and every target is a minimum.
struct ChainSetup {
    minima: usize,
    own: usize,
    targets: Vec<usize>,
    /// σ when the noise is Brownian with covariance σ²I.
    sigma: Option<f64>,
}

impl ChainSetup {
    fn new(sim: &SpaceSimulation, u: &Surface, targets: &[Vec<f64>]) -> Option<ChainSetup> {
        let spec = sim.spec();
        let d = sim.dim();
        let minima = u.minima();
        let index_of = |x: &[f64]| {
            minima
                .iter()
                .position(|m| dist(&m.x, x) <= 1e-9 * (1.0 + dist(x, &vec![0.0; d])))
        };
        let own = (0..minima.len()).min_by(|&i, &j| {
            dist(&minima[i].x, &spec.start).total_cmp(&dist(&minima[j].x, &spec.start))
        })?;
        let targets = targets
            .iter()
            .map(|t| index_of(t))
            .collect::<Option<Vec<usize>>>()?;
        if targets.contains(&own) {
            return None;
        }
        let sigma = spec.noise.covariance().and_then(|c| {
            let isotropic =
                (0..d).all(|i| (0..d).all(|j| c[i * d + j] == if i == j { c[0] } else { 0.0 }));
            isotropic.then(|| c[0].sqrt())
        });
        Some(ChainSetup {
            minima: minima.len(),
            own,
            targets,
            sigma,
        })
    }

    fn all_others(&self) -> bool {
        self.targets.len() + 1 == self.minima
    }

    fn is_target(&self) -> Vec<bool> {
        (0..self.minima)
            .map(|k| self.targets.contains(&k))
            .collect()
    }
}

/// Transitions between minima in ℝᵈ: the Eyring–Kramers chain (Brownian, covariance σ²I) and the
/// Imkeller–Pavlyukevich jump law (symmetric stable, α < 2, no Brownian part) — see
/// [`theory::space`]. `kramers`: 1/Σⱼ qᵢⱼ when the targets are all the other minima, the chain's
/// hitting time for one target minimum; `levy_ip`: the mean time to jump out of the start's basin
/// (when the targets are all the other minima).
fn minimum_transitions(
    sim: &SpaceSimulation,
    u: &Surface,
    targets: &[Vec<f64>],
    out: &mut Predictions,
) {
    let Some(c) = ChainSetup::new(sim, u, targets) else {
        return;
    };
    match (c.sigma, sim.spec().noise.stable_part()) {
        (Some(s), None) => {
            if let Ok(q) = theory::space::kramers_chain(u, s) {
                let value = if c.all_others() {
                    let rate = -q[c.own][c.own];
                    (rate > 0.0).then(|| 1.0 / rate)
                } else {
                    theory::chain_absorption_time(&q, &c.is_target(), &vec![0.0; c.minima], c.own)
                        .ok()
                };
                put(out, Prediction::Kramers, value);
            }
        }
        (None, Some(st)) if st.alpha < 2.0 && c.all_others() => put(
            out,
            Prediction::LevyIp,
            theory::space::levy_basin_exit_time(u, c.own, st).ok(),
        ),
        _ => {}
    }
}

/// One target of an event with several targets, and the theory of its share of the exits.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetTheory {
    /// `min:K` when the target is minimum K of the landscape (deepest first), else its coordinates.
    pub label: String,
    /// The target point.
    pub at: Vec<f64>,
    /// The small-noise probability that this target is the one reached, by law.
    pub theory: Predictions,
}

/// For a point whose event has several targets (a `transition` or `reach` in ℝᵈ), per target the
/// small-noise probability that it is the one reached: `kramers` from the Eyring–Kramers chain
/// (Brownian, covariance σ²I), `levy_ip` from the Lévy jump chain (symmetric stable α < 2, no
/// Brownian part), each the chain's absorption law from the start's minimum
/// ([`theory::space`], "Where the jump lands"), when the targets are minima. None for other events.
pub fn target_shares(p: &Point) -> Option<Vec<TargetTheory>> {
    let Model::Space(sim) = &p.model else {
        return None;
    };
    let spec = sim.spec();
    let Region::Near { targets, .. } = &spec.region else {
        return None;
    };
    let minima = spec.surface.minima();
    let mut out: Vec<TargetTheory> = targets
        .iter()
        .map(|t| TargetTheory {
            label: minima
                .iter()
                .position(|m| dist(&m.x, t) <= 1e-9 * (1.0 + dist(t, &vec![0.0; t.len()])))
                .map_or_else(|| format!("{t:?}"), |k| format!("min:{k}")),
            at: t.clone(),
            theory: BTreeMap::new(),
        })
        .collect();
    let Some(c) = ChainSetup::new(sim, &spec.surface, targets) else {
        return Some(out);
    };
    let u = &spec.surface;
    let chain = match (c.sigma, spec.noise.stable_part()) {
        (Some(s), None) => theory::space::kramers_chain(u, s)
            .ok()
            .map(|q| (Prediction::Kramers, q)),
        (None, Some(st)) if st.alpha < 2.0 => theory::space::levy_chain(u, st)
            .ok()
            .map(|q| (Prediction::LevyIp, q)),
        _ => None,
    };
    if let Some((key, q)) = chain
        && let Ok(h) = theory::chain_absorption_probabilities(&q, &c.is_target(), c.own)
    {
        for (t, &k) in out.iter_mut().zip(&c.targets) {
            t.theory.insert(key, h[k]);
        }
    }
    Some(out)
}

/// The 1-D simulation of the coordinate yᵢ = ⟨qᵢ, x − c⟩ when the halfspace's normal is ±qᵢ (an
/// axis of the separable landscape): yᵢ solves dY = −Uᵢ′(Y)dt + ⟨qᵢ, dL⟩ on its own, and the event
/// is Y crossing one level. The projected noise is Brownian with variance qᵢᵀΣqᵢ, and SαS with the
/// same ε (isotropic) or ε(Σⱼ|qᵢⱼsⱼ|^α)^{1/α} (independent): a 1-D Lévy process in each case, so
/// the 1-D theory of that process is exact for the d-dimensional exit time.
fn projected_line(
    sim: &SpaceSimulation,
    sep: &Separable,
    normal: &[f64],
    offset: f64,
) -> Option<Simulation> {
    let spec = sim.spec();
    let d = sim.dim();
    let (i, sign) = (0..d).find_map(|i| {
        let q = sep.axis_direction(i);
        let dot: f64 = q.iter().zip(normal).map(|(a, b)| a * b).sum();
        if (dot - 1.0).abs() < 1e-12 {
            Some((i, 1.0))
        } else if (dot + 1.0).abs() < 1e-12 {
            Some((i, -1.0))
        } else {
            None
        }
    })?;
    let q = sep.axis_direction(i);
    let qc: f64 = q.iter().zip(sep.center()).map(|(a, b)| a * b).sum();
    // ⟨n, x⟩ = sign·(yᵢ + ⟨qᵢ, c⟩) ≥ offset.
    let mut level = sign * offset - qc;
    // A level that is a saddle of the axis up to rounding (the offset was written as ⟨n, c⟩ + s)
    // is that saddle, so that the saddle-crossing laws (Kramers, the Lévy chain) apply.
    let axis = &sep.axes()[i];
    if let Some(s) = axis
        .critical_points()
        .saddles
        .into_iter()
        .find(|s| (level - s).abs() <= 1e-12 * (1.0 + s.abs()))
    {
        level = s;
    }
    let event = if sign > 0.0 {
        Event::Boundaries {
            lo: f64::NEG_INFINITY,
            hi: level,
        }
    } else {
        Event::Boundaries {
            lo: level,
            hi: f64::INFINITY,
        }
    };
    let y0 = sep.to_axes(&spec.start)[i];
    let noise = match spec.noise.projection(&q) {
        (Some(sigma), None) => Noise::Brownian { sigma },
        (None, Some((alpha, epsilon))) => Noise::Stable {
            alpha,
            beta: 0.0,
            epsilon,
        },
        (Some(sigma), Some((alpha, epsilon))) => Noise::Mixed {
            alpha,
            beta: 0.0,
            epsilon,
            sigma_b: sigma / epsilon,
        },
        (None, None) => return None,
    };
    let landscape = axis.clone();
    let scheme = if landscape.drift_flow(0.5, spec.dt).is_some() {
        Scheme::Split
    } else {
        Scheme::Tamed
    };
    Simulation::new(SimulationSpec {
        landscape,
        noise,
        scheme,
        dt: spec.dt,
        horizon: spec.horizon,
        start: y0,
        event,
        bridge: spec.bridge,
    })
    .ok()
}

/// The predictions for a 1-D point.
fn line_predictions(sim: &Simulation) -> Predictions {
    let mut out = BTreeMap::new();
    {
        {
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
                            Prediction::MfptExact,
                            theory::mean_first_passage_interval(u, x0, lo, hi, s).ok(),
                        );
                        if let Some(i) = cp.basin_of(x0) {
                            put(
                                &mut out,
                                Prediction::Kramers,
                                brownian_chain_time(u, &cp, s, i, lo, hi),
                            );
                        }
                    }
                    Event::Window { lo, hi } => {
                        let edge = if x0 < lo { lo } else { hi };
                        if !flat {
                            put(
                                &mut out,
                                Prediction::MfptExact,
                                theory::mean_first_passage(u, x0, edge, s).ok(),
                            );
                        }
                        // Reaching another minimum: the chain's hitting time of its well.
                        if let (Some(i), Some(j)) = (cp.basin_of(x0), target_well(&cp, lo, hi))
                            && i != j
                            && let Ok(q) = theory::kramers_chain(u, &cp, s)
                        {
                            put(&mut out, Prediction::Kramers, hitting_time(&q, &cp, i, j));
                        }
                    }
                }
            }
            // The exact finite-ε value from the nonlocal equation (Lévy part with α < 2, any β).
            let levy = match *sim.noise() {
                Noise::Stable {
                    alpha,
                    beta,
                    epsilon,
                } if alpha < 2.0 => Some((alpha, beta, epsilon, 0.0)),
                Noise::Mixed {
                    alpha,
                    beta,
                    epsilon,
                    sigma_b,
                } if alpha < 2.0 => Some((alpha, beta, epsilon, epsilon * sigma_b)),
                _ => None,
            };
            if let Some((alpha, beta, epsilon, brownian)) = levy {
                let domain = match ev {
                    Event::Boundaries { lo, hi } => theory::LevyDomain::Interval { lo, hi },
                    Event::Window { lo, hi } => theory::LevyDomain::Window { lo, hi },
                };
                let problem = theory::LevyExitProblem {
                    landscape: u,
                    alpha,
                    beta,
                    epsilon,
                    brownian,
                    domain,
                };
                let n = theory::nonlocal::DEFAULT_INTERVALS;
                if let Ok(v) = problem.mean_exit_time(x0, n) {
                    put(&mut out, Prediction::LevyExact, Some(v.value));
                    put(&mut out, Prediction::LevyExactError, Some(v.error));
                }
                if let Event::Boundaries { lo, hi } = ev
                    && lo.is_finite()
                    && hi.is_finite()
                {
                    put(
                        &mut out,
                        Prediction::LevyExactRight,
                        problem.exit_right_probability(x0, n).ok().map(|v| v.value),
                    );
                }
            }
            if let Noise::Stable {
                alpha,
                beta,
                epsilon,
            } = *sim.noise()
            {
                if flat {
                    if let Event::Boundaries { lo, hi } = ev
                        && lo.is_finite()
                        && hi.is_finite()
                    {
                        let c = 0.5 * (lo + hi);
                        // At α = 2 the skewness has no effect (tan π = 0): Getoor applies.
                        let exact = if beta == 0.0 || alpha == 2.0 {
                            theory::getoor_exit_time(alpha, epsilon, 0.5 * (hi - lo), x0 - c, 1)
                        } else {
                            theory::free_exit_time(alpha, beta, epsilon, lo, hi, x0)
                        };
                        put(&mut out, Prediction::Getoor, exact.ok());
                    }
                } else if alpha < 2.0 {
                    if let (Some(m), Some(i)) = (basin_min, cp.basin_of(x0)) {
                        let (blo, bhi) = cp.basin(i);
                        match ev {
                            // A domain inside the start basin: one big jump leaves it.
                            Event::Boundaries { lo, hi } if blo <= lo && hi <= bhi => {
                                put(
                                    &mut out,
                                    Prediction::LevyIp,
                                    theory::levy_exit_time_skewed(
                                        alpha,
                                        beta,
                                        epsilon,
                                        hi - m,
                                        m - lo,
                                    )
                                    .ok(),
                                );
                                if lo.is_finite() && hi.is_finite() {
                                    out.insert(
                                        Prediction::LevyIpRight,
                                        theory::levy_exit_right_probability_skewed(
                                            alpha,
                                            beta,
                                            hi - m,
                                            m - lo,
                                        ),
                                    );
                                }
                            }
                            // A transition across a saddle beyond a neighbour basin: the path may
                            // first jump into other wells, from which it goes on.
                            Event::Boundaries { lo, hi } => {
                                if let Ok(mc) =
                                    theory::levy_markov_chain_skewed(alpha, beta, epsilon, &cp)
                                {
                                    put(
                                        &mut out,
                                        Prediction::LevyIp,
                                        levy_transition_chain_time(&mc.rates, &cp, i, lo, hi),
                                    );
                                }
                            }
                            Event::Window { lo, hi } => {
                                if let (Ok(mc), Some(j)) = (
                                    theory::levy_markov_chain_skewed(alpha, beta, epsilon, &cp),
                                    target_well(&cp, lo, hi),
                                ) && i != j
                                {
                                    put(
                                        &mut out,
                                        Prediction::LevyIp,
                                        hitting_time(&mc.rates, &cp, i, j),
                                    );
                                }
                            }
                        }
                    }
                    // The chain's occupancy is informative only when the basins differ (a symmetric
                    // double well gives 1/2 by symmetry).
                    if cp.minima.len() >= 2
                        && let (Ok(mc), Some(i)) = (
                            theory::levy_markov_chain_skewed(alpha, beta, epsilon, &cp),
                            cp.basin_of(x0),
                        )
                        && (cp.minima.len() > 2 || (mc.stationary[i] - 0.5).abs() > 1e-9)
                    {
                        out.insert(Prediction::MarkovOccupancy, mc.stationary[i]);
                    }
                }
            }
        }
    }
    out
}

/// The well whose minimum lies in the target window [lo, hi], if exactly one does.
fn target_well(cp: &CriticalPoints, lo: f64, hi: f64) -> Option<usize> {
    let mut inside = cp
        .minima
        .iter()
        .enumerate()
        .filter(|(_, m)| lo <= **m && **m <= hi);
    match (inside.next(), inside.next()) {
        (Some((j, _)), None) => Some(j),
        _ => None,
    }
}

/// The crossed point of a transition event (one side infinite) if it is a saddle, with the side
/// the far wells lie on (`true` = above it).
fn transition_saddle(cp: &CriticalPoints, lo: f64, hi: f64) -> Option<(f64, bool)> {
    let (b, up) = match (lo.is_infinite(), hi.is_infinite()) {
        (true, false) => (hi, true),
        (false, true) => (lo, false),
        _ => return None,
    };
    cp.saddles.contains(&b).then_some((b, up))
}

fn far_side(cp: &CriticalPoints, b: f64, up: bool) -> Vec<bool> {
    cp.minima
        .iter()
        .map(|&m| if up { m > b } else { m < b })
        .collect()
}

/// Mean hitting time of well j from well i in the chain with rates q.
fn hitting_time(q: &[Vec<f64>], cp: &CriticalPoints, i: usize, j: usize) -> Option<f64> {
    let target: Vec<bool> = (0..cp.minima.len()).map(|k| k == j).collect();
    theory::chain_absorption_time(q, &target, &vec![0.0; target.len()], i).ok()
}

/// Lévy transition across a saddle from well i: absorbed by any jump that lands beyond the saddle
/// (from whichever well the path sits in).
fn levy_transition_chain_time(
    q: &[Vec<f64>],
    cp: &CriticalPoints,
    i: usize,
    lo: f64,
    hi: f64,
) -> Option<f64> {
    let (b, up) = transition_saddle(cp, lo, hi)?;
    let target = far_side(cp, b, up);
    theory::chain_absorption_time(q, &target, &vec![0.0; target.len()], i).ok()
}

/// Brownian saddle crossing from well i in the Eyring–Kramers chain: the well next to the saddle
/// hits it at twice the well-to-well rate (half the hits go on into the far well), other wells
/// exchange at the Kramers rates. In a double well this is T_K/2.
fn brownian_chain_time(
    u: &Landscape,
    cp: &CriticalPoints,
    sigma: f64,
    i: usize,
    lo: f64,
    hi: f64,
) -> Option<f64> {
    let (b, up) = transition_saddle(cp, lo, hi)?;
    let q = theory::kramers_chain(u, cp, sigma).ok()?;
    let target = far_side(cp, b, up);
    let k = cp.saddles.iter().position(|&s| s == b)?;
    let (near, far) = if up { (k, k + 1) } else { (k + 1, k) };
    let mut exit = vec![0.0; target.len()];
    exit[near] = q[near][far];
    theory::chain_absorption_time(&q, &target, &exit, i).ok()
}

/// What kind of number a prediction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PredictionKind {
    /// A mean time: compared with the Monte Carlo mean (ratio MC/theory) and drawn in time plots.
    Time,
    /// The probability to leave through the upper end: compared with the exit-side fraction.
    ExitSide,
    /// The stationary occupancy of the start well (multi-well chain).
    Occupancy,
    /// The error estimate of another prediction (summary.json only, not a table column).
    Error,
}

/// Every theory prediction levylab makes: one name (the key in summary.json), one description and
/// one kind each.
///
/// The variants are declared in the alphabetical order of their keys, so that a
/// `BTreeMap<Prediction, _>` iterates (and serializes) in the order a map keyed by the key strings
/// did; `tests::variants_are_in_key_order` holds that.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prediction {
    /// Exact mean exit time of free α-stable motion from an interval or ball (Getoor; skewed: the
    /// strictly stable law of `theory::free`).
    Getoor,
    /// Eyring–Kramers (multi-well chain of Kramers rates).
    Kramers,
    /// Exact mean exit time of the α-stable SDE (nonlocal solver).
    LevyExact,
    /// Error estimate of `levy_exact` (difference of two grids).
    LevyExactError,
    /// Exact probability to leave through the upper end (nonlocal solver).
    LevyExactRight,
    /// Imkeller–Pavlyukevich small-noise law for α-stable noise.
    LevyIp,
    /// Imkeller–Pavlyukevich probability to leave through the upper end.
    LevyIpRight,
    /// Stationary occupancy of the start well.
    MarkovOccupancy,
    /// Exact mean first-passage time of the Brownian SDE (quadrature).
    MfptExact,
}

/// Theory predictions by name; iterates in the alphabetical order of the keys.
pub type Predictions = BTreeMap<Prediction, f64>;

impl Prediction {
    /// Every prediction, in the order of their keys.
    pub const ALL: [Prediction; 9] = [
        Prediction::Getoor,
        Prediction::Kramers,
        Prediction::LevyExact,
        Prediction::LevyExactError,
        Prediction::LevyExactRight,
        Prediction::LevyIp,
        Prediction::LevyIpRight,
        Prediction::MarkovOccupancy,
        Prediction::MfptExact,
    ];

    /// The key in summary.json and the table.
    pub fn key(self) -> &'static str {
        match self {
            Prediction::MfptExact => "mfpt_exact",
            Prediction::Kramers => "kramers",
            Prediction::LevyIp => "levy_ip",
            Prediction::LevyExact => "levy_exact",
            Prediction::LevyExactError => "levy_exact_error",
            Prediction::Getoor => "getoor",
            Prediction::LevyIpRight => "levy_ip_right",
            Prediction::LevyExactRight => "levy_exact_right",
            Prediction::MarkovOccupancy => "markov_occupancy",
        }
    }

    /// What kind of number it is.
    pub fn kind(self) -> PredictionKind {
        match self {
            Prediction::MfptExact
            | Prediction::Kramers
            | Prediction::LevyIp
            | Prediction::LevyExact
            | Prediction::Getoor => PredictionKind::Time,
            Prediction::LevyIpRight | Prediction::LevyExactRight => PredictionKind::ExitSide,
            Prediction::MarkovOccupancy => PredictionKind::Occupancy,
            Prediction::LevyExactError => PredictionKind::Error,
        }
    }

    /// Whether it is a mean time (compared with the Monte Carlo mean and drawn in time plots), as
    /// opposed to an exit-side probability, an occupancy or an error estimate.
    pub fn is_time(self) -> bool {
        self.kind() == PredictionKind::Time
    }

    /// Whether it is the probability to leave through the upper end.
    pub fn is_exit_side(self) -> bool {
        self.kind() == PredictionKind::ExitSide
    }

    /// Whether the summary gives a Monte Carlo ratio for it (a time or an exit side).
    pub fn has_ratio(self) -> bool {
        self.is_time() || self.is_exit_side()
    }
}

impl std::fmt::Display for Prediction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

impl std::str::FromStr for Prediction {
    type Err = String;

    /// The prediction with this key; the error lists the keys.
    fn from_str(key: &str) -> Result<Self, Self::Err> {
        Prediction::ALL
            .into_iter()
            .find(|p| p.key() == key)
            .ok_or_else(|| {
                let keys: Vec<&str> = Prediction::ALL.iter().map(|p| p.key()).collect();
                format!("unknown prediction `{key}` (one of {})", keys.join(", "))
            })
    }
}

fn put(out: &mut Predictions, key: Prediction, v: Option<f64>) {
    if let Some(v) = v.filter(|v| v.is_finite()) {
        out.insert(key, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Ord` (declaration order) and the keys' alphabetical order agree, so maps keyed by
    /// `Prediction` serialize as maps keyed by the key strings did; `ALL` lists every variant once.
    #[test]
    fn variants_are_in_key_order() {
        let keys: Vec<&str> = Prediction::ALL.iter().map(|p| p.key()).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(keys, sorted);
        assert!(Prediction::ALL.windows(2).all(|w| w[0] < w[1]));
        for p in Prediction::ALL {
            assert_eq!(serde_json::to_value(p).unwrap(), p.key());
            assert_eq!(p.key().parse::<Prediction>(), Ok(p));
            let map: Predictions = [(p, 1.5)].into();
            let text = serde_json::to_string(&map).unwrap();
            assert_eq!(text, format!("{{\"{}\":1.5}}", p.key()));
            assert_eq!(serde_json::from_str::<Predictions>(&text).unwrap(), map);
        }
        assert!("kramer".parse::<Prediction>().is_err());
    }
}
