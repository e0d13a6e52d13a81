//! levylab's integration tests in one binary (one link of the library instead of fourteen).
//! Run one file's tests with `cargo test --test it MODULE::` (the module name), e.g.
//! `cargo test --test it space:: -- --nocapture`. `tests/scenarios.rs` (it changes the process's
//! working directory), `tests/kill.rs` (it times kills against running processes) and
//! `tests/mpi.rs` (behind the `mpi` feature) stay binaries of their own.

mod ams;
mod cli;
mod common;
mod engine;
mod escape;
mod estimators;
mod fashion_mnist;
mod figures;
mod fuzz;
mod noise_calibration;
mod sampler;
mod shards;
mod simd;
mod space;
mod trainer;
