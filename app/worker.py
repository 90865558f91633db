"""`RecognitionService`: all model work (loading, recognising, explaining) in one worker QThread.

The GUI thread only posts requests and receives results, so the pen never waits for the
model. Requests go through a mailbox that keeps only the newest of each kind: when the
pen outruns the model, intermediate inks are skipped, never queued. Every submission
gets a sequence number; a result is delivered only if it is newer than the one shown
and not older than the last `fresh` submission (an undo, clear or open), so a slow
result can never overwrite a newer one. After each recognition, when nothing newer is
waiting, the worker also explains it (cell states and saliency) for the Graves panel.

Decoding is pure Python and holds the GIL; the interpreter's switch interval is cut to
1 ms so that the GUI thread never waits long for it (5 ms by default, per Qt call).
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import QObject, QThread, pyqtSignal, pyqtSlot

from handwriting.decode import DEFAULT_BEAM, LIVE_BEAM
from handwriting.errors import HandwritingError
from handwriting.explain import Explanation, explain
from handwriting.ink import Ink
from handwriting.recognizer import Recognition, Recognizer

__all__ = ["RecognitionService", "Result", "SWITCH_INTERVAL_S"]

WORD_ALTERNATIVES = 5  # readings offered per word of a final reading
SWITCH_INTERVAL_S = 0.001  # how soon the GUI thread gets the GIL back from Python code in the worker


@dataclass(frozen=True)
class Result:
    """A recognition of the ink submitted as `seq`, and how long the model took."""

    seq: int
    ink: Ink
    recognition: Recognition
    elapsed_ms: float


@dataclass
class _Mailbox:
    """The newest request of each kind; the worker takes them, the GUI overwrites them."""

    lock: threading.Lock
    model: Path | None = None
    recognize: tuple[int, Ink, bool] | None = None  # (seq, ink, final)
    explain: tuple[int, int] | None = None  # (seq of the recognition, character index)
    explaining: bool = True
    busy: bool = False

    def take(self) -> tuple[str, object] | None:
        """The most urgent request (model, then recognition, then explanation), or None
        and not busy any more."""
        with self.lock:
            for name in ("model", "recognize", "explain"):
                value = getattr(self, name)
                if value is not None:
                    setattr(self, name, None)
                    self.busy = True
                    return name, value
            self.busy = False
            return None

    @property
    def idle(self) -> bool:
        with self.lock:
            return not self.busy and self.model is None and self.recognize is None and self.explain is None


class _Worker(QObject):
    """Lives in the worker thread; `drain` serves whatever the mailbox holds."""

    recognized = pyqtSignal(object)
    explained = pyqtSignal(int, object)
    failed = pyqtSignal(int, str)
    modelLoaded = pyqtSignal(str)
    modelFailed = pyqtSignal(str)

    def __init__(self, mailbox: _Mailbox) -> None:
        super().__init__()
        self._mailbox = mailbox
        self._recognizer: Recognizer | None = None
        self._last: Result | None = None

    @pyqtSlot()
    def drain(self) -> None:
        while (request := self._mailbox.take()) is not None:
            name, value = request
            if name == "model":
                self._load(value)
            elif name == "recognize":
                self._recognize(*value)
            else:
                self._explain(*value)

    def _load(self, path: Path) -> None:
        try:
            self._recognizer = Recognizer(path, beam=DEFAULT_BEAM)
        except HandwritingError as exc:
            self.modelFailed.emit(str(exc))
        except Exception as exc:  # a damaged model must never take the app down
            self.modelFailed.emit(f"{path}: {type(exc).__name__}: {exc}")
        else:
            self._last = None
            self.modelLoaded.emit(self._recognizer.name)

    def _recognize(self, seq: int, ink: Ink, final: bool) -> None:
        if self._recognizer is None:
            return
        start = time.perf_counter()
        try:
            live_beam = LIVE_BEAM if self._recognizer.lm is not None else 0  # greedy without an LM
            recognition = self._recognizer.recognize(ink, beam=None if final else live_beam, with_hidden=True,
                                                     word_alternatives=WORD_ALTERNATIVES if final else 0)
        except Exception as exc:  # reported in the status bar; the next stroke tries again
            self.failed.emit(seq, f"recognition failed: {type(exc).__name__}: {exc}")
            return
        self._last = Result(seq, ink, recognition, (time.perf_counter() - start) * 1e3)
        self.recognized.emit(self._last)
        if self._mailbox.explaining and self._mailbox.recognize is None:
            self._explain(seq, None)

    def _explain(self, seq: int, char: int | None) -> None:
        last = self._last
        if self._recognizer is None or last is None or last.seq != seq or not len(last.recognition.frames):
            return
        target = None
        characters = last.recognition.characters
        if char is not None and 0 <= char < len(characters) and self._recognizer.alphabet.covers(characters[char].char):
            c = characters[char]
            target = (c.frame, self._recognizer.alphabet.encode(c.char)[0])
        try:
            explanation = explain(self._recognizer, last.recognition, target, num_points=last.ink.num_points)
        except Exception as exc:
            self.failed.emit(seq, f"explanation failed: {type(exc).__name__}: {exc}")
            return
        self.explained.emit(seq, explanation)


class RecognitionService(QObject):
    """The GUI side: submit inks, receive fresh `Result`s and `Explanation`s as signals."""

    recognized = pyqtSignal(object)  # Result
    explained = pyqtSignal(object)  # Explanation of the Result shown last
    failed = pyqtSignal(str)
    modelLoaded = pyqtSignal(str)  # model name
    modelFailed = pyqtSignal(str)  # the reason, one line
    _wake = pyqtSignal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self._mailbox = _Mailbox(threading.Lock())
        self._seq = 0
        self._valid_from = 0
        self._shown = -1
        self._thread = QThread()
        self._thread.setObjectName("recognition")
        self._worker = _Worker(self._mailbox)
        self._worker.moveToThread(self._thread)
        self._wake.connect(self._worker.drain)
        self._worker.recognized.connect(self._on_recognized)
        self._worker.explained.connect(self._on_explained)
        self._worker.failed.connect(lambda seq, message: self.failed.emit(message))
        self._worker.modelLoaded.connect(self.modelLoaded)
        self._worker.modelFailed.connect(self.modelFailed)
        self._thread.start()

    def load_model(self, path: str | Path) -> None:
        """Load a model in the worker; `modelLoaded` or `modelFailed` tells how it went
        (on failure the previous model stays in use)."""
        self._post("model", Path(path))

    def submit(self, ink: Ink, fresh: bool = False, final: bool = True) -> int:
        """Recognise `ink`: `final` with the full beam search and its n-best list, else fast
        (for a stroke still being written: greedy, or a narrow beam with the LM); with
        `fresh`, results of earlier submissions are dropped."""
        self._seq += 1
        if fresh:
            self._valid_from = self._seq
        self._post("recognize", (self._seq, ink, final))
        return self._seq

    def explain_character(self, index: int) -> None:
        """Explain the shown result again, for its recognised character `index`."""
        if self._shown >= 0:
            self._post("explain", (self._shown, index))

    def set_explaining(self, on: bool) -> None:
        """Whether recognitions are followed by explanations (the Graves panel is shown)."""
        self._mailbox.explaining = on

    @property
    def latest(self) -> int:
        """The sequence number of the newest submission."""
        return self._seq

    def is_idle(self) -> bool:
        """True when the worker has nothing to do (its last results may still be in flight)."""
        return self._mailbox.idle

    def shutdown(self) -> None:
        """Stop the worker thread (after the request it is serving)."""
        self._thread.quit()
        self._thread.wait()

    def _post(self, name: str, value: object) -> None:
        with self._mailbox.lock:
            setattr(self._mailbox, name, value)
        self._wake.emit()

    def _on_recognized(self, result: Result) -> None:
        if result.seq < self._valid_from or result.seq <= self._shown:
            return
        self._shown = result.seq
        self.recognized.emit(result)

    def _on_explained(self, seq: int, explanation: Explanation) -> None:
        if seq == self._shown:
            self.explained.emit(explanation)
