"""The recognition process: loads models, recognises and explains inks for one app window.

`app.worker.RecognitionService` runs `python -m app.worker_process` as a child process and
talks to it over its stdin and stdout: each message is a frame, an 8-byte big-endian
length and a pickle (between our own two processes; never used on files). Qt is never
imported here. A reader thread puts every request into a mailbox that keeps only the
newest of each kind, so the app's writes always drain and an ink the pen has outrun is
skipped, never served. The main thread serves the mailbox, most urgent first: a model,
then a recognition, then an explanation. After a recognition, when no newer ink waits
and explanations are wanted, it also explains it (cell states and saliency for the
Graves panel), of the page's line that holds the newest stroke (`app.page_line`): the
panel follows the line being written. When stdin closes (the app ended, even if it was killed) the process
exits at once. Anything printed goes to stderr: stdout carries only frames.

Requests are `(kind, n, value)`, numbered by the app:
    ("model", n, (path, announce))   ("recognize", n, (seq, ink, final, mode, guide))
    ("explain", n, (seq, char|None)) ("explaining", n, on)
Replies:
    ("loaded", name, path, announce)          ("model_failed", reason, announce)
    ("recognized", Result)                    ("explained", seq, Explanation without its recognition, line)
    ("failed", message)                       ("idle", n): every request up to n is served
Results carry no hidden states (the app does not need them); explanations come without
their recognition, which the app cuts from the page's as `line_part(recognition, line)`.
A character to explain is numbered in that line.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Callable

import numpy as np

from app.page_line import current_line, line_part
from handwriting.recognition.decode import DEFAULT_BEAM, LIVE_BEAM
from handwriting.errors import HandwritingError
from handwriting.recognition.explain import explain
from handwriting.ink import Ink
from handwriting.recognition.recognizer import PageReader, Recognition, Recognizer
from handwriting.recognition.modes import WritingGuide

__all__ = ["Result", "FrameReader", "frame", "serve", "main", "WORD_ALTERNATIVES"]

WORD_ALTERNATIVES = 5  # readings offered per word of a final reading
URGENCY = ("model", "recognize", "explain")
_LENGTH = struct.Struct(">Q")


def frame(message: object) -> bytes:
    """One message as a frame: its pickle's length, then the pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


class FrameReader:
    """Turns bytes as they arrive (in any pieces) into messages."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[object]:
        """The messages completed by `data`."""
        self._buffer += data
        messages = []
        while len(self._buffer) >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(self._buffer)
            end = _LENGTH.size + size
            if len(self._buffer) < end:
                break
            messages.append(pickle.loads(self._buffer[_LENGTH.size:end]))
            del self._buffer[:end]
        return messages


@dataclass(frozen=True)
class Result:
    """A recognition of the ink submitted as `seq`, and how long the model took."""

    seq: int
    ink: Ink
    recognition: Recognition
    elapsed_ms: float


class _Mailbox:
    """The newest request of each kind: the reader thread puts, the serving thread takes."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._waiting: dict[str, object] = {}
        self.explaining = True
        self.received = 0  # number of the newest request put

    def put(self, kind: str, n: int, value: object) -> None:
        with self._ready:
            self.received = n
            if kind == "explaining":
                self.explaining = bool(value)
            else:
                self._waiting[kind] = value
            self._ready.notify()

    def take(self, idle: Callable[[int], None]) -> tuple[str, object]:
        """The most urgent request; when there is none, `idle(received)` is called, then it waits."""
        with self._ready:
            empty_at = None if self._waiting else self.received
        if empty_at is not None:
            idle(empty_at)
        with self._ready:
            self._ready.wait_for(lambda: self._waiting)
            kind = next(k for k in URGENCY if k in self._waiting)
            return kind, self._waiting.pop(kind)

    def waiting(self, kind: str) -> bool:
        with self._ready:
            return kind in self._waiting


