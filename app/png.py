"""Saving images as PNG files atomically (a crash leaves the old file or the new one)."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QBuffer, QIODevice
from PyQt6.QtGui import QImage, QPixmap

from handwriting.atomic import atomic_write_bytes
from handwriting.errors import HandwritingError

__all__ = ["save_png"]


def save_png(image: QImage | QPixmap, path: str | Path) -> None:
    """Write `image` to `path` as PNG; raises HandwritingError when it cannot."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if image.isNull() or not image.save(buffer, "PNG"):
        raise HandwritingError(f"{path}: could not encode the image as PNG")
    try:
        atomic_write_bytes(path, bytes(buffer.data()))
    except OSError as exc:
        raise HandwritingError(f"{path}: {exc.strerror or exc}") from None
