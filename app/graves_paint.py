"""The Graves view as a pure painting function: four rows on one time axis of frames.

1. output: each recognised character at its emission frame, over the network's
   non-blank probability per frame (the characters on one line, pushed apart where
   they would overlap and joined to their frames by a thin line; space marks are
   left out, then every other character, when they cannot all fit);
2. cells: a heatmap of chosen LSTM memory cells (blue negative, red positive, each
   row scaled by its own largest |c|; the colour scale on the right), labelled
   with their names (every k-th one when the rows are too thin for all);
3. writing: the frames' positions, the ink as the network reads it, coloured by
   saliency, with a thin line from each emission frame to where it was written;
4. saliency: d log p(target) / d dx and d dy per frame (the sequential Jacobian).

`paint_graves` draws a `handwriting.recognition.graves_view.GravesView` into any QPainter rectangle and returns its `Layout` (for
mapping the mouse to frames and cells); `paint_cursor` marks a frame over it;
`render_graves` paints offscreen into a QImage, which is how `handwriting explain`
makes its PNG. Lines wider than a pixel that zigzag, and antialiased staircases, cost
Qt's rasterizer tens of milliseconds, so curves are one pixel wide and the
probability staircase is filled without antialiasing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPolygonF

from app.colors import ACCENT, INK, MUTED, diverging, matrix_image
from app.labels import fit_labels
from app.segments import paint_segments
from handwriting.recognition.graves_view import GravesView, writing_path

__all__ = ["Layout", "layout", "minimum_height", "paint_graves", "paint_cursor",
           "render_graves", "ROWS", "EMPTY_HINT"]

ROWS = ("output", "cells", "writing", "saliency")
EMPTY_HINT = "write something: the network's view of it appears here"
_HEIGHTS = {"output": 0.2, "cells": 0.38, "writing": 0.24, "saliency": 0.18}
MIN_HEIGHTS = {"output": 34.0, "cells": 40.0, "writing": 36.0, "saliency": 34.0}  # the cells row gives way first
LABEL_WIDTH, CELL_LABEL_WIDTH, AXIS_HEIGHT, GAP, PAD = 136.0, 50.0, 16.0, 5.0, 6.0
LEGEND_WIDTH = 56.0  # right of the rows: the cells' colour scale and its labels
TEXT_PX = 11  # titles, cell labels, legends and the axis
CELL_LABEL_PITCH = 13.0  # the height a cell label needs; thinner rows are labelled every k-th
X_COLOUR, Y_COLOUR = QColor(214, 60, 40), QColor(40, 100, 200)
BACKGROUND = QColor(255, 255, 255)
ROW_BACKGROUND = QColor(246, 247, 250)


@dataclass(frozen=True)
class Layout:
    """Where the rows are, and the shared time axis: frame <-> x."""

    rows: dict[str, QRectF]
    num_frames: int
    bounds: QRectF  # the whole painted rectangle, label column included

    def cell_at(self, pos: QPointF, count: int) -> int | None:
        """Which of `count` cell rows is at `pos` (None outside the cells row)."""
        row = self.rows["cells"]
        if count <= 0 or not row.contains(pos):
            return None
        return int(min((pos.y() - row.top()) / row.height() * count, count - 1))

    @property
    def left(self) -> float:
        return self.rows["output"].left()

    @property
    def width(self) -> float:
        return self.rows["output"].width()

    def x_of(self, frame: float) -> float:
        return self.left + (frame + 0.5) * self.width / max(self.num_frames, 1)

    def frame_at(self, x: float) -> int | None:
        if self.num_frames == 0 or not self.left <= x <= self.left + self.width:
            return None
        return int(min((x - self.left) / self.width * self.num_frames, self.num_frames - 1))

    def row_at(self, pos: QPointF) -> str | None:
        return next((name for name, rect in self.rows.items() if rect.contains(pos)), None)


def _fixed_height() -> float:
    return 2 * PAD + AXIS_HEIGHT + GAP * (len(ROWS) - 1)


def minimum_height() -> float:
    """The height below which the rows would overflow their rectangle."""
    return _fixed_height() + sum(MIN_HEIGHTS.values())


def layout(rect: QRectF, num_frames: int) -> Layout:
    """Rows sized by their shares of the height, none below its minimum (the cells row gives way)."""
    left, top = rect.left() + LABEL_WIDTH, rect.top() + PAD
    width = max(rect.width() - LABEL_WIDTH - LEGEND_WIDTH, 10.0)
    usable = rect.height() - _fixed_height()
    heights = {name: max(MIN_HEIGHTS[name], usable * _HEIGHTS[name]) for name in ROWS}
    heights["cells"] = max(MIN_HEIGHTS["cells"], heights["cells"] - (sum(heights.values()) - usable))
    rows = {}
    for name in ROWS:
        rows[name] = QRectF(left, top, width, heights[name])
        top += heights[name] + GAP
    return Layout(rows, num_frames, QRectF(rect))


def paint_graves(painter: QPainter, rect: QRectF, view: GravesView | None, hint: str = EMPTY_HINT) -> Layout:
    """Paint the four rows of `view` (None: empty rows and `hint`) into `rect`."""
    geometry = layout(rect, view.num_frames if view is not None else 0)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.fillRect(rect, BACKGROUND)
    font = QFont(painter.font())
    font.setPixelSize(TEXT_PX)
    painter.setFont(font)
    for row in geometry.rows.values():
        painter.fillRect(row, ROW_BACKGROUND)
    titles = {name: name for name in ROWS}
    if view is None or view.num_frames == 0:
        _label_column(painter, geometry, titles)
        painter.setPen(MUTED)
        painter.drawText(geometry.rows["cells"], Qt.AlignmentFlag.AlignCenter, hint)
        painter.restore()
        return geometry
    titles["output"] = view.output_title
    if view.cells is not None:
        titles["cells"] = view.cell_title
    if view.target is not None:
        titles["saliency"] = f"saliency\nof {_shown_char(view.target[1])}\nat frame {view.target[0]}"
    _label_column(painter, geometry, titles)
    _paint_output(painter, geometry, view)
    _paint_cells(painter, geometry, view)
    _paint_writing(painter, geometry, view)
    _paint_saliency(painter, geometry, view)
    _paint_axis(painter, geometry)
    painter.restore()
    paint_cursor(painter, geometry, view)
    return geometry


def render_graves(view: GravesView | None, width: int = 1200, height: int = 480) -> QImage:
    """The view painted offscreen into a new image (a QGuiApplication must exist, for fonts)."""
    image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(BACKGROUND)
    painter = QPainter(image)
    paint_graves(painter, QRectF(0, 0, width, height), view)
    painter.end()
    return image


# -- the rows ---------------------------------------------------------------------------------------
def _label_column(painter: QPainter, geometry: Layout, titles: dict[str, str]) -> None:
    painter.setPen(INK)
    for name, row in geometry.rows.items():
        box = QRectF(geometry.bounds.left() + PAD, row.top(), LABEL_WIDTH - CELL_LABEL_WIDTH - 2 * PAD, row.height())
        painter.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
                         titles[name])


def _paint_output(painter: QPainter, geometry: Layout, view: GravesView) -> None:
    row = geometry.rows["output"]
    font = QFont(painter.font())
    font.setPixelSize(int(np.clip(row.height() * 0.34, 10, 18)))
    font.setBold(True)
    painter.setFont(font)
    band = painter.fontMetrics().height() + 2  # the line of characters at the top of the row
    tick_top = row.top() + band + 3
    steps = [QPointF(geometry.x_of(-0.5), row.bottom())]
    for t, a in enumerate(view.activity.tolist()):
        y = row.bottom() - a * (row.bottom() - tick_top)
        steps += [QPointF(geometry.x_of(t - 0.5), y), QPointF(geometry.x_of(t + 0.5), y)]
    steps.append(QPointF(geometry.x_of(view.num_frames - 0.5), row.bottom()))
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(150, 185, 230, 110))
    painter.drawPolygon(QPolygonF(steps))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    texts = [_shown_char(char).strip("'") for char, _ in view.chars]
    frames_x = np.array([geometry.x_of(frame) for _, frame in view.chars])
    widths = np.array([painter.fontMetrics().horizontalAdvance(text) + 4 for text in texts], dtype=float)
    kept, centres = fit_labels(frames_x, widths, row.left(), row.right(), 2.0,
                               optional=np.array([char.isspace() for char, _ in view.chars], bool))
    targets = [view.target is not None and view.target[0] == frame for _, frame in view.chars]
    for x, is_target in zip(frames_x.tolist(), targets):
        painter.setPen(QPen(ACCENT if is_target else MUTED, 1.0))
        painter.drawLine(QPointF(x, row.bottom()), QPointF(x, tick_top))
    for index, centre in zip(kept.tolist(), centres.tolist()):
        char, x = view.chars[index][0], frames_x[index]
        if abs(centre - x) > 0.5:
            painter.setPen(QPen(QColor(120, 125, 135, 150), 1.0))
            painter.drawLine(QPointF(x, tick_top), QPointF(centre, row.top() + band))
        painter.setPen(ACCENT if targets[index] else MUTED if char.isspace() else INK)
        box = QRectF(centre - widths[index] / 2, row.top() + 1, widths[index], band)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, texts[index])
    font.setBold(False)
    font.setPixelSize(TEXT_PX)
    painter.setFont(font)


def _paint_cells(painter: QPainter, geometry: Layout, view: GravesView) -> None:
    row = geometry.rows["cells"]
    if view.cells is None or not len(view.cells):
        painter.setPen(MUTED)
        painter.drawText(row, Qt.AlignmentFlag.AlignCenter, "no cell states")
        return
    scale = np.abs(view.cells).max(axis=1, keepdims=True)
    normalised = np.divide(view.cells, scale, out=np.zeros_like(view.cells), where=scale > 0)
    painter.drawImage(row, matrix_image(diverging(normalised)))
    _paint_cell_legend(painter, row)
    height = row.height() / len(view.cells)
    step = max(1, math.ceil(CELL_LABEL_PITCH / height))
    painter.setPen(QPen(INK, 1.0))
    for i in range(0, len(view.cells), step):
        middle = row.top() + (i + 0.5) * height
        box = QRectF(row.left() - CELL_LABEL_WIDTH - 6, middle - CELL_LABEL_PITCH / 2, CELL_LABEL_WIDTH,
                     CELL_LABEL_PITCH)
        painter.drawText(box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, view.cell_labels[i])
        if step > 1:
            painter.drawLine(QPointF(row.left() - 4, middle), QPointF(row.left(), middle))


def _paint_cell_legend(painter: QPainter, row: QRectF) -> None:
    """The colour scale right of the heatmap: each row runs from -max to +max of its |c|."""
    bar = QRectF(row.right() + 8, row.top(), 10, row.height())
    painter.drawImage(bar, matrix_image(diverging(np.linspace(1.0, -1.0, 64))[:, None, :]))
    painter.setPen(QPen(MUTED, 1.0))
    painter.drawRect(bar)
    painter.setPen(INK)
    text = QRectF(bar.right() + 3, row.top(), LEGEND_WIDTH - 8 - bar.width() - 3, row.height())
    for label, where in (("+max", Qt.AlignmentFlag.AlignTop), ("0", Qt.AlignmentFlag.AlignVCenter),
                         ("\u2212max", Qt.AlignmentFlag.AlignBottom)):
        painter.drawText(text, Qt.AlignmentFlag.AlignLeft | where, label)


def _writing_transform(view: GravesView, row: QRectF) -> tuple[np.ndarray, float, float]:
    """(x/y scale, dx, dy) stretching the frames' xy across the whole row, so that the ink
    lines up with the shared time axis (writing runs left to right), height fitted."""
    lo, hi = view.xy.min(axis=0), view.xy.max(axis=0)
    span = np.maximum(hi - lo, 1e-6)
    sx = (row.width() - 8) / span[0]
    sy = min(sx, (row.height() - 8) / span[1])
    dx = row.left() + 4 - lo[0] * sx
    dy = row.center().y() - (lo[1] + hi[1]) / 2 * sy
    return np.array([sx, sy]), float(dx), float(dy)


def _paint_writing(painter: QPainter, geometry: Layout, view: GravesView) -> None:
    row = geometry.rows["writing"]
    scale, dx, dy = _writing_transform(view, row)
    pts = view.xy * scale + [dx, dy]
    path, frame_of = writing_path(view)
    fan = QPen(QColor(120, 130, 150, 70), 1.0)
    painter.setPen(fan)
    for _, frame in view.chars:
        painter.drawLine(QPointF(geometry.x_of(frame), row.top()), QPointF(*pts[frame]))
    strength = None
    if view.saliency is not None:
        energy = np.linalg.norm(view.saliency, axis=1)
        strength = energy / energy.max() if energy.max() > 0 else None
    paint_segments(painter, path * scale + [dx, dy], QPen(INK, 1.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap),
                   None if strength is None else strength[frame_of], joined=view.joined[frame_of])


def _paint_saliency(painter: QPainter, geometry: Layout, view: GravesView) -> None:
    row = geometry.rows["saliency"]
    middle = row.center().y()
    painter.setPen(QPen(QColor(200, 200, 205), 1.0))
    painter.drawLine(QPointF(row.left(), middle), QPointF(row.right(), middle))
    if view.saliency is None:
        return
    top = float(np.abs(view.saliency).max())
    if top > 0:
        for column, colour in ((0, X_COLOUR), (1, Y_COLOUR)):
            ys = middle - view.saliency[:, column] / top * row.height() * 0.46
            painter.setPen(QPen(colour, 1.0))
            painter.drawPolyline(QPolygonF([QPointF(geometry.x_of(t), y) for t, y in enumerate(ys.tolist())]))
    if view.target is not None:
        x = geometry.x_of(view.target[0])
        painter.setPen(QPen(ACCENT, 1.5, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(x, row.top()), QPointF(x, row.bottom()))
    at_left = view.target is None or view.target[0] > view.num_frames / 2  # the legend avoids the target
    legend = QRectF(row.left() + 4 if at_left else row.right() - 58, row.top() + 2, 54, 14)
    painter.fillRect(legend, QColor(255, 255, 255, 200))
    for i, (name, colour) in enumerate((("dx", X_COLOUR), ("dy", Y_COLOUR))):
        painter.setPen(colour)
        painter.drawText(legend.adjusted(4 + i * 26, 0, 0, 0), Qt.AlignmentFlag.AlignLeft, name)


def _paint_axis(painter: QPainter, geometry: Layout) -> None:
    bottom = geometry.rows["saliency"].bottom()
    painter.setPen(MUTED)
    step = _nice_step(geometry.num_frames / max(geometry.width / 70, 1))
    for frame in range(0, geometry.num_frames, step):
        x = geometry.x_of(frame)
        painter.drawLine(QPointF(x, bottom), QPointF(x, bottom + 3))
        painter.drawText(QRectF(x - 30, bottom + 2, 60, AXIS_HEIGHT), Qt.AlignmentFlag.AlignHCenter, str(frame))
    painter.drawText(QRectF(geometry.bounds.left() + PAD, bottom + 2, LABEL_WIDTH - 2 * PAD, AXIS_HEIGHT),
                     Qt.AlignmentFlag.AlignLeft, "frame")


def paint_cursor(painter: QPainter, geometry: Layout, view: GravesView | None) -> None:
    """Mark `view.cursor` (a frame; nothing when None) across the rows and on the writing."""
    if view is None or view.cursor is None or not 0 <= view.cursor < view.num_frames:
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    x = geometry.x_of(view.cursor)
    painter.setPen(QPen(QColor(20, 20, 20, 120), 1.0))
    for name in ("output", "cells", "saliency"):
        row = geometry.rows[name]
        painter.drawLine(QPointF(x, row.top()), QPointF(x, row.bottom()))
    row = geometry.rows["writing"]
    scale, dx, dy = _writing_transform(view, row)
    point = QPointF(*(view.xy[view.cursor] * scale + [dx, dy]))
    painter.drawLine(QPointF(x, row.top()), point)
    painter.setBrush(ACCENT)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(point, 3.5, 3.5)
    painter.restore()


def _shown_char(char: str) -> str:
    """A character as the panel names it: spaces and line breaks made visible, '' the blank."""
    visible = {" ": "\u2423", "\n": "\u21b5"}.get(char, char)
    return "blank" if char == "" else f"'{visible}'"


def _nice_step(raw: float) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if step >= raw:
            return step
    return 10000

