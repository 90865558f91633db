"""Looking inside the network, as in Alex Graves' LSTM handwriting demo: cell states and saliency.

The demo shows, as one writes, the cell states of chosen LSTM cells and how strongly each
part of the ink drives the current output, the "sequential Jacobian" of Graves et al., "A
Novel Connectionist System for Unconstrained Handwriting Recognition" (TPAMI 2009) and of
Graves, "Supervised Sequence Labelling with Recurrent Neural Networks" (2012). Both are
rebuilt here in numpy from the ONNX model file alone (torch is never imported):

* cell states: the graph returns every layer's hidden states h, so the gates of all frames
  follow from one batched matmul per layer, x_t W^T + h_{t-1} R^T + b, with h_{t-1} the
  returned states shifted by one frame in each direction's time order; only the
  elementwise c_t = f_t c_{t-1} + i_t g_t is left to a loop over frames;
* saliency: d log p(class | frame t) / d features of every frame, by back-propagation
  through time (Werbos, "Backpropagation through time: what it does and how to do it",
  Proc. IEEE 1990) through the log-softmax, the output layer, every layer and direction
  and the feature standardisation; mapped back onto the ink's points through the dx/dy
  features, so it can be painted onto the ink.

    x = explain(recognizer, ink)          # target: the last recognised character
    x.point_saliency, x.cells[layer][:, direction, unit], x.to_dict()

Arithmetic is float32, like the graph's. Arrays inside run in "direction time": (2, T, ...)
with the backward direction reversed, so both directions share one loop.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from handwriting.alphabet import BLANK, Alphabet
from handwriting.errors import HandwritingError
from handwriting.ink import Ink
from handwriting.recognition.modelfile import ModelFile, float_weights
from handwriting.recognition.preprocess import FEATURE_NAMES, feature_names
from handwriting.recognition.recognizer import Recognition, Recognizer

__all__ = ["Explanation", "Unrolled", "explain", "unroll", "default_target", "select_cells", "point_saliency",
           "DIRECTIONS"]

DIRECTIONS = ("forward", "backward")
MOVEMENT = [FEATURE_NAMES.index("dx"), FEATURE_NAMES.index("dy")]  # where both kinds of frames have them
Target = tuple[int, int]
DTYPE = np.float32


@dataclass(frozen=True)
class _Layer:
    w: np.ndarray  # (2, 4H, I), ONNX gate order i, o, f, c
    r: np.ndarray  # (2, 4H, H)
    b: np.ndarray  # (2, 4H), input and recurrent biases summed


@dataclass(frozen=True)
class _Weights:
    mean: np.ndarray  # (F,)
    std: np.ndarray  # (F,)
    layers: list[_Layer]
    output_weight: np.ndarray  # (2H, C)
    output_bias: np.ndarray  # (C,)


_CACHE: dict[int, _Weights] = {}


def _weights(model: ModelFile) -> _Weights:
    """The network's weights (DTYPE) from the ONNX initializers, converted once per ModelFile."""
    key = id(model)
    if key not in _CACHE:
        a = {name: value.astype(DTYPE) for name, value in float_weights(model.proto).items()}
        layers = [_Layer(a[f"W_{n}"], a[f"R_{n}"], np.add(*np.split(a[f"B_{n}"], 2, axis=1)))
                  for n in range(model.layers)]
        _CACHE[key] = _Weights(a["feature_mean"], a["feature_std"], layers, a["output_weight"], a["output_bias"])
        weakref.finalize(model, _CACHE.pop, key, None)
    return _CACHE[key]


def _directed(a: np.ndarray) -> np.ndarray:
    """(T, 2, ...) per frame -> (2, T, ...) in each direction's time order."""
    return np.stack([a[:, 0], a[::-1, 1]])


def _framed(a: np.ndarray) -> np.ndarray:
    """(2, T, ...) in direction time -> (T, 2, ...) per frame."""
    return np.stack([a[0], a[1, ::-1]], axis=1)


