//! Estimator throughput on 10⁶ SαS(1.5) samples (samples per second), without bootstrap.
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group};
use levylab::noise::{Param, Stable};
use levylab::stats::{HillK, block_sum, hill, mcculloch};

fn estimators(c: &mut Criterion) {
    let n = 1_000_000;
    let xs = levylab::noise::draw(&Stable::new(1.5, 0.0, 1.0, 0.0, Param::S1).unwrap(), n, 3);
    let _ = mcculloch::fit(&xs); // build the quantile tables outside the timing
    let mut g = c.benchmark_group("stats/tail-index");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(20);
    g.bench_function("paper", |b| {
        b.iter(|| black_box(block_sum(&xs, None).unwrap().alpha))
    });
    g.bench_function("hill-1%", |b| {
        b.iter(|| black_box(hill(&xs, &HillK::Fraction(0.01)).unwrap().alpha))
    });
    g.bench_function("hill-grid", |b| {
        b.iter(|| black_box(hill(&xs, &HillK::Grid).unwrap().alpha))
    });
    g.bench_function("mcculloch", |b| {
        b.iter(|| black_box(mcculloch::fit(&xs).unwrap().alpha))
    });
    g.finish();
}

criterion_group!(benches, estimators);
