"""The drawing pad (PyQt6, offscreen): mouse drawing, live recognition, files, replay, errors.

The model is the shipped one when present (then the recognised text itself is checked),
else an untrained network of the shipped size, exported as training exports models:
its text is noise, so the tests check what the worker delivered and that the window
shows exactly that.
"""

from __future__ import annotations

import difflib
import gc
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QEvent, QMimeData, QPoint, QPointF, QRectF, Qt, QUrl
from PyQt6.QtGui import QDropEvent, QImage, QInputDevice, QPointingDevice, QTabletEvent, QTextDocument
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication, QMessageBox

from app.canvas import ASCENDER, X_HEIGHT, Canvas
from app.collect import Collector
from app.graves_paint import layout, render_graves
from app.main import platform_problem
from app.window import MainWindow
from app.worker import RecognitionService, Result
from handwriting.formats import read_inks
from handwriting.ink import Ink
from handwriting.recognition.modelfile import default_model_path
from handwriting.training.synth import synthesize

LINE = Path(__file__).parent.parent / "datasets" / "samples" / "iamondb" / "lineStrokes" / "a01" / "a01-001" / "a01-001z-01.xml"
REAL_MODEL = default_model_path().is_file()
RESULT_TIMEOUT_MS = 60000  # generous: a loaded 2-core machine takes long to start the recognition process


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    if REAL_MODEL:
        return default_model_path()
    torch = pytest.importorskip("torch")
    from handwriting.alphabet import DEFAULT_CHARSET, Alphabet
    from handwriting.training.export import export
    from handwriting.training.model import BiLSTMCTC, ModelConfig
    from handwriting.recognition.preprocess import FEATURE_NAMES, PreprocessConfig

    torch.manual_seed(0)
    network = BiLSTMCTC(ModelConfig(len(FEATURE_NAMES), Alphabet(DEFAULT_CHARSET).num_classes))
    path = tmp_path_factory.mktemp("model") / "untrained.onnx"
    export(network, DEFAULT_CHARSET, PreprocessConfig().to_dict(), path)
    return path


@pytest.fixture(scope="module")
def line() -> Ink:
    return read_inks(LINE)[0]


@pytest.fixture
def window(qtbot, model_path, tmp_path) -> Iterator[MainWindow]:
    win = MainWindow(model_path, samples=tmp_path / "samples")
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.service.modelLoaded, timeout=RESULT_TIMEOUT_MS):
        win.show()
    qtbot.waitExposed(win)
    yield win
    gc.unfreeze()  # the window froze the test process's objects (see the test below)


def canvas_points(window: MainWindow, ink: Ink, limit: int | None = None) -> list[list[QPoint]]:
    """The ink's strokes as widget positions filling the pad (at most `limit` points)."""
    canvas = window.canvas
    xmin, ymin, xmax, ymax = ink.bounds()
    scale = min((canvas.width() - 40) / (xmax - xmin), (canvas.height() - 40) / (ymax - ymin))
    strokes, left = [], limit if limit is not None else ink.num_points
    for stroke in ink.strokes:
        if left <= 0:
            break
        strokes.append([QPoint(round(20 + (x - xmin) * scale), round(20 + (y - ymin) * scale))
                        for x, y in stroke[:left, :2]])
        left -= len(stroke)
    return strokes


def draw(qtbot, window: MainWindow, strokes: list[list[QPoint]], moves_per_wait: int = 4) -> None:
    """Write with real mouse events, letting the event loop run every few moves."""
    canvas = window.canvas
    for stroke in strokes:
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, stroke[0])
        for n, point in enumerate(stroke[1:]):
            QTest.mouseMove(canvas, point)
            if n % moves_per_wait == 0:
                qtbot.wait(1)
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, stroke[-1])


def settle(qtbot, window: MainWindow) -> Result:
    """Wait for the result of the pad's current ink (and its explanation) to be shown."""
    target = window.service.latest
    qtbot.waitUntil(lambda: window.result is not None and window.result.seq == target, timeout=RESULT_TIMEOUT_MS)
    qtbot.waitUntil(window.service.is_idle, timeout=RESULT_TIMEOUT_MS)
    qtbot.wait(20)
    return window.result


def shown_text(window: MainWindow) -> str:
    """The recognised text as the label shows it (tags removed)."""
    document = QTextDocument()
    document.setHtml(window.results.text.text())
    return document.toPlainText().replace("\u00a0", " ")


