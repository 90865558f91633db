"""`handwriting finetune --data DIR --out my-model.onnx`: adapt a model to one writer; its
options are the fields of `FinetuneOptions`. Progress is one JSON record per epoch on
stdout; `--json` makes the final report a JSON record too (as the app reads it)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

from handwriting.errors import HandwritingError
from handwriting.jsonsafe import dumps
from handwriting.options import add_options, options_from
from handwriting.training.train_options import FinetuneOptions

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("finetune", help="adapt a model to one writer's labelled ink")
    add_options(p, FinetuneOptions)
    p.add_argument("--json", action="store_true", help="the final report as one JSON record")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        from handwriting.training.finetune import finetune, load_labelled
    except ImportError as exc:
        raise HandwritingError(f"fine-tuning needs torch: pip install 'handwriting[train]' ({exc})") from None
    options = options_from(args, FinetuneOptions)
    inks, problems = load_labelled(options.data)
    for problem in problems:
        print(f"skipped: {problem}", file=sys.stderr)
    report = finetune(inks, options)
    lm = Path(options.out).with_suffix(".lm")
    if args.json:
        print(dumps({"report": {**asdict(report), "out": options.out if report.written else None,
                                "lm": str(lm) if report.written and lm.is_file() else None}}))
    else:
        print(f"held-back CER {report.cer_before:.2%} -> {report.cer_after:.2%} "
              f"({report.trained_on} inks trained, {report.held_back} held back, {report.epochs} epochs)")
    if not report.written:
        print("not written: the adapted model is not better on the held-back inks", file=sys.stderr)
        return 1
    if not args.json:
        print(f"wrote {options.out}" + (f" and its language model {lm}" if lm.is_file() else ""))
    return 0
