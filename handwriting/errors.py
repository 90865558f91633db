"""The exceptions the library raises on purpose; every user-facing failure is one of these."""

from __future__ import annotations

from pathlib import Path

__all__ = ["HandwritingError", "InkFormatError", "ModelError"]


class HandwritingError(Exception):
    """Base class: a problem the user can act on, with a one-line message."""


class InkFormatError(HandwritingError):
    """An ink file could not be read: names the file, the place in it and the reason."""

    def __init__(self, path: str | Path | None, where: str | int | None, reason: str):
        self.path = str(path) if path is not None else None
        self.where = where
        self.reason = reason
        place = f"line {where}" if isinstance(where, int) else where
        parts = [p for p in (self.path, place) if p]
        super().__init__(f"{': '.join(str(p) for p in parts)}: {reason}" if parts else reason)


class ModelError(HandwritingError):
    """A model file is missing, damaged or lacks the metadata the recognizer needs."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")
