#!/usr/bin/env python3
"""Writes the PyTorch interop fixtures of crates/strata-io/tests/interop.rs.

Run from the repository root with a Python that has torch, numpy, onnx and safetensors:
`/root/torchvenv/bin/python scripts/interop/make_fixtures.py`. CI does not run this script;
its outputs are committed under crates/strata-io/tests/fixtures/interop/.

For each model NAME (mlp, cnn, resnet, encoder, gpt), in eval mode with seeded weights:
- NAME.onnx: torch.onnx.export (TorchScript exporter, opset 17, no constant folding, so batch
  norms, Shape/Gather chains and Range stay in the file for the importer to handle);
- NAME.safetensors: the state_dict under PyTorch's names (batch-norm buffers included);
- NAME.npz: `input` (float32, or int64 token ids for gpt) and PyTorch's `output`.
"""
import os

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn
from torch.nn import functional as F

OUT = os.path.join("crates", "strata-io", "tests", "fixtures", "interop")
torch.manual_seed(0)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 16)
        self.fc2 = nn.Linear(16, 8)
        self.fc3 = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8 * 2 * 2, 3)

    def forward(self, x):
        h = F.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        h = torch.relu(self.conv2(h))
        return self.fc(torch.flatten(h, 1))


class BasicBlock(nn.Module):
    """torchvision's ResNet basic block: two 3x3 convs with batch norm, identity or 1x1 shortcut."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return torch.relu(h + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = BasicBlock(8, 8, 1)
        self.layer2 = BasicBlock(8, 16, 2)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        h = self.layer2(self.layer1(h))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


class Encoder(nn.Module):
    """torch.nn.TransformerEncoderLayer (post-norm, ReLU feed-forward, batch first)."""

    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)

    def forward(self, x):
        return self.layer(x)


class Gpt(nn.Module):
    """Token and position embeddings, one pre-norm causal block (GELU MLP), a tied-free head."""

    def __init__(self, vocab=11, d=16, heads=2, context=8):
        super().__init__()
        self.heads = heads
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(context, d)
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)

    def forward(self, tokens):
        b, t = tokens.shape
        x = self.wte(tokens) + self.wpe(torch.arange(t))
        q, k, v = self.qkv(self.ln1(x)).split(x.shape[-1], dim=-1)
        heads = lambda z: z.reshape(b, t, self.heads, -1).transpose(1, 2)
        y = F.scaled_dot_product_attention(heads(q), heads(k), heads(v), is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, -1))
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        return self.head(self.ln_f(x))


def randomize_batch_norms(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)


def main():
    models = [
        ("mlp", Mlp(), torch.randn(3, 6)),
        ("cnn", Cnn(), torch.randn(2, 1, 8, 8)),
        ("resnet", ResNet(), torch.randn(2, 3, 8, 8)),
        ("encoder", Encoder(), torch.randn(2, 5, 16)),
        ("gpt", Gpt(), torch.randint(0, 11, (2, 6))),
    ]
    for name, model, x in models:
        randomize_batch_norms(model)
        model.eval()
        with torch.no_grad():
            y = model(x)
        path = os.path.join(OUT, name)
        torch.onnx.export(model, (x,), path + ".onnx", dynamo=False, opset_version=17,
                          input_names=["input"], output_names=["output"],
                          do_constant_folding=False)
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        save_file(state, path + ".safetensors")
        np.savez(path + ".npz", input=x.numpy(), output=y.numpy())
        print(f"{name}: input {tuple(x.shape)}, output {tuple(y.shape)}")


if __name__ == "__main__":
    main()
