"""`MainWindow`: the pad, the recognised text, the Graves panel, files, models and collect mode.

The pad holds a page (scroll bars around it). An opened file with several inks (the
pages of a note file, the samples of an InkML file) shows its first, fitted, and a
**page** box on the toolbar picks another. The Graves panel shows the page's line that
holds the newest stroke. Everything the model does happens in the `RecognitionService` worker; this window only
wires widgets to it. Failures (a model that will not load, a file that cannot be read
or written) show a non-blocking dialog with the reason, and the ink on the pad stays.
"""

from __future__ import annotations

import gc
from pathlib import Path

from PyQt6.QtCore import QSize, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence
from PyQt6.QtWidgets import (QComboBox, QFileDialog, QInputDialog, QLabel, QMainWindow, QMessageBox, QSpinBox,
                             QSplitter, QVBoxLayout, QWidget)

from app.adapt import Adaptation
from app.canvas import Canvas
from app.collect import CollectBar, Collector
from app.graves_panel import GravesPanel
from app.live import LiveRecognition
from app.page_line import current_line
from app.page_view import PageView
from app.png import save_png
from app.replay import Replayer
from app.results import ResultView
from app.worker import RecognitionService, Result
from handwriting.errors import HandwritingError
from handwriting.recognition.explain import Explanation
from handwriting.formats import READERS, read_inks, write_ink
from handwriting.ink import Ink
from handwriting.recognition.modelfile import default_model_path
from handwriting.recognition.modes import MODES
from handwriting.formats.page import PAGE

__all__ = ["MainWindow", "find_models", "initial_size"]

MODEL_SUFFIX = ".onnx"
OPEN_MODEL = "Open model\u2026"
OPEN_FILTER = ("Ink files (" + " ".join(sorted({f"*{s}" for m in READERS.values() for s in m.SUFFIXES})) + ")"
               ";;Notes (*.xopp *.xoj *.rm);;All files (*)")
DEFAULT_SIZE = QSize(1200, 860)
SCREEN_SHARE = 0.8  # a large screen gets a window of this share of it
FRAME_ROOM = QSize(16, 48)  # left on the screen for the window's frame and title bar


def initial_size(available: QSize | None) -> QSize:
    """The window's first size: DEFAULT_SIZE, grown to SCREEN_SHARE of a large screen and
    shrunk to fit a small one (None: no real screen, as offscreen)."""
    if available is None:
        return DEFAULT_SIZE
    return QSize(min(max(DEFAULT_SIZE.width(), int(SCREEN_SHARE * available.width())),
                     available.width() - FRAME_ROOM.width()),
                 min(max(DEFAULT_SIZE.height(), int(SCREEN_SHARE * available.height())),
                     available.height() - FRAME_ROOM.height()))


def find_models(folder: Path) -> list[Path]:
    """The model files in `folder` (the models/ folder of the checkout), sorted."""
    return sorted(folder.glob(f"*{MODEL_SUFFIX}")) if folder.is_dir() else []


