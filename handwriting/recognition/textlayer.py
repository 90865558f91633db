"""Recognised text laid over its ink: where each word goes (for a PDF's invisible text layer
and Xournal++ text boxes).

A word is placed on its ink's box; the words of one text line share a top and a bottom
(the medians of their boxes'), so that a line of placed text reads as one line in PDF
viewers and selections do not jump up and down with ascenders and descenders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handwriting.formats.page import Page
from handwriting.recognition.recognizer import Recognition

__all__ = ["PlacedWord", "placed_words", "xournal_texts", "TEXT_SIZE", "CHAR_WIDTH"]

TEXT_SIZE = 0.8  # Xournal++ font size, as a fraction of the line's height ...
CHAR_WIDTH = 0.55  # ... or smaller, so that a word (characters about this many sizes wide) fits its ink


@dataclass(frozen=True)
class PlacedWord:
    """A word and where it goes, in ink units: its ink's left and right, its line's top and bottom."""

    text: str
    left: float
    right: float
    top: float
    bottom: float
    line: int


def placed_words(recognition: Recognition) -> list[PlacedWord]:
    """Every recognised word that has ink, line by line (`Recognition.lines`), with its line's
    shared top and bottom."""
    out = []
    lines = [line.words for line in recognition.lines] or [tuple(recognition.words)]
    for n, line in enumerate(lines):
        words = [w for w in line if w.bbox is not None and w.text.strip()]
        if not words:
            continue
        boxes = np.array([w.bbox for w in words])
        top, bottom = float(np.median(boxes[:, 1])), float(np.median(boxes[:, 3]))
        if bottom <= top:
            top, bottom = float(boxes[:, 1].min()), max(float(boxes[:, 3].max()), float(boxes[:, 1].min()) + 1e-6)
        out += [PlacedWord(w.text, x0, max(x1, x0 + 1e-6), top, bottom, n) for w, (x0, _, x1, _) in zip(words, boxes.tolist())]
    return out


def xournal_texts(words: list[PlacedWord], page: Page) -> list[tuple[str, float, float, float]]:
    """(text, x, y, font size) in page points for Xournal++ `<text>` elements (x, y: top left)."""
    out = []
    for w in words:
        x, y = page.to_pt(w.left, w.top)
        size = min(w.bottom - w.top, (w.right - w.left) / (CHAR_WIDTH * len(w.text))) * page.pt_per_unit * TEXT_SIZE
        out.append((w.text, x, y, max(size, 4.0)))
    return out
