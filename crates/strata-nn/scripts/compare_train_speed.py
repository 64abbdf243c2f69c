#!/usr/bin/env python3
"""Training throughput of Strata and PyTorch side by side, in one run, same machine, same
thread counts, same model, batch size, optimizer and data (MNIST).

    cargo build --release -p strata-nn --example train
    python crates/strata-nn/scripts/compare_train_speed.py --data /work/shared/data \
        [--strata target/release/examples/train] [--models mlp,cnn] [--threads 1,2] \
        [--steps 300] [--reps 3] [--backends eager,compiled]

For each (model, threads) it alternates Strata and PyTorch runs `--reps` times (so a load
change on a shared machine hits both), and prints the median training samples/s of each and
the ratio Strata / PyTorch. Both count training time only (batching, forward, backward,
optimizer; no evaluation). Strata's compiled backend includes its one-time trace and compile.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("STRATA_DATA"))
    ap.add_argument("--strata", default="target/release/examples/train")
    ap.add_argument("--models", default="mlp,cnn")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--backends", default="compiled")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    rows = []
    for model in a.models.split(","):
        steps = a.steps if model == "mlp" else max(1, a.steps // 5)
        for t in [int(x) for x in a.threads.split(",")]:
            common = ["--data", a.data, "--steps", str(steps), "--threads", str(t),
                      "--test-limit", "100", "--json"]
            torch_rates, strata_rates = [], {b: [] for b in a.backends.split(",")}
            for _ in range(a.reps):
                for b in strata_rates:
                    r = run([a.strata, "train", model, "--backend", b, "--no-epoch-eval", *common])
                    strata_rates[b].append(r["samples_per_s"])
                r = run([sys.executable, os.path.join(HERE, "torch_zoo.py"), model, *common])
                torch_rates.append(r["samples_per_s"])
            tr = statistics.median(torch_rates)
            for b, rates in strata_rates.items():
                sr = statistics.median(rates)
                row = {"model": model, "threads": t, "backend": b, "steps": steps,
                       "strata_samples_per_s": sr, "torch_samples_per_s": tr, "ratio": sr / tr}
                rows.append(row)
                if a.json:
                    print(json.dumps(row), flush=True)
                else:
                    print(f"{model:4} threads={t} {b:9} strata {sr:9.0f}/s  torch {tr:9.0f}/s  "
                          f"ratio {sr / tr:5.2f}", flush=True)


if __name__ == "__main__":
    main()
