//! Figures of the d-dimensional engine: sample paths on the contour plot of a 2-D landscape, and
//! the directions in which independent and isotropic α-stable noise leave a ball.

use super::Result;
use std::f64::consts::PI;

use rayon::prelude::*;

use super::gallery::{Ctx, axis, panel};
use crate::landscape::surface::{QuadraticForm, Surface, Well, Wells};
use crate::noise::vector::{Shape, VectorNoise};
use crate::plot::Trace;
use crate::sde::{Outcome, Region, Scheme, SpaceSimulation, SpaceSpec};

/// Contour segments of `f` on a grid of n × n cells over [x0, x1] × [y0, y1] at `levels` (marching
/// squares; a cell whose corners alternate in sign gets two segments).
pub(super) fn contour(
    f: impl Fn(f64, f64) -> f64 + Sync,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    n: usize,
    levels: &[f64],
) -> Vec<[(f64, f64); 2]> {
    let xs: Vec<f64> = (0..=n)
        .map(|i| x0 + (x1 - x0) * i as f64 / n as f64)
        .collect();
    let ys: Vec<f64> = (0..=n)
        .map(|j| y0 + (y1 - y0) * j as f64 / n as f64)
        .collect();
    let v: Vec<Vec<f64>> = xs
        .par_iter()
        .map(|&x| ys.iter().map(|&y| f(x, y)).collect())
        .collect();
    let mut out = Vec::new();
    for &l in levels {
        for i in 0..n {
            for j in 0..n {
                // Corners counter-clockwise from (i, j); the crossing on each edge where the sign
                // of v − l changes, by linear interpolation.
                let c = [
                    (xs[i], ys[j], v[i][j]),
                    (xs[i + 1], ys[j], v[i + 1][j]),
                    (xs[i + 1], ys[j + 1], v[i + 1][j + 1]),
                    (xs[i], ys[j + 1], v[i][j + 1]),
                ];
                let mut pts = Vec::with_capacity(4);
                for k in 0..4 {
                    let (a, b) = (c[k], c[(k + 1) % 4]);
                    if (a.2 < l) != (b.2 < l) {
                        let t = (l - a.2) / (b.2 - a.2);
                        pts.push((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)));
                    }
                }
                match pts.len() {
                    2 => out.push([pts[0], pts[1]]),
                    4 => {
                        out.push([pts[0], pts[1]]);
                        out.push([pts[2], pts[3]]);
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

/// The sharp-vs-wide landscape of `scenarios/sharp-vs-wide-2d.toml`.
fn sharp_vs_wide() -> Result<Surface> {
    Ok(Surface::Wells(Wells::new(
        0.02,
        vec![
            Well {
                center: vec![-1.0, 0.0],
                depth: 1.0,
                width: 0.2,
            },
            Well {
                center: vec![1.2, 0.0],
                depth: 0.8,
                width: 0.8,
            },
        ],
        2,
    )?))
}

/// Sample paths of Brownian, independent and isotropic α-stable noise on the contour plot of the
/// sharp-vs-wide landscape: independent jumps run along the axes, isotropic ones in every direction.
pub(super) fn fig_paths_2d(c: &Ctx) -> Result<()> {
    let u = sharp_vs_wide()?;
    let minima = u.minima();
    let (xr, yr) = ((-2.2, 3.2), (-2.2, 2.2));
    let levels: Vec<f64> = (0..12).map(|k| -0.98 + 0.12 * k as f64).collect();
    let lines = contour(|x, y| u.value(&[x, y]), xr, yr, c.q(80, 220), &levels);
    let horizon = c.q(60.0, 150.0);
    let dt = 0.002;
    let path = |noise: VectorNoise, seed: u64| -> Result<Vec<(f64, f64)>> {
        let sim = SpaceSimulation::new(SpaceSpec {
            surface: u.clone(),
            noise,
            scheme: Scheme::Tamed,
            dt,
            horizon,
            start: minima[0].x.clone(),
            region: Region::ball(2, None, 1e9)?,
            bridge: false,
        })?;
        let (_, pts) = sim.trajectory(seed, 0, 25);
        Ok(pts.into_iter().map(|(_, x)| (x[0], x[1])).collect())
    };
    let mins = Trace {
        label: "minima (sharp: min:0, wide: min:1)".into(),
        markers: minima
            .iter()
            .map(|m| (m.x[0], m.x[1], m.x[1], m.x[1]))
            .collect(),
        color: 3,
        ..Default::default()
    };
    let noises = [
        (
            "Brownian σ = 0.6",
            VectorNoise::brownian(2, 0.6, None, None)?,
            0,
        ),
        (
            "independent α = 1.5, ε = 0.1",
            VectorNoise::stable(2, 1.5, 0.1, Shape::Independent, None)?,
            1,
        ),
        (
            "isotropic α = 1.5, ε = 0.1",
            VectorNoise::stable(2, 1.5, 0.1, Shape::Isotropic, None)?,
            2,
        ),
    ];
    let mut panels = Vec::new();
    for (k, (label, noise, color)) in noises.into_iter().enumerate() {
        let p = path(noise, 11 + k as u64)?;
        panels.push(crate::plot::Panel {
            x_range: Some(xr),
            y_range: Some(yr),
            ..panel(
                label,
                axis("x₁", false),
                axis("x₂", false),
                vec![
                    Trace {
                        contour: lines.clone(),
                        ..Default::default()
                    },
                    Trace {
                        label: format!("path, t ≤ {horizon}"),
                        line: p,
                        color,
                        ..Default::default()
                    },
                    mins.clone(),
                ],
            )
        });
    }
    c.save(
        "paths-2d",
        "Paths in a 2-D landscape with a sharp and a wide minimum: diffusion, jumps along the axes, jumps in every direction",
        &format!(
            "levylab figures {}: U(x) = 0.01|x|² − exp(−|x − (−1, 0)|²/0.08) − 0.8·exp(−|x − (1.2, 0)|²/1.28) (scenarios/sharp-vs-wide-2d.toml), contours every 0.12 from −0.98; tamed Euler dt = 0.002 from min:0, every 25th state drawn, seeds 11–13",
            c.mode()
        ),
        (1, 3),
        &panels,
    )
}

/// Exit directions from the unit ball around the minimum of ½|x|²: independent noise leaves along
/// the axes (its Lévy measure lives there), isotropic noise in a uniform direction.
pub(super) fn fig_exit_directions(c: &Ctx) -> Result<()> {
    let n = c.q(300u64, 3000);
    let (alpha, eps) = (1.5, 0.05);
    let bins = 72;
    let mut traces = Vec::new();
    let mut notes = Vec::new();
    for (k, shape) in [Shape::Independent, Shape::Isotropic]
        .into_iter()
        .enumerate()
    {
        let sim = SpaceSimulation::new(SpaceSpec {
            surface: Surface::Quadratic(QuadraticForm::diagonal(&[1.0, 1.0], None)?),
            noise: VectorNoise::stable(2, alpha, eps, shape, None)?,
            scheme: Scheme::Split,
            dt: 0.01,
            horizon: 1e7,
            start: vec![0.0, 0.0],
            region: Region::ball(2, None, 1.0)?,
            bridge: false,
        })?;
        let angles: Vec<f64> = (0..n)
            .into_par_iter()
            .filter_map(|p| {
                let (o, pts) = sim.trajectory(90 + k as u64, p, u64::MAX);
                let x = &pts.last()?.1;
                matches!(o, Outcome::Exited { .. }).then(|| x[1].atan2(x[0]))
            })
            .collect();
        let near_axis = angles
            .iter()
            .filter(|a| {
                let m = (**a).rem_euclid(PI / 2.0);
                m.min(PI / 2.0 - m) < 0.1
            })
            .count() as f64
            / angles.len() as f64;
        let mut counts = vec![0usize; bins];
        for a in &angles {
            let i = (((a + PI) / (2.0 * PI)) * bins as f64).floor() as usize;
            counts[i.min(bins - 1)] += 1;
        }
        let w = 2.0 * PI / bins as f64;
        let edges: Vec<f64> = (0..=bins).map(|i| -PI + w * i as f64).collect();
        let d: Vec<f64> = counts
            .iter()
            .map(|&c| c as f64 / (angles.len() as f64 * w))
            .collect();
        notes.push(format!(
            "{}: {:.1} % of {} exits within 0.1 rad of an axis",
            shape.name(),
            100.0 * near_axis,
            angles.len()
        ));
        let mut t = Trace {
            label: format!(
                "{} (within 0.1 rad of an axis: {:.1} %)",
                shape.name(),
                100.0 * near_axis
            ),
            line: crate::plot::steps(&edges, &d),
            color: k + 1,
            ..Default::default()
        };
        if shape == Shape::Isotropic {
            t.dashed = vec![(
                "isotropic Lévy measure: uniform 1/(2π); share near an axis 8·0.1/(2π) = 12.7 %"
                    .into(),
                vec![(-PI, 1.0 / (2.0 * PI)), (PI, 1.0 / (2.0 * PI))],
            )];
        } else {
            t.dashed = vec![(
                "independent Lévy measure: point masses at the axes (0, ±π/2, π)".into(),
                [-PI, -PI / 2.0, 0.0, PI / 2.0, PI]
                    .iter()
                    .flat_map(|&a| [(a, 0.0), (a, 3.0), (a, 0.0)])
                    .collect(),
            )];
        }
        traces.push(t);
    }
    c.save(
        "exit-directions",
        "Where α-stable noise leaves a disc: along the axes (independent components) or anywhere (isotropic)",
        &format!(
            "levylab figures {}: U = ½|x|², exit from the unit disc around the minimum, α = {alpha}, ε = {eps}, split dt = 0.01, {n} paths per shape (seeds 90, 91); angle of the first state outside the disc; {}",
            c.mode(),
            notes.join("; ")
        ),
        (1, 1),
        &[panel(
            "density of the exit angle",
            axis("exit angle atan2(x₂, x₁) (rad)", false),
            axis("density (1/rad)", false),
            traces,
        )],
    )
}
