//! Engine throughput in path-steps per second with the default settings (Strang splitting,
//! Brownian-bridge test on) in the quartic double well: Brownian and α-stable runs on 1 and 2
//! threads with the widest instruction set, on one thread with each instruction set this CPU has,
//! and the noise increments alone (sampler-only, one thread) so that the engine's overhead over
//! its sampler is visible in one group.
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use levylab::landscape::{Landscape, Quartic};
use levylab::noise::Noise;
use levylab::sde::{Event, RunConfig, Scheme, Simulation, SimulationSpec};
use levylab::simd::Isa;

const PATHS: u64 = 1024;
const STEPS: u64 = 1000;

fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("sde/path-steps");
    g.throughput(Throughput::Elements(PATHS * STEPS));
    g.sample_size(20);
    let dt = 0.01;
    let cases = [
        ("brownian", Noise::Brownian { sigma: 0.5 }),
        (
            "stable-1.5",
            Noise::Stable {
                alpha: 1.5,
                beta: 0.0,
                epsilon: 0.1,
            },
        ),
    ];
    for (name, noise) in cases {
        // No boundary: every path runs the full horizon, so each iteration is exactly PATHS·STEPS
        // steps (the bridge test still runs against the infinite ends).
        let sim = Simulation::new(SimulationSpec {
            landscape: Landscape::Quartic(Quartic::new(1.0, 0.25).unwrap()),
            noise,
            scheme: Scheme::Split,
            dt,
            horizon: STEPS as f64 * dt,
            start: -1.0,
            event: Event::Boundaries {
                lo: f64::NEG_INFINITY,
                hi: f64::INFINITY,
            },
            bridge: true,
        })
        .unwrap();
        let best = Isa::detect();
        let mut runs: Vec<(usize, Isa)> = vec![(1, best), (2, best)];
        runs.extend(
            Isa::available()
                .into_iter()
                .filter(|&i| i != best)
                .map(|i| (1, i)),
        );
        for (threads, isa) in runs {
            let pool = super::pool(threads);
            let cfg = RunConfig {
                isa: Some(isa),
                ..RunConfig::new(PATHS, 1)
            };
            let id = format!("{threads}-threads-{}", isa.name());
            g.bench_function(BenchmarkId::new(name, id), |b| {
                b.iter(|| {
                    pool.install(|| {
                        black_box(
                            sim.run(&cfg, &AtomicU64::new(0), &AtomicBool::new(false))
                                .steps,
                        )
                    })
                })
            });
        }
        g.bench_function(
            BenchmarkId::new(name, format!("sampler-only-1-thread-{}", best.name())),
            |b| b.iter(|| black_box(sim.noise_only(Some(best), PATHS, STEPS, 1))),
        );
    }
    g.finish();
}

/// The d-dimensional kernel: the separable double well U = y₁⁴/4 − y₁²/2 + y₂²/2 (and in 5-D the
/// same with three more quadratic axes) under independent α-stable noise, isotropic α-stable noise
/// and Brownian noise, split scheme, a halfspace event that never triggers (every path runs the
/// full horizon), on 2 threads with the widest instruction set; one path-step advances all d
/// coordinates.
fn space(c: &mut Criterion) {
    use levylab::landscape::Quadratic;
    use levylab::landscape::surface::{Separable, Surface};
    use levylab::noise::vector::{Shape, VectorNoise};
    use levylab::sde::{Region, SpaceSimulation, SpaceSpec};
    let mut g = c.benchmark_group("sde/space-path-steps");
    g.throughput(Throughput::Elements(PATHS * STEPS));
    g.sample_size(10);
    let dt = 0.01;
    for dim in [2usize, 5] {
        let mut axes = vec![Landscape::Quartic(Quartic::new(1.0, 0.25).unwrap())];
        axes.extend((1..dim).map(|_| Landscape::Quadratic(Quadratic::new(0.0, 1.0).unwrap())));
        let surface = Surface::Separable(Separable::new(axes, None, None).unwrap());
        let mut start = vec![0.0; dim];
        start[0] = -1.0;
        let mut normal = vec![0.0; dim];
        normal[0] = 1.0;
        let noises = [
            (
                "independent-1.5",
                VectorNoise::stable(dim, 1.5, 0.1, Shape::Independent, None).unwrap(),
            ),
            (
                "isotropic-1.5",
                VectorNoise::stable(dim, 1.5, 0.1, Shape::Isotropic, None).unwrap(),
            ),
            (
                "brownian",
                VectorNoise::brownian(dim, 0.5, None, None).unwrap(),
            ),
        ];
        for (name, noise) in noises {
            let sim = SpaceSimulation::new(SpaceSpec {
                surface: surface.clone(),
                noise,
                scheme: Scheme::Split,
                dt,
                horizon: STEPS as f64 * dt,
                start: start.clone(),
                region: Region::halfspace(dim, &normal, 1e300).unwrap(),
                bridge: true,
            })
            .unwrap();
            let pool = super::pool(2);
            let cfg = RunConfig::new(PATHS, 1);
            g.bench_function(
                BenchmarkId::new(format!("{dim}d-{name}"), "2-threads"),
                |b| {
                    b.iter(|| {
                        pool.install(|| {
                            black_box(
                                sim.run(&cfg, &AtomicU64::new(0), &AtomicBool::new(false))
                                    .steps,
                            )
                        })
                    })
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, engine, space);
