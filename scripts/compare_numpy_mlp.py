#!/usr/bin/env python3
"""levylab's minibatch gradient against numpy's, same shapes, same machine, one run.

Shape: a bias-free 784-512-512-10 ReLU network, softmax cross-entropy, batch 128, float32 — the
criterion benchmarks `trainer/gradient-784-512-512-10-batch128-{1,2}-threads`. The script times
numpy's forward + backward (median of 200 repetitions) with its BLAS limited to 1 and then 2
threads (threadpoolctl), runs those criterion benchmarks and reads their means, and prints each
pair with the ratio levylab / numpy.

Usage: python3 scripts/compare_numpy_mlp.py     (needs numpy and threadpoolctl; run from the
repository root). OPENBLAS_CORETYPE is left as it is: unset, OpenBLAS picks its kernel for the CPU.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits


def numpy_gradient_seconds(reps=200):
    rng = np.random.default_rng(0)
    b, sizes = 128, [784, 512, 512, 10]
    x = rng.random((b, 784), dtype=np.float32)
    y = np.arange(b) % 10
    ws = [((rng.random((o, i), dtype=np.float32) * 2 - 1) / np.sqrt(i)).astype(np.float32) for i, o in zip(sizes, sizes[1:])]

    def grad():
        z1 = x @ ws[0].T
        h1 = np.maximum(z1, 0)
        z2 = h1 @ ws[1].T
        h2 = np.maximum(z2, 0)
        z3 = h2 @ ws[2].T
        p = np.exp(z3 - z3.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(b), y] -= 1
        d3 = p / b
        g3 = d3.T @ h2
        d2 = (d3 @ ws[2]) * (z2 > 0)
        g2 = d2.T @ h1
        d1 = (d2 @ ws[1]) * (z1 > 0)
        g1 = d1.T @ x
        return g1, g2, g3

    for _ in range(20):
        grad()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        grad()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def levylab_gradient_seconds():
    subprocess.run(
        ["cargo", "bench", "--bench", "main", "--", "trainer/gradient-784", "--warm-up-time", "2", "--measurement-time", "8"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    times = {}
    for threads in (1, 2):
        path = f"target/criterion/trainer/gradient-784-512-512-10-batch128-{threads}-threads/new/estimates.json"
        with open(path) as f:
            times[threads] = json.load(f)["mean"]["point_estimate"] * 1e-9
    return times


if __name__ == "__main__":
    t_np = {}
    for threads in (1, 2):
        with threadpool_limits(limits=threads):
            t_np[threads] = numpy_gradient_seconds()
    t_ll = levylab_gradient_seconds()
    blas = ", ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}" for i in threadpool_info())
    print(f"numpy {np.__version__} ({blas})")
    for threads in (1, 2):
        print(
            f"{threads} thread(s): numpy {t_np[threads] * 1e3:.3f} ms, levylab {t_ll[threads] * 1e3:.3f} ms per gradient, "
            f"ratio levylab / numpy {t_ll[threads] / t_np[threads]:.2f}"
        )
    sys.exit(0)