class _Server:
    """The serving loop: one recognizer, the last result (with hidden states, for explaining)."""

    def __init__(self, mailbox: _Mailbox, send: Callable[[tuple], None]) -> None:
        self.mailbox, self.send = mailbox, send
        self.recognizer: Recognizer | None = None
        self.page: PageReader | None = None  # keeps the readings of the page's untouched lines
        self.last: Result | None = None

    def run(self) -> None:
        while True:
            kind, value = self.mailbox.take(lambda n: self.send(("idle", n)))
            if kind == "model":
                self._load(*value)
            elif kind == "recognize":
                self._recognize(*value)
            else:
                self._explain(*value)

    def _load(self, path: Path, announce: bool) -> None:
        try:
            recognizer = Recognizer(path, beam=DEFAULT_BEAM)
        except HandwritingError as exc:
            self.send(("model_failed", str(exc), announce))
        except Exception as exc:  # a damaged model must never stop the process
            self.send(("model_failed", f"{path}: {type(exc).__name__}: {exc}", announce))
        else:
            with contextlib.suppress(Exception):  # a model that cannot read says so at the first reading
                recognizer.warm_up()  # numba's set-up and the LM's first states: before "loaded", not at a stroke
            self.recognizer, self.page, self.last = recognizer, PageReader(recognizer), None
            self.send(("loaded", recognizer.name, path, announce))

    def _recognize(self, seq: int, ink: Ink, final: bool, mode: str = "text", guide: WritingGuide | None = None) -> None:
        if self.recognizer is None or self.page is None:
            return
        start = time.perf_counter()
        try:
            live_beam = LIVE_BEAM if self.recognizer.lm is not None else 0  # greedy without an LM
            options = {"beam": None if final else live_beam, "with_hidden": True, "ensemble": final,  # a second network at pen-up
                       "word_alternatives": WORD_ALTERNATIVES if final and mode == "text" else 0}
            if mode == "text":  # a page: only the lines that changed are read again
                recognition = self.page.read(ink, **options)
            else:
                recognition = self.recognizer.recognize(ink, mode=mode, guide=guide, **options)
        except Exception as exc:  # reported in the status bar; the next stroke tries again
            self.send(("failed", f"recognition failed: {type(exc).__name__}: {exc}"))
            return
        self.last = Result(seq, ink, recognition, (time.perf_counter() - start) * 1e3)
        self.send(("recognized", replace(self.last, recognition=replace(recognition, hidden=[]))))
        if self.mailbox.explaining and not self.mailbox.waiting("recognize"):
            self._explain(seq, None)

    def _explain(self, seq: int, char: int | None) -> None:
        last, recognizer = self.last, self.recognizer
        if recognizer is None or last is None or last.seq != seq or not len(last.recognition.frames):
            return
        line = current_line(last.recognition, last.ink.num_strokes - 1)
        part = line_part(last.recognition, line)
        target = None
        characters = part.characters
        if char is not None and 0 <= char < len(characters) and recognizer.alphabet.covers(characters[char].char):
            target = (characters[char].frame, recognizer.alphabet.encode(characters[char].char)[0])
        try:
            explanation = explain(recognizer, part, target, num_points=last.ink.num_points)
        except Exception as exc:
            self.send(("failed", f"explanation failed: {type(exc).__name__}: {exc}"))
            return
        if part is not last.recognition:  # only the line's own points get its saliency
            on_line = np.isin(last.ink.stroke_ids(), part.lines[0].strokes)
            explanation = replace(explanation, point_saliency=np.where(on_line, explanation.point_saliency, 0.0))
        self.send(("explained", seq, replace(explanation, recognition=None), line))


def _read(requests: BinaryIO, mailbox: _Mailbox) -> None:
    """Fill the mailbox until the app closes the pipe (or dies); then end the process."""
    reader = FrameReader()
    try:
        while chunk := requests.read1(1 << 16):
            for kind, n, value in reader.feed(chunk):
                mailbox.put(kind, n, value)
    except OSError:
        pass
    os._exit(0)


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """Serve the requests read from `requests`, writing replies to `replies`, until the app goes away."""

    def send(message: tuple) -> None:
        try:
            replies.write(frame(message))
            replies.flush()
        except OSError:  # the app is gone
            os._exit(0)

    mailbox = _Mailbox()
    threading.Thread(target=_read, args=(requests, mailbox), name="requests", daemon=True).start()
    _Server(mailbox, send).run()


def main() -> None:
    """`python -m app.worker_process`: serve stdin and stdout; prints go to stderr."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal is the app's to handle
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, replies)


if __name__ == "__main__":  # by name, so that replies pickle `app.worker_process.Result`, not `__main__.Result`
    from app.worker_process import main as serve_stdio

    serve_stdio()
