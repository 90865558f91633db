"""`handwriting explain FILE [--index N] [--char K] [--model M] [--out view.png] [--json out.json]`.

Recognises one ink and shows what the network did, as the app's Graves panel does:
recognised characters at their emission frames, a heatmap of memory cells, the writing,
and the saliency of one character (--char K, the K-th recognised character; default the
last) on the dx/dy inputs. The picture is painted offscreen by the app's painter (found
through the `handwriting.renderers` entry point; it needs PyQt6); --json writes the arrays
(features, log-probs, cells shown, saliency per frame and per point) and needs no Qt.
"""

from __future__ import annotations

import argparse

from handwriting.atomic import atomic_write
from handwriting.errors import HandwritingError
from handwriting.formats import read_inks
from handwriting.jsonsafe import dumps
from handwriting.limits import recognize_problem
from handwriting.options import nonnegative_int, output_file, positive_int
from handwriting.plugins import renderer
from handwriting.recognition.recognizer import Recognizer

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain", help="picture (and JSON) of cell states and saliency for one ink",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="FILE", help="ink file")
    p.add_argument("--index", type=nonnegative_int, default=0, metavar="N", help="which ink of the file (default 0)")
    p.add_argument("--char", type=nonnegative_int, metavar="K", help="explain the K-th recognised character (default: the last)")
    p.add_argument("--model", help="model file (default: models/handwriting-en.onnx or $HANDWRITING_MODEL)")
    p.add_argument("--cells", choices=["active", "variable"], default="active",
                   help="show the most active or the most variable cells (default active)")
    p.add_argument("--count", type=positive_int, default=16, metavar="K", help="how many cells to show (default 16)")
    p.add_argument("--size", default="1400x520", metavar="WxH", help="picture size in pixels (default 1400x520)")
    p.add_argument("--out", type=output_file, metavar="view.png", help="the PNG to write")
    p.add_argument("--json", type=output_file, metavar="out.json", help="write the explanation's arrays as JSON")
    p.set_defaults(run=_run)


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise HandwritingError(f"--size must look like 1400x520, not {text!r}") from None
    if not (200 <= width <= 10000 and 150 <= height <= 10000):
        raise HandwritingError(f"--size {text} is outside 200x150 .. 10000x10000")
    return width, height


def _run(args: argparse.Namespace) -> int:
    from handwriting.recognition.explain import explain  # imports onnx, slow: only when the command runs

    if not (args.out or args.json):
        raise HandwritingError("nothing to write: give --out view.png, --json out.json or both")
    width, height = _size(args.size)
    render = renderer("graves-png") if args.out else None
    if args.out and render is None:
        raise HandwritingError("drawing the picture needs the app's painter (package app, PyQt6), which is not "
                               "installed here; --json alone needs neither")
    inks = read_inks(args.file)
    if not 0 <= args.index < len(inks):
        raise HandwritingError(f"{args.file} holds {len(inks)} inks; there is no ink {args.index}")
    ink = inks[args.index]
    if problem := recognize_problem(ink.num_points):
        raise HandwritingError(f"{args.file}: ink {args.index}: {problem}")
    recognizer = Recognizer(args.model)
    recognition = recognizer.recognize(ink, with_hidden=True)
    target = None
    if args.char is not None:
        chars = recognition.characters
        if not 0 <= args.char < len(chars):
            raise HandwritingError(f"--char {args.char}: {len(chars)} characters were recognised "
                                   f"({recognition.text!r})")
        target = (chars[args.char].frame, recognizer.alphabet.encode(chars[args.char].char)[0])
    explanation = explain(recognizer, recognition, target, cells=args.cells, k=args.count, num_points=ink.num_points)
    if render is not None:
        render(explanation, args.out, width, height, args.cells, args.count)
    if args.json:
        record = {"file": str(args.file), "index": args.index, "model": recognizer.name, **recognition.to_dict(),
                  **explanation.to_dict()}
        with atomic_write(args.json) as fh:
            fh.write(dumps(record))
    print(f"{recognition.text!r}: wrote " + " and ".join(str(path) for path in (args.out, args.json) if path))
    return 0
