"""`Replayer`: writes an ink onto the pad point by point in its original timing.

The points go through the pad's pen API (`pen_down`, `pen_move`, `pen_up`) with their
recorded times, so live recognition sees exactly what it would see had the ink been
written there; `speed` divides the waiting (2 = twice as fast). The view is fitted to
the whole ink first, so the line never scrolls during the replay.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QElapsedTimer, QObject, Qt, QTimer, pyqtSignal

from app.canvas import Canvas
from handwriting.ink import Ink

__all__ = ["Replayer"]

TICK_MS = 5


class Replayer(QObject):
    """Call `start`; `finished` follows the last pen-up."""

    finished = pyqtSignal()

    def __init__(self, canvas: Canvas, ink: Ink, speed: float = 1.0) -> None:
        super().__init__(canvas)
        if not speed > 0:
            raise ValueError(f"replay speed must be positive, not {speed}")
        self.canvas, self.ink, self.speed = canvas, ink, speed
        self._points = ink.points()
        self._stroke = ink.stroke_ids()
        start = self._points[0, 2] if len(self._points) else 0.0
        self._due = (self._points[:, 2] - start) / speed
        self._next = 0
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        self.canvas.set_ink(Ink(()), fit=False)
        if not self.ink.is_empty:
            self.canvas.fit_to(self.ink.bounds())
        self._next = 0
        self.canvas.follow_pen = False
        self._clock.start()
        self._timer.start()
        self._tick()

    def stop(self) -> None:
        """Stop where it is (a stroke in progress is finished at its last fed point)."""
        self._timer.stop()
        self.canvas.pen_up()
        self.canvas.follow_pen = True

    def _tick(self) -> None:
        now = self._clock.elapsed()
        end = int(np.searchsorted(self._due, now, side="right"))
        for i in range(self._next, end):
            x, y, t, p = (float(v) for v in self._points[i])
            first = i == 0 or self._stroke[i] != self._stroke[i - 1]
            last = i + 1 == len(self._points) or self._stroke[i + 1] != self._stroke[i]
            (self.canvas.pen_down if first else self.canvas.pen_move)(x, y, t, p)
            if last:
                self.canvas.pen_up()
        self._next = max(self._next, end)
        if self._next >= len(self._points):
            self._timer.stop()
            self.canvas.follow_pen = True
            self.finished.emit()