def _delayed(a: np.ndarray) -> np.ndarray:
    """The previous step's values in direction time (zeros before the first step)."""
    out = np.zeros_like(a)
    out[:, 1:] = a[:, :-1]
    return out


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # no overflow for large |z|


@dataclass(frozen=True)
class _Trace:
    """One layer's gate activations (2, T, 4, H) in order i, o, f, g and cell states (2, T, H)."""

    gates: np.ndarray
    c: np.ndarray


def _forward(layer: _Layer, x: np.ndarray, h: np.ndarray) -> _Trace:
    """Gates and cell states of a layer with input x (T, I) and returned hidden states h (T, 2H)."""
    steps, hidden = len(x), layer.r.shape[2]
    h_prev = _delayed(_directed(h.reshape(steps, 2, hidden).astype(DTYPE)))
    z = np.stack([x, x[::-1]]) @ layer.w.transpose(0, 2, 1) + h_prev @ layer.r.transpose(0, 2, 1) + layer.b[:, None]
    gates = z.reshape(2, steps, 4, hidden)
    gates[:, :, :3] = _sigmoid(gates[:, :, :3])
    gates[:, :, 3] = np.tanh(gates[:, :, 3])
    f, ig = gates[:, :, 2], gates[:, :, 0] * gates[:, :, 3]
    c = np.empty_like(ig)
    prev = np.zeros((2, hidden), DTYPE)
    for s in range(steps):
        prev = c[:, s] = f[:, s] * prev + ig[:, s]
    return _Trace(gates, c)


def _backward(layer: _Layer, trace: _Trace, dh: np.ndarray) -> np.ndarray:
    """BPTT: gradient w.r.t. the layer's input (T, I) from the gradient w.r.t. its outputs (T, 2, H)."""
    i, o, f, g = (trace.gates[:, :, k] for k in range(4))
    tanh_c = np.tanh(trace.c)
    # d pre-activations = dc * by_dc (i, f, g rows) and dh * by_dh (o row)
    by_dc = np.stack([g * i * (1 - i), np.zeros_like(o), _delayed(trace.c) * f * (1 - f), i * (1 - g * g)], axis=2)
    by_dh = tanh_c * o * (1 - o)
    dh_to_dc = o * (1 - tanh_c * tanh_c)
    dh = _directed(dh)
    steps, hidden = dh.shape[1], dh.shape[2]
    dz = np.empty((2, steps, 4, hidden), DTYPE)
    dh_next, dc_next = np.zeros((2, 1, 4 * hidden), DTYPE), np.zeros((2, hidden), DTYPE)
    for s in range(steps - 1, -1, -1):
        dh_s = dh[:, s] + (dh_next @ layer.r)[:, 0]
        dc = dc_next + dh_s * dh_to_dc[:, s]
        dz[:, s] = by_dc[:, s] * dc[:, None]
        dz[:, s, 1] = by_dh[:, s] * dh_s
        dc_next = dc * f[:, s]
        dh_next = dz[:, s].reshape(2, 1, -1)
    dx = dz.reshape(2, steps, -1) @ layer.w
    return dx[0] + dx[1, ::-1]


@dataclass(frozen=True)
class Unrolled:
    """One ink's pass through the network rebuilt in numpy: cell states, and saliency on demand."""

    weights: _Weights
    traces: list[_Trace]
    top: np.ndarray  # (T, 2H) the last layer's hidden states

    @property
    def cells(self) -> list[np.ndarray]:
        """Per layer, the cell states (T, 2, H): [frame, direction (forward, backward), unit]."""
        return [_framed(t.c) for t in self.traces]

    def saliency(self, target: Target) -> np.ndarray:
        """d log p(class | frame) / d features (T, F) for target = (frame, class)."""
        frame, cls = target
        steps, classes = len(self.top), len(self.weights.output_bias)
        if not (0 <= frame < steps and 0 <= cls < classes):
            raise ValueError(f"target {target} is outside {steps} frames x {classes} classes")
        logits = self.top[frame] @ self.weights.output_weight + self.weights.output_bias
        probs = np.exp(logits - logits.max())
        d_logits = -probs / probs.sum()  # d log_softmax(logits)[cls] / d logits
        d_logits[cls] += 1.0
        grad = np.zeros_like(self.top)
        grad[frame] = self.weights.output_weight @ d_logits
        for layer, trace in zip(reversed(self.weights.layers), reversed(self.traces)):
            grad = _backward(layer, trace, grad.reshape(steps, 2, -1))
        return grad / self.weights.std


