"""`RecognitionService`: all model work (loading, recognising, explaining) in a child process.

The GUI process only posts requests and receives results, so the pen never waits for the
model, not even for its pure-Python decoding (which in a thread would hold the GIL). The
process (`app.worker_process`, started with multiprocessing's spawn method on every
platform) keeps only the newest request of each kind: when the pen outruns the model,
intermediate inks are skipped, never queued. Every submission gets a sequence number; a
result is delivered only if it is newer than the one shown and not older than the last
`fresh` submission (an undo, clear or open), so a slow result can never overwrite a newer
one. After each recognition, when nothing newer is waiting, the process also explains it
(cell states and saliency) for the Graves panel.

A reader thread turns the process's replies into signals. If the process dies (a crash,
or killed), `failed` says so and a new one is started with the last loaded model, and the
newest ink is recognised again; after `MAX_RESTARTS` deaths within `RESTART_WINDOW_S` it is
left stopped until a model is loaded again. The process ends with the app: `shutdown`
closes its pipe, and if the app itself is killed the pipe closes all the same.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path

from PyQt6.QtCore import QObject, pyqtSignal

from app.worker_process import Result, serve
from handwriting.explain import Explanation
from handwriting.ink import Ink

__all__ = ["RecognitionService", "Result", "MAX_RESTARTS", "RESTART_WINDOW_S"]

MAX_RESTARTS = 3  # deaths of the process within RESTART_WINDOW_S after which it is not restarted
RESTART_WINDOW_S = 30.0
STOP_TIMEOUT_S = 2.0  # how long a process asked to end may take before it is killed


def _how_it_ended(exitcode: int | None) -> str:
    if exitcode is None:
        return "no exit status"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


class RecognitionService(QObject):
    """The GUI side: submit inks, receive fresh `Result`s and `Explanation`s as signals."""

    recognized = pyqtSignal(object)  # Result
    explained = pyqtSignal(object)  # Explanation of the Result shown last
    failed = pyqtSignal(str)  # a one-line message for the status bar
    modelLoaded = pyqtSignal(str)  # model name
    modelFailed = pyqtSignal(str)  # the reason, one line
    _message = pyqtSignal(int, object)  # (process generation, reply), from the reader thread
    _ended = pyqtSignal(int, object)  # (process generation, exit code), from the reader thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._seq = 0
        self._valid_from = 0
        self._shown = -1
        self._shown_result: Result | None = None
        self._latest: tuple[Ink, bool] | None = None  # the newest submission (ink, final), to redo after a restart
        self._explaining = True
        self._model: Path | None = None  # the model the process has loaded
        self._loading: Path | None = None  # a model asked for and not yet answered
        self._process: multiprocessing.process.BaseProcess | None = None
        self._requests: Connection | None = None
        self._reader: threading.Thread | None = None
        self._generation = 0
        self._posted = self._served = 0
        self._deaths: list[float] = []
        self._message.connect(self._on_message)
        self._ended.connect(self._on_ended)

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
        self._post("recognize", (self._seq, ink, final))
        return self._seq

    def explain_character(self, index: int) -> None:
        """Explain the shown result again, for its recognised character `index`."""
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
        return self._process.pid if self._process is not None else None

    def is_idle(self) -> bool:
        """True when the process has served every request and its replies have been delivered."""
        return self._served == self._posted

    def shutdown(self) -> None:
        """End the process (killed if it does not end within STOP_TIMEOUT_S)."""
        process, reader = self._process, self._reader
        self._generation += 1  # whatever the old process still says is ignored
        self._stop_pipes()
        if process is not None:
            process.join(STOP_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join()
        if reader is not None:
            reader.join(STOP_TIMEOUT_S)

    # -- the process ---------------------------------------------------------------------------------
    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        requests_in, requests_out = context.Pipe(duplex=False)
        replies_in, replies_out = context.Pipe(duplex=False)
        process = context.Process(target=serve, args=(requests_in, replies_out), name="handwriting-recognition",
                                  daemon=True)
        process.start()
        requests_in.close()  # the child's ends: closed here so that either side sees the other end
        replies_out.close()
        self._generation += 1
        self._process, self._requests = process, requests_out
        self._posted = self._served = 0
        self._reader = threading.Thread(target=self._listen, args=(self._generation, replies_in, process),
                                        name="recognition-replies", daemon=True)
        self._reader.start()
        if not self._explaining:
            self._post("explaining", False)

    def _listen(self, generation: int, replies: Connection, process: multiprocessing.process.BaseProcess) -> None:
        """The reader thread: every reply becomes a `_message`; the end of the pipe, `_ended`."""
        try:
            while True:
                self._message.emit(generation, replies.recv())
        except (EOFError, OSError):
            pass
        except RuntimeError:  # the service was deleted
            return
        replies.close()
        process.join(STOP_TIMEOUT_S)
        try:
            self._ended.emit(generation, process.exitcode)
        except RuntimeError:
            pass

    def _stop_pipes(self) -> None:
        if self._requests is not None:
            self._requests.close()
        self._process, self._requests, self._reader = None, None, None
        self._posted = self._served = 0

    def _post(self, kind: str, value: object) -> None:
        if self._requests is None:
            return
        self._posted += 1
        try:
            self._requests.send((kind, self._posted, value))
        except OSError:  # the process died: `_ended` restarts it
            pass

    # -- replies ------------------------------------------------------------------------------------
    def _on_message(self, generation: int, message: tuple) -> None:
        if generation != self._generation:
            return
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

    def _on_ended(self, generation: int, exitcode: int | None) -> None:
        if generation != self._generation:
            return
        how = _how_it_ended(exitcode)
        self._stop_pipes()
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

    def _on_explained(self, seq: int, explanation: Explanation) -> None:
        if seq == self._shown and self._shown_result is not None:
            self.explained.emit(replace(explanation, recognition=self._shown_result.recognition))
