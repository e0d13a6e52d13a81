//! Engine throughput in path-steps per second: Brownian and α-stable double-well runs on 1 and 2
//! threads, next to the cost of drawing the same number of noise increments alone (sampler-only), so
//! the engine's overhead over its sampler is visible in one group.
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use levylab::landscape::{Landscape, Quartic};
use levylab::noise::Noise;
use levylab::rng;
use levylab::sde::{Event, RunConfig, Scheme, Simulation};
use rand::distr::Distribution;

const PATHS: u64 = 512;
const STEPS: u64 = 1000;

fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("sde/path-steps");
    g.throughput(Throughput::Elements(PATHS * STEPS));
    g.sample_size(20);
    let dt = 0.01;
    let cases = [
        ("brownian", Noise::Brownian { sigma: 0.45 }, Scheme::Euler),
        (
            "stable-1.5",
            Noise::Stable {
                alpha: 1.5,
                beta: 0.0,
                epsilon: 0.1,
            },
            Scheme::Split,
        ),
    ];
    for (name, noise, scheme) in cases {
        // No boundary: every path runs the full horizon, so each iteration is exactly PATHS·STEPS steps.
        let sim = Simulation::new(
            Landscape::Quartic(Quartic::new(1.0, 0.25).unwrap()),
            noise,
            scheme,
            dt,
            STEPS as f64 * dt,
            -1.0,
            Event::Boundaries {
                lo: f64::NEG_INFINITY,
                hi: f64::INFINITY,
            },
            true,
        )
        .unwrap();
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let cfg = RunConfig::new(PATHS, 1);
            g.bench_function(BenchmarkId::new(name, format!("{threads}-threads")), |b| {
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
        let inc = noise.increment(dt).unwrap();
        g.bench_function(BenchmarkId::new(name, "sampler-only-1-thread"), |b| {
            b.iter(|| {
                let mut s = 0.0;
                for p in 0..PATHS {
                    let mut r = rng::stream(1, p);
                    for _ in 0..STEPS {
                        s += inc.sample(&mut r);
                    }
                }
                black_box(s)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, engine);
