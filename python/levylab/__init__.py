"""levylab: Gaussian vs alpha-stable noise -- exit times of Levy-driven SDEs and the tail index of
SGD gradient noise, from Python (the Rust library behind the ``levylab`` command line).

* ``sample``, ``cdf``, ``quantile``: the alpha-stable law S_alpha(scale, beta, loc).
* ``estimate``: tail-index estimates (the paper's block-sum, Hill, McCulloch) of any float array.
* ``NoiseMeter``: the paper's gradient-noise measurement, streamed in two passes in O(dim) memory.
* ``run``, ``theory``: scenario runs and their theory predictions, from a file;
  ``run_toml``, ``theory_toml``: the same from TOML text.
"""

from ._levylab import (
    NoiseMeter,
    cdf,
    estimate,
    quantile,
    run,
    run_toml,
    sample,
    theory,
    theory_toml,
)

__all__ = [
    "sample",
    "cdf",
    "quantile",
    "estimate",
    "NoiseMeter",
    "run",
    "run_toml",
    "theory",
    "theory_toml",
]
