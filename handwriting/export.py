"""Checkpoint -> one self-describing ONNX file, refused unless onnxruntime agrees with torch.

The metadata carries everything recognition needs: alphabet, preprocessing parameters,
network shape, version and a training summary (see `handwriting.modelfile`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from handwriting import __version__
from handwriting.atomic import atomic_write_bytes
from handwriting.errors import ModelError
from handwriting.model import BiLSTMCTC
from handwriting.modelfile import FORMAT_VERSION
from handwriting.onnx_graph import build_graph
from handwriting.preprocess import FEATURE_NAMES

__all__ = ["export", "parity", "PARITY_TOLERANCE"]

PARITY_TOLERANCE = 1e-4
PARITY_LENGTHS = (1, 2, 50, 2000)
# Below this (a probability under 1e-6) float32 rounding dominates and decoding never looks.
RELEVANT_LOG_PROB = -14.0


def export(model: BiLSTMCTC, alphabet: str, preprocess: dict, out: str | Path, training: dict | None = None,
           card: str = "") -> float:
    """Write `out` atomically; returns the parity error. Raises ModelError if torch and ORT disagree."""
    model = model.eval()
    state = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    metadata = {
        "format_version": str(FORMAT_VERSION),
        "handwriting_version": __version__,
        "alphabet": alphabet,
        "preprocess": json.dumps(preprocess),
        "model_config": json.dumps(model.config.to_dict()),
        "feature_names": json.dumps(FEATURE_NAMES),
        "training": json.dumps(training or {}),
        "model_card": card,
    }
    onnx_model = build_graph(state, model.config.layers, model.config.hidden, metadata)
    data = onnx_model.SerializeToString()
    error = parity(model, data)
    if not error < PARITY_TOLERANCE:
        raise ModelError(out, f"ONNX disagrees with torch (max |diff| of log-probs {error:.2e}); not written")
    atomic_write_bytes(out, data)
    return error


def parity(model: BiLSTMCTC, onnx_bytes: bytes, lengths=PARITY_LENGTHS, seed: int = 0) -> float:
    """Max |log-prob difference| between torch and onnxruntime over random padded batches,
    over the log-probs above RELEVANT_LOG_PROB in either runtime."""
    model = model.eval()
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    generator = torch.Generator().manual_seed(seed)
    worst = 0.0
    with torch.no_grad():
        for length in lengths:
            seq = torch.tensor([length, max(1, length // 3)])
            noise = torch.randn(2, length, model.config.num_features, generator=generator)
            features = model.feature_mean + model.feature_std * noise  # standardised inputs ~ N(0, 1)
            expected = model(features, seq).numpy()
            got = session.run(["log_probs"], {"features": features.numpy(), "lengths": seq.numpy().astype(np.int32)})[0]
            for row, n in enumerate(seq.tolist()):
                a, b = got[row, :n], expected[row, :n]
                relevant = np.maximum(a, b) > RELEVANT_LOG_PROB
                worst = max(worst, float(np.abs(a - b)[relevant].max()))
    return worst
