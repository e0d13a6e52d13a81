//! Criterion benchmarks: `cargo bench` (all) or `cargo bench -- noise/` (one group).
mod benchmarks;

criterion::criterion_main!(
    benchmarks::gemm::benches,
    benchmarks::noise::benches,
    benchmarks::sde::benches,
    benchmarks::stats::benches,
    benchmarks::trainer::benches
);
