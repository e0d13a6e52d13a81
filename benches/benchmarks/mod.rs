pub mod gemm;
pub mod noise;
pub mod sde;
pub mod stats;
pub mod trainer;

/// A rayon pool of `threads` threads for one benchmark.
pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon thread pool")
}