def unroll(model: ModelFile, features: np.ndarray, hidden: Sequence[np.ndarray]) -> Unrolled:
    """Rebuild the pass over `features` (T, F) from the graph's hidden states (one (T, 2H) per layer)."""
    weights = _weights(model)
    if len(features) == 0 or len(hidden) != len(weights.layers):
        raise ValueError(f"need at least one frame and {len(weights.layers)} layers of hidden states")
    x = (features.astype(DTYPE) - weights.mean) / weights.std
    traces = []
    for layer, h in zip(weights.layers, hidden):
        traces.append(_forward(layer, x, h))
        x = h.astype(DTYPE)
    return Unrolled(weights, traces, x)


def default_target(recognition: Recognition, alphabet: Alphabet) -> Target:
    """The last recognised character at its emission frame; with none, the likeliest non-blank at the last frame."""
    if recognition.characters:
        last = recognition.characters[-1]
        return last.frame, alphabet.encode(last.char)[0]
    scores = recognition.log_probs[-1].copy()
    scores[BLANK] = -np.inf
    return len(recognition.log_probs) - 1, int(scores.argmax())


_SCORES = {"active": lambda a: np.abs(a).mean(axis=0), "variable": lambda a: a.std(axis=0)}


def select_cells(cells: Sequence[np.ndarray], how: str | Sequence[int] = "active", k: int = 8) -> np.ndarray:
    """Flat indices (layer, direction, unit raveled) of the cells to show.

    "active": the k with the largest mean |c|; "variable": the k whose c varies most over
    the frames; a list of flat indices is checked and kept as given.
    """
    flat = np.concatenate([c.reshape(len(c), -1) for c in cells], axis=1)
    if isinstance(how, str):
        if how not in _SCORES:
            raise ValueError(f"how must be one of {sorted(_SCORES)} or a list of cell indices, not {how!r}")
        return np.argsort(-_SCORES[how](flat), kind="stable")[:k]
    chosen = np.asarray(how, dtype=int).reshape(-1)
    if chosen.size and not (0 <= chosen.min() and chosen.max() < flat.shape[1]):
        raise ValueError(f"cell indices must lie in [0, {flat.shape[1]})")
    return chosen


def point_saliency(saliency: np.ndarray, point_index: np.ndarray, num_points: int) -> np.ndarray:
    """Per ink point, the magnitude of the gradient w.r.t. the dx/dy features of its frames.

    A point with frames gets the norm over them; a point between frames (points are
    usually denser than frames) gets that of the next frame, whose movement passes
    through it. `point_index` is non-decreasing, as `featurize` makes it.
    """
    energy = np.square(saliency[:, MOVEMENT]).sum(axis=1)
    own = np.bincount(point_index, weights=energy, minlength=num_points)
    has_frames = np.bincount(point_index, minlength=num_points) > 0
    covering = np.minimum(np.searchsorted(point_index, np.arange(num_points)), len(energy) - 1)
    return np.sqrt(np.where(has_frames, own, energy[covering]))


def _listed(a: np.ndarray, digits: int = 4) -> list:
    """`a` as nested lists, rounded to `digits` significant digits of its largest magnitude."""
    top = float(np.abs(a).max()) if a.size else 0.0
    decimals = digits - 1 - int(np.floor(np.log10(top))) if top > 0 else 0
    return np.round(a.astype(np.float64), decimals).tolist()


