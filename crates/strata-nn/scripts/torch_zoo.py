#!/usr/bin/env python3
"""PyTorch twins of Strata's model zoo (strata_nn::zoo), trained with the same hyperparameters,
for side-by-side accuracy, loss and speed.

    python crates/strata-nn/scripts/torch_zoo.py MODEL --data /work/shared/data [--epochs E]
        [--steps N] [--batch-size 64] [--lr F] [--threads 2] [--seed 0] [--json]
    python crates/strata-nn/scripts/torch_zoo.py --state-dicts   # names and shapes, as JSON

Architecture, data pipeline and optimizer match `strata train MODEL` (the defaults below are
strata_nn::zoo's):
- mlp (MNIST, 10 epochs): Flatten, Linear(784,256), ReLU, Linear(256,128), ReLU, Linear(128,10);
- cnn (MNIST, 3 epochs): Conv2d(1,32,3,padding=1), ReLU, MaxPool2d(2), Conv2d(32,64,3,padding=1),
  ReLU, MaxPool2d(2), Flatten, Linear(3136,128), ReLU, Linear(128,10);
- resnet (Fashion-MNIST, 3 epochs): Conv2d(1,16,3,padding=1,bias=False), BatchNorm2d, ReLU,
  BasicBlock 16->16, 16->32 stride 2, 32->64 stride 2, AdaptiveAvgPool2d(1), Flatten,
  Linear(64,10);
- chargpt (tiny Shakespeare, 1200 steps): token + position embeddings (64), 2 pre-norm causal
  nn.TransformerEncoderLayer (4 heads, feed-forward 256, GELU, no dropout), LayerNorm,
  Linear(64,65), context 64;
- lstm (tiny Shakespeare, 400 steps): Embedding(65,64), LSTM(64,256), Linear(256,65), context 64;
- images scaled to [0, 1] (pixel/255 in f32) and normalized with the dataset's mean and std
  (MNIST 0.1307/0.3081, Fashion-MNIST 0.2860/0.3530); text as character ids over the sorted
  character set, the last 10% held out; training windows start at every character, validation
  windows are consecutive and non-overlapping;
- batch 64, a fresh random permutation every epoch, the last short batch kept; Adam(1e-3)
  for the image models, AdamW(3e-3, weight decay 0.01) for the language models;
- CosineAnnealingLR(T_max = total steps), stepped after every optimizer step
  (`--schedule constant` keeps the rate);
- mean cross-entropy (over every position for the language models); after training, test (or
  validation) loss and accuracy.
Initialization uses PyTorch's defaults (the same distributions as Strata; the random streams
differ, so the runs differ in their digits, not in their statistics).

samples/s counts training time only (batching included, evaluation excluded), as Strata does
(a language model's sample is one window of 64 characters).
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


def load_images(root, name, split, mean, std):
    d = os.path.join(root, name)
    prefix = "train" if split == "train" else "t10k"
    find = lambda stem: next(
        p for p in (os.path.join(d, stem + ".gz"), os.path.join(d, stem)) if os.path.exists(p)
    )
    x = read_idx(find(f"{prefix}-images-idx3-ubyte")).astype(np.float32) / np.float32(255.0)
    y = read_idx(find(f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    x = (torch.from_numpy(x).unsqueeze(1) - mean) / std
    return x, torch.from_numpy(y)


BLOCK = 64


def load_text(root):
    """Training windows (every start) and validation windows (non-overlapping), [n, 65] each:
    inputs are [:, :-1], targets [:, 1:]."""
    with open(os.path.join(root, "tinyshakespeare", "input.txt"), encoding="utf-8") as f:
        text = f.read()
    vocab = sorted(set(text))
    lookup = {c: i for i, c in enumerate(vocab)}
    tokens = torch.tensor([lookup[c] for c in text], dtype=torch.int64)
    n_train = len(tokens) - int(len(tokens) * 0.1)
    train, val = tokens[:n_train], tokens[n_train:]
    return train.unfold(0, BLOCK + 1, 1), val.unfold(0, BLOCK + 1, BLOCK)


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


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock with the shortcut _make_layer builds."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


def resnet():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        BasicBlock(16, 16), BasicBlock(16, 32, 2), BasicBlock(32, 64, 2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10),
    )


VOCAB = 65


class CharGPT(nn.Module):
    def __init__(self, d=64, heads=4, layers=2):
        super().__init__()
        self.tok_emb = nn.Embedding(VOCAB, d)
        self.pos_emb = nn.Embedding(BLOCK, d)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True)
            for _ in range(layers)
        )
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, VOCAB)

    def forward(self, x):
        t = x.shape[1]
        h = self.tok_emb(x) + self.pos_emb(torch.arange(t))
        mask = nn.Transformer.generate_square_subsequent_mask(t, dtype=h.dtype)
        for block in self.blocks:
            h = block(h, src_mask=mask, is_causal=True)
        return self.head(self.ln_f(h)).reshape(-1, VOCAB)


class CharLSTM(nn.Module):
    def __init__(self, e=64, hidden=256):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, e)
        self.lstm = nn.LSTM(e, hidden, batch_first=True)
        self.head = nn.Linear(hidden, VOCAB)

    def forward(self, x):
        return self.head(self.lstm(self.embed(x))[0]).reshape(-1, VOCAB)


# name: (builder, dataset, default epochs, default steps, lr, optimizer)
MODELS = {
    "mlp": (mlp, "mnist", 10, None, 1e-3, "adam"),
    "cnn": (cnn, "mnist", 3, None, 1e-3, "adam"),
    "resnet": (resnet, "fashion-mnist", 4, None, 1e-3, "adam"),
    "chargpt": (CharGPT, "text", 1, 1200, 3e-3, "adamw"),
    "lstm": (CharLSTM, "text", 1, 400, 3e-3, "adamw"),
}
NORMALIZE = {"mnist": (0.1307, 0.3081), "fashion-mnist": (0.2860, 0.3530)}


def split_xy(batch):
    """A batch of examples: images with labels, or text windows split into inputs and targets."""
    if isinstance(batch, tuple):
        return batch
    return batch[:, :-1], batch[:, 1:].reshape(-1)


def evaluate(model, examples, batch=500):
    model.eval()
    loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for i in range(0, len(examples[0]), batch):
            xb, yb = split_xy(tuple(t[i : i + batch] for t in examples) if len(examples) == 2
                              else examples[0][i : i + batch])
            logits = model(xb)
            loss += F.cross_entropy(logits, yb, reduction="sum").item()
            correct += (logits.argmax(-1) == yb).sum().item()
            count += len(yb)
    model.train()
    return loss / count, correct / count


def state_dicts():
    out = {}
    for name, (build, *_rest) in MODELS.items():
        out[name] = {k: list(v.shape) for k, v in build().state_dict().items()}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", choices=sorted(MODELS))
    ap.add_argument("--state-dicts", action="store_true",
                    help="print every model's state-dict names and shapes as JSON")
    ap.add_argument("--data", default=os.environ.get("STRATA_DATA"))
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--threads", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", choices=["f32", "f64"], default="f32")
    ap.add_argument("--train-limit", type=int)
    ap.add_argument("--test-limit", type=int)
    ap.add_argument("--schedule", choices=["cosine", "constant"], default="cosine")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.state_dicts:
        print(json.dumps(state_dicts(), indent=1, sort_keys=True))
        return
    if a.model is None:
        ap.error("a model is needed")
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dtype = torch.float32 if a.dtype == "f32" else torch.float64
    build, dataset, default_epochs, default_steps, default_lr, optimizer = MODELS[a.model]
    lr = a.lr if a.lr is not None else default_lr
    steps_arg = a.steps if a.steps is not None else (default_steps if a.epochs is None else None)
    epochs = a.epochs if a.epochs is not None else (10**9 if steps_arg else default_epochs)
    max_steps = steps_arg if steps_arg is not None else 10**18
    if dataset == "text":
        train_set, test_set = load_text(a.data)
        train_set, test_set = (train_set,), (test_set,)
    else:
        mean, std = NORMALIZE[dataset]
        train_set = load_images(a.data, dataset, "train", mean, std)
        test_set = load_images(a.data, dataset, "test", mean, std)
        train_set = (train_set[0].to(dtype), train_set[1])
        test_set = (test_set[0].to(dtype), test_set[1])
    if a.train_limit:
        train_set = tuple(t[: a.train_limit] for t in train_set)
    if a.test_limit:
        test_set = tuple(t[: a.test_limit] for t in test_set)
    n = len(train_set[0])
    model = build().to(dtype)
    if optimizer == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    per_epoch = (n + a.batch_size - 1) // a.batch_size
    total = min(max_steps, epochs * per_epoch)
    sched = None
    if a.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    step, samples, train_time, recent = 0, 0, 0.0, []
    gen = torch.Generator().manual_seed(a.seed)
    for epoch in range(epochs):
        if step >= max_steps:
            break
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, a.batch_size):
            if step >= max_steps:
                break
            t0 = time.perf_counter()
            idx = perm[i : i + a.batch_size]
            xb, yb = split_xy(tuple(t[idx] for t in train_set) if len(train_set) == 2
                              else train_set[0][idx])
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
            recent = (recent + [(lv, correct, len(yb))])[-100:]
        if not a.json and step < max_steps:
            tl, ta = evaluate(model, test_set)
            print(f"epoch {epoch + 1}: test loss {tl:.4f}, test accuracy {100 * ta:.2f}%", flush=True)
    tl, ta = evaluate(model, test_set)
    report = {
        "model": a.model,
        "framework": f"torch {torch.__version__}",
        "dtype": a.dtype,
        "threads": torch.get_num_threads(),
        "steps": step,
        "epochs": step / per_epoch,
        "train_loss": sum(r[0] for r in recent) / max(1, len(recent)),
        "train_accuracy": sum(r[1] for r in recent) / max(1, sum(r[2] for r in recent)),
        "test_loss": tl,
        "test_accuracy": ta,
        "test_examples": len(test_set[0]),
        "samples_per_s": samples / max(train_time, 1e-9),
        "train_seconds": train_time,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
