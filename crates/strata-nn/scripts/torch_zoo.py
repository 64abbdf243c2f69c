#!/usr/bin/env python3
"""PyTorch twins of Strata's model zoo (strata_nn::zoo), trained with the same hyperparameters,
for side-by-side accuracy and speed.

    python crates/strata-nn/scripts/torch_zoo.py mlp --data /work/shared/data [--epochs 10]
        [--steps N] [--batch-size 64] [--lr 1e-3] [--threads 2] [--seed 0] [--json]

Architecture, data pipeline and optimizer match `strata train`:
- mlp: Flatten, Linear(784,256), ReLU, Linear(256,128), ReLU, Linear(128,10);
- cnn: Conv2d(1,32,3,padding=1), ReLU, MaxPool2d(2), Conv2d(32,64,3,padding=1), ReLU,
  MaxPool2d(2), Flatten, Linear(3136,128), ReLU, Linear(128,10);
- MNIST IDX files scaled to [0, 1] (pixel/255 in f32) and normalized with (0.1307, 0.3081);
- Adam(lr=1e-3), batch 64, a fresh random permutation every epoch, the last short batch kept;
- CosineAnnealingLR(T_max = total steps), stepped after every optimizer step
  (`--schedule constant` keeps the rate);
- mean cross-entropy; after training, test loss and accuracy on the 10,000 test images.
Initialization uses PyTorch's defaults (the same distributions as Strata; the random streams
differ, so the runs differ in their digits, not in their statistics).

samples/s counts training time only (batching included, evaluation excluded), as Strata does.
Only torch and numpy are needed (no torchvision).
"""

import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, path
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(root, split):
    d = os.path.join(root, "mnist")
    prefix = "train" if split == "train" else "t10k"
    find = lambda stem: next(
        p for p in (os.path.join(d, stem + ".gz"), os.path.join(d, stem)) if os.path.exists(p)
    )
    x = read_idx(find(f"{prefix}-images-idx3-ubyte")).astype(np.float32) / np.float32(255.0)
    y = read_idx(find(f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    x = (torch.from_numpy(x).unsqueeze(1) - 0.1307) / 0.3081
    return x, torch.from_numpy(y)


def mlp():
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(3136, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )


MODELS = {"mlp": (mlp, 10), "cnn": (cnn, 3)}


def evaluate(model, x, y, batch=500):
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(x[i : i + batch])
            loss += F.cross_entropy(logits, y[i : i + batch], reduction="sum").item()
            correct += (logits.argmax(-1) == y[i : i + batch]).sum().item()
    model.train()
    return loss / len(x), correct / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=sorted(MODELS))
    ap.add_argument("--data", default=os.environ.get("STRATA_DATA"))
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", choices=["f32", "f64"], default="f32")
    ap.add_argument("--train-limit", type=int)
    ap.add_argument("--test-limit", type=int)
    ap.add_argument("--schedule", choices=["cosine", "constant"], default="cosine")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dtype = torch.float32 if a.dtype == "f32" else torch.float64
    build, default_epochs = MODELS[a.model]
    epochs = a.epochs if a.epochs is not None else (10**9 if a.steps else default_epochs)
    max_steps = a.steps if a.steps is not None else 10**18
    x, y = load_mnist(a.data, "train")
    xt, yt = load_mnist(a.data, "test")
    if a.train_limit:
        x, y = x[: a.train_limit], y[: a.train_limit]
    if a.test_limit:
        xt, yt = xt[: a.test_limit], yt[: a.test_limit]
    x, xt = x.to(dtype), xt.to(dtype)
    model = build().to(dtype)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    per_epoch = (len(x) + a.batch_size - 1) // a.batch_size
    total = min(max_steps, epochs * per_epoch)
    sched = None
    if a.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    step, samples, train_time, recent = 0, 0, 0.0, []
    gen = torch.Generator().manual_seed(a.seed)
    for epoch in range(epochs):
        if step >= max_steps:
            break
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), a.batch_size):
            if step >= max_steps:
                break
            t0 = time.perf_counter()
            idx = perm[i : i + a.batch_size]
            xb, yb = x[idx], y[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            correct = (logits.argmax(-1) == yb).sum().item()
            lv = loss.item()
            train_time += time.perf_counter() - t0
            samples += len(idx)
            step += 1
            recent = (recent + [(lv, correct, len(idx))])[-100:]
        if not a.json and step < max_steps:
            tl, ta = evaluate(model, xt, yt)
            print(f"epoch {epoch + 1}: test loss {tl:.4f}, test accuracy {100 * ta:.2f}%", flush=True)
    tl, ta = evaluate(model, xt, yt)
    report = {
        "model": a.model,
        "framework": f"torch {torch.__version__}",
        "dtype": a.dtype,
        "threads": torch.get_num_threads(),
        "steps": step,
        "epochs": step / ((len(x) + a.batch_size - 1) // a.batch_size),
        "train_loss": sum(r[0] for r in recent) / max(1, len(recent)),
        "train_accuracy": sum(r[1] for r in recent) / max(1, sum(r[2] for r in recent)),
        "test_loss": tl,
        "test_accuracy": ta,
        "test_examples": len(xt),
        "samples_per_s": samples / max(train_time, 1e-9),
        "train_seconds": train_time,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