def test_drawing_with_the_mouse_is_recognised_and_shown(qtbot, window, line):
    strokes = canvas_points(window, line)
    shown: list[Result] = []
    window.resultShown.connect(shown.append)
    window.canvas.follow_pen = False  # the points fill the pad as it is now: a pan mid-line would split the line
    draw(qtbot, window, strokes)
    result = settle(qtbot, window)
    ink = window.canvas.ink()
    assert ink.num_strokes == len(strokes) and ink.num_points == sum(map(len, strokes))
    drawn = np.array([[p.x(), p.y()] for p in strokes[0]], dtype=float)
    assert np.allclose(ink.strokes[0][:, :2] - ink.strokes[0][0, :2], drawn - drawn[0]), "zoom 1: a unit is a pixel"
    assert len(shown) >= 2, "live results while writing, then the final one"
    assert result.ink.num_points == ink.num_points
    recognition = result.recognition
    assert len(recognition.frames) > 0 and recognition.log_probs.shape[0] == len(recognition.frames)
    assert window.results.chosen == recognition.text
    assert len(window.results._buttons) == len(recognition.alternatives)
    placeholder = "(only spaces recognised)" if recognition.text else "(nothing recognised)"
    assert shown_text(window).strip() == (recognition.text.strip() or placeholder)
    assert window.time_label.text().endswith(f"{len(recognition.frames)} frames")
    for index, word in enumerate(recognition.words):
        assert f"href='w{index}'" in window.results.text.text()
        window.results.wordHovered.emit(index)
        assert window.canvas._highlight == frozenset(word.strokes), "hovering a word highlights its strokes"
    window.results.wordHovered.emit(-1)
    assert not window.canvas._highlight
    if REAL_MODEL:
        similarity = difflib.SequenceMatcher(None, recognition.text, line.label).ratio()
        assert similarity > 0.6, (recognition.text, line.label)
    view = window.panel.view
    assert view is not None and view.num_frames == len(recognition.frames)
    assert view.cells is not None and view.cells.shape == (16, len(recognition.frames))
    assert view.saliency is not None and view.saliency.shape == (len(recognition.frames), 2)
    image = render_graves(view, 600, 300)
    assert len({image.pixel(x, y) for x in range(150, 600, 7) for y in range(0, 300, 7)}) > 20


def test_text_updates_while_the_pen_moves_at_most_every_40_ms(qtbot, window, line):
    submitted: list[int] = []
    original = window.service.submit
    window.service.submit = lambda ink, fresh, final: submitted.append((ink.num_points, final)) or original(
        ink, fresh, final)
    shown: list[Result] = []
    window.resultShown.connect(shown.append)
    stroke = [p for s in canvas_points(window, line, 300) for p in s]  # one long stroke
    canvas = window.canvas
    start = time.perf_counter()
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, stroke[0])
    for point in stroke[1:]:
        QTest.mouseMove(canvas, point)
        qtbot.wait(2)
    elapsed_ms = (time.perf_counter() - start) * 1e3
    live = [r for r in shown if r.ink.num_points < len(stroke)]
    assert live, "the text must update before the pen is lifted"
    assert len(submitted) <= elapsed_ms / 40 + 2
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, stroke[-1])
    assert submitted[-1] == (len(stroke), True), "pen-up sends the whole stroke at once, for the final reading"
    assert not any(final for _, final in submitted[:-1]), "live readings are the quick ones"
    assert settle(qtbot, window).ink.num_points == len(stroke)


def test_the_reading_mode_is_chosen_on_the_toolbar(qtbot, window, line):
    draw(qtbot, window, canvas_points(window, line, limit=150))  # "Yes": a few letters
    as_text = settle(qtbot, window).recognition
    window.modes.setCurrentText("word")
    assert window.service.mode == "word"
    as_word = settle(qtbot, window).recognition
    window.set_mode("character")
    assert window.modes.currentText() == "character"
    as_char = settle(qtbot, window).recognition
    assert " " not in as_word.text and len(as_word.lines) == 1
    assert len(as_char.text) == 1 and all(len(a.text) == 1 for a in as_char.alternatives)
    assert len(as_text.text) > 1, as_text.text


def letter_on_first_line(window: MainWindow, letter: Ink, height: float) -> list[list[QPoint]]:
    """`letter` as widget positions, scaled to `height` model units and standing on the first ruled line."""
    xmin, ymin, xmax, ymax = letter.bounds()
    scale = height / (ymax - ymin)
    return [[window.canvas.to_widget((x - xmin) * scale, (y - ymax) * scale).toPoint() for x, y in stroke[:, :2]]
            for stroke in letter.strokes]


