"""Random distortions of ink for training: affine (scale, shear, rotation), jitter and
resampling; with `style`, also what sets one writer's hand apart from another's: letters
wider or narrower in places, strokes placed a little off, a baseline that wanders."""

from __future__ import annotations

import numpy as np

from handwriting.ink import Ink

__all__ = ["augment"]


# at style 1: spread of the log width factor per writing height of x, of a stroke's offset and
# the baseline's wave amplitude (in writing heights), and the wave's length range
WIDTH_SPREAD, STROKE_OFFSET, BASELINE_WAVE, WAVELENGTHS = 0.15, 0.02, 0.04, (4.0, 10.0)
MAX_WIDTH_PIECES = 200


def augment(ink: Ink, rng: np.random.Generator, style: float = 0.0) -> Ink:
    """A plausible variant of `ink` as another writer or device might have produced it;
    `style` scales the writer-style distortions (0: none)."""
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
    if style > 0:
        strokes = _restyled(strokes, height, rng, style)
    return Ink(tuple(strokes), ink.label, ink.writer, ink.meta)


def _restyled(strokes: list[np.ndarray], height: float, rng: np.random.Generator, style: float) -> list[np.ndarray]:
    """`strokes` with x stretched by a random factor per writing height of x (uneven letter
    widths and spacing; order along x kept), each stroke moved a little, and y bent by a
    long wave (a wandering baseline)."""
    x0 = min(float(s[:, 0].min()) for s in strokes)
    x1 = max(float(s[:, 0].max()) for s in strokes)
    step = max(height, (x1 - x0) / MAX_WIDTH_PIECES)  # a flat mark (a dash) has almost no height
    knots = x0 + step * np.arange(int(np.ceil((x1 - x0) / step)) + 2)
    factors = np.exp(rng.normal(0, WIDTH_SPREAD * style, len(knots) - 1))
    moved = x0 + step * np.concatenate([[0.0], np.cumsum(factors / factors.mean())])
    wavelength = height * rng.uniform(*WAVELENGTHS)
    amplitude, phase = BASELINE_WAVE * style * height, rng.uniform(0, 2 * np.pi)
    out = []
    for s in strokes:
        s = s.copy()
        offset = rng.normal(0, STROKE_OFFSET * style * height, 2)
        s[:, 1] += amplitude * np.sin(2 * np.pi * s[:, 0] / wavelength + phase) + offset[1]
        s[:, 0] = np.interp(s[:, 0], knots, moved) + offset[0]
        out.append(s)
    return out
