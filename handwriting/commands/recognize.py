"""`handwriting recognize PATH...`: batch recognition to JSON lines, CSV or plain text."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from typing import Iterable, TextIO

from handwriting.atomic import atomic_write
from handwriting.recognition.batch import ItemResult, recognize_files
from handwriting.recognition.decode import DEFAULT_BEAM, LM_WEIGHT
from handwriting.jsonsafe import dumps
from handwriting.recognition.modes import MODES, Reading, WritingGuide
from handwriting.recognition.temperature import RANGE as TEMPERATURES
from handwriting.options import finite_float, float_range, nonnegative_int, output_file, positive_float, positive_int

__all__ = ["register", "add_model_options", "recognizer_options"]


def add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="ONNX model (default: the shipped model, or $HANDWRITING_MODEL)")
    p.add_argument("--beam", type=nonnegative_int, default=0, help=f"beam width (0: greedy, or beam {DEFAULT_BEAM} when an LM is used)")
    p.add_argument("--lm", help="character language model (.lm); default: the one beside the model")
    p.add_argument("--no-lm", action="store_true", help="decode without a language model")
    p.add_argument("--lm-weight", type=finite_float, default=LM_WEIGHT, help=f"weight of the LM's log-probabilities (default {LM_WEIGHT})")
    p.add_argument("--temperature", type=float_range(*TEMPERATURES), metavar="T",
                   help="flatten the network's readings by T before the beam weighs them against the LM, "
                        "for several words and for one (default: the model's two, fitted by `calibrate`, else 1)")
    p.add_argument("--mode", choices=MODES, default="text",
                   help="what is written: lines of text (default), one word, one character, or numbers")
    p.add_argument("--context", default="", metavar="TEXT", help="text written before the ink (for the LM)")
    p.add_argument("--guide-height", type=positive_float, metavar="H",
                   help="writing guide: height of one ruled line in the ink's units (lets size tell o from O)")


def recognizer_options(args: argparse.Namespace) -> dict:
    lm = None if args.no_lm else (args.lm or "auto")
    guide = WritingGuide(args.guide_height) if args.guide_height else None
    return {"beam": args.beam, "lm": lm, "lm_weight": args.lm_weight, "temperature": args.temperature,
            "word_alternatives": getattr(args, "word_alternatives", 0), "reading": Reading(args.mode, args.context, guide)}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("recognize", help="recognise ink files (InkML, IAM-OnDB XML, UNIPEN, JSON)")
    p.add_argument("paths", nargs="+", help="files, directories or globs")
    add_model_options(p)
    p.add_argument("--jobs", type=positive_int, default=1, help="worker processes")
    p.add_argument("--format", choices=["jsonl", "csv", "text"], default="text")
    p.add_argument("--word-alternatives", type=nonnegative_int, default=0, metavar="N",
                   help="up to N readings of every word (in jsonl: words[].alternatives)")
    p.add_argument("--output", type=output_file, help="write results to this file (atomically) instead of stdout")
    p.add_argument("--y-up", action="store_true", help="the files hold ink with y pointing up: flip it before reading")
    p.set_defaults(run=_run)


def _write(results: Iterable[ItemResult], fmt: str, out: TextIO) -> int:
    failures = 0
    writer = csv.writer(out) if fmt == "csv" else None
    if writer:
        writer.writerow(["path", "index", "label", "text", "alternatives", "error"])
    for r in results:
        failures += r.error is not None
        if r.warning:
            print(f"warning: {r.warning}", file=sys.stderr)
        if fmt == "jsonl":
            out.write(dumps(r.to_dict(), ensure_ascii=False) + "\n")
        elif writer:
            writer.writerow([r.path, r.index, r.label or "", r.text or "", " | ".join(a["text"] for a in r.alternatives), r.error or ""])
        elif r.error:
            print(f"error: {r.error}", file=sys.stderr)
        else:  # a page's lines one per row, the later ones indented under the first
            out.write(f"{r.path}[{r.index}]\t" + "\n\t".join((r.text or "").split("\n")) + "\n")
    return failures


def _run(args: argparse.Namespace) -> int:
    results = recognize_files(args.paths, args.model, args.jobs, progress=sys.stderr.isatty(), y_up=args.y_up,
                              **recognizer_options(args))
    if args.output:
        buffer = io.StringIO()
        failures = _write(results, args.format, buffer)
        with atomic_write(args.output) as fh:
            fh.write(buffer.getvalue())
    else:
        failures = _write(results, args.format, sys.stdout)
    return 1 if failures else 0