@pytest.mark.skipif(not REAL_MODEL, reason="an untrained network reads no letter")
def test_in_character_mode_the_ruled_lines_tell_o_from_capital_o(qtbot, window):
    window.set_mode("character")
    assert window.service.guide is window.canvas.writing_guide is not None
    letter = synthesize("o", font="futural")
    readings = {}
    for height in (X_HEIGHT, ASCENDER):
        window.canvas.clear()
        draw(qtbot, window, letter_on_first_line(window, letter, height))
        readings[height] = settle(qtbot, window).recognition.text
    assert readings == {X_HEIGHT: "o", ASCENDER: readings[ASCENDER]} and readings[ASCENDER] in "O0", readings
    window.set_guides(False)
    assert window.service.guide is None and window.canvas.writing_guide is None
    assert settle(qtbot, window).recognition.text in "oO0"


def test_undo_redo_and_clear(qtbot, window, line):
    strokes = canvas_points(window, line)[:3]
    draw(qtbot, window, strokes)
    canvas = window.canvas
    assert canvas.ink().num_strokes == 3
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert canvas.ink().num_strokes == 2
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert canvas.ink().num_strokes == 3
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert canvas.ink().num_strokes == 3
    QTest.keyClick(window, Qt.Key.Key_Escape)
    assert canvas.ink().is_empty
    assert settle(qtbot, window).ink.is_empty, "after a clear, the empty pad's result is shown"
    assert shown_text(window) == "write on the pad above"
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert canvas.ink().num_strokes == 3
    assert settle(qtbot, window).ink.num_strokes == 3
    assert window.undo_action.isEnabled() and window.redo_action.isEnabled(), "the clear can be redone"


def test_a_word_can_be_replaced_by_one_of_its_readings(qtbot, window, line):
    draw(qtbot, window, canvas_points(window, line, 200))
    recognition = settle(qtbot, window).recognition
    words = recognition.words
    index = next(k for k, w in enumerate(words) if any(" " not in r for r in w.alternatives[1:]))
    alternatives = words[index].alternatives
    assert alternatives[0] == words[index].text, "the word as read comes first"
    pick = next(k for k, r in enumerate(alternatives) if k > 0 and " " not in r)
    with qtbot.waitSignal(window.results.chosenChanged) as changed:
        window.results._word_clicked(index)
        actions = window.results.word_menu.actions()
        assert [a.text() for a in actions] == list(alternatives) and actions[0].isChecked()
        actions[pick].trigger()
    expected = [alternatives[pick] if k == index else w.text for k, w in enumerate(words)]
    assert window.results.chosen.split() == expected and changed.args == [window.results.chosen]
    assert shown_text(window).split() == expected
    assert not any(b.isChecked() for b in window.results._buttons), "no line alternative is the chosen text now"
    window.results.word_menu.hide()


def test_saving_and_reopening_gives_the_same_ink(qtbot, window, line, tmp_path):
    draw(qtbot, window, canvas_points(window, line, 200))
    alternatives = settle(qtbot, window).recognition.alternatives
    assert len(window.results._buttons) == len(alternatives) > 1, "the final reading has an n-best list"
    QTest.mouseClick(window.results._buttons[-1], Qt.MouseButton.LeftButton)
    assert window.results.chosen == alternatives[-1].text
    assert shown_text(window).strip() == alternatives[-1].text.strip()
    drawn = window.canvas.ink()
    path = tmp_path / "pad.inkml"
    assert window.save_file(path)
    saved = read_inks(path)[0]
    assert saved.same_as(drawn.with_label(alternatives[-1].text.strip() or None), atol=1e-3), "labelled as chosen"
    window.canvas.clear()
    assert window.open_file(path) is not None
    assert window.canvas.ink().same_as(drawn, atol=1e-3)
    window.canvas.undo()
    assert window.canvas.ink().is_empty, "opening a file is undoable"


def test_the_model_never_runs_in_the_gui_process(qtbot, monkeypatch, model_path, line, tmp_path):
    """Loading a model, recognising or explaining in this (the GUI's) process raises; text and
    explanations must still arrive, from the recognition process."""
    import onnxruntime

    import app.worker_process
    import handwriting.recognition.explain
    import handwriting.recognition.recognizer

    def refuse(*args, **kwargs):
        raise AssertionError("model work in the GUI process")

    for owner, name in ((onnxruntime, "InferenceSession"), (handwriting.recognition.recognizer.Recognizer, "__init__"),
                        (handwriting.recognition.explain, "explain"), (app.worker_process, "explain"),
                        (app.worker_process.Recognizer, "__init__")):
        monkeypatch.setattr(owner, name, refuse)
    win = MainWindow(model_path, samples=tmp_path / "samples")
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.service.modelLoaded, timeout=RESULT_TIMEOUT_MS):
        win.show()
    explained: list[object] = []
    win.explanationShown.connect(explained.append)
    draw(qtbot, win, canvas_points(win, line, 250))
    result = settle(qtbot, win)
    assert result.ink.num_points == win.canvas.ink().num_points and len(result.recognition.frames) > 0
    assert win.results.chosen == result.recognition.text
    assert explained and explained[-1].recognition is result.recognition
    assert win.panel.view is not None and win.panel.view.cells is not None
    worker = win.service.pid
    assert worker is not None and worker != os.getpid() and process_running(worker)


