#!/usr/bin/env python3
"""Writes tests/fixtures/losses.json, the PyTorch oracle for strata-nn's losses (tests/losses.rs).

Run it with any Python that has torch 2.x (CI never runs it; the JSON file is committed):

    python crates/strata-nn/scripts/gen_loss_fixtures.py

Each case names a torch.nn loss and its arguments, gives the input, the target (and the class
weights / pos_weight where used), PyTorch's output and the gradient of sum(output * cotangent)
with respect to the input. Numbers are strings (`repr` of a Python float, so they round-trip
exactly, and NaN is representable); float32 values are widened exactly.
"""

import json
import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "losses.json")
torch.manual_seed(0)


def enc(t):
    t = t.detach()
    dtype = {torch.float32: "f32", torch.float64: "f64", torch.int64: "i64"}[t.dtype]
    flat = t.reshape(-1).tolist()
    return {"shape": list(t.shape), "dtype": dtype, "data": [repr(v) for v in flat]}


CASES = []


def case(name, loss, args, x, target, dtype=torch.float64, weight=None, pos_weight=None):
    x = x.to(dtype).clone().requires_grad_(True)
    if target.is_floating_point():
        target = target.to(dtype)
    kwargs = dict(args)
    if weight is not None:
        weight = weight.to(dtype)
        kwargs["weight"] = weight
    if pos_weight is not None:
        pos_weight = pos_weight.to(dtype)
        kwargs["pos_weight"] = pos_weight
    module = getattr(nn, loss)(**kwargs)
    out = module(x, target)
    cot = torch.rand(out.shape, dtype=dtype) + 0.5 if out.dim() > 0 else torch.ones((), dtype=dtype)
    (out * cot).sum().backward()
    entry = {
        "name": name,
        "loss": loss,
        "args": args,
        "input": enc(x),
        "target": enc(target),
        "output": enc(out),
        "cotangent": enc(cot),
        "grad": enc(x.grad),
    }
    if weight is not None:
        entry["weight"] = enc(weight)
    if pos_weight is not None:
        entry["pos_weight"] = enc(pos_weight)
    CASES.append(entry)


REDUCTIONS = ["none", "mean", "sum"]

# Regression losses; the last element of each row sits exactly on the beta/delta kink.
x = torch.randn(3, 4, dtype=torch.float64)
y = torch.randn(3, 4, dtype=torch.float64)
x[2, 3], y[2, 3] = 1.5, 1.0
for dt in (torch.float64, torch.float32):
    sfx = "f32" if dt == torch.float32 else "f64"
    for r in REDUCTIONS:
        case(f"mse_{r}_{sfx}", "MSELoss", {"reduction": r}, x, y, dt)
        case(f"l1_{r}_{sfx}", "L1Loss", {"reduction": r}, x, y, dt)
        case(f"smooth_l1_{r}_{sfx}", "SmoothL1Loss", {"reduction": r, "beta": 0.5}, x, y, dt)
        case(f"huber_{r}_{sfx}", "HuberLoss", {"reduction": r, "delta": 0.5}, x, y, dt)
case("smooth_l1_beta0", "SmoothL1Loss", {"reduction": "mean", "beta": 0.0}, x, y)
case("smooth_l1_beta2", "SmoothL1Loss", {"reduction": "sum", "beta": 2.0}, x, y)
case("huber_delta2", "HuberLoss", {"reduction": "mean", "delta": 2.0}, x, y)

# Cross-entropy with class indices, weights, ignore_index and label smoothing.
logits = torch.randn(6, 5, dtype=torch.float64) * 2
labels = torch.tensor([0, 3, 4, -100, 2, 3])
w = torch.rand(5, dtype=torch.float64) + 0.25
for dt in (torch.float64, torch.float32):
    sfx = "f32" if dt == torch.float32 else "f64"
    for r in REDUCTIONS:
        case(f"ce_{r}_{sfx}", "CrossEntropyLoss", {"reduction": r}, logits, labels, dt)
        case(f"ce_weight_{r}_{sfx}", "CrossEntropyLoss", {"reduction": r}, logits, labels, dt,
             weight=w)
        case(f"ce_smooth_{r}_{sfx}", "CrossEntropyLoss", {"reduction": r, "label_smoothing": 0.2},
             logits, labels, dt)
        case(f"ce_weight_smooth_{r}_{sfx}", "CrossEntropyLoss",
             {"reduction": r, "label_smoothing": 0.1}, logits, labels, dt, weight=w)
