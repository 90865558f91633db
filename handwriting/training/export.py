"""Checkpoint -> one self-describing ONNX file, refused unless onnxruntime agrees with torch.

The metadata carries everything recognition needs: alphabet, preprocessing parameters,
network shape, version and a training summary (see `handwriting.recognition.modelfile`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from handwriting import __version__
from handwriting.atomic import atomic_write_bytes
from handwriting.checksum import seal
from handwriting.errors import ModelError
from handwriting.training.model import BiLSTMCTC
from handwriting.recognition.modelfile import FORMAT_VERSION
from handwriting.training.onnx_graph import build_graph
from handwriting.recognition.preprocess import FEATURE_NAMES, PreprocessConfig, featurize
from handwriting.training.synth import FONTS, synthesize

__all__ = ["export", "parity", "PARITY_TOLERANCE"]

# onnxruntime's LSTM kernel uses fast approximations of sigmoid/tanh: over 2,000 frames of a
# saturated network they move log-probs by up to ~2e-4 (torch float32 stays within ~2e-5 of
# float64). A wrong graph differs by whole units, so 1e-3 separates the two cleanly.
PARITY_TOLERANCE = 1e-3
PARITY_LENGTHS = (1, 2, 50, 2000)
# Below this (a probability under 1e-6) float32 rounding dominates and decoding never looks.
RELEVANT_LOG_PROB = -14.0
PARITY_TEXT = "The quick brown fox jumps over the lazy dog, 0123456789 (A-Z)!"


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
    unchecked = build_graph(state, model.config.layers, model.config.hidden, metadata).SerializeToString()
    error = parity(model, unchecked, PreprocessConfig.from_dict(preprocess))
    if not error < PARITY_TOLERANCE:
        raise ModelError(out, f"ONNX disagrees with torch (max |diff| of log-probs {error:.2e}); not written")
    metadata["parity_max_abs_diff"] = f"{error:.3g}"
    onnx_model = build_graph(state, model.config.layers, model.config.hidden, metadata)
    atomic_write_bytes(out, seal(onnx_model.SerializeToString()))  # content digest checked on loading
    return error


def parity(model: BiLSTMCTC, onnx_bytes: bytes, preprocess: PreprocessConfig = PreprocessConfig(),
           lengths=PARITY_LENGTHS) -> float:
    """Max |log-prob difference| between torch and onnxruntime on padded batches of real-looking
    ink features (synthetic handwriting), over log-probs above RELEVANT_LOG_PROB in either."""
    model = model.eval()
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    worst = 0.0
    with torch.no_grad():
        for length in lengths:
            seq = torch.tensor([length, max(1, length // 3)])
            features = np.stack([_ink_features(preprocess, length, offset) for offset in (0, 97)])
            expected = model(torch.from_numpy(features), seq).numpy()
            got = session.run(["log_probs"], {"features": features, "lengths": seq.numpy().astype(np.int32)})[0]
            for row, n in enumerate(seq.tolist()):
                a, b = got[row, :n], expected[row, :n]
                relevant = np.maximum(a, b) > RELEVANT_LOG_PROB
                worst = max(worst, float(np.abs(a - b)[relevant].max()))
    return worst


@lru_cache(maxsize=4)
def _synthetic_features(preprocess: PreprocessConfig) -> np.ndarray:
    return np.concatenate([featurize(synthesize(PARITY_TEXT, font), preprocess).features for font in FONTS])


def _ink_features(preprocess: PreprocessConfig, length: int, offset: int) -> np.ndarray:
    """`length` frames of synthetic handwriting features, starting `offset` frames in (repeating)."""
    base = _synthetic_features(preprocess)
    tiled = np.tile(base, (-(-(length + offset) // len(base)), 1))
    return np.ascontiguousarray(tiled[offset:offset + length])
