"""Searchable PDF of handwritten pages with PyQt6 alone (QPdfWriter + QPainter).

Each page: the ink as vector paths (each stroke's width and colour from the file when
known, pressure as varying width), and the recognised words as invisible text (a fully
transparent pen) over each word's ink, stretched to its width, so that PDF viewers find,
select and copy the words where they were written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPointF, QSizeF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetricsF, QPageSize, QPainter, QPainterPath, QPdfWriter, QPen
from PyQt6.QtWidgets import QApplication

from handwriting.atomic import atomic_write_bytes
from handwriting.ink import P, Ink
from handwriting.formats.page import Page, page_of, pen_of
from handwriting.recognition.textlayer import PlacedWord

__all__ = ["write_pdf", "TEXT_FONT"]

TEXT_FONT = "Sans"
_APP: list[QApplication] = []  # an application made here (laying out text needs one), kept alive


def _gui() -> None:
    if QApplication.instance() is None:
        _APP.append(QApplication(["handwriting", "-platform", "offscreen"]))


def _color(text: str) -> QColor:
    """`#rrggbbaa` as a QColor (Qt reads 8-digit names as #aarrggbb)."""
    color = QColor(text[:7])
    if len(text) == 9:
        color.setAlpha(int(text[7:], 16))
    return color


def _draw_ink(painter: QPainter, ink: Ink, page: Page) -> None:
    for k, stroke in enumerate(ink.strokes):
        width, color = pen_of(ink, k, page)
        pen = QPen(_color(color), width * page.pt_per_unit, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                   Qt.PenJoinStyle.RoundJoin)
        points = [QPointF(*page.to_pt(x, y)) for x, y in stroke[:, :2]]
        pressure = stroke[:, P]
        if len(points) > 1 and np.isfinite(pressure).any():
            pressure = np.where(np.isfinite(pressure), pressure, 1.0)
            for a, b, p in zip(points, points[1:], pressure):
                pen.setWidthF(max(width * page.pt_per_unit * float(p), 0.05))
                painter.setPen(pen)
                painter.drawLine(a, b)
            continue
        painter.setPen(pen)
        if len(points) == 1:
            painter.drawPoint(points[0])
            continue
        path = QPainterPath(points[0])
        for point in points[1:]:
            path.lineTo(point)
        painter.drawPath(path)


def _draw_words(painter: QPainter, words: list[PlacedWord], page: Page) -> None:
    """Each word with a space after it, stretched from its ink's left to the next word of its line
    (a line's last word: over its ink). Text extraction then reads a line as one run of words:
    handwriting's wide gaps between words drawn apart make poppler split lines into columns."""
    painter.setPen(QPen(QColor(0, 0, 0, 0)))
    font = QFont(TEXT_FONT)
    font.setPixelSize(100)
    painter.setFont(font)
    metrics = QFontMetricsF(font)
    for word, after in zip(words, words[1:] + [None]):
        x0, top = page.to_pt(word.left, word.top)
        x1, bottom = page.to_pt(word.right, word.bottom)
        size = (bottom - top) / (metrics.ascent() + metrics.descent())
        baseline = top + metrics.ascent() * size
        next_left = page.to_pt(after.left, after.top)[0] if after is not None and after.line == word.line else x0
        if next_left > x1:
            _draw_stretched(painter, word.text + " ", QPointF(x0, baseline), next_left - x0, size, metrics)
        else:
            _draw_stretched(painter, word.text, QPointF(x0, baseline), x1 - x0, size, metrics)


def _draw_stretched(painter: QPainter, text: str, at: QPointF, width: float, size: float, metrics: QFontMetricsF) -> None:
    """`text` with its baseline starting at `at`, `size` times the font's height, `width` wide."""
    advance = metrics.horizontalAdvance(text)
    painter.save()
    painter.translate(at)
    painter.scale(width / advance if advance > 0 else size, size)
    painter.drawText(QPointF(0.0, 0.0), text)
    painter.restore()


def write_pdf(pages: list[tuple[Ink, list[PlacedWord]]], path: str | Path, title: str = "") -> None:
    """One PDF page per (ink, words), sized to the ink's page (`handwriting.formats.page.page_of`); atomic."""
    _gui()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(72)  # painter units are PDF points
    writer.setCreator("handwriting")
    writer.setTitle(title)
    painter = None
    for n, (ink, words) in enumerate(pages):
        page = page_of(ink)
        size = QPageSize(QSizeF(*page.size_pt), QPageSize.Unit.Point, "", QPageSize.SizeMatchPolicy.ExactMatch)
        writer.setPageSize(size)
        writer.setPageMargins(QMarginsF(0, 0, 0, 0))
        if painter is None:
            painter = QPainter(writer)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        else:
            writer.newPage()
        _draw_ink(painter, ink, page)
        _draw_words(painter, words, page)
    if painter is not None:
        painter.end()
    buffer.close()
    atomic_write_bytes(path, data.data())
