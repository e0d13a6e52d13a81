from typing import Any, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike

def sample(
    alpha: float,
    beta: float = 0.0,
    scale: float = 1.0,
    loc: float = 0.0,
    param: str = "s1",
    size: int = 1,
    seed: int = 0,
) -> npt.NDArray[np.float64]: ...
def cdf(
    x: ArrayLike, alpha: float, beta: float = 0.0, scale: float = 1.0, loc: float = 0.0, param: str = "s1"
) -> Union[float, npt.NDArray[np.float64]]: ...
def quantile(
    p: ArrayLike, alpha: float, beta: float = 0.0, scale: float = 1.0, loc: float = 0.0, param: str = "s1"
) -> Union[float, npt.NDArray[np.float64]]: ...
def estimate(
    x: ArrayLike,
    estimator: str = "all",
    k1: Optional[int] = None,
    hill_k: Optional[int] = None,
    hill_fraction: Optional[float] = None,
    hill_grid: bool = False,
    bootstrap: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]: ...

class NoiseMeter:
    def __init__(
        self,
        dim: int,
        layers: Optional[Sequence[int]] = None,
        subsample: int = 1_000_000,
        seed: int = 0,
        batch_size: int = 0,
        coordinates: Optional[int] = None,
        bootstrap: int = 100,
        spectrum: int = 0,
        spectrum_passes: int = 4,
    ) -> None: ...
    def add_mean(self, g: ArrayLike) -> None: ...
    def add(self, g: ArrayLike) -> None: ...
    def add_spectrum(self, g: ArrayLike) -> None: ...
    @property
    def spectrum_passes_left(self) -> int: ...
    def result(self) -> dict[str, Any]: ...

def run(
    scenario: str, paths: Optional[int] = None, seed: Optional[int] = None, threads: Optional[int] = None
) -> dict[str, Any]: ...
def run_toml(
    text: str, paths: Optional[int] = None, seed: Optional[int] = None, threads: Optional[int] = None
) -> dict[str, Any]: ...
def theory(scenario: str) -> dict[str, Any]: ...
def theory_toml(text: str) -> dict[str, Any]: ...
