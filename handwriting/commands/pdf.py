"""`handwriting pdf NOTE --out NOTE.pdf`: a searchable PDF of handwritten pages.

Every item of the file (a page of a .xopp, a reMarkable page, an ink) becomes a PDF page
showing the ink as vector paths, with the recognised words as invisible text over each
word's ink: any PDF viewer then finds, selects and copies them. Pages are the size the
note declares (Xournal++, reMarkable), else the writing with a margin. The PDF is painted
by the app's PDF writer (PyQt6's QPdfWriter, found through the `handwriting.renderers`
entry point), so that the library itself needs no Qt.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from handwriting.commands.recognize import add_model_options, recognizer_options
from handwriting.errors import HandwritingError
from handwriting.formats import read_inks
from handwriting.ink import Ink
from handwriting.limits import recognize_problem
from handwriting.plugins import renderer
from handwriting.recognition.textlayer import PlacedWord, placed_words

__all__ = ["register", "recognized_pages"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pdf", help="searchable PDF: the ink, with the recognised words as invisible text",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="NOTE", help="ink file (.xopp, .xoj, .rm, .inkml, ...)")
    p.add_argument("--out", required=True, metavar="OUT.pdf", help="the PDF to write")
    add_model_options(p)
    p.set_defaults(run=_run)


def recognized_pages(args: argparse.Namespace) -> list[tuple[Ink, list[PlacedWord]]]:
    """Every item of `args.file` with its recognised words placed on it (none on an empty page);
    HandwritingError for an item over the limits `recognize` applies, before any is read."""
    inks = read_inks(args.file)
    if not inks:
        raise HandwritingError(f"{args.file}: holds no ink")
    for index, ink in enumerate(inks):
        if problem := recognize_problem(ink.num_points):
            raise HandwritingError(f"{args.file}: item {index}: {problem}")
    from handwriting.recognition.recognizer import Recognizer

    recognizer = Recognizer(args.model, **recognizer_options(args))
    written = [ink for ink in inks if not ink.is_empty]
    found = iter(recognizer.recognize_batch(written))
    return [(ink, [] if ink.is_empty else placed_words(next(found))) for ink in inks]


def _run(args: argparse.Namespace) -> int:
    write_pdf = renderer("searchable-pdf")
    if write_pdf is None:
        raise HandwritingError("writing a PDF needs the app's PDF writer (package app, PyQt6), which is not installed here")
    pages = recognized_pages(args)
    write_pdf(pages, args.out, title=Path(args.file).stem)
    words = sum(len(w) for _, w in pages)
    print(f"wrote {args.out}: {len(pages)} page{'s' * (len(pages) != 1)}, {words} words")
    return 0
