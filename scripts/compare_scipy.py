#!/usr/bin/env python3
"""Cross-check levylab against scipy/numpy (independent references).

1. `levylab sample` for every (alpha, beta, parametrization) branch against scipy.stats.levy_stable's
   CDF (one-sample Kolmogorov-Smirnov test, n = 20 000 draws per case).
2. `levylab estimate --estimator paper` on .npy files written by numpy (float32 and float64, 2-D)
   against the paper's formula evaluated in numpy: relative difference must be below 1e-9.

Usage: python3 scripts/compare_scipy.py [path/to/levylab]   (needs numpy, scipy)
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy import stats

LEVYLAB = sys.argv[1] if len(sys.argv) > 1 else "target/release/levylab"


def run(*args):
    out = subprocess.run([LEVYLAB, *map(str, args)], check=True, capture_output=True, text=True)
    return out.stdout


def sampler_vs_scipy(tmp):
    n = 20_000
    worst = 1.0
    print(f"{'alpha':>5} {'beta':>5} {'param':>5} {'KS D':>8} {'p-value':>8}")
    for alpha in (0.5, 0.8, 1.0, 1.3, 1.5, 1.9, 2.0):
        for beta in (-1.0, 0.0, 0.5, 1.0):
            for param in ("s1", "s0"):
                path = Path(tmp) / "x.npy"
                run("sample", "--alpha", alpha, "--beta", beta, "--scale", 1.3, "--loc", 0.2,
                    "--param", param, "-n", n, "--seed", 11, "--out", path)
                x = np.load(path)
                law = stats.levy_stable(alpha, beta, loc=0.2, scale=1.3)
                law.dist.parameterization = param.upper()
                res = stats.kstest(x, law.cdf)
                worst = min(worst, res.pvalue)
                print(f"{alpha:5.2f} {beta:5.2f} {param:>5} {res.statistic:8.5f} {res.pvalue:8.4f}")
    print(f"smallest p-value over 56 cases: {worst:.4g} (Bonferroni threshold at 0.001: {0.001 / 56:.2g})")
    return worst > 0.001 / 56


def paper_vs_numpy(tmp):
    rng = np.random.default_rng(3)
    ok = True
    for dtype in (np.float32, np.float64):
        x = (rng.standard_t(2.5, size=(300, 1234))).astype(dtype)
        path = Path(tmp) / f"g_{np.dtype(dtype).name}.npy"
        np.save(path, x)
        flat = x.astype(np.float64).ravel()
        n = flat.size
        k1 = max(d for d in range(1, int(np.sqrt(n)) + 1) if n % d == 0)
        eps = np.spacing(1)
        y = flat[: (n // k1) * k1].reshape(-1, k1).sum(axis=1)
        want = np.log(k1) / (np.log(np.abs(y) + eps).mean() - np.log(np.abs(flat) + eps).mean())
        got = json.loads(run("estimate", path, "--estimator", "paper", "--json", "--bootstrap", 0))["paper"]["alpha"]
        rel = abs(got - want) / abs(want)
        print(f"paper estimator, {np.dtype(dtype).name}: levylab {got:.12f}, numpy {want:.12f}, rel. diff {rel:.2e}")
        ok &= rel < 1e-9
    return ok


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        a = sampler_vs_scipy(tmp)
        b = paper_vs_numpy(tmp)
    print("OK" if a and b else "MISMATCH")
    sys.exit(0 if a and b else 1)
