//! Criterion benchmarks: `cargo bench` (all) or `cargo bench -- noise/` (one group).
mod benchmarks;

criterion::criterion_main!(
    benchmarks::noise::benches,
    benchmarks::sde::benches,
    benchmarks::stats::benches,
    benchmarks::trainer::benches
);
