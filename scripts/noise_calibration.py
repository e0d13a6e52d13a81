#!/usr/bin/env python3
"""Calibration of the gradient-noise diagnostics, re-implemented in numpy (independent of levylab).

For synthetic P x M noise matrices with a known answer (SaS from scipy.stats.levy_stable, Gaussian
scale mixtures), prints the paper's pooled estimate and the Gaussian null / standardized estimates
computed with two per-coordinate scales:
  * "sd":   the sample standard deviation (levylab 0.1; miscalibrated on heavy tails),
  * "diff": the geometric mean of the non-zero consecutive differences (levylab now).
With --levylab BIN it also writes each matrix as .npy and prints `levylab noise`'s values beside
(they use other random draws for the null, so they agree to the estimator's noise, not exactly).

    python3 scripts/noise_calibration.py [--levylab target/release/levylab]
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
from scipy.stats import levy_stable


def k1_of(n):
    k = int(np.sqrt(n))
    while n % k:
        k -= 1
    return k


def paper_alpha(x):
    """Mohammadi et al. block-sum estimator on the row-major flattening (blocks of K1)."""
    x = np.ravel(x)
    k1 = k1_of(x.size)
    eps = np.finfo(float).eps
    blocks = x.reshape(-1, k1).sum(axis=1)
    inv = (np.mean(np.log(np.abs(blocks) + eps)) - np.mean(np.log(np.abs(x) + eps))) / np.log(k1)
    return 1.0 / inv


def scale(u, kind):
    if kind == "sd":
        return u.std(axis=0)
    d = np.abs(np.diff(u, axis=0))
    logs = np.where(d > 0, np.log(np.where(d > 0, d, 1.0)), 0.0)
    count = (d > 0).sum(axis=0)
    return np.where(count > 0, np.exp(logs.sum(axis=0) / np.maximum(count, 1)), 0.0)


def diagnostics(u, kind, rng):
    s = scale(u, kind)
    null = paper_alpha(rng.standard_normal(u.shape) * s)
    live = s > 0
    std = paper_alpha(u[:, live] / s[live])
    return null, std


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--levylab", help="path to the levylab binary, to run `levylab noise` beside")
    ap.add_argument("--columns", type=int, default=2000)
    args = ap.parse_args()
    rng = np.random.default_rng(2019)
    m = args.columns
    mixed = 10 ** rng.uniform(-1, 1, m)
    cases = [
        ("SaS a=1.2 equal", lambda p: levy_stable.rvs(1.2, 0, size=(p, m), random_state=rng)),
        ("SaS a=1.5 equal", lambda p: levy_stable.rvs(1.5, 0, size=(p, m), random_state=rng)),
        ("SaS a=1.8 equal", lambda p: levy_stable.rvs(1.8, 0, size=(p, m), random_state=rng)),
        ("Gaussian mixed", lambda p: rng.standard_normal((p, m)) * mixed),
        ("SaS a=1.5 mixed", lambda p: levy_stable.rvs(1.5, 0, size=(p, m), random_state=rng) * mixed),
    ]
    head = f"{'data':<18} {'P':>4} {'paper':>6} | {'sd: null':>8} {'std':>6} | {'diff: null':>10} {'std':>6}"
    if args.levylab:
        head += f" | {'levylab: null':>13} {'std':>6}"
    print(head)
    tmp = tempfile.mkdtemp()
    for p in (14, 100, 600):
        for name, draw in cases:
            x = draw(p)
            u = x - x.mean(axis=0)
            row = f"{name:<18} {p:>4} {paper_alpha(u):>6.3f}"
            for kind in ("sd", "diff"):
                null, std = diagnostics(u, kind, rng)
                row += f" | {null:>{8 if kind == 'sd' else 10}.3f} {std:>6.3f}"
            if args.levylab:
                path = os.path.join(tmp, "g.npy")
                np.save(path, x)
                out = subprocess.run([args.levylab, "noise", path, "--json"], check=True,
                                     capture_output=True, text=True).stdout
                r = json.loads(out)
                row += f" | {r['gaussian_null']:>13.3f} {r['standardized']['alpha']:>6.3f}"
            print(row, flush=True)


if __name__ == "__main__":
    main()
