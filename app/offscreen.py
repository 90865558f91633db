"""Rendering the Graves view to a PNG file without a window (for `handwriting explain`)."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtWidgets import QApplication

from app.graves_paint import render_graves
from app.png import save_png
from handwriting.recognition.explain import Explanation
from handwriting.recognition.graves_view import build_view

__all__ = ["render_png"]

_APP: list[QApplication] = []  # keeps the application made here alive


def _gui() -> None:
    """An application (painting text needs one), on the offscreen platform when we make it;
    a QApplication, so that widgets can still be made in the same process."""
    if QApplication.instance() is None:
        _APP.append(QApplication(["handwriting", "-platform", "offscreen"]))


def render_png(explanation: Explanation, path: str | Path, width: int = 1400, height: int = 520,
               how: str = "active", k: int = 16) -> None:
    """Paint the four rows for `explanation` (its `k` most `how` cells) into a PNG at `path`."""
    _gui()
    view = build_view(explanation.recognition, explanation, how, k)
    save_png(render_graves(view, width, height), path)
