"""PyTorch (CPU, eager) peers of Rankwise's benchmarks, timed the same way: median of repeated runs.

Usage: python3 torch_peer.py CASE THREADS [quick|full] [FILE]   (CASE: lowrank-lora, lowrank-sora,
autograd-forward, autograd-forward+backward; svd_lowrank and svd_lowrank-error, which read the square F32
matrix from FILE, raw little-endian). Prints one JSON object: {"case", "value", "unit"}.
"""
import json, statistics, sys, time

import torch


def timed(fn, warmup=3, reps=10, inner=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return statistics.median(times)


def main():
    case, threads = sys.argv[1], int(sys.argv[2])
    quick = len(sys.argv) > 3 and sys.argv[3] == "quick"
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if case.startswith("svd_lowrank"):
        import numpy as np
        data = np.fromfile(sys.argv[4], dtype="<f4")
        size = int(round(len(data) ** 0.5))
        a = torch.from_numpy(data.reshape(size, size).copy())
        if case.endswith("error"):
            # Mean over 10 sketches (seeds 0-9), as LinalgBenchmark.ERROR_SKETCHES on the Java side.
            a64, total = a.double(), 0.0
            for seed in range(10):
                torch.manual_seed(seed)
                u, s, v = torch.svd_lowrank(a, q=16, niter=2)
                total += ((a64 - u.double() @ torch.diag(s.double()) @ v.double().T).norm() / a64.norm()).item()
            value, unit = total / 10, "rel. error"
        else:
            value, unit = timed(lambda: torch.svd_lowrank(a, q=16, niter=2), warmup=2, reps=7) * 1e3, "ms"
    elif case.startswith("lowrank"):
        n, d, r = (512, 256, 16) if quick else (4096, 1024, 16)
        x = torch.randn(n, d)
        w = torch.randn(d, d) * 0.03
        a = (torch.randn(r, d) * 0.03).requires_grad_()
        b = (torch.randn(d, r) * 0.03).requires_grad_()
        g = torch.randn(r).requires_grad_() if case.endswith("sora") else None
        dy = torch.randn(n, d)

        def step():
            a.grad = b.grad = None
            if g is not None:
                g.grad = None
            h = x @ a.t()
            if g is not None:
                h = h * g
            y = x @ w.t() + (h @ b.t()) * 2.0
            y.backward(dy)

        value, unit = timed(step) * 1e3, "ms"
    else:
        a = torch.randn(4).requires_grad_()
        b = torch.randn(4).requires_grad_()
        backward = case.endswith("backward")

        def chain():
            h = a
            for _ in range(5):
                h = h * b + a
            if backward:
                a.grad = b.grad = None
                h.sum().backward()

        value, unit = timed(chain, warmup=200, reps=20, inner=200) / 10 * 1e9, "ns/op"
    print(json.dumps({"case": case, "value": value, "unit": unit}))


if __name__ == "__main__":
    main()
