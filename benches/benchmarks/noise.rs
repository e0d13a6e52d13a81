//! Sampler throughput: samples per second of S_α(1, β, 0) for several α, and Gaussian increments;
//! the distribution function's cost per point.
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use levylab::noise::{Noise, Param, Stable};
use levylab::rng;
use rand::distr::Distribution;

const BATCH: u64 = 10_000;

fn stable(c: &mut Criterion) {
    let mut g = c.benchmark_group("noise/stable");
    g.throughput(Throughput::Elements(BATCH));
    for (alpha, beta) in [
        (0.8, 0.0),
        (1.0, 0.0),
        (1.0, 0.5),
        (1.2, 0.0),
        (1.5, 0.0),
        (1.5, 0.5),
        (1.8, 0.0),
        (2.0, 0.0),
    ] {
        let law = Stable::new(alpha, beta, 1.0, 0.0, Param::S1).unwrap();
        let mut r = rng::stream(1, 0);
        g.bench_with_input(
            BenchmarkId::new(format!("beta={beta}"), alpha),
            &law,
            |b, law| {
                b.iter(|| {
                    let mut s = 0.0;
                    for _ in 0..BATCH {
                        s += law.sample(&mut r);
                    }
                    black_box(s)
                })
            },
        );
    }
    g.finish();
}

fn increments(c: &mut Criterion) {
    let mut g = c.benchmark_group("noise/increment");
    g.throughput(Throughput::Elements(BATCH));
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
        (
            "mixed-1.5",
            Noise::Mixed {
                alpha: 1.5,
                beta: 0.0,
                epsilon: 0.1,
                sigma_b: 1.0,
            },
        ),
    ];
    for (name, noise) in cases {
        let inc = noise.increment(0.01).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| {
                // The kernel's own draws (one lane, scalar), as a simulated path consumes them.
                black_box(inc.draws(2, 0, BATCH as usize).iter().sum::<f64>())
            })
        });
    }
    g.finish();
}

/// The distribution function (Nolan's integral): nine points from the far left tail to the far
/// right one per (α, β), S1.
fn cdf(c: &mut Criterion) {
    let mut g = c.benchmark_group("noise/cdf");
    let xs = [-50.0, -10.0, -3.0, -1.0, 0.0, 1.0, 3.0, 10.0, 50.0];
    g.throughput(Throughput::Elements(xs.len() as u64));
    for (alpha, beta) in [(0.8, 0.0), (0.8, 0.7), (1.0, 0.5), (1.5, 0.0), (1.5, -0.7)] {
        let law = Stable::new(alpha, beta, 1.0, 0.0, Param::S1).unwrap();
        g.bench_with_input(
            BenchmarkId::new(format!("beta={beta}"), alpha),
            &law,
            |b, law| b.iter(|| xs.iter().map(|&x| law.cdf(black_box(x))).sum::<f64>()),
        );
    }
    g.finish();
}

criterion_group!(benches, stable, increments, cdf);
