"""`RecognitionService`: all model work (loading, recognising, explaining) in a child process.

The GUI process only posts requests and receives results, so the pen never waits for the
model, not even for its pure-Python decoding (which in a thread would hold the GIL). The
process (`python -m app.worker_process`, run by a QProcess) keeps only the newest request
of each kind: when the pen outruns the model, intermediate inks are skipped, never
queued. Every submission gets a sequence number; a result is delivered only if it is
newer than the one shown and not older than the last `fresh` submission (an undo, clear
or open), so a slow result can never overwrite a newer one. After each recognition, when
nothing newer is waiting, the process also explains it (cell states and saliency) for
the Graves panel: that of the page's line holding the newest stroke (`app.page_line`).

The GUI process runs no thread of its own for this: Qt writes the requests and reads the
replies as the pipes allow, from the event loop, so the GUI thread never blocks on a
pipe and never waits for another Python thread to hand back the GIL (under load, such a
thread can sit for a hundred milliseconds without a core while the GUI waits for it).
If the process dies (a crash, or killed), `failed` says so and a new one is started with
the last loaded model, and the newest ink is recognised again; after `MAX_RESTARTS`
deaths within `RESTART_WINDOW_S` it is left stopped until a model is loaded again. The
process ends with the app: `shutdown` closes its stdin, and if the app itself is killed
its stdin closes all the same.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from PyQt6.QtCore import QObject, QProcess, QProcessEnvironment, pyqtSignal

from app.page_line import line_part
from app.worker_process import FrameReader, Result, frame
from handwriting.recognition.explain import Explanation
from handwriting.ink import Ink
from handwriting.recognition.modes import WritingGuide

__all__ = ["RecognitionService", "Result", "MAX_RESTARTS", "RESTART_WINDOW_S"]

MAX_RESTARTS = 3  # deaths of the process within RESTART_WINDOW_S after which it is not restarted
RESTART_WINDOW_S = 30.0
STOP_TIMEOUT_MS = 2000  # how long a process asked to end may take before it is killed
_ROOT = Path(__file__).resolve().parent.parent  # where the `app` package is imported from


def _how_it_ended(process: QProcess) -> str:
    if process.exitStatus() == QProcess.ExitStatus.CrashExit:
        return "it crashed or was killed"
    return f"exit code {process.exitCode()}"


class RecognitionService(QObject):
    """The GUI side: submit inks, receive fresh `Result`s and `Explanation`s as signals."""

    recognized = pyqtSignal(object)  # Result
    explained = pyqtSignal(object, int)  # Explanation of a line of the Result shown last, that line's index
    failed = pyqtSignal(str)  # a one-line message for the status bar
    modelLoaded = pyqtSignal(str)  # model name
    modelFailed = pyqtSignal(str)  # the reason, one line

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._seq = 0
        self._valid_from = 0
        self._shown = -1
        self._shown_result: Result | None = None
        self._latest: tuple[Ink, bool] | None = None  # the newest submission (ink, final), to redo after a restart
        self.mode = "text"  # what the pad holds (`handwriting.recognition.modes`)
        self.guide: WritingGuide | None = None  # the pad's writing guide, for character mode
        self._explaining = True
        self._model: Path | None = None  # the model the process has loaded
        self._loading: Path | None = None  # a model asked for and not yet answered
        self._process: QProcess | None = None
        self._frames = FrameReader()
        self._posted = self._served = 0
        self._deaths: list[float] = []

    # -- the API ----------------------------------------------------------------------------------
    def load_model(self, path: str | Path) -> None:
        """Load a model in the process (starting it if needed); `modelLoaded` or `modelFailed`
        tells how it went (on failure the previous model stays in use)."""
        if self._process is None:
            self._start()
        self._loading = Path(path)
        self._post("model", (Path(path), True))

    def submit(self, ink: Ink, fresh: bool = False, final: bool = True) -> int:
        """Recognise `ink`: `final` with the full beam search and its n-best list, else fast
        (for a stroke still being written: greedy, or a narrow beam with the LM); with
        `fresh`, results of earlier submissions are dropped."""
        self._seq += 1
        if fresh:
            self._valid_from = self._seq
        self._latest = (ink, final)
        self._post("recognize", (self._seq, ink, final, self.mode, self.guide))
        return self._seq

    def explain_character(self, index: int) -> None:
        """Explain the shown result again, for character `index` of the line explained."""
        if self._shown >= 0:
            self._post("explain", (self._shown, index))

    def set_explaining(self, on: bool) -> None:
        """Whether recognitions are followed by explanations (the Graves panel is shown)."""
        self._explaining = on
        self._post("explaining", on)

    @property
    def latest(self) -> int:
        """The sequence number of the newest submission."""
        return self._seq

    @property
    def pid(self) -> int | None:
        """The recognition process's id (None while there is none)."""
        if self._process is None or not self._process.processId():
            return None
        return int(self._process.processId())

    def is_idle(self) -> bool:
        """True when the process has served every request and its replies have been delivered."""
        return self._served == self._posted

    def shutdown(self) -> None:
        """End the process (killed if it does not end within STOP_TIMEOUT_MS)."""
        process = self._forget()
        if process is not None:
            process.closeWriteChannel()
            if not process.waitForFinished(STOP_TIMEOUT_MS):
                process.kill()
                process.waitForFinished(STOP_TIMEOUT_MS)

    # -- the process ---------------------------------------------------------------------------------
    def _start(self) -> None:
        process = QProcess(self)
        environment = QProcessEnvironment.systemEnvironment()
        inherited = environment.value("PYTHONPATH")
        environment.insert("PYTHONPATH", os.pathsep.join([str(_ROOT)] + ([inherited] if inherited else [])))
        process.setProcessEnvironment(environment)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.ForwardedErrorChannel)
        process.readyReadStandardOutput.connect(lambda: self._on_output(process))
        process.finished.connect(lambda *_: self._on_ended(process))
        process.errorOccurred.connect(lambda error: self._on_error(process, error))
        self._process, self._frames = process, FrameReader()
        self._posted = self._served = 0
        process.start(sys.executable, ["-m", "app.worker_process"])
        if not self._explaining:
            self._post("explaining", False)

    def _forget(self) -> QProcess | None:
        """Stop listening to the process (it is still running); returns it."""
        process, self._process = self._process, None
        self._posted = self._served = 0
        if process is not None:
            process.readyReadStandardOutput.disconnect()
            process.finished.disconnect()
            process.errorOccurred.disconnect()
        return process

    def _post(self, kind: str, value: object) -> None:
        if self._process is None:
            return
        self._posted += 1
        self._process.write(frame((kind, self._posted, value)))

    # -- replies ------------------------------------------------------------------------------------
    def _on_output(self, process: QProcess) -> None:
        if process is not self._process:
            return
        for message in self._frames.feed(bytes(process.readAllStandardOutput())):
            if process is self._process:  # a reply may restart the process
                self._on_message(message)

    def _on_message(self, message: tuple) -> None:
        kind, *values = message
        if kind == "idle":
            self._served = values[0]
        elif kind == "recognized":
            self._on_recognized(values[0])
        elif kind == "explained":
            self._on_explained(*values)
        elif kind == "failed":
            self.failed.emit(values[0])
        elif kind == "loaded":
            name, path, announce = values
            self._model, self._loading = path, None
            if announce:
                self.modelLoaded.emit(name)
            elif self._latest is not None:  # a restart: read the newest ink again
                ink, final = self._latest
                self.submit(ink, fresh=True, final=final)
        elif kind == "model_failed":
            reason, announce = values
            self._loading = None
            (self.modelFailed if announce else self.failed).emit(reason)

    def _on_error(self, process: QProcess, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and process is self._process:
            self._on_ended(process)

    def _on_ended(self, process: QProcess) -> None:
        if process is not self._process:
            return
        how = _how_it_ended(process) if process.error() != QProcess.ProcessError.FailedToStart else \
            f"it could not be started: {process.errorString()}"
        self._forget()
        process.deleteLater()
        if self._loading is not None:
            self.modelFailed.emit(f"{self._loading}: the recognition process stopped while loading it ({how})")
            self._loading = None
        now = time.monotonic()
        self._deaths = [t for t in self._deaths if now - t < RESTART_WINDOW_S] + [now]
        if len(self._deaths) > MAX_RESTARTS:
            self.failed.emit(f"the recognition process stopped ({how}) {len(self._deaths)} times in "
                             f"{RESTART_WINDOW_S:.0f} s; load a model to start it again")
            self._deaths = []
            return
        self.failed.emit(f"the recognition process stopped ({how}); restarted it")
        self._start()
        if self._model is not None:
            self._post("model", (self._model, False))

    def _on_recognized(self, result: Result) -> None:
        if result.seq < self._valid_from or result.seq <= self._shown:
            return
        self._shown, self._shown_result = result.seq, result
        self.recognized.emit(result)

    def _on_explained(self, seq: int, explanation: Explanation, line: int) -> None:
        if seq == self._shown and self._shown_result is not None:
            self.explained.emit(replace(explanation, recognition=line_part(self._shown_result.recognition, line)), line)
