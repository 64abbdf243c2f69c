#!/usr/bin/env python3
"""Training throughput of Strata and PyTorch side by side: `strata bench train-mlp|train-cnn|
train-chargpt` against the same models (scripts/torch_zoo.py), optimizer (Adam; AdamW for
chargpt), batch (64 random examples; 64 windows of 64 random characters) and thread counts.

    cargo build --release -p strata-cli
    python crates/strata-nn/scripts/bench_train.py [--strata target/release/strata] \\
        [--models mlp,cnn,chargpt] [--threads 1,2] [--reps 3] [--min-time 2]

Each (model, threads) pair alternates a Strata run and a PyTorch run `--reps` times, so a
load change on a shared machine hits both, and keeps each side's best (the run least
disturbed by other load). A step is forward, backward and optimizer update; both time whole
steps after warm-up (Strata's first step traces and compiles its plan). Prints steps/s (and
tokens/s for chargpt) and the ratio Strata / PyTorch.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_zoo  # noqa: E402

BATCH = 64


def torch_steps_per_s(model_name, threads, min_time):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    build, dataset, _epochs, _steps, lr, optimizer = torch_zoo.MODELS[model_name]
    model = build()
    if dataset == "text":
        ids = torch.randint(0, torch_zoo.VOCAB, (BATCH * torch_zoo.BLOCK + 1,))
        x = ids[:-1].reshape(BATCH, torch_zoo.BLOCK)
        y = ids[1:].reshape(-1)
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    else:
        x = torch.randn(BATCH, 1, 28, 28)
        y = torch.arange(BATCH) % 10
        opt = torch.optim.Adam(model.parameters(), lr=lr)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss.item()

    step()
    best, runs, start = float("inf"), 0, time.perf_counter()
    while runs < 3 or time.perf_counter() - start < min_time:
        t = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t)
        runs += 1
    return 1.0 / best


def strata_steps_per_s(binary, model_name, threads, min_time):
    cmd = [binary, "bench", f"train-{model_name}", "--threads", str(threads), "--json",
           "--min-time", str(min_time)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        r = json.loads(line)
        if r["unit"] == "steps/s":
            return r["value"]
    raise RuntimeError(f"no steps/s in the output of {' '.join(cmd)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", default="target/release/strata")
    ap.add_argument("--models", default="mlp,cnn,chargpt")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=2.0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    for model_name in a.models.split(","):
        tokens = BATCH * torch_zoo.BLOCK if model_name == "chargpt" else None
        for t in [int(v) for v in a.threads.split(",")]:
            s_best, t_best = 0.0, 0.0
            for _ in range(a.reps):
                s_best = max(s_best, strata_steps_per_s(a.strata, model_name, t, a.min_time))
                t_best = max(t_best, torch_steps_per_s(model_name, t, a.min_time))
            row = {"model": model_name, "threads": t, "batch": BATCH,
                   "strata_steps_per_s": s_best, "torch_steps_per_s": t_best,
                   "ratio": s_best / t_best, "torch": torch.__version__}
            if tokens:
                row["strata_tokens_per_s"] = s_best * tokens
                row["torch_tokens_per_s"] = t_best * tokens
            if a.json:
                print(json.dumps(row), flush=True)
            else:
                extra = (f"  ({s_best * tokens:,.0f} vs {t_best * tokens:,.0f} tokens/s)"
                         if tokens else "")
                print(f"{model_name:8} threads={t}  strata {s_best:8.2f} steps/s  "
                      f"torch {t_best:8.2f} steps/s  ratio {s_best / t_best:5.2f}{extra}",
                      flush=True)


if __name__ == "__main__":
    main()
