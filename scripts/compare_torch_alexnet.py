#!/usr/bin/env python3
"""One AlexNet minibatch gradient: levylab against PyTorch on the CPU, side by side in one run.

The step: the paper's AlexNet for 28x28x1 images (conv 4x4/2 pad 2, max-pool 3x3/2, conv 5x5 pad 2,
max-pool, three conv 3x3 pad 1, max-pool, then Dropout-Linear(W)-ReLU-Dropout-Linear(W)-ReLU-Linear(10),
W = ch*(1 + log2 ch)), training mode (dropout on), softmax cross-entropy, a minibatch of 100 float32
images, forward and backward, parameters' gradients only. PyTorch times it with
`torch.set_num_threads(t)` (median of 50 steps after 10 warm-up steps); levylab through the criterion
benchmark `trainer/alexnet-ch{ch}-gradient-batch100-{t}-threads`, whose mean this script reads.

    python3 -m venv /tmp/torch && /tmp/torch/bin/pip install torch numpy   # not dependencies of levylab
    /tmp/torch/bin/python scripts/compare_torch_alexnet.py    # from the repository root

Prints one line per (channels, threads) with both times and the ratio levylab / PyTorch.
"""
import json
import math
import subprocess
import sys
import time

import torch
from torch import nn


def alexnet(ch):
    width = ch * (1 + int(math.log2(ch)))
    return nn.Sequential(
        nn.Conv2d(1, ch, kernel_size=4, stride=2, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(ch, ch, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(ch, ch, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(ch, ch, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(ch, ch, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Dropout(), nn.Linear(ch, width), nn.ReLU(),
        nn.Dropout(), nn.Linear(width, width), nn.ReLU(),
        nn.Linear(width, 10),
    )


def torch_seconds(ch, threads, reps=50):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = alexnet(ch).train()
    x = torch.rand(100, 1, 28, 28) * 2 - 1
    y = torch.arange(100) % 10
    loss_fn = nn.CrossEntropyLoss()

    def step():
        net.zero_grad(set_to_none=False)
        loss_fn(net(x), y).backward()

    for _ in range(10):
        step()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def levylab_seconds():
    subprocess.run(
        ["cargo", "bench", "--bench", "main", "--", "trainer/alexnet", "--warm-up-time", "2", "--measurement-time", "6"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    out = {}
    for ch in (16, 64):
        for t in (1, 2):
            path = f"target/criterion/trainer/alexnet-ch{ch}-gradient-batch100-{t}-threads/new/estimates.json"
            with open(path) as f:
                out[(ch, t)] = json.load(f)["mean"]["point_estimate"] * 1e-9
    return out


if __name__ == "__main__":
    ours = levylab_seconds()
    print(f"torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()}), levylab criterion mean")
    print(f"{'channels':>8} {'threads':>7} {'torch ms':>9} {'levylab ms':>10} {'ratio':>6}")
    for (ch, t), ll in sorted(ours.items()):
        tt = torch_seconds(ch, t)
        print(f"{ch:>8} {t:>7} {tt * 1e3:>9.2f} {ll * 1e3:>10.2f} {ll / tt:>6.2f}")
    sys.exit(0)
