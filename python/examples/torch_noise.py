"""Tail index of a PyTorch network's gradient noise, streamed with levylab.NoiseMeter.

A small fully connected network is trained by SGD on synthetic data (or Fashion-MNIST's IDX files
when --idx DIR is given, e.g. /usr/share/fashion-mnist from Debian's dataset-fashion-mnist); at the
end the P minibatch gradients of one epoch are fed to the meter twice (pass 1: their mean, pass 2:
the noise g - mean), never stored as a P x M matrix. For a small network the script also builds
the explicit matrix and checks that the streamed pooled estimate equals the formula on it.

    pip install . torch && python python/examples/torch_noise.py
"""

import argparse
import gzip
import struct
from pathlib import Path

import numpy as np
import torch

import levylab


def idx(path):
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def data(args):
    if args.idx:
        d = Path(args.idx)
        pick = lambda stem: next(d.glob(stem + "*"))  # noqa: E731
        x = idx(pick("train-images")).reshape(-1, 784).astype(np.float32) / 255.0
        y = idx(pick("train-labels")).astype(np.int64)
        return torch.from_numpy(x[: args.n]), torch.from_numpy(y[: args.n])
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.n, 784, generator=g)
    w = torch.randn(784, 10, generator=g)
    return x, (x @ w).argmax(dim=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--idx", help="directory with Fashion-MNIST IDX files")
    ap.add_argument("--n", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    torch.manual_seed(0)
    x, y = data(args)
    net = torch.nn.Sequential(
        torch.nn.Linear(784, args.width), torch.nn.ReLU(), torch.nn.Linear(args.width, 10)
    )
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = torch.nn.CrossEntropyLoss()
    batches = [(x[i : i + args.batch], y[i : i + args.batch]) for i in range(0, len(x), args.batch)]
    for _ in range(args.epochs):
        for xb, yb in batches:
            opt.zero_grad()
            loss_fn(net(xb), yb).backward()
            opt.step()

    def gradient(xb, yb):
        net.zero_grad()
        loss_fn(net(xb), yb).backward()
        return torch.cat([p.grad.reshape(-1) for p in net.parameters()]).numpy().copy()

    layers = [p.numel() for p in net.parameters()]
    meter = levylab.NoiseMeter(sum(layers), layers=layers, batch_size=args.batch)
    for xb, yb in batches:
        meter.add_mean(gradient(xb, yb))
    for xb, yb in batches:
        meter.add(gradient(xb, yb))
    r = meter.result()
    print(f"P = {r['batches']} minibatches of {args.batch}, M = {r['params']} parameters")
    print(f"paper alpha {r['paper']['alpha']:.3f}  Gaussian null {r['gaussian_null']:.3f}  "
          f"standardized {r['standardized']['alpha']:.3f}  Hill {r['hill']:.3f}")

    # Check: the pooled estimate is the formula on the explicit P x M noise matrix.
    g = np.stack([gradient(xb, yb) for xb, yb in batches]).astype(np.float64)
    u = (g - g.mean(axis=0)).ravel()
    k1 = r["paper"]["k1"]
    u = u[: u.size - u.size % k1]
    s = u.reshape(-1, k1).sum(axis=1)
    eps = 1e-16
    inv = (np.mean(np.log(np.abs(s) + eps)) - np.mean(np.log(np.abs(u) + eps))) / np.log(k1)
    print(f"explicit matrix: {1.0 / inv:.6f} (streamed {r['paper']['alpha']:.6f})")


if __name__ == "__main__":
    main()
