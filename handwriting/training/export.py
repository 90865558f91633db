"""Checkpoint -> one self-describing ONNX file, refused unless onnxruntime agrees with torch.

The metadata carries everything recognition needs: alphabet, preprocessing parameters,
network shape, version and a training summary (see `handwriting.recognition.modelfile`).
"""

from __future__ import annotations

import json
import logging
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import helper

from handwriting import __version__
from handwriting.atomic import atomic_write_bytes
from handwriting.checksum import seal
from handwriting.errors import ModelError
from handwriting.training.model import BiLSTMCTC
from handwriting.recognition.modelfile import FORMAT_VERSION
from handwriting.training.onnx_graph import build_graph
from handwriting.recognition.preprocess import PreprocessConfig, feature_names, featurize
from handwriting.training.synth import FONTS, synthesize

__all__ = ["export", "parity", "PARITY_TOLERANCE", "QUANTIZED_AGREEMENT"]

# onnxruntime's LSTM kernel uses fast approximations of sigmoid/tanh: over 2,000 frames of a
# saturated network they move log-probs by up to ~2e-4 (torch float32 stays within ~2e-5 of
# float64). A wrong graph differs by whole units, so 1e-3 separates the two cleanly.
PARITY_TOLERANCE = 1e-3
PARITY_LENGTHS = (1, 2, 50, 2000)
# Below this (a probability under 1e-6) float32 rounding dominates and decoding never looks.
RELEVANT_LOG_PROB = -14.0
PARITY_TEXT = "The quick brown fox jumps over the lazy dog, 0123456789 (A-Z)!"
# int8 weights move a frame's log-probs by up to one or two units at the extremes, its most
# likely class seldom (99.9 % of the frames agree for the shipped model); a broken quantization
# changes most of them
QUANTIZED_AGREEMENT = 0.98


def export(model: BiLSTMCTC, alphabet: str, preprocess: dict, out: str | Path, training: dict | None = None,
           card: str = "", quantize: bool = False, kept_metadata: dict[str, str] | None = None) -> float:
    """Write `out` atomically; returns the parity error. Raises ModelError if torch and ORT disagree.
    `kept_metadata`: entries of a model written again that stay with its network (`checkpoint_of_model`).
    `quantize`: the weights of the LSTMs after the first and of the output stored as int8
    (onnxruntime's dynamic quantization: `_quantized`); its difference from torch is
    measured and kept in the metadata (`quantized_max_abs_diff`, `quantized_agreement`: the share of
    frames with the same most likely class), and refused below QUANTIZED_AGREEMENT."""
    model = model.eval()
    names = feature_names(PreprocessConfig.from_dict(preprocess))
    if model.config.num_features != len(names):
        raise ModelError(out, f"the network reads {model.config.num_features} features per frame, the preprocessing "
                              f"makes {len(names)}; not written")
    state = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    metadata = {
        "format_version": str(FORMAT_VERSION),
        "handwriting_version": __version__,
        "alphabet": alphabet,
        "preprocess": json.dumps(preprocess),
        "model_config": json.dumps(model.config.to_dict()),
        "feature_names": json.dumps(names),
        "training": json.dumps(training or {}),
        "model_card": card,
        **(kept_metadata or {}),
    }
    unchecked = build_graph(state, model.config.layers, model.config.hidden, metadata).SerializeToString()
    error = parity(model, unchecked, PreprocessConfig.from_dict(preprocess))
    if not error < PARITY_TOLERANCE:
        raise ModelError(out, f"ONNX disagrees with torch (max |diff| of log-probs {error:.2e}); not written")
    metadata["parity_max_abs_diff"] = f"{error:.3g}"
    onnx_model = build_graph(state, model.config.layers, model.config.hidden, metadata)
    if quantize:
        onnx_model = _quantized(onnx_model)
        drift, agreement = _compared(model, onnx_model.SerializeToString(), PreprocessConfig.from_dict(preprocess))
        if not agreement >= QUANTIZED_AGREEMENT:
            raise ModelError(out, f"the int8 network picks torch's most likely class in only {agreement:.1%} of the "
                                  f"frames (at least {QUANTIZED_AGREEMENT:.0%} expected); not written")
        helper.set_model_props(onnx_model, {**metadata, "quantized": "int8", "quantized_max_abs_diff": f"{drift:.3g}",
                                            "quantized_agreement": f"{agreement:.4f}"})
    atomic_write_bytes(out, seal(onnx_model.SerializeToString()))  # content digest checked on loading
    return error


def _quantized(onnx_model: onnx.ModelProto) -> onnx.ModelProto:
    """`onnx_model` with the weights of its LSTMs after the first and of its output projection stored
    as int8, activations quantized as they flow (onnxruntime's DynamicQuantizeLSTM and MatMulInteger).
    The first LSTM stays float: its input, the features, has the outliers (pen lifts, sharp turns)
    that an int8 activation range per call serves worst."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "int8.onnx"
        logging.disable(logging.WARNING)  # its advice to pre-process the graph (shape inference) is for vision models
        try:
            quantize_dynamic(onnx_model, path, op_types_to_quantize=["LSTM", "MatMul"], weight_type=QuantType.QInt8,
                             nodes_to_exclude=["lstm_0"])  # named so by `build_graph`
        finally:
            logging.disable(logging.NOTSET)
        return onnx.load(path)


def parity(model: BiLSTMCTC, onnx_bytes: bytes, preprocess: PreprocessConfig = PreprocessConfig(),
           lengths=PARITY_LENGTHS) -> float:
    """Max |log-prob difference| between torch and onnxruntime on padded batches of real-looking
    ink features (synthetic handwriting), over log-probs above RELEVANT_LOG_PROB in either."""
    return _compared(model, onnx_bytes, preprocess, lengths)[0]


def _compared(model: BiLSTMCTC, onnx_bytes: bytes, preprocess: PreprocessConfig,
              lengths=PARITY_LENGTHS) -> tuple[float, float]:
    """(`parity`, the share of frames whose most likely class is the same in both)."""
    model = model.eval()
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    worst, same, frames = 0.0, 0, 0
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
                same += int(np.count_nonzero(a.argmax(axis=1) == b.argmax(axis=1)))
                frames += n
    return worst, same / frames


@lru_cache(maxsize=4)
def _synthetic_features(preprocess: PreprocessConfig) -> np.ndarray:
    return np.concatenate([featurize(synthesize(PARITY_TEXT, font), preprocess).features for font in FONTS])


def _ink_features(preprocess: PreprocessConfig, length: int, offset: int) -> np.ndarray:
    """`length` frames of synthetic handwriting features, starting `offset` frames in (repeating)."""
    base = _synthetic_features(preprocess)
    tiled = np.tile(base, (-(-(length + offset) // len(base)), 1))
    return np.ascontiguousarray(tiled[offset:offset + length])
