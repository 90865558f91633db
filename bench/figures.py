"""Figures for the model card, painted with Qt (no plotting library needed).

    python -m bench.figures models/training-history.json --out docs/training-curve.png

The training curve: validation CER and WER (greedy, held-out writers) per epoch, and the
learning rate, from the `history.json` that `handwriting train` writes.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PyQt6.QtWidgets import QApplication

from app.png import save_png

__all__ = ["training_curve"]

SERIES = (("val_cer", "validation CER", "#146ee6"), ("val_wer", "validation WER", "#e07b00"))
MARGIN = (70, 30, 70, 50)  # left, top, right, bottom


def training_curve(history: list[dict], width: int = 900, height: int = 420) -> QImage:
    """Error rates (left axis, log scale) and learning rate (right axis) per epoch."""
    records = [r for r in history if r.get("val_cer") is not None and r.get("complete", True)]
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(QFont("DejaVu Sans", 9))
    left, top, right, bottom = MARGIN
    plot = QRectF(left, top, width - left - right, height - top - bottom)
    epochs = [r["epoch"] for r in records]
    lo, hi = math.log10(0.02), math.log10(1.0)

    def x(epoch: float) -> float:
        return plot.left() + (epoch - epochs[0]) / max(epochs[-1] - epochs[0], 1) * plot.width()

    def y(rate: float) -> float:
        return plot.bottom() - (math.log10(max(rate, 10 ** lo)) - lo) / (hi - lo) * plot.height()

    painter.setPen(QPen(QColor("#dde2ea")))
    for rate in (0.02, 0.05, 0.1, 0.2, 0.5, 1.0):
        painter.drawLine(QPointF(plot.left(), y(rate)), QPointF(plot.right(), y(rate)))
        painter.setPen(QPen(QColor("#555")))
        painter.drawText(QRectF(0, y(rate) - 8, left - 6, 16), Qt.AlignmentFlag.AlignRight, f"{rate:.0%}")
        painter.setPen(QPen(QColor("#dde2ea")))
    painter.setPen(QPen(QColor("#555")))
    for epoch in epochs:
        if epoch == epochs[0] or epoch % 2 == 0:
            painter.drawText(QRectF(x(epoch) - 20, plot.bottom() + 4, 40, 16), Qt.AlignmentFlag.AlignCenter, str(epoch))
    painter.drawText(QRectF(plot.left(), height - 22, plot.width(), 16), Qt.AlignmentFlag.AlignCenter, "epoch")
    painter.drawRect(plot)
    for key, name, color in SERIES:
        painter.setPen(QPen(QColor(color), 2))
        points = [QPointF(x(r["epoch"]), y(r[key])) for r in records if r.get(key) is not None]
        painter.drawPolyline(points)
        for p in points:
            painter.drawEllipse(p, 2.5, 2.5)
    _learning_rate(painter, records, plot, x)
    _legend(painter, plot, records)
    painter.end()
    return image


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


def _legend(painter: QPainter, plot: QRectF, records: list[dict]) -> None:
    last = records[-1]
    rows = [(f"{name} ({last[key]:.1%} at epoch {last['epoch']})", QColor(color), Qt.PenStyle.SolidLine)
            for key, name, color in SERIES] + [("learning rate (right axis)", QColor("#9aa3ad"), Qt.PenStyle.DashLine)]
    for n, (text, color, style) in enumerate(rows):
        top = plot.bottom() - 12 - 18 * (len(rows) - n)
        painter.setPen(QPen(color, 2, style))
        painter.drawLine(QPointF(plot.right() - 300, top + 8), QPointF(plot.right() - 270, top + 8))
        painter.setPen(QPen(QColor("#222")))
        painter.drawText(QRectF(plot.right() - 262, top, 260, 16), Qt.AlignmentFlag.AlignLeft, text)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.figures", description=__doc__.splitlines()[0])
    parser.add_argument("history", help="history.json of a training run")
    parser.add_argument("--out", default="docs/training-curve.png")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(["figures", "-platform", "offscreen"])
    save_png(training_curve(json.loads(Path(args.history).read_text())), args.out)
    del app
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
