"""Ending cleanly when told to: SIGTERM and SIGHUP raise SystemExit in the main thread, so
temporary files (`handwriting.atomic`) and folders (`handwriting-corpus-*`,
`handwriting-finetune-*`) are removed on the way out, as on Ctrl+C; worker processes end
with the process that started them, even a killed one (Linux: PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading

__all__ = ["exit_on_signals", "exit_if_signalled", "die_with_parent"]

_PR_SET_PDEATHSIG = 1


_received: list[int] = []  # signals whose SystemExit was raised


def _raise_exit(signum: int, _frame) -> None:
    signal.signal(signum, signal.SIG_DFL)  # a second signal ends the process at once
    _received.append(signum)
    raise SystemExit(128 + signum)


def exit_if_signalled() -> None:
    """Raise the signal's SystemExit again where it was lost: a handler that runs inside a
    finalizer (`__del__`, a weakref callback) has its exception printed and ignored by Python,
    so long loops call this once per step."""
    if _received:
        raise SystemExit(128 + _received[0])


def exit_on_signals() -> None:
    """In the main thread: SIGTERM and SIGHUP unwind the stack (cleaning up) and exit with 128 + signal."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _raise_exit)


def die_with_parent(parent: int) -> None:
    """In a worker process: receive SIGTERM when `parent` ends (however it ends), leave Ctrl+C
    to the parent, and end now if `parent` is already gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)
