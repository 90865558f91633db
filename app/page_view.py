"""`PageView`: the pad with scroll bars over its page.

The bars span `Canvas.page_rect()` (the ink, room to write on and the view) in widget
pixels at the pad's zoom; moving a bar scrolls the pad, and every move, zoom or new
stroke of the pad sets the bars again (without echoing back).
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QGridLayout, QScrollBar, QWidget

from app.canvas import Canvas

__all__ = ["PageView"]

STEP_PX = 40  # an arrow click scrolls this many pixels
_LIMIT = 2 ** 30  # a bar's range in pixels is kept within an int


class PageView(QWidget):
    """`canvas` with a vertical bar on its right and a horizontal one below it."""

    def __init__(self, canvas: Canvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.vertical = QScrollBar(Qt.Orientation.Vertical)
        self.horizontal = QScrollBar(Qt.Orientation.Horizontal)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(0)
        grid.addWidget(canvas, 0, 0)
        grid.addWidget(self.vertical, 0, 1)
        grid.addWidget(self.horizontal, 1, 0)
        for bar in (self.vertical, self.horizontal):
            bar.setSingleStep(STEP_PX)
            bar.valueChanged.connect(self._scrolled)
        canvas.viewChanged.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        """Set both bars from the pad's view and page."""
        page, view, scale = self.canvas.page_rect(), self.canvas.view_rect(), self.canvas.scale
        for bar, start, size, shown, at in ((self.horizontal, page.left(), page.width(), view.width(), view.left()),
                                            (self.vertical, page.top(), page.height(), view.height(), view.top())):
            bar.blockSignals(True)
            bar.setRange(0, round(min(max((size - shown) * scale, 0.0), _LIMIT)))
            bar.setPageStep(max(int(shown * scale), 1))
            bar.setValue(round(min(max((at - start) * scale, 0.0), _LIMIT)))
            bar.blockSignals(False)
        self._page = page

    def _scrolled(self) -> None:
        scale = self.canvas.scale
        self.canvas.set_origin(self._page.left() + self.horizontal.value() / scale,
                               self._page.top() + self.vertical.value() / scale)
