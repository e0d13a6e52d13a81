pub mod gemm;
pub mod noise;
pub mod sde;
pub mod stats;
pub mod trainer;
