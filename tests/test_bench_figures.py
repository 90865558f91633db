"""The model card's figures: the training curve, the lineage of runs and the ink grid, painted offscreen."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")

from PyQt6.QtGui import QColor  # noqa: E402

from bench.figures import LEGEND_ROW, LEGEND_WIDTH, LINEAGE_HEIGHT, MARGIN, RUN_COLORS, ink_grid, lineage_curve, training_curve  # noqa: E402
from handwriting.ink import Ink  # noqa: E402


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


def _inked_rows(image, left: int, width: int) -> list[int]:
    """The rows of the cell from `left` that hold dark (ink) pixels, right of the guide's bar."""
    return [y for y in range(image.height()) if any(image.pixelColor(x, y).lightness() < 100 for x in range(left + 12, left + width))]


def test_the_ink_grid_draws_each_ink_at_its_writers_line_height(qapp):
    bar = Ink.from_strokes([[[0, 0], [0, 10]]])
    small_o = Ink.from_strokes([[[0, 0], [5, 0], [5, 5], [0, 5], [0, 0]], [[2, -3]]])  # with a dot above
    image = ink_grid([(bar, "'l' read '1'", 10.0), (bar, "'.' read 'l'", 40.0), (small_o, "'o' read '0'", 10.0)], columns=3, cell=130)
    assert (image.width(), image.height()) == (390, 130)
    tall, short, o = (_inked_rows(image, left, 130) for left in (0, 130, 260))
    text_rows = 18  # the captions
    heights = [max(y for y in rows if y > text_rows) - min(y for y in rows if y > text_rows) for rows in (tall, short, o)]
    assert heights[0] == pytest.approx(50, abs=4)  # one line height is half the room below the caption
    assert heights[1] == pytest.approx(12.5, abs=4)  # a quarter of its writer's line height
    assert heights[2] == pytest.approx(8 / 10 * 50, abs=5)  # the o and its dot, 8 units high
