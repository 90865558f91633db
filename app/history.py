"""`StrokeHistory`: the strokes on the pad with undo and redo of every change.

Each change (a stroke added, the pad cleared, an ink opened) replaces the tuple of
strokes; undo and redo step between those tuples. Strokes are immutable (n, 4) arrays,
so keeping every state costs only references.
"""

from __future__ import annotations

import numpy as np

__all__ = ["StrokeHistory"]

Strokes = tuple[np.ndarray, ...]


class StrokeHistory:
    """The current strokes plus the states before (undo) and after (redo) them."""

    def __init__(self) -> None:
        self.strokes: Strokes = ()
        self._undo: list[Strokes] = []
        self._redo: list[Strokes] = []

    def push(self, strokes: Strokes) -> None:
        """Make `strokes` current; the redo states are forgotten."""
        self._undo.append(self.strokes)
        self._redo.clear()
        self.strokes = tuple(strokes)

    def add(self, stroke: np.ndarray) -> None:
        self.push(self.strokes + (stroke,))

    def clear(self) -> bool:
        """Remove every stroke (undoable); False when there was nothing to clear."""
        if not self.strokes:
            return False
        self.push(())
        return True

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self.strokes)
        self.strokes = self._undo.pop()
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self.strokes)
        self.strokes = self._redo.pop()
        return True
