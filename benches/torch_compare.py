#!/usr/bin/env python3
"""Strata vs PyTorch, side by side in one run, on the same machine and thread counts.

Runs `strata bench ... --json` and the same workloads in PyTorch (CPU), alternating per thread
count, and prints each figure with the ratio Strata / PyTorch (higher is better for Strata).

    python3 -m venv .venv-bench && .venv-bench/bin/pip install torch
    cargo build --release -p strata-cli
    cargo build --release -p strata-tensor --example cnn_kernels
    .venv-bench/bin/python benches/torch_compare.py [--threads 1,2] [--min-time 1.0] [--json]
        [--only gemm,conv,autograd,cnn-kernels,train] [--rounds N]

Timing on both sides: one warm-up run, then repeated runs for at least --min-time seconds
(and 3 runs); the best run is reported (the figure least disturbed by other load). The
cnn-kernels and train sections alternate Strata and PyTorch --rounds times per thread count
and keep each side's best, so that a burst of load on a shared machine hits both alike.
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


# The MNIST CNN's layers at batch 64, as crates/strata-tensor/examples/cnn_kernels.rs times them.
CNN_CONVS = {"conv1": ([64, 1, 28, 28], [32, 1, 3, 3], False), "conv2": ([64, 32, 14, 14], [64, 32, 3, 3], True)}
CNN_POOLS = {"pool1": [64, 32, 28, 28], "pool2": [64, 64, 14, 14]}


def torch_cnn_kernels(min_time):
    """ms per call, {(layer, kernel): ms}: forward, and backward alone (the graph kept and
    differentiated again). conv1's input needs no gradient (it reads the data); pools run
    with the input requiring a gradient, so that the forward pass records the argmax as in
    training."""
    out = {}
    for layer, (xs, ws, input_grad) in CNN_CONVS.items():
        x = torch.randn(xs, requires_grad=input_grad)
        w = torch.randn(ws, requires_grad=True)
        b = torch.randn(ws[0], requires_grad=True)
        with torch.no_grad():
            out[(layer, "forward")] = best_time(min_time, lambda: F.conv2d(x, w, b, padding=1)) * 1e3
        y = F.conv2d(x, w, b, padding=1)
        gy = torch.randn(y.shape)
        wrt = (x, w, b) if input_grad else (w, b)
        out[(layer, "backward")] = best_time(
            min_time, lambda: torch.autograd.grad(y, wrt, gy, retain_graph=True)) * 1e3
    for layer, xs in CNN_POOLS.items():
        x = torch.randn(xs, requires_grad=True)
        out[(layer, "forward")] = best_time(min_time, lambda: F.max_pool2d(x, 2)) * 1e3
        y = F.max_pool2d(x, 2)
        gy = torch.randn(y.shape)
        out[(layer, "backward")] = best_time(
            min_time, lambda: torch.autograd.grad(y, (x,), gy, retain_graph=True)) * 1e3
    return out


def strata_cnn_kernels(args, t):
    cmd = [args.kernels_bin, "--threads", str(t), "--min-time", str(args.min_time)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {(r["layer"], r["kernel"]): r["ms"] for r in map(json.loads, filter(str.strip, out.splitlines()))}


def torch_train_step(model, min_time, batch=64):
    """steps/s of whole training steps (forward, cross-entropy, backward, Adam), as strata's
    `bench train-*` on a fixed random batch (labels i mod 10)."""
    torch.manual_seed(0)
    if model == "mlp":
        net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                  torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    else:
        net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(3136, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(batch, 1, 28, 28)
    y = torch.arange(batch) % 10

    def step():
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()

    return 1.0 / best_time(min_time, step)


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


def best_of_rounds(rounds, *measures):
    """Alternates the measuring functions `rounds` times; each one's result dict, best kept
    (`better(a, b)` picks)."""
    best = [None] * len(measures)
    for _ in range(rounds):
        for i, (measure, better) in enumerate(measures):
            got = measure()
            best[i] = got if best[i] is None else {k: better(v, best[i][k]) for k, v in got.items()}
    return best


def compare_cnn_kernels(args, t):
    ours, theirs = best_of_rounds(args.rounds, (lambda: strata_cnn_kernels(args, t), min),
                                  (lambda: torch_cnn_kernels(args.min_time), min))
    rows = []
    for layer in dict.fromkeys(layer for layer, _ in ours):
        # Strata's pool backward finds the argmax again and PyTorch's reads it from the forward
        # pass, so the sum of the two is the comparable figure.
        for kernel in ("forward", "backward", "forward+backward"):
            mine = sum(ours[(layer, k)] for k in kernel.split("+"))
            other = sum(theirs[(layer, k)] for k in kernel.split("+"))
            rows.append({"case": f"CNN {layer} {kernel}", "threads": t, "unit": "ms",
                         "strata": mine, "torch": other, "ratio": other / mine})
    return rows


def compare_training(args, t):
    rows = []
    for model in ("mlp", "cnn"):
        def ours():
            try:
                got = strata(args, f"train-{model}", "--threads", str(t))
            except subprocess.CalledProcessError as e:
                raise SystemExit(f"`strata bench train-{model}` failed (is the binary current?): {e.stderr}")
            return {"steps": next(r["value"] for r in got if r["unit"] == "steps/s")}

        mine, theirs = best_of_rounds(args.rounds, (ours, max),
                                      (lambda: {"steps": torch_train_step(model, args.min_time)}, max))
        rows.append({"case": f"train {model} b64 (Adam), steps/s", "threads": t, "unit": "steps/s",
                     "strata": mine["steps"], "torch": theirs["steps"], "ratio": mine["steps"] / theirs["steps"]})
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--strata", default="target/release/strata")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--min-time", type=float, default=1.0)
    p.add_argument("--json", action="store_true", help="one JSON object per comparison")
    p.add_argument("--kernels-bin", default="target/release/examples/cnn_kernels")
    p.add_argument("--only", default="gemm,conv,autograd,cnn-kernels,train",
                   help="comma-separated sections to run")
    p.add_argument("--rounds", type=int, default=1, help="alternations per thread count (cnn-kernels, train)")
    args = p.parse_args()
    only = set(args.only.split(","))
    rows = []
    peak = [r for r in strata(args, "peak", "--threads", "1") if r["name"] == "fma_peak"] if "gemm" in only else []
    peak = peak[0]["value"] if peak else None
    for t in [int(x) for x in args.threads.split(",")]:
        torch.set_num_threads(t)
        if "cnn-kernels" in only:
            rows.extend(compare_cnn_kernels(args, t))
        if "train" in only:
            rows.extend(compare_training(args, t))
        for r in strata(args, "gemm", "--n", ",".join(map(str, GEMM_SIZES)), "--threads", str(t)) if "gemm" in only else []:
            if r["name"] != "gemm_f32":
                continue
            n = r["parameters"]["n"]
            theirs = torch_gemm(n, args.min_time)
            rows.append({"case": f"gemm f32 n={n}", "threads": t, "unit": "GFLOP/s", "strata": r["value"],
                         "torch": theirs, "ratio": r["value"] / theirs,
                         "strata_fraction_of_peak": r["value"] / (peak * t) if peak else None,
                         "torch_fraction_of_peak": theirs / (peak * t) if peak else None})
        for r in strata(args, "conv", "--threads", str(t)) if "conv" in only else []:
            if r["name"] != "conv2d_fwd_bwd_f32":
                continue
            layer = next(l for l in CNN_LAYERS if l[0] == r["parameters"]["layer"])
            theirs = torch_conv(layer[1], layer[2], args.min_time)
            # Times: the ratio is PyTorch's time over Strata's, so > 1 means Strata is faster.
            rows.append({"case": f"conv2d fwd+bwd {layer[0]} x={layer[1]} w={layer[2]}", "threads": t, "unit": "ms",
                         "strata": r["value"], "torch": theirs, "ratio": theirs / r["value"]})
        for r in strata(args, "autograd", "--threads", str(t)) if "autograd" in only else []:
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
    print(f"PyTorch {torch.__version__}" + (f"; single-core FMA peak (measured by strata): {peak:.1f} GFLOP/s" if peak else ""))
    print(f"{'case':<52} {'thr':>3} {'strata':>10} {'torch':>10} {'unit':<8} {'strata/torch speed':>18}")
    for r in rows:
        extra = ""
        if r.get("strata_fraction_of_peak"):
            extra = f"  (peak: strata {100 * r['strata_fraction_of_peak']:.0f}%, torch {100 * r['torch_fraction_of_peak']:.0f}%)"
        print(f"{r['case']:<52} {r['threads']:>3} {r['strata']:>10.2f} {r['torch']:>10.2f} {r['unit']:<8} {r['ratio']:>18.2f}{extra}")


if __name__ == "__main__":
    main()
