"""Colour maps for the pad: numbers to RGBA, as numpy arrays, QColors or QImages.

`diverging` maps [-1, 1] blue-white-red (cell states, signed saliency); `heat` maps
[0, 1] slate grey (still readable as ink) to dark red through orange (saliency painted on ink). Anchors are
interpolated linearly in sRGB, which is plenty for a small heatmap.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtGui import QColor, QImage

__all__ = ["diverging", "heat", "to_qcolor", "matrix_image", "INK", "ACCENT", "PAPER", "GUIDE", "MUTED"]

INK = QColor(25, 30, 40)
ACCENT = QColor(20, 110, 230)
PAPER = QColor(253, 252, 248)
GUIDE = QColor(150, 180, 215)
MUTED = QColor(120, 125, 135)

_DIVERGING = np.array([
    [33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247],
    [253, 219, 199], [239, 138, 98], [178, 24, 43],
], dtype=np.float64)
_HEAT = np.array([
    [125, 135, 155], [245, 170, 90], [240, 100, 30], [200, 30, 20], [120, 0, 20],
], dtype=np.float64)


def _interpolate(anchors: np.ndarray, position: np.ndarray) -> np.ndarray:
    """RGBA uint8 for positions in [0, 1] along `anchors` (NaN gives transparent)."""
    position = np.asarray(position, dtype=np.float64)
    missing = ~np.isfinite(position)
    scaled = np.clip(np.nan_to_num(position), 0.0, 1.0) * (len(anchors) - 1)
    low = np.minimum(np.floor(scaled).astype(int), len(anchors) - 2)
    frac = (scaled - low)[..., None]
    rgb = anchors[low] * (1 - frac) + anchors[low + 1] * frac
    alpha = np.where(missing, 0, 255)[..., None]
    return np.concatenate([np.rint(rgb), alpha], axis=-1).astype(np.uint8)


def diverging(values: np.ndarray) -> np.ndarray:
    """RGBA (..., 4) uint8 for values in [-1, 1] (clipped)."""
    return _interpolate(_DIVERGING, (np.asarray(values, dtype=np.float64) + 1.0) / 2.0)


def heat(values: np.ndarray) -> np.ndarray:
    """RGBA (..., 4) uint8 for values in [0, 1] (clipped)."""
    return _interpolate(_HEAT, values)


def to_qcolor(rgba: np.ndarray) -> QColor:
    r, g, b, a = (int(v) for v in rgba)
    return QColor(r, g, b, a)


def matrix_image(rgba: np.ndarray) -> QImage:
    """A QImage (owning its pixels) from an (rows, cols, 4) uint8 array."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    rows, cols = rgba.shape[:2]
    return QImage(rgba.data, cols, rows, cols * 4, QImage.Format.Format_RGBA8888).copy()