@dataclass(frozen=True)
class Explanation:
    """Cell states and saliency of one recognition."""

    recognition: Recognition
    cells: list[np.ndarray]  # per layer (T, 2, H)
    target: Target  # (frame, class) the saliency is for
    target_char: str  # "" for the blank
    saliency: np.ndarray  # (T, F)
    point_saliency: np.ndarray  # (N,) per ink point
    shown: np.ndarray  # (K,) flat cell indices, see `cell_id`
    feature_names: tuple[str, ...] = FEATURE_NAMES  # of the frames' features

    def cell_id(self, index: int) -> tuple[int, int, int]:
        """(layer, direction, unit) of a flat cell index."""
        layer, direction, unit = np.unravel_index(index, (len(self.cells), 2, self.cells[0].shape[2]))
        return int(layer), int(direction), int(unit)

    def cell(self, index: int) -> np.ndarray:
        """The states (T,) of one cell, by flat index."""
        layer, direction, unit = self.cell_id(index)
        return self.cells[layer][:, direction, unit]

    def to_dict(self) -> dict:
        """JSON-ready: features, log-probs, emissions, shown cells, saliency per frame and per point."""
        frames = self.recognition.frames
        shown = []
        for index in self.shown.tolist():
            layer, direction, unit = self.cell_id(index)
            shown.append({"index": index, "layer": layer, "direction": DIRECTIONS[direction], "unit": unit,
                          "values": _listed(self.cell(index))})
        return {
            "feature_names": list(self.feature_names),
            "features": _listed(frames.features),
            "point_index": frames.point_index.tolist(),
            "log_probs": _listed(self.recognition.log_probs),
            "emissions": [{"char": c.char, "frame": c.frame} for c in self.recognition.characters],
            "target": {"frame": self.target[0], "class": self.target[1], "char": self.target_char},
            "cells": shown,
            "saliency": _listed(self.saliency),
            "point_saliency": _listed(self.point_saliency),
        }


def explain(recognizer: Recognizer, ink_or_recognition: Ink | Recognition, target: Target | None = None, *,
            cells: str | Sequence[int] = "active", k: int = 8, num_points: int | None = None) -> Explanation:
    """Cell states, the cells to show and the saliency of `target` (default: see `default_target`).

    A Recognition made without `with_hidden` gets its hidden states from one more network
    run (not decoded again). The lines of a multi-line ink are unrolled apart, as the
    network read them; the saliency is zero outside the target's line. Point saliency covers `num_points` points: the ink's, else
    up to the last point that has a frame.
    """
    if isinstance(ink_or_recognition, Ink):
        recognition = recognizer.recognize(ink_or_recognition, with_hidden=True)
        num_points = ink_or_recognition.num_points
    else:
        recognition = ink_or_recognition
    frames = recognition.frames
    if len(frames) == 0:
        raise HandwritingError("nothing to explain: the ink has no frames")
    bounds = frames.line_bounds()
    if recognition.hidden:
        hidden = [[h[a:b] for h in recognition.hidden] for a, b in bounds]
    else:
        hidden = recognizer.run([frames.part(a, b) for a, b in bounds], with_hidden=True)[1]
    lines = [unroll(recognizer.model, frames.features[a:b], h) for (a, b), h in zip(bounds, hidden)]
    target = default_target(recognition, recognizer.alphabet) if target is None else (int(target[0]), int(target[1]))
    if not 0 <= target[0] < len(frames):
        raise ValueError(f"target {target} is outside {len(frames)} frames")
    line = next(n for n, (a, b) in enumerate(bounds) if a <= target[0] < b)
    start, end = bounds[line]
    local = lines[line].saliency((target[0] - start, target[1]))
    saliency = np.zeros((len(frames), local.shape[1]), local.dtype)
    saliency[start:end] = local
    states = [np.concatenate(layer) for layer in zip(*(u.cells for u in lines))]
    if num_points is None:
        num_points = int(frames.point_index.max()) + 1
    return Explanation(recognition, states, target, recognizer.alphabet.decode([target[1]]), saliency,
                       point_saliency(saliency, frames.point_index, num_points), select_cells(states, cells, k),
                       feature_names(recognizer.model.preprocess))