class MainWindow(QMainWindow):
    """The app. `resultShown(Result)` fires after the UI shows a new recognition."""

    resultShown = pyqtSignal(object)
    explanationShown = pyqtSignal(object)

    def __init__(self, model: str | Path | None = None, samples: str | Path | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Handwriting")
        self.setAcceptDrops(True)
        self.canvas = Canvas()
        self.page_view = PageView(self.canvas)
        self.service = RecognitionService(self)
        self.service.guide = self.canvas.writing_guide
        self.live = LiveRecognition(self.canvas, self.service)
        self.results = ResultView()
        self.panel = GravesPanel()
        self.collect_bar = CollectBar(self.canvas, Collector(samples))
        self.collect_bar.hide()
        self.adaptation = Adaptation(self, self.collect_bar, lambda: self._model_path)
        self.result: Result | None = None
        self.explanation: Explanation | None = None
        self._explained_ink: Ink | None = None  # the ink `explanation` is of (what the panel shows)
        self.replayer: Replayer | None = None
        self._selected_word = -1
        self._model_path: Path | None = None
        self._pending_model: Path | None = None
        self._added_models: list[Path] = []  # models made in the app (fine-tuned), for the picker
        self.pages: list[Ink] = []  # the inks of the file opened last (its pages), offered in the page box
        self.explained_line = 0  # the index, in the shown result's lines, of the line the panel shows
        self._build_layout()
        self._build_actions()
        self._build_status()
        self._connect()
        self.load_model(model if model is not None else _startup_model())
        self._fill_model_list(self._pending_model)

    # -- building --------------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        top = QWidget()
        column = QVBoxLayout(top)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.collect_bar)
        column.addWidget(self.page_view, 1)
        column.addWidget(self.results)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.panel)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        self.setCentralWidget(split)
        screen = QGuiApplication.primaryScreen()
        real = screen is not None and QGuiApplication.platformName() != "offscreen"
        self.resize(initial_size(screen.availableGeometry().size() if real else None))

    def _action(self, menu, text: str, slot, shortcuts=(), checkable: bool = False, checked: bool = False) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setCheckable(checkable)
        action.setChecked(checked)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        files, edit, view, model = (bar.addMenu(name) for name in ("&File", "&Edit", "&View", "&Model"))
        self.open_action = self._action(files, "&Open ink\u2026", lambda: self.open_file(), ["Ctrl+O"])
        self.save_action = self._action(files, "&Save as InkML\u2026", lambda: self.save_file(), ["Ctrl+S"])
        self._action(files, "&Export view as PNG\u2026", lambda: self.export_png(), ["Ctrl+E"])
        self._action(files, "&Replay ink\u2026", lambda: self.replay_file(), ["Ctrl+R"])
        files.addSeparator()
        self.collect_action = self._action(files, "&Collect samples", self.set_collect_mode, ["Ctrl+K"], True)
        self.save_sample_action = self._action(files, "Save sample", self.collect_bar.save, ["Return", "Enter"])
        self.save_sample_action.setEnabled(False)
        files.addSeparator()
        self._action(files, "&Quit", self.close, ["Ctrl+Q"])
        self.undo_action = self._action(edit, "&Undo", self.canvas.undo, ["Ctrl+Z"])
        self.redo_action = self._action(edit, "&Redo", self.canvas.redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
        self._action(edit, "&Clear", self.canvas.clear, ["Esc"])
        edit.addSeparator()
        self.new_line_action = self._action(edit, "&New line", self.canvas.new_line, ["Return", "Enter"])
        self._action(view, "&Fit ink", self.canvas.fit, ["Ctrl+0"])
        self._action(view, "Zoom &in", lambda: self.canvas.zoom(1.25), ["Ctrl+="])
        self._action(view, "Zoom &out", lambda: self.canvas.zoom(0.8), ["Ctrl+-"])
        view.addSeparator()
        self._action(view, "Writing &guides", self.set_guides, [], True, True)
        self.saliency_action = self._action(view, "&Saliency on the ink", self._show_saliency, [], True, True)
        self._action(view, "&Network view", self._show_panel, ["Ctrl+G"], True, True)
        self._action(model, OPEN_MODEL, lambda: self.choose_model_file(), ["Ctrl+M"])
        model.addSeparator()
        model.addAction(self.adaptation.action)
        self.models = QComboBox()
        self.models.setMinimumContentsLength(18)
        self.models.setPlaceholderText("no model")
        self.models.activated.connect(self._model_picked)
        tools = self.addToolBar("main")
        tools.setMovable(False)
        for action in (self.open_action, self.save_action, self.undo_action, self.redo_action):
            tools.addAction(action)
        tools.addSeparator()
        tools.addAction(self.collect_action)
        tools.addSeparator()
        tools.addWidget(QLabel(" model: "))
        tools.addWidget(self.models)
        self.modes = QComboBox()
        self.modes.addItems(MODES)
        self.modes.setToolTip("what the pad holds: lines of text, one word, one character, or numbers")
        self.modes.currentTextChanged.connect(self.set_mode)
        tools.addWidget(QLabel(" reads: "))
        tools.addWidget(self.modes)
        self.page_box = QSpinBox()
        self.page_box.setToolTip("which ink of the file opened last is on the pad")
        self.page_box.valueChanged.connect(lambda number: self.show_page(number - 1))
        tools.addSeparator()
        self.page_action = tools.addWidget(self.page_box)
        self.page_action.setVisible(False)
        self._history_changed()

    def set_mode(self, mode: str) -> None:
        """Read the pad as `mode` (`handwriting.recognition.modes`) from now on, starting with the ink on it."""
        self.service.mode = mode
        if self.modes.currentText() != mode:
            self.modes.setCurrentText(mode)
        if not self.canvas.ink().is_empty:
            self.live.send(fresh=True)

    def set_guides(self, on: bool) -> None:
        """Show or hide the ruled lines; while shown, character mode reads a letter's size against them."""
        self.canvas.set_guides(on)
        self.service.guide = self.canvas.writing_guide
        if self.service.mode == "character" and not self.canvas.ink().is_empty:
            self.live.send(fresh=True)

    def _build_status(self) -> None:
        self.model_label = QLabel("no model")
        self.time_label = QLabel("")
        self.statusBar().addPermanentWidget(self.adaptation.panel)
        self.statusBar().addPermanentWidget(self.time_label)
        self.statusBar().addPermanentWidget(self.model_label)

    def _connect(self) -> None:
        self.canvas.historyChanged.connect(self._history_changed)
        self.canvas.inkChanged.connect(self._ink_changed)
        self.service.recognized.connect(self._show_result)
        self.service.explained.connect(self._show_explanation)
        self.service.failed.connect(lambda message: self.statusBar().showMessage(message, 5000))
        self.service.modelLoaded.connect(self._model_loaded)
        self.service.modelFailed.connect(self._model_failed)
        self.results.wordHovered.connect(lambda index: self._highlight_word(index if index >= 0 else None))
        self.results.wordClicked.connect(self._select_word)
        self.panel.frameHovered.connect(self._mark_frame)
        self.panel.characterClicked.connect(self.service.explain_character)
        self.collect_bar.saved.connect(lambda path: self.statusBar().showMessage(f"saved {path}", 4000))
        self.collect_bar.failed.connect(lambda reason: self.show_error("Sample not saved", reason))
        self.resultShown.connect(self.collect_bar.set_reading)
        self.adaptation.modelWritten.connect(self.add_model)
        self.adaptation.switchRequested.connect(self.load_model)

    # -- models ----------------------------------------------------------------------------------------------
    def load_model(self, path: str | Path) -> None:
        """Load a model in the worker (the current one stays until the new one is ready)."""
        self.model_label.setText(f"loading {Path(path).name}\u2026")
        self._pending_model = Path(path)
        self.service.load_model(path)

    def choose_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", str(default_model_path().parent),
                                              f"Models (*{MODEL_SUFFIX});;All files (*)")
        if path:
            self.load_model(path)

    def add_model(self, path: str | Path) -> None:
        """Offer `path` in the model picker from now on."""
        if Path(path).resolve() not in self._added_models:
            self._added_models.append(Path(path).resolve())
        self._fill_model_list(self._model_path)

    def _model_loaded(self, name: str) -> None:
        self._model_path = self._pending_model
        self.model_label.setText(f"model: {name}")
        self.panel.set_hint()
        self._fill_model_list(self._model_path)
        self.live.send(fresh=True)
        gc.collect()
        gc.freeze()  # the app as built is kept for good: a full collection while writing scans only what is new

    def _model_failed(self, reason: str) -> None:
        self.model_label.setText(f"model: {self._model_path.name}" if self._model_path else "no model")
        if self._model_path is None:
            self.results.show_message("no model to recognise with: choose one in the Model menu")
            self.panel.set_hint("no model loaded")
        self._fill_model_list(self._model_path)
        self.show_error("The model could not be loaded", reason)

    def _fill_model_list(self, current: Path | None) -> None:
        paths = [p.resolve() for p in find_models(default_model_path().parent)]
        extras = self._added_models + ([current.resolve()] if current is not None else [])
        paths += [p for p in dict.fromkeys(extras) if p not in paths]
        self.models.clear()
        for path in paths:
            self.models.addItem(path.name, str(path))
        self.models.addItem(OPEN_MODEL, None)
        self.models.setCurrentIndex(paths.index(current.resolve()) if current is not None else -1)

    def _model_picked(self, index: int) -> None:
        path = self.models.itemData(index)
        if path is None:
            self.choose_model_file()
        else:
            self.load_model(path)

    # -- files -------------------------------------------------------------------------------------------------
    def open_file(self, path: str | Path | None = None) -> Ink | None:
        """Put the first ink (page) of a file on the pad, fitted; the page box offers the others."""
        read = self._read_inks(path, "Open ink")
        if read is None:
            return None
        self.pages = inks = read[1]
        kind = "page" if PAGE in inks[0].meta else "ink"
        self.page_box.blockSignals(True)
        self.page_box.setRange(1, len(inks))
        self.page_box.setValue(1)
        self.page_box.setPrefix(f"{kind} ")
        self.page_box.setSuffix(f" of {len(inks)}")
        self.page_box.blockSignals(False)
        self.page_action.setVisible(len(inks) > 1)
        self.show_page(0)
        return inks[0]

    def show_page(self, index: int) -> None:
        """Put ink `index` of the file opened last on the pad, fitted (undoable)."""
        if not 0 <= index < len(self.pages):
            return
        ink = self.pages[index]
        if self.page_box.value() != index + 1:
            self.page_box.blockSignals(True)
            self.page_box.setValue(index + 1)
            self.page_box.blockSignals(False)
        self.canvas.set_ink(ink)
        where = f"{index + 1} of {len(self.pages)}: " if len(self.pages) > 1 else ""
        self.statusBar().showMessage(f"opened {where}{ink.label!r}" if ink.label else f"opened {where}"
                                     f"{ink.num_strokes} strokes", 4000)

    def replay_file(self, path: str | Path | None = None) -> None:
        """Write an ink from a file onto the pad in its original timing (asking which, when it holds several)."""
        read = self._read_inks(path, "Replay ink")
        ink = None if read is None else read[1][0] if len(read[1]) == 1 else _choose_ink(self, read[0].name, read[1])
        if ink is not None:
            self.replay(ink)

    def replay(self, ink: Ink, speed: float = 1.0) -> Replayer:
        """Start writing `ink` onto the pad as it was written; returns the running Replayer."""
        if self.replayer is not None and self.replayer.running:
            self.replayer.stop()
        self.replayer = Replayer(self.canvas, ink, speed)
        self.replayer.start()
        return self.replayer

    def save_file(self, path: str | Path | None = None) -> bool:
        """Save the pad as InkML labelled with the chosen text (atomically)."""
        ink = self.canvas.ink(include_live=False)
        if ink.is_empty:
            self.statusBar().showMessage("nothing to save yet", 4000)
            return False
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save ink", "ink.inkml", "InkML (*.inkml)")
            if not path:
                return False
        try:
            write_ink(ink.with_label(self.results.chosen or None), path)
        except (HandwritingError, OSError) as exc:
            self.show_error("The ink could not be saved", str(exc))
            return False
        self.statusBar().showMessage(f"saved {path}", 4000)
        return True

    def export_png(self, path: str | Path | None = None) -> bool:
        """Save a picture of the pad, text and network view."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export view", "view.png", "PNG images (*.png)")
            if not path:
                return False
        try:
            save_png(self.centralWidget().grab(), path)
        except HandwritingError as exc:
            self.show_error("The picture could not be saved", str(exc))
            return False
        return True

    def _read_inks(self, path: str | Path | None, title: str) -> tuple[Path, list[Ink]] | None:
        """The file chosen (or `path`) and its inks; None, after saying why, when there are none."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, title, "", OPEN_FILTER)
            if not path:
                return None
        try:
            inks = read_inks(path)
        except HandwritingError as exc:
            self.show_error("The file could not be read", str(exc))
            return None
        if not inks:
            self.show_error("The file could not be read", f"{path}: it holds no ink")
            return None
        return Path(path), inks

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and all(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = Path(event.mimeData().urls()[0].toLocalFile())
        event.acceptProposedAction()
        if path.suffix.lower() == MODEL_SUFFIX:
            self.load_model(path)
        else:
            self.open_file(path)

    # -- results -------------------------------------------------------------------------------------------------
    def _show_result(self, result: Result) -> None:
        self.result = result
        self._selected_word = -1
        recognition = result.recognition
        self.results.set_recognition(recognition, current_line(recognition, result.ink.num_strokes - 1))
        if not len(recognition.frames):
            self.panel.set_explanation(None)  # else the panel waits for the explanation: no flicker
        self.canvas.set_highlight(())
        if self.explanation is not None and self.explanation.recognition is not recognition:
            self.canvas.set_point_values(None)
        self.time_label.setText(f"{result.elapsed_ms:.0f} ms \u00b7 {len(recognition.frames)} frames")
        self.resultShown.emit(result)

    def _show_explanation(self, explanation: Explanation, line: int = 0) -> None:
        self.explanation, self.explained_line = explanation, line
        self._explained_ink = self.result.ink  # explanations come only for the result shown
        self.panel.set_explanation(explanation, line, len(self.result.recognition.lines))
        self._show_saliency(self.saliency_action.isChecked())
        self.explanationShown.emit(explanation)

    def _show_saliency(self, on: bool) -> None:
        ink = self.canvas.ink(include_live=False)
        fits = self.explanation is not None and len(self.explanation.point_saliency) == ink.num_points
        self.canvas.set_point_values(self.explanation.point_saliency if on and fits else None)

    def _highlight_word(self, index: int | None) -> None:
        index = self._selected_word if index is None else index
        words = self.result.recognition.words if self.result is not None else []
        self.canvas.set_highlight(words[index].strokes if 0 <= index < len(words) else ())

    def _select_word(self, index: int) -> None:
        self._selected_word = -1 if index == self._selected_word else index
        self._highlight_word(None)

    def _mark_frame(self, frame: int) -> None:
        """Mark on the pad the point that the frame hovered in the panel was read from."""
        if self.explanation is None or not 0 <= frame < len(self.explanation.recognition.frames):
            self.canvas.set_marker(None)
            return
        point = self._explained_ink.points()[self.explanation.recognition.frames.point_index[frame]]
        self.canvas.set_marker((float(point[0]), float(point[1])))

    # -- state ---------------------------------------------------------------------------------------------------------
    def _history_changed(self) -> None:
        self.undo_action.setEnabled(self.canvas.can_undo)
        self.redo_action.setEnabled(self.canvas.can_redo)

    def _ink_changed(self, kind: str) -> None:
        self.canvas.set_marker(None)

    def _show_panel(self, on: bool) -> None:
        self.panel.setVisible(on)
        self.service.set_explaining(on)

    def set_collect_mode(self, on: bool) -> None:
        if on and not self.collect_bar.isVisible():
            self.collect_bar.start()
        self.collect_bar.setVisible(on)
        self.collect_action.setChecked(on)
        self.save_sample_action.setEnabled(on)
        self.new_line_action.setEnabled(not on)  # Return saves the sample instead

    def show_error(self, title: str, reason: str) -> None:
        """A dialog that does not block: the pad keeps working behind it."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, reason, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.statusBar().showMessage(f"{title}: {reason}", 8000)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.replayer is not None:
            self.replayer.stop()
        self.adaptation.shutdown()
        self.service.shutdown()
        super().closeEvent(event)


def _startup_model() -> Path:
    """The default model, else the first model in its folder (the default's path when none)."""
    default = default_model_path()
    if default.is_file():
        return default
    others = find_models(default.parent)
    return others[0] if others else default


def _choose_ink(parent: QWidget, name: str, inks: list[Ink]) -> Ink | None:
    items = [f"{n}: {ink.label!r} \u00b7 {ink.num_strokes} strokes" if ink.label else f"{n}: {ink.num_strokes} strokes"
             for n, ink in enumerate(inks)]
    item, ok = QInputDialog.getItem(parent, "Choose an ink", f"{name} holds {len(inks)} inks:", items, 0, False)
    return inks[items.index(item)] if ok else None

