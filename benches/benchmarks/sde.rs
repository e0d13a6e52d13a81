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
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
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

criterion_group!(benches, engine);
