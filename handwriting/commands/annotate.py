"""`handwriting annotate NOTE.xopp --out NOTE-text.xopp`: Xournal++ notes with their text.

Writes a copy of a Xournal++ (.xopp) or Xournal (.xoj) file in which every page has the
recognised words on a layer of its own, "Recognised text": one text box over each word's
ink, which Xournal++ shows, searches and exports to PDF (hide the layer to see the ink
alone). Running it again on its own output replaces that layer. The copy is always
gzip-compressed XML, which both programs open.
"""

from __future__ import annotations

import argparse
import re

from handwriting.commands.pdf import recognized_pages
from handwriting.commands.recognize import add_model_options
from handwriting.errors import HandwritingError
from handwriting.formats import detect_format, xournal
from handwriting.formats.page import page_of
from handwriting.recognition.textlayer import xournal_texts

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("annotate", help="copy of a Xournal++ note with the recognised words on a layer",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="NOTE", help="Xournal++ .xopp or Xournal .xoj file")
    p.add_argument("--out", required=True, metavar="OUT.xopp", help="the annotated copy to write")
    p.add_argument("--color", type=_color, default="#3333ccff", metavar="#RRGGBBAA", help="colour of the text (default blue)")
    add_model_options(p)
    p.set_defaults(run=_run)


def _color(text: str) -> str:
    if not re.fullmatch(r"#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a colour like #3333ccff")
    return text.lower() if len(text) == 9 else text.lower() + "ff"


def _run(args: argparse.Namespace) -> int:
    if detect_format(args.file) != xournal.NAME:
        raise HandwritingError(f"{args.file}: not a Xournal++ or Xournal file (try `handwriting pdf`)")
    root = xournal.load_document(args.file)
    pages = recognized_pages(args)
    xournal.add_text_layer(root, [xournal_texts(words, page_of(ink)) for ink, words in pages], args.color)
    xournal.save_document(root, args.out)
    words = sum(len(w) for _, w in pages)
    print(f"wrote {args.out}: {words} words on {len(pages)} page{'s' * (len(pages) != 1)}")
    return 0
