"""`GravesPanel`: the network's view below the pad: output, memory cells, writing, saliency.

The panel keeps the newest Explanation (which holds its Recognition), builds a
`GravesView` from it (one line of a page: `set_explanation` says which) with the cell choice of its controls (layer, direction, most active
or most variable, how many) and paints it with `paint_graves` into a cached pixmap, so
that hovering repaints only the cursor. A new view is painted a moment later, in an
event-loop turn of its own, not in the same turn as the pad's repaint: the pen never
waits for both. Hovering marks a frame in every row
(`frameHovered`) and, over the cells, names the cell and its value in a tooltip;
clicking a character in the output row asks for its saliency (`characterClicked`).
"""

from __future__ import annotations

from dataclasses import replace

from PyQt6.QtCore import QEvent, QRectF, QSize, QTimer, pyqtSignal
from PyQt6.QtGui import QMouseEvent, QPainter, QPaintEvent, QPixmap, QResizeEvent
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QToolTip, QVBoxLayout, QWidget

from app.graves_paint import EMPTY_HINT, Layout, layout, minimum_height, paint_cursor, paint_graves
from handwriting.recognition.explain import DIRECTIONS, Explanation
from handwriting.recognition.graves_view import GravesView, build_view

__all__ = ["GravesPanel"]

CLICK_RADIUS = 12.0  # pixels from a character's emission frame that still pick it
RENDER_DELAY_MS = 16  # a new view is painted this much later (a turn of the event loop of its own)


class _Plot(QWidget):
    """Paints a GravesView and maps the mouse to frames and characters."""

    hovered = pyqtSignal(int)  # frame, -1 when none
    clicked = pyqtSignal(int)  # index of a recognised character

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumHeight(int(minimum_height()) + 1)
        self.view: GravesView | None = None
        self.hint = EMPTY_HINT  # shown when there is no view
        self._cursor: int | None = None
        self._cache: QPixmap | None = None  # the view painted without the cursor
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(RENDER_DELAY_MS)
        self._render_timer.timeout.connect(self._render)

    def sizeHint(self) -> QSize:
        return QSize(900, 320)

    def set_view(self, view: GravesView | None) -> None:
        self.view = view
        self.refresh()

    def refresh(self) -> None:
        """Paint the view afresh (after it or the hint changed), soon."""
        self._render_timer.start()

    def _render(self) -> None:
        ratio = self.devicePixelRatioF()
        self._cache = QPixmap(self.size() * ratio)
        self._cache.setDevicePixelRatio(ratio)
        painter = QPainter(self._cache)
        paint_graves(painter, QRectF(self.rect()), self.view, self.hint)
        painter.end()
        self._render_timer.stop()
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._cache = None
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._cache is None:
            self._render()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._cache)
        if self.view is not None:
            paint_cursor(painter, self._layout(), replace(self.view, cursor=self._cursor))
        painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        frame = self._layout().frame_at(event.position().x()) if self.view is not None else None
        if frame != self._cursor:
            self._cursor = frame
            self.hovered.emit(-1 if frame is None else frame)
            self.update()
        self._show_cell(event, frame)

    def _show_cell(self, event: QMouseEvent, frame: int | None) -> None:
        """A tooltip naming the hovered cell and its state at the hovered frame."""
        cells = self.view.cells if self.view is not None else None
        cell = self._layout().cell_at(event.position(), len(cells)) if cells is not None and frame is not None else None
        if cell is None:
            QToolTip.hideText()
            return
        QToolTip.showText(event.globalPosition().toPoint(),
                          f"cell {self.view.cell_labels[cell]}, frame {frame}: c = {cells[cell, frame]:+.3f} "
                          f"(largest |c| {abs(cells[cell]).max():.3f})", self)

    def leaveEvent(self, event: QEvent) -> None:
        self._cursor = None
        self.hovered.emit(-1)
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.view is None or not self.view.chars:
            return
        geometry = self._layout()
        if geometry.row_at(event.position()) not in ("output", "saliency"):
            return
        distances = [abs(geometry.x_of(frame) - event.position().x()) for _, frame in self.view.chars]
        nearest = min(range(len(distances)), key=distances.__getitem__)
        if distances[nearest] <= CLICK_RADIUS:
            self.clicked.emit(nearest)

    def _layout(self) -> Layout:
        return layout(QRectF(self.rect()), self.view.num_frames if self.view is not None else 0)


class GravesPanel(QWidget):
    """Controls for the cell choice above the four-row plot."""

    frameHovered = pyqtSignal(int)
    characterClicked = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._explanation: Explanation | None = None
        self._line_title = "output"
        self.layer = QComboBox()
        self.direction = QComboBox()
        self.direction.addItems(["both directions"] + [f"{d} only" for d in DIRECTIONS])
        self.how = QComboBox()
        self.how.addItem("most active", "active")
        self.how.addItem("most variable", "variable")
        self.count = QSpinBox()
        self.count.setRange(1, 64)
        self.count.setValue(16)
        self.count.setSuffix(" cells")
        controls = QHBoxLayout()
        controls.setContentsMargins(6, 0, 6, 0)
        controls.addWidget(QLabel("<b>Inside the network</b> \u2014 memory cells:"))
        for widget in (self.layer, self.direction, self.how, self.count):
            controls.addWidget(widget)
            signal = widget.valueChanged if isinstance(widget, QSpinBox) else widget.currentIndexChanged
            signal.connect(self._rebuild)
        controls.addStretch(1)
        controls.addWidget(QLabel("hover: frame \u00b7 click a character: its saliency"))
        self.plot = _Plot()
        self.plot.hovered.connect(self.frameHovered)
        self.plot.clicked.connect(self.characterClicked)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 2, 0, 0)
        box.setSpacing(2)
        box.addLayout(controls)
        box.addWidget(self.plot, 1)
        self._set_layers(0)

    @property
    def view(self) -> GravesView | None:
        return self.plot.view

    def set_explanation(self, explanation: Explanation | None, line: int = 0, lines: int = 1) -> None:
        """Show a recognition with its cell states and saliency (None: an empty pad); it is
        line `line` of a page of `lines` lines."""
        self._explanation = explanation
        self._line_title = f"output\nline {line + 1} of {lines}" if lines > 1 else "output"
        if explanation is not None:
            self._set_layers(len(explanation.cells))
        self._rebuild()

    def set_hint(self, hint: str = EMPTY_HINT) -> None:
        """The text shown while there is nothing to show."""
        self.plot.hint = hint
        self.plot.refresh()

    def _set_layers(self, layers: int) -> None:
        if self.layer.count() == layers + 1:
            return
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.addItem("all layers")
        self.layer.addItems([f"layer {n + 1}" for n in range(layers)])
        self.layer.blockSignals(False)

    def _rebuild(self) -> None:
        if self._explanation is None:
            self.plot.set_view(None)
            return
        layer = self.layer.currentIndex() - 1
        direction = self.direction.currentIndex() - 1
        view = build_view(self._explanation.recognition, self._explanation, self.how.currentData(), self.count.value(),
                          None if layer < 0 else layer, None if direction < 0 else direction)
        self.plot.set_view(replace(view, output_title=self._line_title))

