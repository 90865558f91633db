"""`Canvas`: the writing pad. Pen, tablet or mouse in; an `Ink` in model coordinates out.

Points are stored in model coordinates (at zoom 1 one unit is one logical pixel; an
opened file keeps its own units), so zooming, panning and fitting never change the ink.
Every point gets a time in ms from a monotonic clock, and the tablet's pressure where
there is one (NaN for the mouse). The pad is a page of any size, ruled every LINE_PITCH
units: lines are written one below the other, the view follows the pen to the right and
down after each stroke, `new_line` goes back to the left margin one ruled line down, the
wheel scrolls down and up, Shift+wheel left and right,
Ctrl+wheel zooms and `fit` shows the whole ink; `viewChanged` tells scroll bars
(`app.page_view`) that the view or the page's extent moved. The pen API (`pen_down`, `pen_move`, `pen_up`) is the one
path for every input, replays included, so a replay is exactly a writing.

Finished strokes are painted once into a cached pixmap; while the pen moves only the
new segment's rectangle is repainted, so drawing stays smooth on long lines.
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import numpy.ma  # noqa: F401  numpy imports it on the first np.unique (inside np.percentile too): not mid-stroke
from PyQt6.QtCore import QElapsedTimer, QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import (QColor, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen, QPixmap, QResizeEvent,
                         QTabletEvent, QWheelEvent)
from PyQt6.QtWidgets import QWidget

from app.colors import ACCENT, GUIDE, INK, PAPER
from app.history import StrokeHistory
from app.segments import paint_segments
from handwriting.ink import Ink
from handwriting.recognition.modes import SMALL_TO_LINE, WritingGuide

__all__ = ["Canvas", "LIVE", "STROKE", "EDIT"]

LIVE, STROKE, EDIT = "live", "stroke", "edit"  # kinds of `Canvas.inkChanged`
PEN_WIDTH = 2.6  # logical pixels, whatever the zoom
X_HEIGHT, ASCENDER = 42.0, 95.0  # guide lines above each baseline at zoom 1
LINE_PITCH = 150.0  # from one ruled line's baseline to the next (the first at model y = 0)
FOLLOW_AT, FOLLOW_TO = 0.8, 0.45  # a stroke ending right of (below) FOLLOW_AT x width (height) pans it to FOLLOW_TO
MARGIN = 24.0
FIRST_BASELINE = ASCENDER + MARGIN + 12.0  # widget pixels from the top to the first baseline in the default view
# character mode's writing guide while the ruled lines show: a letter reaching halfway from
# the x-height line to the ascender line is as likely small (`o`) as large (`O`)
RULED_GUIDE = WritingGuide((X_HEIGHT + ASCENDER) / 2 / SMALL_TO_LINE)
MIN_GUIDE_PITCH = 40.0  # widget pixels between ruled lines below which the guides are left out
ZOOM_STEP = 1.15


class Canvas(QWidget):
    """The pad. `inkChanged(kind)`: LIVE while a stroke grows, STROKE at pen-up, EDIT otherwise."""

    inkChanged = pyqtSignal(str)
    historyChanged = pyqtSignal()
    viewChanged = pyqtSignal()  # the view moved or zoomed, or the page's extent changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 140)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._history = StrokeHistory()
        self._live: list[tuple[float, float, float, float]] | None = None
        self._tablet = False
        self._pan_from: QPointF | None = None
        self._scale = 1.0
        self._origin = QPointF(-MARGIN, -FIRST_BASELINE)  # model point at the widget's top-left corner
        self._default_view = True
        self._fitted: tuple[float, float, float, float] | None = None  # the box fitted, until the view moves
        self._clock = QElapsedTimer()
        self._clock.start()
        self._clock_base = 0.0
        self._guides = True
        self._highlight: frozenset[int] = frozenset()
        self._values: np.ndarray | None = None
        self._cache: QPixmap | None = None
        self._marker: tuple[float, float] | None = None
        self.follow_pen = True  # pan after strokes near the right or bottom edge (off while replaying)

    # -- the ink ---------------------------------------------------------------------------
    def ink(self, include_live: bool = True) -> Ink:
        """The strokes on the pad (and the one being written) as an unlabelled Ink."""
        strokes = self._history.strokes
        if include_live and self._live:
            strokes = strokes + (np.array(self._live, dtype=np.float64),)
        return Ink(strokes)

    @property
    def can_undo(self) -> bool:
        return self._history.can_undo

    @property
    def can_redo(self) -> bool:
        return self._history.can_redo

    def set_ink(self, ink: Ink, fit: bool = True) -> None:
        """Show `ink` instead of the current strokes (undo brings those back)."""
        self._live = None
        self._history.push(ink.strokes)
        if not ink.is_empty:
            self._clock_base = float(ink.strokes[-1][-1, 2]) - self._elapsed()
            if fit:
                self.fit_to(ink.bounds())
        self._edited()

    def clear(self) -> None:
        had_live, self._live = self._live is not None, None
        if self._history.clear() or had_live:
            self._edited()

    def undo(self) -> None:
        self._live = None
        if self._history.undo():
            self._edited()

    def redo(self) -> None:
        self._live = None
        if self._history.redo():
            self._edited()

    # -- the pen (every input goes through these, model coordinates) ------------------------
    def now(self) -> float:
        """The pad's clock in ms; it continues the times of an opened ink."""
        return self._clock_base + self._elapsed()

    def pen_down(self, x: float, y: float, t: float | None = None, pressure: float = math.nan) -> None:
        self.pen_up()  # a stroke left open (the mouse took over from the tablet) is kept
        self._live = [(x, y, self.now() if t is None else t, pressure)]
        self._update_around(len(self._live) - 1)
        self.inkChanged.emit(LIVE)

    def pen_move(self, x: float, y: float, t: float | None = None, pressure: float = math.nan) -> None:
        if self._live is None:
            return
        self._live.append((x, y, self.now() if t is None else t, pressure))
        self._update_around(len(self._live) - 1)
        self.inkChanged.emit(LIVE)

    def pen_up(self) -> None:
        if self._live is None:
            return
        stroke = np.array(self._live, dtype=np.float64)
        self._live = None
        self._history.add(stroke)
        origin = QPointF(self._origin)
        if self.follow_pen:
            self._follow(float(stroke[:, 0].max()), float(stroke[:, 1].max()))
        if self._cache is not None and self._values is None and not self._highlight and self._origin == origin:
            self._add_to_cache(stroke)  # the common case while writing: no full repaint
        else:
            self._values = None  # they were for the ink without this stroke
            self._invalidate()
        self.viewChanged.emit()
        self.inkChanged.emit(STROKE)
        self.historyChanged.emit()

    # -- what the recognizer found -------------------------------------------------------------
    def set_highlight(self, strokes: Iterable[int]) -> None:
        """Paint these strokes (indices into the ink) in the accent colour."""
        strokes = frozenset(strokes)
        if strokes != self._highlight:
            self._highlight = strokes
            self._invalidate()

    def set_point_values(self, values: np.ndarray | None) -> None:
        """Colour each point by a non-negative value (saliency); None, or a count that no
        longer matches the ink, paints plain ink."""
        if values is not None:
            values = np.asarray(values, dtype=np.float64)
            top = np.nanmax(values) if values.size else 0.0
            values = values / top if top > 0 else None
        if values is None and self._values is None:
            return
        self._values = values
        self._invalidate()

    def set_marker(self, point: tuple[float, float] | None) -> None:
        """Mark one model point (the frame hovered in the Graves panel); None removes the mark."""
        if point != self._marker:
            self._marker = point
            self.update()

    def set_guides(self, on: bool) -> None:
        self._guides = on
        self._invalidate()

    @property
    def writing_guide(self) -> WritingGuide | None:
        """The writing guide the ruled lines give (none while they are hidden)."""
        return RULED_GUIDE if self._guides else None

    # -- the view ----------------------------------------------------------------------------------
    def to_model(self, pos: QPointF) -> tuple[float, float]:
        return (pos.x() / self._scale + self._origin.x(), pos.y() / self._scale + self._origin.y())

    def to_widget(self, x: float, y: float) -> QPointF:
        return QPointF((x - self._origin.x()) * self._scale, (y - self._origin.y()) * self._scale)

    @property
    def scale(self) -> float:
        """Widget pixels per model unit."""
        return self._scale

    @property
    def origin(self) -> tuple[float, float]:
        """The model point at the widget's top-left corner."""
        return self._origin.x(), self._origin.y()

    def set_origin(self, x: float, y: float) -> None:
        """Scroll so that model point (x, y) is at the widget's top-left corner."""
        if (x, y) != self.origin:
            self._origin = QPointF(x, y)
            self._default_view, self._fitted = False, None
            self._invalidate()
            self.viewChanged.emit()

    def view_rect(self) -> QRectF:
        """The model rectangle the widget shows."""
        return QRectF(self._origin, self._origin + QPointF(self.width(), self.height()) / self._scale)

    def page_rect(self) -> QRectF:
        """The model rectangle one can scroll over: the start of the page, the ink with room
        for more writing right of it and below it (half a view), and the view."""
        view = self.view_rect()
        page = QRectF(QPointF(-MARGIN, -FIRST_BASELINE), QPointF(view.width() / 2, LINE_PITCH))
        strokes = self._history.strokes
        if strokes:
            points = np.concatenate([stroke[:, :2] for stroke in strokes])
            (xmin, ymin), (xmax, ymax) = points.min(axis=0), points.max(axis=0)
            page = page.united(QRectF(QPointF(xmin, ymin), QPointF(xmax + view.width() / 2, ymax + view.height() / 2)))
        return page.united(view)

    def fit_to(self, bounds: tuple[float, float, float, float]) -> None:
        """Zoom and pan so that the box (xmin, ymin, xmax, ymax) fills the pad, left-aligned."""
        xmin, ymin, xmax, ymax = bounds
        width, height = max(self.width() - 2 * MARGIN, 1), max(self.height() - 2 * MARGIN, 1)
        self._scale = min(width / max(xmax - xmin, 1e-9), 0.8 * height / max(ymax - ymin, 1e-9))
        top = (ymin + ymax) / 2 - self.height() / 2 / self._scale
        self._origin = QPointF(xmin - MARGIN / self._scale, top)
        self._default_view = False
        self._fitted = bounds
        self._invalidate()
        self.viewChanged.emit()

    def fit(self) -> None:
        """Show the whole ink (or the default view when the pad is empty)."""
        ink = self.ink()
        if ink.is_empty:
            self._default_view, self._fitted = True, None
            self._scale = 1.0
            self._reset_default_view()
        else:
            self.fit_to(ink.bounds())

    def zoom(self, factor: float, around: QPointF | None = None) -> None:
        around = around or QPointF(self.width() / 2, self.height() / 2)
        x, y = self.to_model(around)
        self._scale = float(np.clip(self._scale * factor, 1e-4, 1e4))
        self._origin = QPointF(x - around.x() / self._scale, y - around.y() / self._scale)
        self._default_view, self._fitted = False, None
        self._invalidate()
        self.viewChanged.emit()

    def new_line(self) -> None:
        """Back to the left margin, the ruled line under the newest stroke's line shown where the
        first line starts (a typewriter's return)."""
        strokes = self._history.strokes
        if not strokes:
            self.fit()
            return
        line = round((float(np.median(strokes[-1][:, 1])) + X_HEIGHT / 2) / LINE_PITCH)  # nearest x-height band
        self.set_origin(-MARGIN / self._scale, (line + 1) * LINE_PITCH - FIRST_BASELINE / self._scale)

    def pan(self, dx: float, dy: float = 0.0) -> None:
        """Move the ink by (dx, dy) widget pixels (the view the other way)."""
        x, y = self.origin
        self.set_origin(x - dx / self._scale, y - dy / self._scale)

    # -- Qt events ---------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and not self._tablet:
            self.pen_down(*self.to_model(event.position()))
        elif event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.pan(delta.x(), delta.y())
        elif event.buttons() & Qt.MouseButton.LeftButton and not self._tablet:
            self.pen_move(*self.to_model(event.position()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = None
        elif event.button() == Qt.MouseButton.LeftButton and not self._tablet:
            self.pen_up()

    def tabletEvent(self, event: QTabletEvent) -> None:
        event.accept()
        x, y = self.to_model(event.position())
        kind = event.type()
        if kind == QTabletEvent.Type.TabletPress:
            self._tablet = True
            self.pen_down(x, y, pressure=event.pressure())
        elif kind == QTabletEvent.Type.TabletMove and self._tablet:
            self.pen_move(x, y, pressure=event.pressure())
        elif kind == QTabletEvent.Type.TabletRelease and self._tablet:
            self._tablet = False
            self.pen_up()

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        modifiers = event.modifiers()
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            self.zoom(ZOOM_STEP ** (delta.y() / 120), event.position())
        elif modifiers & Qt.KeyboardModifier.ShiftModifier:  # some platforms turn Shift+wheel into a sideways wheel
            self.pan(delta.y() or delta.x(), 0.0)
        else:
            self.pan(delta.x(), delta.y())

    def resizeEvent(self, event: QResizeEvent) -> None:
        if self._fitted is not None:  # a fitted page stays fitted
            self.fit_to(self._fitted)
        elif self._default_view:
            self._reset_default_view()
        self._invalidate()
        self.viewChanged.emit()
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._static_layer())
        if self._live:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._paint_stroke(painter, np.array(self._live), INK, None)
        if self._marker is not None:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(ACCENT, 2.0))
            painter.drawEllipse(self.to_widget(*self._marker), 6.0, 6.0)
        painter.end()

    # -- painting --------------------------------------------------------------------------------------
    def _static_layer(self) -> QPixmap:
        ratio = self.devicePixelRatioF()
        if self._cache is None or self._cache.size() != self.size() * ratio:
            self._cache = QPixmap(self.size() * ratio)
            self._cache.setDevicePixelRatio(ratio)
            self._cache.fill(PAPER)
            painter = QPainter(self._cache)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            if self._guides:
                self._paint_guides(painter)
            self._paint_strokes(painter)
            painter.end()
        return self._cache

    def _paint_guides(self, painter: QPainter) -> None:
        """The ruled lines in view: each a baseline, an x-height line and an ascender line."""
        if LINE_PITCH * self._scale < MIN_GUIDE_PITCH:
            return
        view = self.view_rect()
        first, last = math.floor(view.top() / LINE_PITCH), math.ceil((view.bottom() + ASCENDER) / LINE_PITCH)
        for y, style, alpha in ((0.0, Qt.PenStyle.SolidLine, 170), (-X_HEIGHT, Qt.PenStyle.DashLine, 120),
                                (-ASCENDER, Qt.PenStyle.DotLine, 90)):
            colour = QColor(GUIDE)
            colour.setAlpha(alpha)
            painter.setPen(QPen(colour, 1.0, style))
            for line in range(first, last + 1):
                wy = self.to_widget(0.0, line * LINE_PITCH + y).y()
                painter.drawLine(QPointF(0, wy), QPointF(self.width(), wy))

    def _paint_strokes(self, painter: QPainter) -> None:
        strokes = self._history.strokes
        values = self._values if self._values is not None and len(self._values) == sum(map(len, strokes)) else None
        start = 0
        for index, stroke in enumerate(strokes):
            stroke_values = values[start:start + len(stroke)] if values is not None else None
            start += len(stroke)
            if index in self._highlight:
                halo = QColor(ACCENT)
                halo.setAlpha(60)
                self._paint_stroke(painter, stroke, halo, None, extra=7.0)
            self._paint_stroke(painter, stroke, ACCENT if index in self._highlight else INK, stroke_values)

    def _paint_stroke(self, painter: QPainter, stroke: np.ndarray, colour: QColor, values: np.ndarray | None,
                      extra: float = 0.0) -> None:
        """One stroke: a smooth path, or segments when pressure or per-point values (colours) vary."""
        pts = (stroke[:, :2] - [self._origin.x(), self._origin.y()]) * self._scale
        pressure = stroke[:, 3]
        has_pressure = bool(np.isfinite(pressure).any())
        pen = QPen(colour, PEN_WIDTH + extra, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        if len(pts) == 1 or (not has_pressure and values is None):
            painter.setPen(pen)
            painter.drawPath(_smooth_path(pts))
            return
        widths = PEN_WIDTH * (0.4 + 1.2 * np.nan_to_num(pressure, nan=0.5)) + extra if has_pressure else None
        paint_segments(painter, pts, pen, values, widths)

    def _add_to_cache(self, stroke: np.ndarray) -> None:
        """Paint a new stroke onto the cached layer and repaint only where it lies."""
        painter = QPainter(self._cache)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_stroke(painter, stroke, INK, None)
        painter.end()
        corners = [self.to_widget(x, y) for x, y in (stroke[:, :2].min(axis=0), stroke[:, :2].max(axis=0))]
        pad = PEN_WIDTH * 2 + 2
        self.update(QRectF(*corners).normalized().adjusted(-pad, -pad, pad, pad).toAlignedRect())

    # -- helpers ------------------------------------------------------------------------------------------
    def _elapsed(self) -> float:
        return self._clock.nsecsElapsed() / 1e6

    def _edited(self) -> None:
        self._values = None
        self._highlight = frozenset()
        self._invalidate()
        self.viewChanged.emit()
        self.inkChanged.emit(EDIT)
        self.historyChanged.emit()

    def _invalidate(self) -> None:
        self._cache = None
        self.update()

    def _update_around(self, index: int) -> None:
        """Repaint just the newest segment of the live stroke."""
        a = self.to_widget(*self._live[max(index - 2, 0)][:2])
        b = self.to_widget(*self._live[index][:2])
        pad = PEN_WIDTH * 2 + 2
        self.update(QRectF(a, b).normalized().adjusted(-pad, -pad, pad, pad).toAlignedRect())

    def _follow(self, right: float, bottom: float) -> None:
        """Scroll when the last stroke reached near the right edge (so the line can go on) or
        near the bottom (so the next line has room below)."""
        corner = self.to_widget(right, bottom)
        dx = corner.x() - FOLLOW_TO * self.width() if corner.x() > FOLLOW_AT * self.width() else 0.0
        dy = corner.y() - FOLLOW_TO * self.height() if corner.y() > FOLLOW_AT * self.height() else 0.0
        if dx or dy:
            self._origin += QPointF(dx, dy) / self._scale
            self._default_view, self._fitted = False, None

    def _reset_default_view(self) -> None:
        self._origin = QPointF(-MARGIN / self._scale, -FIRST_BASELINE / self._scale)
        self._invalidate()
        self.viewChanged.emit()


def _smooth_path(pts: np.ndarray) -> QPainterPath:
    """Quadratic curves through the midpoints of consecutive points (a dot for one point)."""
    path = QPainterPath()
    if len(pts) == 1:
        path.addEllipse(QPointF(*pts[0]), 0.6, 0.6)
        return path
    path.moveTo(QPointF(*pts[0]))
    for i in range(1, len(pts) - 1):
        mid = (pts[i] + pts[i + 1]) / 2
        path.quadTo(QPointF(*pts[i]), QPointF(*mid))
    path.lineTo(QPointF(*pts[-1]))
    return path
