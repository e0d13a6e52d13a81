#!/usr/bin/env python3
"""levylab's engine against a numba reference loop, side by side in one run.

The reference is the short script a researcher would write: `@njit(parallel=True)` over paths, each
path an explicit Euler loop in the quartic double well U = x^4/4 - x^2/2 from -1 until it crosses the
saddle at 0, with numpy-free Chambers-Mallows-Stuck (alpha-stable) or Gaussian increments. levylab
runs the same problem with its default settings (Strang splitting, Brownian-bridge test) through
`levylab run` on a generated scenario; its rate is path-steps / wall time of the simulation, read
from summary.json. Both use every core unless --threads says otherwise.

    pip install numba numpy        # not dependencies of levylab
    cargo build --release
    python3 scripts/compare_numba.py [--levylab target/release/levylab] [--paths 20000]
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numba
import numpy as np
from numba import njit, prange


@njit(parallel=True, fastmath=False)
def numba_stable(paths, alpha, eps, dt, max_steps, seed):
    steps = np.zeros(paths, dtype=np.int64)
    scale = eps * dt ** (1.0 / alpha)
    for p in prange(paths):
        np.random.seed(seed + p)
        x = -1.0
        n = 0
        while n < max_steps:
            v = np.pi * (np.random.random() - 0.5)
            w = -np.log(np.random.random())
            s = (np.sin(alpha * v) / np.cos(v) ** (1.0 / alpha)
                 * (np.cos((1.0 - alpha) * v) / w) ** ((1.0 - alpha) / alpha))
            x = x - (x * x * x - x) * dt + scale * s
            n += 1
            if x >= 0.0:
                break
        steps[p] = n
    return steps


@njit(parallel=True, fastmath=False)
def numba_stable_2d(paths, alpha, eps, dt, max_steps, seed):
    """U = y1^4/4 - y1^2/2 + y2^2/2 with i.i.d. SaS coordinates; ends when y1 >= 0."""
    steps = np.zeros(paths, dtype=np.int64)
    scale = eps * dt ** (1.0 / alpha)
    for p in prange(paths):
        np.random.seed(seed + p)
        x = -1.0
        y = 0.0
        n = 0
        while n < max_steps:
            v = np.pi * (np.random.random() - 0.5)
            w = -np.log(np.random.random())
            s1 = (np.sin(alpha * v) / np.cos(v) ** (1.0 / alpha)
                  * (np.cos((1.0 - alpha) * v) / w) ** ((1.0 - alpha) / alpha))
            v = np.pi * (np.random.random() - 0.5)
            w = -np.log(np.random.random())
            s2 = (np.sin(alpha * v) / np.cos(v) ** (1.0 / alpha)
                  * (np.cos((1.0 - alpha) * v) / w) ** ((1.0 - alpha) / alpha))
            x, y = x - (x * x * x - x) * dt + scale * s1, y - y * dt + scale * s2
            n += 1
            if x >= 0.0:
                break
        steps[p] = n
    return steps


@njit(parallel=True, fastmath=False)
def numba_brownian(paths, sigma, dt, max_steps, seed):
    steps = np.zeros(paths, dtype=np.int64)
    scale = sigma * np.sqrt(dt)
    for p in prange(paths):
        np.random.seed(seed + p)
        x = -1.0
        n = 0
        while n < max_steps:
            x = x - (x * x * x - x) * dt + scale * np.random.standard_normal()
            n += 1
            if x >= 0.0:
                break
        steps[p] = n
    return steps


LINE = """[landscape]
kind = "quartic"
width = 1.0
height = 0.25
[event]
kind = "transition"
start = -1.0
"""

PLANE = """[landscape]
kind = "separable"
axes = [{ kind = "quartic", width = 1.0, height = 0.25 }, { kind = "quadratic", curvature = 1.0 }]
[event]
kind = "halfspace"
normal = [1.0, 0.0]
offset = 0.0
start = [-1.0, 0.0]
"""

SCENARIO = """name = "{name}"
seed = 1
paths = {paths}
horizon = {horizon}
[noise]
{noise}
[integrator]
dt = {dt}
{model}"""


def levylab_rate(binary, name, noise, model, paths, dt, horizon, threads):
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "s.toml")
        with open(f, "w") as fh:
            fh.write(SCENARIO.format(name=name, paths=paths, horizon=horizon, noise=noise, dt=dt,
                                     model=model))
        cmd = [binary, "run", f, "--out", d, "--quiet"]
        if threads:
            cmd += ["--threads", str(threads)]
        subprocess.run(cmd, check=True, capture_output=True)
        with open(os.path.join(d, name, "summary.json")) as fh:
            p = json.load(fh)["points"][0]
        return p["steps"] / p["wall_seconds"], p["mean"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--levylab", default="target/release/levylab")
    ap.add_argument("--paths", type=int, default=20000,
                    help="paths of the alpha-stable case (the Brownian case runs five times as many)")
    ap.add_argument("--threads", type=int, default=0, help="0: all cores (numba and levylab)")
    args = ap.parse_args()
    if args.threads:
        numba.set_num_threads(args.threads)
    dt, horizon = 0.01, 1e5
    max_steps = int(horizon / dt)
    print(f"numba {numba.__version__}, threads {numba.get_num_threads()}, paths {args.paths}, dt {dt}")
    print(f"{'case':<28} {'numba M steps/s':>16} {'levylab M steps/s':>18} {'ratio':>7}   means (numba, levylab)")
    cases = [
        ("alpha-stable 1.5, eps 0.1", "stable", 'kind = "stable"\nalpha = 1.5\nepsilon = 0.1', LINE,
         lambda n: numba_stable(n, 1.5, 0.1, dt, max_steps, 1), args.paths),
        ("Brownian sigma 0.5", "brownian", 'kind = "brownian"\nsigma = 0.5', LINE,
         lambda n: numba_brownian(n, 0.5, dt, max_steps, 1), 5 * args.paths),
        # 2-D: the double well times a quadratic valley, i.i.d. stable coordinates (two CMS draws per
        # step in both programs); a path-step is one step of the 2-D state.
        ("2-D independent 1.5, eps 0.1", "plane",
         'kind = "stable"\nalpha = 1.5\nepsilon = 0.1\nshape = "independent"', PLANE,
         lambda n: numba_stable_2d(n, 1.5, 0.1, dt, max_steps, 1), args.paths),
    ]
    for label, name, noise, model, reference, paths in cases:
        reference(64)  # compile
        t0 = time.perf_counter()
        steps = reference(paths)
        wall = time.perf_counter() - t0
        numba_rate = steps.sum() / wall
        rate, mean = levylab_rate(args.levylab, name, noise, model, paths, dt, horizon, args.threads)
        print(f"{label:<28} {numba_rate / 1e6:>16.1f} {rate / 1e6:>18.1f} {rate / numba_rate:>7.2f}"
              f"   {steps.mean() * dt:.2f}, {mean:.2f}")


if __name__ == "__main__":
    main()
