"""`handwriting app [--model M] [--replay FILE] [--speed X] [--screenshot OUT.png]`: the drawing pad.

The app registers this command itself (entry point `handwriting.commands`: the library
never imports the app), and the window's code and PyQt6 are imported only when it runs.
With --replay the file's ink is written onto the
pad in its original timing (divided by --speed) while live recognition runs; with
--screenshot the window is saved as PNG after the replay and the app exits (this works
without a display: it then renders offscreen).
"""

from __future__ import annotations

import argparse

from handwriting.errors import HandwritingError
from handwriting.recognition.modelfile import default_model_path, load_model_file
from handwriting.options import nonnegative_int, output_file, positive_float

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("app", help="the drawing pad with live recognition and the network's view",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="model file (default: models/handwriting-en.onnx or $HANDWRITING_MODEL)")
    p.add_argument("--replay", metavar="FILE", help="ink file to write onto the pad as it was written")
    p.add_argument("--index", type=nonnegative_int, metavar="N", help="which ink of a file holding several (default: the first)")
    p.add_argument("--speed", type=positive_float, default=1.0, help="replay speed factor (default 1: real time)")
    p.add_argument("--screenshot", type=output_file, metavar="OUT.png", help="save the window as PNG after the replay, then exit")
    p.add_argument("--samples", metavar="DIR", help="folder for collected samples (remembered; default: the one chosen before)")
    p.set_defaults(run=_run, handles_signals=True)  # (Qt's event loop would hold a Python signal handler back)


def _run(args: argparse.Namespace) -> int:
    try:
        from app.main import run
    except ImportError as exc:
        raise HandwritingError(f"the app needs PyQt6 ({exc})") from None
    if args.model or args.screenshot:  # a bad model named or needed: one line and exit 1, before any window
        load_model_file(args.model or default_model_path())
    return run(args.model, args.replay, args.speed, args.screenshot, args.index, args.samples)
