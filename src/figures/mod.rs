//! The figure gallery: computes the data of the paper's figures and the exit-time comparisons
//! (running scenarios through [`crate::experiment`], training networks through [`crate::trainer`])
//! and draws them with the drawing layer [`crate::plot`]. One layer above `experiment`: nothing
//! below imports this module.

mod escape;
pub mod fashion;
mod fashion_noise;
pub mod gallery;
mod space;

pub use crate::plot::FIGURE_SIZE;
