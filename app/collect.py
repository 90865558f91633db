"""Collect mode: show a prompt, the user writes it, the ink is saved as labelled InkML.

`Collector` holds the prompts, the current one and the folder (no widgets); `CollectBar`
is the strip above the pad with the prompt and its buttons. Samples are named
`<date>-<time>-<n>.inkml` and written atomically, ready for fine-tuning.
"""

from __future__ import annotations

import time
from pathlib import Path

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from app.canvas import Canvas
from app.prompts import PROMPTS
from handwriting.errors import HandwritingError
from handwriting.formats import write_ink
from handwriting.ink import Ink

__all__ = ["Collector", "CollectBar", "load_prompts"]


def load_prompts(path: str | Path) -> list[str]:
    """The non-empty lines of a UTF-8 text file."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise HandwritingError(f"{path}: cannot read prompts ({exc})") from None
    prompts = [line.strip() for line in lines if line.strip()]
    if not prompts:
        raise HandwritingError(f"{path}: no prompts in it (one per line)")
    return prompts


class Collector:
    """The prompt to write next and where samples go."""

    def __init__(self, folder: str | Path, prompts: list[str] | tuple[str, ...] = PROMPTS) -> None:
        self.folder = Path(folder)
        self.prompts = list(prompts)
        self.index = 0
        self.saved = 0

    @property
    def prompt(self) -> str:
        return self.prompts[self.index % len(self.prompts)]

    def skip(self, step: int = 1) -> None:
        self.index = (self.index + step) % len(self.prompts)

    def save(self, ink: Ink) -> Path:
        """Write `ink` labelled with the prompt, then move to the next prompt."""
        if ink.is_empty:
            raise HandwritingError("nothing written yet: write the prompt on the pad first")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        number = self.saved
        while (path := self.folder / f"{stamp}-{number:04d}.inkml").exists():
            number += 1
        try:
            write_ink(ink.with_label(self.prompt), path)
        except OSError as exc:
            raise HandwritingError(f"{path}: cannot save ({exc.strerror or exc})") from None
        self.saved += 1
        self.skip()
        return path


class CollectBar(QWidget):
    """The prompt, Save (Enter), Skip, and the folder and prompt-file choosers."""

    saved = pyqtSignal(str)  # path of the sample
    failed = pyqtSignal(str)  # reason

    def __init__(self, canvas: Canvas, collector: Collector, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas, self.collector = canvas, collector
        self.prompt = QLabel()
        font = QFont(self.prompt.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        self.prompt.setFont(font)
        self.info = QLabel()
        buttons = {"Save sample \u23ce": self.save, "Skip": lambda: self._skip(1), "Back": lambda: self._skip(-1),
                   "Folder\u2026": self._choose_folder, "Prompts\u2026": self._choose_prompts}
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(QLabel("Please write:"))
        row.addWidget(self.prompt, 1)
        row.addWidget(self.info)
        for text, slot in buttons.items():
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
        self._show()

    def save(self) -> None:
        try:
            path = self.collector.save(self.canvas.ink(include_live=False))
        except HandwritingError as exc:
            self.failed.emit(str(exc))
            return
        self.canvas.clear()
        self._show()
        self.saved.emit(str(path))

    def _skip(self, step: int) -> None:
        self.collector.skip(step)
        self._show()

    def set_folder(self, folder: str | Path) -> None:
        """Save the samples in `folder` from now on."""
        self.collector.folder = Path(folder)
        self._show()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the samples", str(self.collector.folder))
        if folder:
            self.set_folder(folder)

    def _choose_prompts(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Prompts (one per line)", "", "Text files (*.txt);;All files (*)")
        if not path:
            return
        try:
            self.collector.prompts = load_prompts(path)
        except HandwritingError as exc:
            self.failed.emit(str(exc))
            return
        self.collector.index = 0
        self._show()

    def _show(self) -> None:
        c = self.collector
        self.prompt.setText(c.prompt)
        self.info.setText(f"{c.index + 1}/{len(c.prompts)} \u00b7 {c.saved} saved in {c.folder}")
