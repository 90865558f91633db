"""Figures for the model card, painted with Qt (no plotting library needed).

    python -m bench.figures models/training-history.json --out docs/training-curve.png
    python -m bench.figures --lineage RUN1.json RUN2.json RUN3a.json,RUN3b.json --out docs/training-lineage.png

The training curve: validation CER and WER (greedy, held-out writers) per epoch, and the
learning rate, from the `history.json` that `handwriting train` writes. The lineage: the
validation CER of a model's runs one after another (each `--init` from the one before;
runs side by side, comma-separated, start from the same point), over all their epochs.
The ink grid (`ink_grid`, drawn by `bench.character_errors --figure`): inks as written, each
at the scale of its writer's line height, with what they are and what they were read as.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from pathlib import Path

import numpy as np

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PyQt6.QtWidgets import QApplication

from app.png import save_png
from app.segments import paint_segments
from handwriting.ink import Ink

__all__ = ["training_curve", "lineage_curve", "ink_grid"]

SERIES = (("val_cer", "validation CER", "#146ee6"), ("val_wer", "validation WER", "#e07b00"))
LINEAGE_RATES = (0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3)  # the later runs' range, where they differ
RUN_COLORS = ("#146ee6", "#e07b00", "#2a9d4b", "#c0392b", "#7d3cb5", "#8a6d3b", "#d6338a", "#5a6270", "#17a2b8", "#b5a300")
MARGIN = (70, 30, 70, 50)  # left, top, right, bottom
LEGEND_WIDTH = 250  # the lineage's legend, beside its plot: one row per run
LEGEND_ROW = 18.0  # pixels from one legend row to the next
LINEAGE_HEIGHT = 420  # the lineage's least height; taller where its legend needs it


def training_curve(history: list[dict], width: int = 900, height: int = 420) -> QImage:
    """Error rates (left axis, log scale) and learning rate (right axis) per epoch."""
    records = _validated(history)
    epochs = [r["epoch"] for r in records]
    image, painter, plot, x, y = _canvas(width, height, epochs[0], epochs[-1])
    for key, name, color in SERIES:
        _series(painter, [(x(r["epoch"]), y(r[key])) for r in records if r.get(key) is not None], color)
    _learning_rate(painter, records, plot, x)
    last = records[-1]
    rows = ([(f"{name} ({last[key]:.1%} at epoch {last['epoch']})", QColor(color), Qt.PenStyle.SolidLine)
             for key, name, color in SERIES]
            + [("learning rate (right axis)", QColor("#9aa3ad"), Qt.PenStyle.DashLine)])
    _legend(painter, rows, QPointF(plot.right() - 300, plot.bottom() - 12 - LEGEND_ROW * len(rows)))  # lower right
    painter.end()
    return image


def lineage_curve(stages: list[list[list[dict]]], width: int = 900 + LEGEND_WIDTH,
                  names: list[str] | None = None) -> QImage:
    """Validation CER over the epochs of a chain of runs: `stages[k]` holds the histories of the
    runs that started side by side from where stage k - 1 ended (each run its own colour; the
    legend to the right of the plot, named by `names` in order or else "run 2b", the image as
    tall as it needs). An epoch cut short by a time limit is not drawn."""
    stages = [[_validated(h) for h in runs] for runs in stages]
    starts = [0]
    for runs in stages:
        starts.append(starts[-1] + max(r[-1]["epoch"] for r in runs))
    left, top, right, bottom = MARGIN
    height = max(LINEAGE_HEIGHT, round(top + bottom + LEGEND_ROW * sum(map(len, stages))))
    image, painter, plot, x, y = _canvas(width, height, 1, starts[-1], LINEAGE_RATES,
                                         (left, top, right + LEGEND_WIDTH, bottom))
    pens = itertools.cycle([(color, style) for style in (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine,
                                                         Qt.PenStyle.DashDotLine, Qt.PenStyle.DashDotDotLine)
                            for color in RUN_COLORS])  # a colour comes back dashed, dotted, dash-dotted, ...; then all again
    legend = []
    given = iter(names or [])
    for number, (runs, start) in enumerate(zip(stages, starts), 1):
        if start:
            painter.setPen(QPen(QColor("#9aa3ad"), 1, Qt.PenStyle.DotLine))
            painter.drawLine(QPointF(x(start + 0.5), plot.top()), QPointF(x(start + 0.5), plot.bottom()))
        for side, records in zip("abcdefgh" if len(runs) > 1 else [""] * len(runs), runs):
            color, style = next(pens)
            _series(painter, [(x(start + r["epoch"]), y(r["val_cer"])) for r in records], color, style)
            name = next(given, f"run {number}{side}")
            legend.append((f"{name}: {records[-1]['val_cer']:.1%} after epoch {start + records[-1]['epoch']}",
                           QColor(color), style))
    _legend(painter, legend, QPointF(plot.right() + 16, plot.top()))
    painter.end()
    return image


def ink_grid(cells: list[tuple[Ink, str, float]], columns: int = 10, cell: int = 130) -> QImage:
    """A grid of inks, each `(ink, caption, line height)`: drawn so that one line height is
    half the cell (a grey bar at the cell's left shows it), smaller where the ink would not
    fit, centred, with the caption above."""
    rows = max(1, math.ceil(len(cells) / columns))
    image = QImage(columns * cell, rows * cell, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(QFont("DejaVu Sans", 9))
    box = cell - 30.0  # the room for the ink below the caption
    for n, (ink, caption, line_height) in enumerate(cells):
        left, top = (n % columns) * cell, (n // columns) * cell
        painter.setPen(QPen(QColor("#dde2ea")))
        painter.drawRect(QRectF(left, top, cell - 1, cell - 1))
        painter.setPen(QPen(QColor("#146ee6")))
        painter.drawText(QRectF(left + 4, top + 2, cell - 8, 16), Qt.AlignmentFlag.AlignLeft, caption)
        xmin, ymin, xmax, ymax = ink.bounds()
        scale = min(box / 2 / line_height, box / max(xmax - xmin, ymax - ymin, 1e-9))
        painter.setPen(QPen(QColor("#c5ccd6"), 3))
        bar_top = top + 22 + (box - line_height * scale) / 2
        painter.drawLine(QPointF(left + 5, bar_top), QPointF(left + 5, bar_top + line_height * scale))
        centre = np.array([(xmin + xmax) / 2, (ymin + ymax) / 2])
        offset = np.array([left + cell / 2, top + 22 + box / 2])
        points = (ink.points()[:, :2] - centre) * scale + offset
        ids = ink.stroke_ids()
        pen = QPen(QColor("#222"), 1.6)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        joined = np.r_[False, ids[1:] == ids[:-1]]
        paint_segments(painter, points, pen, joined=joined)
        painter.setPen(pen)
        for stroke in np.flatnonzero(np.bincount(ids) == 1):  # a dot: one point, no segment
            painter.drawEllipse(QPointF(*points[ids == stroke][0]), 1.2, 1.2)
    painter.end()
    return image


def _validated(history: list[dict]) -> list[dict]:
    return [r for r in history if r.get("val_cer") is not None and r.get("complete", True)]


def _canvas(width: int, height: int, first: int, last: int, rates: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0),
            margin: tuple[int, int, int, int] = MARGIN) -> tuple:
    """A white image with the error-rate axes (log scale, gridlines at `rates`, the first and last
    its ends) over epochs `first`..`last` drawn, `margin` (left, top, right, bottom) around the
    plot; its painter, the plot rectangle and the epoch and rate to pixel maps."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(QFont("DejaVu Sans", 9))
    left, top, right, bottom = margin
    plot = QRectF(left, top, width - left - right, height - top - bottom)
    lo, hi = math.log10(rates[0]), math.log10(rates[-1])

    def x(epoch: float) -> float:
        return plot.left() + (epoch - first) / max(last - first, 1) * plot.width()

    def y(rate: float) -> float:
        return plot.bottom() - (math.log10(max(rate, 10 ** lo)) - lo) / (hi - lo) * plot.height()

    painter.setPen(QPen(QColor("#dde2ea")))
    for rate in rates:
        painter.drawLine(QPointF(plot.left(), y(rate)), QPointF(plot.right(), y(rate)))
        painter.setPen(QPen(QColor("#555")))
        painter.drawText(QRectF(0, y(rate) - 8, left - 6, 16), Qt.AlignmentFlag.AlignRight, f"{rate:.0%}")
        painter.setPen(QPen(QColor("#dde2ea")))
    painter.setPen(QPen(QColor("#555")))
    step = max(2, 2 * round((last - first) / 40))
    for epoch in range(first, last + 1):
        if epoch == first or epoch % step == 0:
            painter.drawText(QRectF(x(epoch) - 20, plot.bottom() + 4, 40, 16), Qt.AlignmentFlag.AlignCenter, str(epoch))
    painter.drawText(QRectF(plot.left(), height - 22, plot.width(), 16), Qt.AlignmentFlag.AlignCenter, "epoch")
    painter.drawRect(plot)
    painter.setClipRect(plot.adjusted(-3, -3, 3, 3))  # a series above the top rate leaves through the top
    return image, painter, plot, x, y


def _series(painter: QPainter, points: list[tuple[float, float]], color: str,
            style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> None:
    painter.setPen(QPen(QColor(color), 2, style))
    painter.drawPolyline([QPointF(px, py) for px, py in points])
    for px, py in points:
        painter.drawEllipse(QPointF(px, py), 2.5, 2.5)


def _learning_rate(painter: QPainter, records: list[dict], plot: QRectF, x) -> None:
    """The learning rate as a grey step line on a linear right axis."""
    peak = max(r["lr"] for r in records)

    def y(lr: float) -> float:
        return plot.bottom() - lr / peak * plot.height() * 0.9

    painter.setPen(QPen(QColor("#9aa3ad"), 1.5, Qt.PenStyle.DashLine))
    painter.drawPolyline([QPointF(x(r["epoch"]), y(r["lr"])) for r in records])
    painter.setPen(QPen(QColor("#555")))
    for lr in (peak, peak / 2):
        painter.drawText(QRectF(plot.right() + 6, y(lr) - 8, 64, 16), Qt.AlignmentFlag.AlignLeft, f"{lr:.1e}")


def _legend(painter: QPainter, rows: list[tuple[str, QColor, Qt.PenStyle]], corner: QPointF) -> None:
    """One row per series (a stretch of its line, then its text), down from the top left `corner`."""
    painter.setClipping(False)
    for n, (text, color, style) in enumerate(rows):
        row = corner.y() + LEGEND_ROW * n
        painter.setPen(QPen(color, 2, style))
        painter.drawLine(QPointF(corner.x(), row + 8), QPointF(corner.x() + 30, row + 8))
        painter.setPen(QPen(QColor("#222")))
        painter.drawText(QRectF(corner.x() + 38, row, 260, 16), Qt.AlignmentFlag.AlignLeft, text)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.figures", description=__doc__.splitlines()[0])
    parser.add_argument("history", nargs="+", help="history.json of a training run (with --lineage: one per run, "
                                                   "in order; runs side by side as A.json,B.json)")
    parser.add_argument("--lineage", action="store_true", help="the validation CER of a chain of runs")
    parser.add_argument("--names", nargs="+", help="with --lineage: the runs' names in the legend, in order")
    parser.add_argument("--out", default="docs/training-curve.png")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(["figures", "-platform", "offscreen"])
    if args.lineage:
        stages = [[json.loads(Path(p).read_text()) for p in stage.split(",")] for stage in args.history]
        save_png(lineage_curve(stages, names=args.names), args.out)
    elif len(args.history) == 1:
        save_png(training_curve(json.loads(Path(args.history[0]).read_text())), args.out)
    else:
        parser.error("one history, or several with --lineage")
    del app
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
