#!/usr/bin/env python3
"""Strata vs PyTorch, side by side in one run, on the same machine and thread counts.

Runs `strata bench ... --json` and the same workloads in PyTorch (CPU), alternating per thread
count, and prints each figure with the ratio Strata / PyTorch (higher is better for Strata).

    python3 -m venv .venv-bench && .venv-bench/bin/pip install torch
    cargo build --release -p strata-cli
    .venv-bench/bin/python benches/torch_compare.py [--threads 1,2] [--min-time 1.0] [--json]

Timing on both sides: one warm-up run, then repeated runs for at least --min-time seconds
(and 3 runs); the best run is reported (the figure least disturbed by other load).
"""
import argparse
import json
import subprocess
import time

import torch
import torch.nn.functional as F

GEMM_SIZES = [256, 1024, 2048]
CNN_LAYERS = [  # must match strata-cli's bench::CNN_LAYERS
    ("conv1", [64, 1, 28, 28], [32, 1, 3, 3]),
    ("conv2", [64, 32, 14, 14], [64, 32, 3, 3]),
]


def best_time(min_time, f):
    f()
    start, best, runs = time.perf_counter(), float("inf"), 0
    while runs < 3 or time.perf_counter() - start < min_time:
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
        runs += 1
    return best


def strata(args, *bench):
    cmd = [args.strata, "bench", *bench, "--json", "--min-time", str(args.min_time)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def torch_gemm(n, min_time):
    a, b = torch.randn(n, n), torch.randn(n, n)
    secs = best_time(min_time, lambda: torch.mm(a, b))
    return 2 * n**3 / secs / 1e9


def torch_conv(xs, ws, min_time):
    x = torch.randn(xs, requires_grad=True)
    w = torch.randn(ws, requires_grad=True)
    b = torch.randn(ws[0], requires_grad=True)
    gy = torch.randn(F.conv2d(x, w, b, padding=1).shape)

    def step():
        y = F.conv2d(x, w, b, padding=1)
        torch.autograd.grad(y, (x, w, b), gy)

    return best_time(min_time, step) * 1e3


def torch_op_overhead(min_time, ops=1000):
    """ns per eager add on a one-element tensor that requires grad (autograd recording on)."""
    one = torch.ones(1)

    def chain():
        y = torch.ones(1, requires_grad=True)
        for _ in range(ops):
            y = y + one

    return best_time(min_time, chain) / ops * 1e9


def torch_mlp_step(min_time, sizes=(784, 256, 128, 10), batch=64):
    """ms per forward + backward of the MLP (no optimizer), as strata's `mlp_step`."""
    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i + 2 < len(sizes):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    x = torch.randn(batch, sizes[0])
    y = torch.arange(batch) % 10

    def step():
        loss = F.cross_entropy(model(x), y)
        torch.autograd.grad(loss, list(model.parameters()))

    return best_time(min_time, step) * 1e3


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--strata", default="target/release/strata")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--min-time", type=float, default=1.0)
    p.add_argument("--json", action="store_true", help="one JSON object per comparison")
    args = p.parse_args()
    rows = []
    peak = [r for r in strata(args, "peak", "--threads", "1") if r["name"] == "fma_peak"]
    peak = peak[0]["value"] if peak else None
    for t in [int(x) for x in args.threads.split(",")]:
        torch.set_num_threads(t)
        for r in strata(args, "gemm", "--n", ",".join(map(str, GEMM_SIZES)), "--threads", str(t)):
            if r["name"] != "gemm_f32":
                continue
            n = r["parameters"]["n"]
            theirs = torch_gemm(n, args.min_time)
            rows.append({"case": f"gemm f32 n={n}", "threads": t, "unit": "GFLOP/s", "strata": r["value"],
                         "torch": theirs, "ratio": r["value"] / theirs,
                         "strata_fraction_of_peak": r["value"] / (peak * t) if peak else None,
                         "torch_fraction_of_peak": theirs / (peak * t) if peak else None})
        for r in strata(args, "conv", "--threads", str(t)):
            if r["name"] != "conv2d_fwd_bwd_f32":
                continue
            layer = next(l for l in CNN_LAYERS if l[0] == r["parameters"]["layer"])
            theirs = torch_conv(layer[1], layer[2], args.min_time)
            # Times: the ratio is PyTorch's time over Strata's, so > 1 means Strata is faster.
            rows.append({"case": f"conv2d fwd+bwd {layer[0]} x={layer[1]} w={layer[2]}", "threads": t, "unit": "ms",
                         "strata": r["value"], "torch": theirs, "ratio": theirs / r["value"]})
        for r in strata(args, "autograd", "--threads", str(t)):
            if r["name"] == "eager_op_overhead" and t == 1:
                theirs = torch_op_overhead(args.min_time)
                rows.append({"case": "eager per-op overhead (add, 1 element, grad on)", "threads": 1,
                             "unit": "ns/op", "strata": r["value"], "torch": theirs, "ratio": theirs / r["value"]})
            elif r["name"] == "mlp_step":
                if r["parameters"]["mode"] == "eager":
                    theirs = torch_mlp_step(args.min_time)
                mode = r["parameters"]["mode"]
                rows.append({"case": f"MLP 784-256-128-10 b64 fwd+bwd, strata {mode} vs torch eager", "threads": t,
                             "unit": "ms", "strata": r["value"], "torch": theirs, "ratio": theirs / r["value"]})
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print(f"PyTorch {torch.__version__}; single-core FMA peak (measured by strata): {peak and round(peak, 1)} GFLOP/s")
    print(f"{'case':<52} {'thr':>3} {'strata':>10} {'torch':>10} {'unit':<8} {'strata/torch speed':>18}")
    for r in rows:
        extra = ""
        if r.get("strata_fraction_of_peak"):
            extra = f"  (peak: strata {100 * r['strata_fraction_of_peak']:.0f}%, torch {100 * r['torch_fraction_of_peak']:.0f}%)"
        print(f"{r['case']:<52} {r['threads']:>3} {r['strata']:>10.2f} {r['torch']:>10.2f} {r['unit']:<8} {r['ratio']:>18.2f}{extra}")


if __name__ == "__main__":
    main()
