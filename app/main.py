"""Starting the app: platform check, window, optional replay and screenshot.

`run(...)` is what `handwriting app` calls. Without a display (and no offscreen
platform asked for) it raises a HandwritingError with what to do instead of letting
Qt abort; with `screenshot` and no display it renders offscreen by itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable

from PyQt6.QtCore import QElapsedTimer, QTimer
from PyQt6.QtWidgets import QApplication

from app.collect import samples_folder
from app.png import save_png
from app.window import MainWindow
from handwriting.errors import HandwritingError
from handwriting.formats import read_inks
from handwriting.ink import Ink

__all__ = ["run", "platform_problem"]

SETTLE_POLL_MS = 50
SETTLE_TIMEOUT_MS = 120000  # a page's final reading and explanation take long on a busy machine


def platform_problem(environ: dict[str, str] | os._Environ = os.environ, platform: str = sys.platform) -> str | None:
    """Why no Qt window can open here (None when one can)."""
    if not platform.startswith("linux"):
        return None
    chosen = environ.get("QT_QPA_PLATFORM", "").split(":")[0]
    has_x, has_wayland = bool(environ.get("DISPLAY")), bool(environ.get("WAYLAND_DISPLAY"))
    if chosen in ("", "xcb") and not has_x and not (chosen == "" and has_wayland):
        return ("no display to show the window on: set DISPLAY (e.g. run under Xvfb), "
                "or set QT_QPA_PLATFORM=offscreen (with --screenshot to get a picture)")
    if chosen == "wayland" and not has_wayland:
        return "QT_QPA_PLATFORM=wayland but WAYLAND_DISPLAY is not set"
    return None


def _replay_ink(path: str | Path, index: int | None) -> Ink:
    inks = read_inks(path)
    if not inks:
        raise HandwritingError(f"{path}: it holds no ink")
    index = 0 if index is None else index
    if not 0 <= index < len(inks):
        raise HandwritingError(f"{path} holds {len(inks)} inks; there is no ink {index}")
    return inks[index]


def run(model: str | Path | None = None, replay: str | Path | None = None, speed: float = 1.0,
        screenshot: str | Path | None = None, index: int | None = None, samples: str | Path | None = None) -> int:
    """Show the app until it is closed; with `screenshot`, save the window after the replay and exit.
    Collected samples go to `samples` (remembered), else to the folder remembered from before."""
    if speed <= 0:
        raise HandwritingError(f"--speed must be positive, not {speed}")
    ink = _replay_ink(replay, index) if replay is not None else None
    problem = platform_problem()
    if problem and screenshot is not None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif problem:
        raise HandwritingError(problem)

    app = QApplication.instance() or QApplication(["handwriting"])
    window = MainWindow(model, samples=samples_folder(samples))
    window.service.modelFailed.connect(lambda reason: print(f"handwriting app: {reason}", file=sys.stderr))
    window.show()
    outcome = {"code": 0}

    def shoot() -> None:
        try:
            save_png(window.grab(), screenshot)
        except HandwritingError as exc:
            print(f"handwriting app: {exc}", file=sys.stderr)
            outcome["code"] = 1
        window.close()

    settler = _Settler(window, shoot) if screenshot is not None else None
    if ink is not None:
        replayer = window.replay(ink, speed)
        if settler is not None:
            replayer.finished.connect(settler.start)
    elif settler is not None:
        QTimer.singleShot(0, settler.start)
    app.exec()
    return outcome["code"]


class _Settler:
    """Calls `then` once the worker has been idle for two polls in a row (or after a timeout),
    so that the screenshot shows the recognition of the whole ink."""

    def __init__(self, window: MainWindow, then: Callable[[], None]) -> None:
        self.window, self.then = window, then
        self.quiet = 0
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(SETTLE_POLL_MS)
        self.timer.timeout.connect(self._poll)

    def start(self) -> None:
        self.clock.start()
        self.timer.start()

    def _poll(self) -> None:
        self.quiet = self.quiet + 1 if self.window.service.is_idle() else 0
        if self.quiet >= 2 or self.clock.elapsed() > SETTLE_TIMEOUT_MS:
            self.timer.stop()
            self.then()
