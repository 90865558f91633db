"""The pad's layout (PyQt6, offscreen): it fits a 1366x768 screen, the Graves panel's output row
never overlaps its characters, and the cell rows carry legible labels and a colour scale.

No model is needed: the window is never given one it can load, and the panel paints
views made here from plain arrays.
"""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QRectF, QSize
from PyQt6.QtGui import QColor, QImage, QPainter

from app.graves_paint import CELL_LABEL_WIDTH, layout, minimum_height, paint_graves
from handwriting.recognition.graves_view import GravesView
from app.labels import fit_labels, spread
from app.window import MainWindow, initial_size

SMALL_SCREEN = QSize(1366, 768)


def overlaps(centres: np.ndarray, widths: np.ndarray) -> bool:
    left, right = centres - widths / 2, centres + widths / 2
    return bool(np.any(left[1:] < right[:-1] - 1e-9))


def test_labels_keep_their_places_when_they_fit_and_are_pushed_apart_when_not():
    widths = np.full(4, 10.0)
    assert np.allclose(spread([20, 50, 80, 110], widths, 0, 200, 2), [20, 50, 80, 110]), "nothing to move"
    placed = spread([50, 51, 52, 120], widths, 0, 200, 2)
    assert not overlaps(placed, widths + 2) and placed[3] == 120
    assert np.isclose(placed[:3].mean(), 51.0), "a crowded group spreads around where it was wanted"
    edge = spread([0, 1, 2, 3], widths, 0, 200, 2)
    assert edge[0] - 5 >= 0 and not overlaps(edge, widths), "kept inside the row"


def test_a_space_mark_never_sits_on_the_next_letter():
    chars = [("s", 100.0), (" ", 104.0), ("a", 106.0)]
    widths = np.array([9.0, 9.0, 9.0])
    kept, placed = fit_labels(np.array([x for _, x in chars]), widths, 0, 400, 2.0,
                              optional=np.array([c == " " for c, _ in chars]))
    assert kept.tolist() == [0, 1, 2] and not overlaps(placed, widths + 2)


@pytest.mark.parametrize("count", [40, 200])
def test_crowded_labels_are_thinned_out_spaces_first(count):
    rng = np.random.default_rng(count)
    centres = np.sort(rng.uniform(0, 400, count))
    widths = np.full(count, 9.0)
    spaces = np.arange(count) % 5 == 4
    kept, placed = fit_labels(centres, widths, 0, 400, 2.0, optional=spaces)
    assert not overlaps(placed, widths[kept] + 2) and placed.min() >= 4.5 and placed.max() <= 395.5
    assert np.all(np.diff(kept) > 0), "the order of the text is kept"
    assert not spaces[kept].any(), "space marks go first"
    if count == 40:
        assert len(kept) == (~spaces).sum(), "without the spaces the letters fit"


def test_the_window_fits_a_1366x768_screen(qtbot, tmp_path):
    size = initial_size(SMALL_SCREEN)
    assert size.width() <= 1366 and size.height() <= 768 - 40
    assert initial_size(QSize(2560, 1440)).width() > 1600, "a large screen gets a large window"
    window = MainWindow(tmp_path / "missing.onnx", samples=tmp_path / "samples")
    qtbot.addWidget(window)
    window.resize(size)
    window.show()
    qtbot.waitExposed(window)
    assert window.height() <= size.height(), "the minimum sizes fit"
    plot = window.panel.plot
    geometry = layout(QRectF(plot.rect()), 100)
    saliency = geometry.rows["saliency"]
    assert plot.height() >= minimum_height() and saliency.bottom() <= plot.height()
    bottom = plot.mapTo(window, QPoint(0, int(saliency.bottom()))).y()
    status = window.statusBar()
    assert bottom < status.mapTo(window, QPoint(0, 0)).y() and status.isVisible()
    assert status.mapTo(window, QPoint(0, status.height())).y() <= window.height()
    for name, row in geometry.rows.items():
        assert row.height() >= 30, f"the {name} row is too thin to read"


def _view(cells: int, frames: int = 200) -> GravesView:
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, frames)
    return GravesView(activity=rng.uniform(0, 1, frames), chars=(("a", 20), (" ", 60), ("b", 62)),
                      xy=np.stack([t * 100, np.sin(t * 20)], axis=1), joined=np.ones(frames, bool),
                      cells=np.sin(np.outer(np.arange(1, cells + 1), t * 6)),
                      cell_labels=tuple(f"L1\u2192{n}" for n in range(cells)), cell_title="cells",
                      saliency=rng.normal(size=(frames, 2)), target=(62, "b"))


def _render(view: GravesView, width: int, height: int) -> tuple[QImage, object]:
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    geometry = paint_graves(painter, QRectF(0, 0, width, height), view)
    painter.end()
    return image, geometry


def _darkest(image: QImage, box: QRectF) -> int:
    return min(QColor(image.pixel(x, y)).lightness() for x in range(int(box.left()), int(box.right()))
               for y in range(int(box.top()), int(box.bottom())))


@pytest.mark.parametrize("cells", [4, 16, 64])
def test_cell_rows_have_dark_labels_and_a_colour_scale(qtbot, cells):
    image, geometry = _render(_view(cells), 1200, int(minimum_height()) + 40)
    row = geometry.rows["cells"]
    labels = QRectF(row.left() - CELL_LABEL_WIDTH - 6, row.top(), CELL_LABEL_WIDTH, 14)
    assert _darkest(image, labels) < 90, "the first cell's label is written in ink, not light grey"
    bar_x = int(row.right() + 13)
    top, bottom = QColor(image.pixel(bar_x, int(row.top()) + 2)), QColor(image.pixel(bar_x, int(row.bottom()) - 3))
    assert top.red() > top.blue() + 60 and bottom.blue() > bottom.red() + 60, "+max red above, -max blue below"
    assert _darkest(image, QRectF(bar_x + 8, row.top(), 30, 14)) < 90, "the scale is labelled"