def process_running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def test_the_app_as_loaded_is_frozen_out_of_full_collections(qtbot, window):
    """A full garbage collection while writing scans only new objects (all of them took ~50 ms
    of the GUI thread mid-stroke): the window freezes what it holds once its model is loaded."""
    assert gc.get_freeze_count() > 1000


def test_a_killed_recognition_process_is_reported_and_restarted(qtbot, window, line):
    draw(qtbot, window, canvas_points(window, line, 150))
    first = settle(qtbot, window)
    old = window.service.pid
    with qtbot.waitSignal(window.service.failed, timeout=RESULT_TIMEOUT_MS,
                          check_params_cb=lambda message: "restarted" in message) as report:
        os.kill(old, signal.SIGKILL)
    assert "killed" in report.args[0] and "killed" in window.statusBar().currentMessage()
    assert not process_running(old)
    new = window.service.pid
    assert new is not None and new != old
    qtbot.waitUntil(lambda: window.service.latest > first.seq, timeout=RESULT_TIMEOUT_MS)
    again = settle(qtbot, window)
    assert again.seq > first.seq and again.ink.num_points == first.ink.num_points, "the ink is read again"
    draw(qtbot, window, canvas_points(window, line, 250)[-1:])
    assert settle(qtbot, window).ink.num_strokes == first.ink.num_strokes + 1, "the new process recognises"
    window.close()
    assert not process_running(new), "closing the window ends the process"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_recognition_process_ends_when_the_app_is_killed(model_path):
    program = (
        "import sys\n"
        "from PyQt6.QtWidgets import QApplication\n"
        "from app.worker import RecognitionService\n"
        "if __name__ == '__main__':\n"
        "    app = QApplication([])\n"
        "    service = RecognitionService()\n"
        "    service.modelLoaded.connect(lambda name: print(service.pid, flush=True))\n"
        f"    service.load_model({str(model_path)!r})\n"
        "    app.exec()\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    app = subprocess.Popen([sys.executable, "-c", program], env=env, stdout=subprocess.PIPE, text=True)
    try:
        worker = int(app.stdout.readline())
        assert process_running(worker)
    finally:
        app.kill()
        app.wait()
    deadline = time.monotonic() + 10
    while process_running(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_running(worker), "the recognition process outlived the app"


def test_a_damaged_model_shows_the_reason_and_keeps_the_ink(qtbot, window, line, tmp_path, model_path):
    draw(qtbot, window, canvas_points(window, line, 120))
    settle(qtbot, window)
    before = window.canvas.ink()
    damaged = tmp_path / "damaged.onnx"
    damaged.write_bytes(model_path.read_bytes()[:5000])
    with qtbot.waitSignal(window.service.modelFailed, timeout=RESULT_TIMEOUT_MS) as failure:
        window.load_model(damaged)
    assert str(damaged) in failure.args[0]
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert boxes and str(damaged) in boxes[0].text()
    assert window.canvas.ink().same_as(before)
    assert window.model_label.text() == f"model: {model_path.name}"
    boxes[0].close()
    draw(qtbot, window, canvas_points(window, line, 200)[-1:])
    assert settle(qtbot, window).ink.num_strokes == before.num_strokes + 1, "the old model still recognises"


def test_an_unreadable_file_shows_the_reason_and_keeps_the_ink(qtbot, window, line, tmp_path):
    draw(qtbot, window, canvas_points(window, line, 80))
    before = window.canvas.ink()
    bad = tmp_path / "bad.inkml"
    bad.write_text("<ink><trace>1 2, 3</trace>")
    assert window.open_file(bad) is None
    assert any(b.isVisible() and str(bad) in b.text() for b in window.findChildren(QMessageBox))
    assert window.canvas.ink().same_as(before)


def test_collect_mode_saves_labelled_samples(qtbot, window, line, tmp_path):
    window.set_collect_mode(True)
    collector: Collector = window.collect_bar.collector
    prompt = collector.prompt
    draw(qtbot, window, canvas_points(window, line, 150))
    QTest.keyClick(window, Qt.Key.Key_Return)  # read far from the prompt: asks first (see test_collect.py)
    qtbot.waitUntil(lambda: "keep it" in window.collect_bar.warning.text(), timeout=RESULT_TIMEOUT_MS)
    QTest.keyClick(window, Qt.Key.Key_Return)
    files = sorted((tmp_path / "samples").glob("*.inkml"))
    assert len(files) == 1 and read_inks(files[0])[0].label == prompt
    assert window.canvas.ink().is_empty and collector.prompt != prompt and collector.saved == 1


def test_stale_results_are_dropped(qtbot):
    service = RecognitionService()
    try:
        shown: list[int] = []
        service.recognized.connect(lambda r: shown.append(r.seq))
        fake = lambda seq: Result(seq, Ink(()), None, 0.0)  # noqa: E731
        service._seq = 5
        service._valid_from = 3
        for seq in (2, 4, 3, 5, 5):
            service._on_recognized(fake(seq))
        assert shown == [4, 5], "older than a fresh request, older than the shown one, or shown: dropped"
    finally:
        service.shutdown()


def test_replay_then_screenshot_writes_a_png(tmp_path, model_path):
    out = tmp_path / "window.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "handwriting.cli", "app", "--model", str(model_path), "--replay",
                           str(LINE), "--speed", "25", "--screenshot", str(out)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    image = QImage(str(out))
    assert image.width() >= 800 and image.height() >= 600
    assert len({image.pixel(x, y) for x in range(0, image.width(), 9) for y in range(0, image.height(), 9)}) > 50


def test_without_a_display_the_app_says_so():
    assert platform_problem({}, "linux") and "DISPLAY" in platform_problem({}, "linux")
    assert platform_problem({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert platform_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert platform_problem({"DISPLAY": ":0"}, "linux") is None
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "handwriting.cli", "app"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and "no display" in done.stderr and "Traceback" not in done.stderr


def test_saliency_is_painted_on_the_ink(qtbot, window, line):
    draw(qtbot, window, canvas_points(window, line, 250))
    settle(qtbot, window)
    values = window.explanation.point_saliency
    assert len(values) == window.canvas.ink().num_points and np.isfinite(values).all()
    assert window.canvas._values is not None
    window.saliency_action.trigger()
    assert window.canvas._values is None


def test_clicking_a_character_explains_it(qtbot, window, line):
    draw(qtbot, window, canvas_points(window, line, 300))
    settle(qtbot, window)
    view, plot = window.panel.view, window.panel.plot
    if not view.chars:
        pytest.skip("the model recognised no character here")
    index = len(view.chars) // 2
    geometry = layout(QRectF(plot.rect()), view.num_frames)
    spot = QPoint(round(geometry.x_of(view.chars[index][1])), round(geometry.rows["output"].center().y()))
    with qtbot.waitSignal(window.explanationShown, timeout=RESULT_TIMEOUT_MS) as shown:
        QTest.mouseClick(plot, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, spot)
    assert shown.args[0].target[0] == view.chars[index][1]
    assert window.panel.view.target == (view.chars[index][1], view.chars[index][0])


def test_dropping_an_ink_file_opens_it(qtbot, window, line):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(LINE))])
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    assert window.canvas.ink().same_as(line.with_label(None))


def test_tablet_pressure_is_recorded(qtbot):
    canvas = Canvas()
    qtbot.addWidget(canvas)
    canvas.resize(400, 200)
    pen = QPointingDevice("pen", 1, QInputDevice.DeviceType.Stylus, QPointingDevice.PointerType.Pen,
                          QInputDevice.Capability.Position | QInputDevice.Capability.Pressure, 1, 3)
    for kind, x, pressure in ((QEvent.Type.TabletPress, 10, 0.2), (QEvent.Type.TabletMove, 20, 0.5),
                              (QEvent.Type.TabletMove, 30, 0.9), (QEvent.Type.TabletRelease, 30, 0.0)):
        event = QTabletEvent(kind, pen, QPointF(x, 50), QPointF(x, 50), pressure, 0, 0, 0, 0, 0,
                             Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)
        QApplication.sendEvent(canvas, event)
    (stroke,) = canvas.ink().strokes
    assert np.allclose(stroke[:, 3], [0.2, 0.5, 0.9]) and np.allclose(np.diff(stroke[:, 0]), 10)
    assert np.all(np.diff(stroke[:, 2]) >= 0)
