#!/usr/bin/env python3
"""Runs an ONNX model in onnxruntime (CPU) for the live interop tests of strata-io.

usage: run_onnxruntime.py MODEL.onnx INPUTS.npz OUTPUTS.npz [MODEL INPUTS OUTPUTS ...]

Each triple is one run (one Python start-up for all of them): INPUTS.npz holds one array per
graph input, keyed by the input's name; OUTPUTS.npz receives one array per graph output, keyed
by the output's name. Exits non-zero (with onnxruntime's message on stderr, naming the model)
when a session cannot be created or run.
"""
import sys

import numpy as np
import onnxruntime as ort


def run(model, inputs, outputs):
    options = ort.SessionOptions()
    # Strata compares values, so no graph rewrites that could reassociate arithmetic.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    feed = dict(np.load(inputs))
    names = [o.name for o in session.get_outputs()]
    results = session.run(names, feed)
    np.savez(outputs, **dict(zip(names, results)))


def main(args):
    if not args or len(args) % 3:
        sys.exit(__doc__)
    for k in range(0, len(args), 3):
        try:
            run(*args[k:k + 3])
        except Exception as e:  # noqa: BLE001 - report which model failed, then fail
            sys.exit(f"{args[k]}: {e}")


if __name__ == "__main__":
    main(sys.argv[1:])
