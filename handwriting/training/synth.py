"""Synthetic online handwriting from single-line Hershey vector fonts (the `Hershey-Fonts` package).

Useful for tests, demos and as extra training material: each glyph's polylines become
pen strokes sampled densely at a constant pen speed, optionally distorted with
`handwriting.training.augment`.
"""

from __future__ import annotations

import numpy as np
from HersheyFonts import HersheyFonts

from handwriting.training.augment import augment
from handwriting.ink import Ink

__all__ = ["synthesize", "FONTS"]

FONTS = ("scripts", "cursive", "futural", "rowmans", "timesr")
_POINT_SPACING = 0.4  # in font units (a capital is about 21 units high)
_PEN_SPEED = 0.15  # font units per millisecond
_LIFT_MS = 80.0


def synthesize(text: str, font: str = "scripts", rng: np.random.Generator | None = None) -> Ink:
    """`text` written in `font` (y down, times in ms); distorted randomly when `rng` is given."""
    renderer = HersheyFonts()
    renderer.load_default_font(font)
    strokes, clock = [], 0.0
    for polyline in renderer.strokes_for_text(text):
        pts = np.asarray(polyline, dtype=np.float64)  # the package gives y pointing down already
        dense = _densify(pts)
        arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(dense, axis=0), axis=1))])
        t = clock + arc / _PEN_SPEED
        strokes.append(np.column_stack([dense, t]))
        clock = t[-1] + _LIFT_MS
    ink = Ink(tuple(strokes), label=text, writer=f"synthetic:{font}")
    return augment(ink, rng) if rng is not None and not ink.is_empty else ink


def _densify(pts: np.ndarray) -> np.ndarray:
    out = [pts[:1]]
    for a, b in zip(pts[:-1], pts[1:]):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / _POINT_SPACING)))
        out.append(a + (b - a) * (np.arange(1, n + 1) / n)[:, None])
    return np.concatenate(out)
