"""Collect mode: show a prompt, the user writes it, the ink is saved as labelled InkML.

`Collector` holds the prompts, the current one and the folder (no widgets); `CollectBar`
is the strip above the pad with the prompt and its buttons. Samples are named
`<date>-<time>-<n>.inkml` and written atomically, ready for fine-tuning.

Collecting starts on an empty pad (the ink there before can be undone back). Before a sample
is saved, the recognizer's reading of it is compared with the prompt: past
`MAX_SAMPLE_CER` the bar says what was read and the user keeps the sample or writes it again
(a mislabelled sample teaches the model the wrong thing). Samples go to the folder the user
chose (`--samples DIR`, the Folder… button, or asked at the first save), remembered in the
app's settings for the next start.
"""

from __future__ import annotations

import time
from pathlib import Path

from PyQt6.QtCore import QSettings, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from app.canvas import Canvas
from app.prompts import PROMPTS
from handwriting.errors import HandwritingError
from handwriting.formats import write_ink
from handwriting.ink import Ink
from handwriting.metrics import ErrorCounts

__all__ = ["Collector", "CollectBar", "load_prompts", "samples_folder", "remember_folder", "MAX_SAMPLE_CER"]

MAX_SAMPLE_CER = 0.5  # a reading further than this from the prompt asks the user before saving
_FOLDER_KEY = "collect/folder"


def _settings() -> QSettings:
    return QSettings("handwriting", "handwriting")


def samples_folder(given: str | Path | None = None) -> Path | None:
    """`given` (then remembered), else the folder remembered from an earlier run, else None."""
    if given is not None:
        remember_folder(given)
        return Path(given)
    stored = _settings().value(_FOLDER_KEY, "", str)
    return Path(stored) if stored else None


def remember_folder(folder: str | Path) -> None:
    """Keep `folder` as the samples folder for the next start."""
    _settings().setValue(_FOLDER_KEY, str(Path(folder).resolve()))


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

    def __init__(self, folder: str | Path | None, prompts: list[str] | tuple[str, ...] = PROMPTS) -> None:
        self.folder = Path(folder) if folder is not None else None  # None: not chosen yet
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
        if self.folder is None:
            raise HandwritingError("no folder chosen for the samples (Folder\u2026)")
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
    """The prompt, Save (Enter), Skip, Back, the folder and prompt-file choosers, and Keep and
    Redo when the reading of a sample is far from its prompt. `set_reading(result)` takes each
    reading the recognizer makes (anything with `.ink` and `.recognition.text`)."""

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
        self.warning = QLabel()
        self.warning.setStyleSheet("color: #b3261e")
        self._reading: tuple[Ink, str] | None = None  # the latest reading: (its ink, its text)
        self._doubted: Ink | None = None  # the ink the user was warned about
        self._waiting: Ink | None = None  # the ink Save waits to see read
        self.keep_button, self.redo_button = QPushButton("Keep"), QPushButton("Redo")
        buttons = {"Save sample \u23ce": self.save, "Skip": lambda: self._skip(1), "Back": lambda: self._skip(-1),
                   "Folder\u2026": self._choose_folder, "Prompts\u2026": self._choose_prompts}
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(QLabel("Please write:"))
        row.addWidget(self.prompt, 1)
        row.addWidget(self.warning)
        row.addWidget(self.info)
        for button, slot in ((self.keep_button, self.keep), (self.redo_button, self.redo)):
            button.clicked.connect(slot)
            row.addWidget(button)
        for text, slot in buttons.items():
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
        self._show()

    def start(self) -> None:
        """Begin collecting: an empty pad (undo brings its ink back) and no pending warning."""
        self.canvas.clear()
        self._show()

    def set_reading(self, result) -> None:
        """The recognizer's latest reading; finishes a Save that waited for it."""
        self._reading = (result.ink, result.recognition.text)
        if self._waiting is not None and result.ink.same_as(self._waiting):
            self._waiting = None
            self.save()

    def reading_of(self, ink: Ink) -> str | None:
        """What the recognizer read in `ink`, if it has read exactly that ink."""
        if self._reading is not None and self._reading[0].same_as(ink):
            return self._reading[1]
        return None

    def save(self) -> None:
        """Save the pad's ink labelled with the prompt, unless its reading is far from the prompt
        (then warn; Save again or Keep saves it) or not there yet (then check it when it comes;
        Keep saves it unread)."""
        ink = self.canvas.ink(include_live=False)
        if ink.is_empty or (self._doubted is not None and ink.same_as(self._doubted)):
            self._write(ink)
            return
        text = self.reading_of(ink)
        if text is None:
            self._waiting = ink
            self.warning.setText("reading what you wrote\u2026 (Keep saves it unread)")
            self.keep_button.show()
            return
        counts = ErrorCounts()
        counts.add(self.collector.prompt, text)
        if counts.cer > MAX_SAMPLE_CER:
            self._doubted = ink
            self.warning.setText(f"read as \u201c{text}\u201d ({counts.cer:.0%} of characters differ): "
                                 "keep it, or redo it?")
            self.keep_button.show()
            self.redo_button.show()
            return
        self._write(ink)

    def keep(self) -> None:
        """Save the pad's ink as it is (warned about, or not read yet)."""
        self._write(self.canvas.ink(include_live=False))

    def redo(self) -> None:
        """Drop the ink on the pad (undo brings it back) to write the prompt again."""
        self.canvas.clear()
        self._show()

    def _write(self, ink: Ink) -> None:
        if self.collector.folder is None and not ink.is_empty:
            self._choose_folder()
        try:
            path = self.collector.save(ink)
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
        """Save the samples in `folder` from now on (and in later runs)."""
        self.collector.folder = Path(folder)
        remember_folder(folder)
        self._show()

    def _choose_folder(self) -> None:
        start = str(self.collector.folder or Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Folder for the samples", start)
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
        self._doubted = self._waiting = None
        self.warning.clear()
        self.keep_button.hide()
        self.redo_button.hide()
        self.prompt.setText(c.prompt)
        where = c.folder if c.folder is not None else "no folder chosen yet"
        self.info.setText(f"{c.index + 1}/{len(c.prompts)} \u00b7 {c.saved} saved in {where}")
