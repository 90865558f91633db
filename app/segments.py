"""Painting many line segments fast: grouped by colour level and width, one Qt call per group.

Per-segment `drawLine` calls cost a Python-to-Qt round trip each; ink coloured point by
point (saliency) or drawn with pressure would need thousands of them per repaint.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QLineF
from PyQt6.QtGui import QPainter, QPen

from app.colors import heat, to_qcolor

__all__ = ["paint_segments", "COLOUR_LEVELS", "WIDTH_STEPS"]

COLOUR_LEVELS = 24  # colour values in [0, 1] are rounded to 1/COLOUR_LEVELS
WIDTH_STEPS = 4  # widths are rounded to 1/WIDTH_STEPS pixel
PALETTE = [to_qcolor(c) for c in heat(np.linspace(0.0, 1.0, COLOUR_LEVELS + 1))]


def paint_segments(painter: QPainter, points: np.ndarray, pen: QPen, values: np.ndarray | None = None,
                   widths: np.ndarray | None = None, joined: np.ndarray | None = None) -> None:
    """The segments from each row of `points` (n, 2) to the next. Segment i ends at point
    i+1, which gives its colour `heat(values[i+1])` (else the pen's), its width
    `widths[i+1]` (else the pen's) and whether it is drawn at all (`joined[i+1]`)."""
    if len(points) < 2:
        return
    ends = np.ones(len(points) - 1, bool) if joined is None else np.asarray(joined[1:], bool)
    levels = np.zeros(len(ends))
    if values is not None:
        levels = np.rint(np.clip(np.nan_to_num(values[1:]), 0, 1) * COLOUR_LEVELS)
    sizes = np.full(len(ends), pen.widthF()) if widths is None else np.round(widths[1:] * WIDTH_STEPS) / WIDTH_STEPS
    lines = [QLineF(*a, *b) for a, b in zip(points[:-1].tolist(), points[1:].tolist())]
    for level, size in np.unique(np.stack([levels, sizes], axis=1)[ends], axis=0).tolist():
        group = QPen(pen)
        if values is not None:
            group.setColor(PALETTE[int(level)])
        group.setWidthF(size)
        painter.setPen(group)
        painter.drawLines([lines[i] for i in np.flatnonzero(ends & (levels == level) & (sizes == size))])
