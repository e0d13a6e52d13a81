//! `levylab figures`: the arguments, and one line per figure drawn (the gallery itself is
//! [`crate::figures::gallery`]).

use std::path::PathBuf;

use clap::Args;

pub use crate::figures::gallery::NAMES;

/// Arguments of `levylab figures`.
#[derive(Debug, Args)]
pub struct FiguresArgs {
    /// Output directory (with `--dataset fashion-mnist`, the figures go to its subdirectory
    /// `fashion-mnist/`).
    #[arg(long, default_value = "figures")]
    pub out: PathBuf,
    /// Only this figure (one of the names in figures/README.md, or in
    /// figures/fashion-mnist/README.md with `--dataset fashion-mnist`).
    #[arg(long)]
    pub only: Option<String>,
    /// Fewer paths, iterations and sweep points (digits: about 2 minutes for all figures instead
    /// of 15; Fashion-MNIST: a tenth of the images and small nets).
    #[arg(long)]
    pub quick: bool,
    /// The gallery: `digits` (the embedded data set, and every simulation figure) or
    /// `fashion-mnist` (the α figures on Fashion-MNIST with FC nets and AlexNet).
    #[arg(long, value_enum, default_value_t = Dataset::Digits)]
    pub dataset: Dataset,
    /// Directory of the Fashion-MNIST IDX files (`--dataset fashion-mnist`).
    #[arg(long, default_value = crate::figures::fashion::DEFAULT_DIR)]
    pub data_dir: PathBuf,
}

/// Which gallery `levylab figures` draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Dataset {
    /// The embedded digits set and the simulations.
    Digits,
    /// Fashion-MNIST (Debian's dataset-fashion-mnist).
    FashionMnist,
}

pub(super) fn run(a: FiguresArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let out = match a.dataset {
        Dataset::Digits => a.out.clone(),
        Dataset::FashionMnist => a.out.join("fashion-mnist"),
    };
    let mut done = |name: &str, secs: f64| {
        println!(
            "{secs:>6.1} s  {}",
            out.join(format!("{name}.png")).display()
        )
    };
    match a.dataset {
        Dataset::Digits => {
            crate::figures::gallery::draw(&out, a.only.as_deref(), a.quick, &mut done)?
        }
        Dataset::FashionMnist => {
            crate::figures::fashion::draw(&out, &a.data_dir, a.only.as_deref(), a.quick, &mut done)?
        }
    }
    println!(
        "figures written to {} in {:.1} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
