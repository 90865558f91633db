"""Collect mode (PyQt6, offscreen): an empty pad to start, a warning before saving a sample whose
reading is far from its prompt (keep or redo), and samples saved where the user chose."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtTest import QTest

import app.collect
from app.canvas import Canvas
from app.collect import CollectBar, Collector, samples_folder
from handwriting.formats import read_inks
from handwriting.ink import Ink
from handwriting.recognition.modelfile import default_model_path

LINE = Path(__file__).parent.parent / "datasets" / "samples" / "iamondb" / "lineStrokes" / "a01" / "a01-001" / "a01-001z-01.xml"
NEEDS_MODEL = pytest.mark.skipif(not default_model_path().is_file(), reason="no shipped model")
FAR_PROMPT = "Quiz: 7 jumbo fax kegs"


@pytest.fixture(autouse=True)
def own_settings(tmp_path, monkeypatch):
    """Settings in a folder of the test's own."""
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    QSettings("handwriting", "handwriting").clear()


@pytest.fixture(scope="module")
def line() -> Ink:
    return read_inks(LINE)[0]


def write(canvas: Canvas, ink: Ink) -> None:
    """Write `ink` on the pad through its pen API, stroke by stroke."""
    for stroke in ink.strokes:
        canvas.pen_down(*stroke[0, :3])
        for x, y, t, _ in stroke[1:]:
            canvas.pen_move(x, y, t)
        canvas.pen_up()


@pytest.fixture(scope="module")
def recognizer():
    from handwriting.recognition.recognizer import Recognizer

    return Recognizer(lm=None)


def reading(recognizer, canvas: Canvas) -> SimpleNamespace:
    """The recognizer's reading of the pad's ink, shaped as the app's results are."""
    ink = canvas.ink(include_live=False)
    return SimpleNamespace(ink=ink, recognition=recognizer.recognize(ink))


@NEEDS_MODEL
def test_far_reading_asks_keep_or_redo_and_close_reading_saves(qtbot, tmp_path, line, recognizer):
    canvas = Canvas()
    bar = CollectBar(canvas, Collector(tmp_path / "chosen", [FAR_PROMPT, line.label, "next"]))
    qtbot.addWidget(canvas)
    qtbot.addWidget(bar)
    saved: list[str] = []
    bar.saved.connect(saved.append)
    write(canvas, line)
    bar.save()  # no reading of this ink yet: it waits for one
    assert not saved and "reading" in bar.warning.text()
    bar.set_reading(reading(recognizer, canvas))
    assert not saved and "keep it, or redo it?" in bar.warning.text() and not bar.keep_button.isHidden()
    bar.redo()
    assert canvas.ink().is_empty and not saved and bar.warning.text() == "" and bar.keep_button.isHidden()
    write(canvas, line)
    bar.set_reading(reading(recognizer, canvas))
    bar.save()
    assert not saved
    bar.keep()  # kept as written, labelled with the prompt it was asked for
    assert len(saved) == 1 and read_inks(saved[0])[0].label == FAR_PROMPT and canvas.ink().is_empty
    assert bar.collector.prompt == line.label
    write(canvas, line)
    bar.set_reading(reading(recognizer, canvas))
    bar.save()  # read close to its prompt: saved at once
    assert len(saved) == 2 and read_inks(saved[1])[0].label == line.label
    assert all(Path(p).parent == tmp_path / "chosen" for p in saved)


def test_without_a_folder_the_first_save_asks_and_the_choice_is_remembered(qtbot, tmp_path, line, monkeypatch):
    assert samples_folder() is None  # nothing remembered: no ./samples of the current folder
    chosen = tmp_path / "my samples"
    chosen.mkdir()
    monkeypatch.setattr(app.collect.QFileDialog, "getExistingDirectory", lambda *a: str(chosen))
    canvas = Canvas()
    bar = CollectBar(canvas, Collector(None, ["hello"]))
    qtbot.addWidget(canvas)
    saved: list[str] = []
    bar.saved.connect(saved.append)
    assert "no folder chosen yet" in bar.info.text()
    write(canvas, line)
    bar.save()  # no recognizer here: nothing reads it
    assert not saved and "Keep saves it unread" in bar.warning.text()
    bar.keep()
    assert Path(saved[0]).parent == chosen and samples_folder() == chosen.resolve()
    given = tmp_path / "given"
    assert samples_folder(given) == given and samples_folder() == given.resolve()


@NEEDS_MODEL
def test_collect_mode_in_the_app_starts_empty_and_warns_before_saving(qtbot, tmp_path, line):
    from app.window import MainWindow

    window = MainWindow(default_model_path(), samples=tmp_path / "samples")
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.service.modelLoaded, timeout=120_000):
        window.show()
    write(window.canvas, line)
    window.set_collect_mode(True)
    assert window.canvas.ink().is_empty
    window.canvas.undo()  # the ink there before is not lost
    assert window.canvas.ink().num_points == line.num_points
    window.canvas.clear()
    bar = window.collect_bar
    bar.collector.prompts, bar.collector.index = [FAR_PROMPT], 0
    write(window.canvas, line)
    QTest.keyClick(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "keep it, or redo it?" in bar.warning.text(), timeout=120_000)
    assert not (tmp_path / "samples").exists()
    QTest.keyClick(window, Qt.Key.Key_Return)  # Save again keeps it
    files = list((tmp_path / "samples").glob("*.inkml"))
    assert len(files) == 1 and read_inks(files[0])[0].label == FAR_PROMPT and window.canvas.ink().is_empty
