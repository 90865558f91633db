"""The model card's figures: the training curve and the lineage of runs, painted offscreen."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")

from PyQt6.QtGui import QColor  # noqa: E402

from bench.figures import LEGEND_ROW, LEGEND_WIDTH, LINEAGE_HEIGHT, MARGIN, RUN_COLORS, lineage_curve, training_curve  # noqa: E402


def _history(cers: list[float]) -> list[dict]:
    return [{"epoch": n, "lr": 1e-3 * 0.8 ** n, "val_cer": c, "val_wer": 3 * c} for n, c in enumerate(cers, 1)]


def _colors(image, left: int = 0) -> set[str]:
    return {image.pixelColor(x, y).name() for x in range(left, image.width(), 2) for y in range(0, image.height(), 2)}


def test_the_lineage_draws_each_run_after_the_one_it_started_from(qapp):
    first, second = _history([0.9, 0.2, 0.1, 0.07]), [_history([0.065, 0.06]), _history([0.066, 0.058])]
    image = lineage_curve([[first], second])
    assert (image.width(), image.height()) == (900 + LEGEND_WIDTH, LINEAGE_HEIGHT)
    drawn = _colors(image)
    assert {QColor(c).name() for c in RUN_COLORS[:3]} <= drawn  # one colour per run, three runs
    assert QColor(RUN_COLORS[3]).name() not in drawn
    beside_the_plot = _colors(image, left=image.width() - LEGEND_WIDTH - MARGIN[2] + 4)  # the legend, right of the plot
    assert {QColor(c).name() for c in RUN_COLORS[:3]} <= beside_the_plot


def test_the_lineage_grows_taller_for_a_legend_row_per_run(qapp):
    many = [[_history([0.06, 0.05]), _history([0.055, 0.05])] for _ in range(30)]  # 60 runs: more than there are pens
    image = lineage_curve(many)
    assert image.height() == MARGIN[1] + MARGIN[3] + 60 * LEGEND_ROW > LINEAGE_HEIGHT
    last_row = MARGIN[1] + 59 * LEGEND_ROW + 8  # the last run's stretch of line in the legend
    legend_left = image.width() - LEGEND_WIDTH - MARGIN[2] + 20
    assert any(image.pixelColor(x, round(last_row)).name() != "#ffffff" for x in range(legend_left, legend_left + 30))


def test_the_training_curve_skips_epochs_without_validation(qapp):
    history = _history([0.5, 0.2]) + [{"epoch": 3, "lr": 1e-4, "val_cer": None}]
    image = training_curve(history)
    assert image.width() == 900 and QColor("#146ee6").name() in _colors(image)
