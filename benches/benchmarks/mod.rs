pub mod noise;
pub mod stats;