case("ce_ignore_3", "CrossEntropyLoss", {"reduction": "mean", "ignore_index": 3}, logits,
     torch.tensor([0, 3, 4, 1, 2, 3]))
case("ce_all_ignored_mean", "CrossEntropyLoss", {"reduction": "mean"}, logits,
     torch.full((6,), -100))
case("ce_all_ignored_sum", "CrossEntropyLoss", {"reduction": "sum"}, logits,
     torch.full((6,), -100))
# [N, C, d] scores and [N, d] targets; a single [C] example with a [] target.
case("ce_spatial", "CrossEntropyLoss", {"reduction": "mean", "label_smoothing": 0.1},
     torch.randn(2, 4, 3, dtype=torch.float64), torch.tensor([[0, 3, 1], [2, -100, 3]]),
     weight=torch.rand(4, dtype=torch.float64) + 0.5)
case("ce_single", "CrossEntropyLoss", {"reduction": "sum"}, torch.randn(4, dtype=torch.float64),
     torch.tensor(2))
# Probability targets.
probs = torch.softmax(torch.randn(6, 5, dtype=torch.float64), dim=1)
for r in REDUCTIONS:
    case(f"ce_probs_{r}", "CrossEntropyLoss", {"reduction": r}, logits, probs)
case("ce_probs_weight_smooth", "CrossEntropyLoss", {"reduction": "mean", "label_smoothing": 0.3},
     logits, probs, weight=w)

# NLL on log-probabilities.
logp = torch.log_softmax(logits, dim=1)
for r in REDUCTIONS:
    case(f"nll_{r}", "NLLLoss", {"reduction": r}, logp, labels)
    case(f"nll_weight_{r}", "NLLLoss", {"reduction": r, "ignore_index": 4}, logp,
         torch.tensor([0, 3, 4, 1, 2, 3]), weight=w)

# Binary cross-entropy on probabilities and on logits.
p = torch.rand(4, 3, dtype=torch.float64) * 0.98 + 0.01
t = torch.rand(4, 3, dtype=torch.float64)
t[0, 0], t[1, 1] = 0.0, 1.0
bw = torch.rand(4, 3, dtype=torch.float64) + 0.5
z = torch.randn(4, 3, dtype=torch.float64) * 4
z[3, 2] = 30.0
pw = torch.rand(3, dtype=torch.float64) * 3
for dt in (torch.float64, torch.float32):
    sfx = "f32" if dt == torch.float32 else "f64"
    for r in REDUCTIONS:
        case(f"bce_{r}_{sfx}", "BCELoss", {"reduction": r}, p, t, dt)
        case(f"bce_logits_{r}_{sfx}", "BCEWithLogitsLoss", {"reduction": r}, z, t, dt)
        case(f"bce_logits_pos_weight_{r}_{sfx}", "BCEWithLogitsLoss", {"reduction": r}, z, t, dt,
             weight=bw, pos_weight=pw)
case("bce_weight", "BCELoss", {"reduction": "mean"}, p, t, weight=bw)

# KL divergence: log-probability inputs, probability or log-probability targets (with a zero).
lq = torch.log_softmax(torch.randn(3, 4, dtype=torch.float64), dim=1)
pt = torch.softmax(torch.randn(3, 4, dtype=torch.float64), dim=1)
pt[1, 2] = 0.0
for r in REDUCTIONS + ["batchmean"]:
    case(f"kl_{r}", "KLDivLoss", {"reduction": r}, lq, pt)
    case(f"kl_log_target_{r}", "KLDivLoss", {"reduction": r, "log_target": True}, lq,
         torch.log_softmax(torch.randn(3, 4, dtype=torch.float64), dim=1))

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": CASES}, f, indent=None)
    f.write("\n")
print(f"wrote {len(CASES)} cases to {OUT}")
