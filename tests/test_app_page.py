"""The pad as a page (PyQt6, offscreen): several lines written one below the other, the
Graves panel following the line being written, scrolling, ruled guides, and note files
with several pages.

The lines are lines 1 and 2 of the IAM-OnDB-format sample form a01-001 (one form: they share the whiteboard's
coordinates) and a synthetic third line below them, scaled to pad pixels and written
through the pad's pen API with their own timing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QColor, QWheelEvent
from PyQt6.QtWidgets import QApplication, QMessageBox

from app.canvas import LINE_PITCH, Canvas
from app.colors import PAPER
from app.page_line import current_line, line_part
from handwriting.formats import read_inks, xournal
from handwriting.ink import Ink
from handwriting.training.synth import synthesize
from test_app import LINE, RESULT_TIMEOUT_MS, model_path, settle, window  # noqa: F401 (fixtures)

SECOND_LINE = LINE.with_name("a01-001z-02.xml")
PAD_SCALE = 0.09  # pad pixels per whiteboard unit: IAM-OnDB lines become about 550 pixels long


def page_lines() -> list[Ink]:
    """Three lines in pad pixels, each below the one before, times running on."""
    first, second = read_inks(LINE)[0], read_inks(SECOND_LINE)[0]
    x0, y0 = first.bounds()[0], first.bounds()[1]
    lines = [Ink(tuple((s - [x0, y0, 0, 0]) * [PAD_SCALE, PAD_SCALE, 1, 1] for s in ink.strokes)) for ink in (first, second)]
    third = synthesize("the end of it", rng=np.random.default_rng(5))
    height = lines[0].bounds()[3] - lines[0].bounds()[1]
    scale = 0.55 * height / (third.bounds()[3] - third.bounds()[1])
    top = 2 * lines[1].bounds()[1] - lines[0].bounds()[1]  # the spacing of the first two lines
    tx, ty = third.bounds()[0], third.bounds()[1]
    lines.append(Ink(tuple((s - [tx, ty, 0, 0]) * [scale, scale, 1, 1] + [0, top, 0, 0] for s in third.strokes)))
    return lines


def write(canvas: Canvas, inks: list[Ink], offset: tuple[float, float] = (20.0, 20.0)) -> None:
    """Write `inks` through the pen API, one after the other, each stroke with its own times."""
    clock = 0.0
    for ink in inks:
        start = ink.strokes[0][0, 2]
        for stroke in ink.strokes:
            for n, (x, y, t, p) in enumerate(stroke.tolist()):
                (canvas.pen_down if n == 0 else canvas.pen_move)(x + offset[0], y + offset[1], clock + t - start, p)
            canvas.pen_up()
        clock += ink.strokes[-1][-1, 2] - start + 800.0


def test_a_page_of_three_lines_is_read_and_the_panel_follows_the_last_line(qtbot, window):
    lines = page_lines()
    canvas = window.canvas
    top_before = canvas.origin[1]
    write(canvas, lines)
    result = settle(qtbot, window)
    recognition, ink = result.recognition, canvas.ink()
    assert result.ink.num_strokes == ink.num_strokes == sum(line.num_strokes for line in lines)
    assert len(recognition.lines) == 3, [line.text for line in recognition.lines]
    assert recognition.text.count("\n") == 2
    newest = ink.num_strokes - 1
    last = next(n for n, line in enumerate(recognition.lines) if newest in line.strokes)
    third = set(range(ink.num_strokes - lines[2].num_strokes, ink.num_strokes))
    assert set(recognition.lines[last].strokes) == third, "layout puts the third line's strokes together"
    assert window.explained_line == last == current_line(recognition, newest)
    explained = window.explanation.recognition
    start, end = recognition.frames.line_bounds()[last]
    assert len(explained.frames) == end - start and window.panel.view.num_frames == end - start
    assert set(explained.frames.stroke_index.tolist()) <= third
    assert explained.text == recognition.lines[last].text
    assert "".join(char for char, _ in window.panel.view.chars) == recognition.lines[last].text
    assert window.panel.view.output_title == f"output\nline {last + 1} of 3"
    points = ink.points()
    on_third = np.isin(ink.stroke_ids(), sorted(third))
    assert np.all(window.explanation.point_saliency[~on_third] == 0), "saliency only on the line explained"
    assert window.explanation.point_saliency[on_third].max() > 0
    assert canvas.origin[1] > top_before, "the view followed the pen down the page"
    assert canvas.view_rect().contains(QPointF(*points[-1, :2])), "the newest stroke is in view"


def test_clicking_a_character_of_the_line_shown_explains_it(qtbot, window):
    write(window.canvas, page_lines()[:2])
    recognition = settle(qtbot, window).recognition
    assert len(recognition.lines) == 2
    view = window.panel.view
    if len(view.chars) < 2:
        pytest.skip("the model recognised too little here")
    with qtbot.waitSignal(window.explanationShown, timeout=RESULT_TIMEOUT_MS) as shown:
        window.panel.characterClicked.emit(1)
    line = line_part(recognition, window.explained_line)
    assert shown.args[0].target[0] == line.characters[1].frame == view.chars[1][1]


def test_the_wheel_and_the_scroll_bars_scroll_the_page(qtbot):
    from app.page_view import PageView

    canvas = Canvas()
    view = PageView(canvas)
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    qtbot.waitExposed(view)
    write(canvas, page_lines())
    x, y = canvas.origin

    def wheel(dy: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        event = QWheelEvent(QPointF(100, 100), QPointF(100, 100), QPoint(0, 0), QPoint(0, dy), Qt.MouseButton.NoButton,
                            modifiers, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(canvas, event)

    wheel(-120)
    assert canvas.origin == (x, y + 120), "the wheel scrolls down"
    wheel(-120, Qt.KeyboardModifier.ShiftModifier)
    assert canvas.origin == (x + 120, y + 120), "Shift+wheel scrolls right"
    assert view.vertical.maximum() > 0 and view.vertical.isVisible() and view.horizontal.isVisible()
    assert view.vertical.value() == pytest.approx((canvas.origin[1] - canvas.page_rect().top()) * canvas.scale, abs=1)
    view.vertical.setValue(0)
    assert canvas.origin[1] == pytest.approx(canvas.page_rect().top()), "the bar scrolls to the top of the page"
    view.horizontal.setValue(view.horizontal.maximum())
    assert canvas.view_rect().right() == pytest.approx(canvas.page_rect().right(), abs=1)
    assert canvas.page_rect().right() > canvas.ink().bounds()[2], "room to write right of the ink"
    wheel(120, Qt.KeyboardModifier.ControlModifier)
    assert canvas.scale > 1, "Ctrl+wheel still zooms"
    canvas.fit()
    bounds = canvas.ink().bounds()
    assert canvas.view_rect().contains(QPointF(bounds[0], bounds[1])) and canvas.view_rect().contains(
        QPointF(bounds[2], bounds[3])), "fit shows the whole page"


def test_return_goes_back_to_the_left_margin_one_ruled_line_down(qtbot, window):
    from app.canvas import FIRST_BASELINE, MARGIN

    canvas = window.canvas
    small = synthesize("a line written on and on past the right edge of the pad", font="futural")
    line = Ink(tuple(s * [3, 3, 1, 1] for s in small.strokes))  # letters about as tall as the ruled lines' x-height
    x0, _, _, y1 = line.bounds()
    write(canvas, [line], offset=(-x0, -y1))  # on the first ruled line (baseline at y = 0)
    assert canvas.origin[0] > 0, "the view followed the pen to the right"
    qtbot.keyClick(window, Qt.Key.Key_Return)
    assert canvas.origin == pytest.approx((-MARGIN / canvas.scale, LINE_PITCH - FIRST_BASELINE / canvas.scale))
    assert canvas.to_widget(0.0, LINE_PITCH).y() == pytest.approx(FIRST_BASELINE), "the next line where the first began"
    window.set_collect_mode(True)
    assert not window.new_line_action.isEnabled(), "in collect mode Return saves the sample"


def test_guides_are_ruled_on_every_line_and_strokes_do_not_repaint_the_pad(qtbot):
    canvas = Canvas()
    qtbot.addWidget(canvas)
    canvas.resize(500, 500)
    canvas.show()
    qtbot.waitExposed(canvas)
    image = canvas.grab().toImage()
    baselines = [round(canvas.to_widget(0, k * LINE_PITCH).y()) for k in range(3)]
    assert baselines[-1] < 500
    paper = QColor(PAPER).rgb()
    for y in baselines:
        assert image.pixel(250, y) != paper, f"a baseline at y = {y}"
    between = round(canvas.to_widget(0, LINE_PITCH / 4).y())
    assert image.pixel(250, between) == paper, "paper between the ruled lines"
    cache = canvas._cache
    write(canvas, [Ink((np.array([[10.0, 10, 0, np.nan], [60, 20, 10, np.nan]]),))], offset=(0, 0))
    assert canvas._cache is cache, "a new stroke is painted onto the cached pad, not repainted whole"


@pytest.fixture
def two_pages(tmp_path) -> tuple[Path, list[Ink]]:
    """A Xournal++ file of two pages: IAM-OnDB line 1, then line 2."""
    path = tmp_path / "two-pages.xopp"
    xournal.write([read_inks(LINE)[0], read_inks(SECOND_LINE)[0]], path)
    return path, read_inks(path)


def test_a_note_file_of_two_pages_offers_both(qtbot, window, two_pages):
    path, pages = two_pages
    assert len(pages) == 2
    assert window.open_file(path) is not None
    assert window.page_action.isVisible() and window.page_box.maximum() == 2 and window.page_box.value() == 1
    assert window.page_box.text() == "page 1 of 2"
    assert window.canvas.ink().same_as(pages[0])
    window.page_box.setValue(2)
    shown = window.canvas.ink()
    assert shown.same_as(pages[1]) and not shown.same_as(pages[0])
    view, (xmin, ymin, xmax, ymax) = window.canvas.view_rect(), shown.bounds()
    assert view.contains(QPointF(xmin, ymin)) and view.contains(QPointF(xmax, ymax)), "the page is fitted"
    assert (xmax - xmin) * window.canvas.scale > 0.8 * (window.canvas.width() - 48), "and fills the pad's width"
    result = settle(qtbot, window)
    assert result.ink.same_as(pages[1]) and len(result.recognition.lines) == 1
    window.canvas.undo()
    assert window.canvas.ink().same_as(pages[0]), "choosing a page is undoable"
    window.open_file(LINE)
    assert not window.page_action.isVisible(), "a file of one ink needs no page box"


def test_a_damaged_note_file_is_one_message(qtbot, window, tmp_path):
    bad = tmp_path / "bad.xopp"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    assert window.open_file(bad) is None
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1 and str(bad) in boxes[0].text() and "\n" not in boxes[0].text()
    assert window.canvas.ink().is_empty


def test_csv_and_remarkable_pages_open_fitted(qtbot, window, fixtures):
    for name in ("points-noheader.csv", "page.rm"):
        if name.endswith(".rm"):
            pytest.importorskip("rmscene")
        ink = window.open_file(fixtures / "notes" / name)
        assert ink is not None and window.canvas.ink().same_as(ink)
        xmin, ymin, xmax, ymax = ink.bounds()
        view = window.canvas.view_rect()
        assert view.contains(QPointF(xmin, ymin)) and view.contains(QPointF(xmax, ymax)), name
