"""`handwriting finetune --data DIR --out my-model.onnx`: adapt a model to one writer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from handwriting.errors import HandwritingError
from handwriting.options import fraction, nonnegative_int, output_file, positive_float, positive_int

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("finetune", help="adapt a model to one writer's labelled ink")
    p.add_argument("--data", nargs="+", required=True, help="labelled ink files or folders (e.g. collected in the app)")
    p.add_argument("--base", help="model to start from (default: the shipped model)")
    p.add_argument("--out", required=True, type=output_file, help="the adapted .onnx model to write")
    p.add_argument("--epochs", type=positive_int, default=40)
    p.add_argument("--minutes", type=positive_float, default=10.0, help="time limit (default 10)")
    p.add_argument("--holdout", type=fraction, default=0.25, help="share of inks held back to check progress")
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        from handwriting.finetune import finetune, load_labelled
    except ImportError as exc:
        raise HandwritingError(f"fine-tuning needs torch: pip install 'handwriting[train]' ({exc})") from None
    inks, problems = load_labelled(args.data)
    for problem in problems:
        print(f"skipped: {problem}", file=sys.stderr)
    report = finetune(inks, args.out, args.base, args.epochs, args.minutes, args.holdout, args.seed)
    print(f"held-back CER {report.cer_before:.2%} -> {report.cer_after:.2%} "
          f"({report.trained_on} inks trained, {report.held_back} held back, {report.epochs} epochs)")
    if not report.written:
        print("not written: the adapted model is not better on the held-back inks", file=sys.stderr)
        return 1
    lm = Path(args.out).with_suffix(".lm")
    print(f"wrote {args.out}" + (f" and its language model {lm}" if lm.is_file() else ""))
    return 0
