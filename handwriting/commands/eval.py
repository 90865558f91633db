"""`handwriting eval PATH...`: character and word error rates of a model on labelled ink."""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict

from handwriting.recognition.batch import recognize_files
from handwriting.commands.recognize import add_model_options, recognizer_options
from handwriting.errors import HandwritingError
from handwriting.jsonsafe import dumps
from handwriting.options import nonnegative_int, positive_int
from handwriting.metrics import ErrorCounts

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="measure CER/WER on labelled ink files")
    p.add_argument("paths", nargs="+", help="labelled ink files, directories or globs")
    add_model_options(p)
    p.add_argument("--jobs", type=positive_int, default=1, help="worker processes")
    p.add_argument("--json", action="store_true", help="one JSON object per file, then a summary object")
    p.add_argument("--show", type=nonnegative_int, default=0, metavar="N", help="print the N worst lines")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    total, per_file = ErrorCounts(), defaultdict[str, ErrorCounts](ErrorCounts)
    skipped = failed = 0
    worst = []
    for r in recognize_files(args.paths, args.model, args.jobs, progress=sys.stderr.isatty(), **recognizer_options(args)):
        if r.error:
            failed += 1
            print(f"error: {r.error}", file=sys.stderr)
            continue
        if not r.label:
            skipped += 1
            continue
        chars, _ = total.add(r.label, r.text or "")
        per_file[r.path].add(r.label, r.text or "")
        worst.append((chars / max(len(r.label), 1), r.label, r.text or ""))
    if total.chars == 0:
        raise HandwritingError("no labelled ink found to evaluate")
    if args.json:
        for path, c in per_file.items():
            print(dumps({"path": path, "cer": c.cer, "wer": c.wer, "chars": c.chars, "words": c.words}))
        print(dumps({"summary": True, "cer": total.cer, "wer": total.wer, "chars": total.chars,
                          "words": total.words, "files": len(per_file), "unlabelled": skipped, "failed": failed}))
    else:
        print(f"{'files':>8} {'chars':>8} {'words':>7} {'CER':>7} {'WER':>7}")
        print(f"{len(per_file):8d} {total.chars:8d} {total.words:7d} {total.cer:7.2%} {total.wer:7.2%}")
        if skipped or failed:
            print(f"({skipped} unlabelled items skipped, {failed} unreadable)")
        for cer, label, text in sorted(worst, reverse=True)[: args.show]:
            print(f"{cer:6.1%}  {label!r}\n        {text!r}")
    return 1 if failed else 0
