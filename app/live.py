"""`LiveRecognition`: sends the pad's ink to the worker while the pen moves and at pen-up.

While a stroke grows the ink is sent at most once per `interval_ms` (the first move
starts a timer, its timeout sends the ink as it is then) for a quick reading (a model's
second network, if it has one, left out); pen-up sends at once for the final reading with
alternatives (and both networks); an undo, clear or open
sends at once as a fresh request, so results for the old ink are dropped.
"""

from __future__ import annotations

from PyQt6.QtCore import QObject, QTimer

from app.canvas import EDIT, LIVE, Canvas
from app.worker import RecognitionService

__all__ = ["LiveRecognition", "INTERVAL_MS"]

INTERVAL_MS = 40


class LiveRecognition(QObject):
    """Connects a pad to the recognition service (parented to the pad)."""

    def __init__(self, canvas: Canvas, service: RecognitionService, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(canvas)
        self.canvas, self.service = canvas, service
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(lambda: self.send(final=False))
        canvas.inkChanged.connect(self._changed)

    def send(self, fresh: bool = False, final: bool = True) -> int:
        """Send the ink now (cancelling a pending throttled send); returns its sequence number."""
        self._timer.stop()
        return self.service.submit(self.canvas.ink(), fresh, final)

    def _changed(self, kind: str) -> None:
        if kind != LIVE:
            self.send(fresh=kind == EDIT)
        elif not self._timer.isActive():
            self._timer.start()
