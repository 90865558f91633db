"""Random distortions of ink for training: affine (scale, shear, rotation), jitter and resampling."""

from __future__ import annotations

import numpy as np

from handwriting.ink import Ink

__all__ = ["augment"]


def augment(ink: Ink, rng: np.random.Generator) -> Ink:
    """A plausible variant of `ink` as another writer or device might have produced it."""
    shear = rng.uniform(-0.3, 0.3)
    angle = np.deg2rad(rng.uniform(-4, 4))
    sx, sy = np.exp(rng.normal(0, 0.1, size=2))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = rotation @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([sx, sy])
    x0, y0, x1, y1 = ink.bounds()
    height = max(y1 - y0, 1e-6)
    jitter = height * rng.uniform(0, 0.006)
    keep_fraction = rng.uniform(0.6, 1.0) if rng.random() < 0.5 else 1.0
    strokes = []
    for s in ink.strokes:
        s = s.copy()
        if keep_fraction < 1.0 and len(s) > 3:
            keep = rng.random(len(s)) < keep_fraction
            keep[[0, -1]] = True
            s = s[keep]
        s[:, :2] = s[:, :2] @ matrix.T + rng.normal(0, jitter, size=(len(s), 2))
        strokes.append(s)
    return Ink(tuple(strokes), ink.label, ink.writer, ink.meta)
