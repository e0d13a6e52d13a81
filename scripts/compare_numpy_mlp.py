#!/usr/bin/env python3
"""levylab's minibatch gradient against numpy's, same shapes, same machine, one run.

Shape: a bias-free 784-512-512-10 ReLU network, softmax cross-entropy, batch 128, float32 — the
criterion benchmark `trainer/gradient-784-512-512-10-batch128`. The script times numpy's forward +
backward (median of 200 repetitions, single BLAS thread like levylab's single-threaded
matrixmultiply), then runs that criterion benchmark and reads its mean, and prints both with the ratio.

Usage: python3 scripts/compare_numpy_mlp.py     (needs numpy; run from the repository root)
Set OPENBLAS_NUM_THREADS yourself to compare against a multi-threaded BLAS.
"""
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
import numpy as np  # noqa: E402  (after the thread settings)


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
        ["cargo", "bench", "--bench", "main", "--", "trainer/gradient", "--warm-up-time", "2", "--measurement-time", "8"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    path = "target/criterion/trainer/gradient-784-512-512-10-batch128/new/estimates.json"
    with open(path) as f:
        return json.load(f)["mean"]["point_estimate"] * 1e-9


if __name__ == "__main__":
    t_np = numpy_gradient_seconds()
    t_ll = levylab_gradient_seconds()
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} threads={i.get('num_threads')}" for i in threadpool_info())
    except ImportError:
        blas = "threadpoolctl not installed"
    print(f"numpy {np.__version__} ({blas}): {t_np * 1e3:.3f} ms per gradient")
    print(f"levylab (criterion mean):            {t_ll * 1e3:.3f} ms per gradient")
    print(f"ratio levylab / numpy: {t_ll / t_np:.2f}")
    sys.exit(0)
