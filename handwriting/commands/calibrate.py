"""`handwriting calibrate MODEL --data DIR --out OUT`: teach a model's character mode what
lone characters look like.

The prior (`handwriting.recognition.character_prior`) is fitted on the lone characters
(items labelled with one character) of the prepared folders' training splits and
measured on those of their validation splits, whose writers it never saw; it is written
into a copy of the model's metadata. Run it again after `export` or `train`: a prior
belongs to the weights it was fitted with.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import replace
from pathlib import Path

from handwriting.errors import HandwritingError
from handwriting.options import int_range, output_file
from handwriting.shards import read_split

__all__ = ["register"]

MIN_CHARACTERS = 200  # fewer cannot say much about some 90 characters


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="fit how character mode weighs size and shape, on lone characters", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="the .onnx model to calibrate")
    p.add_argument("--data", nargs="+", required=True, metavar="DIR", help="folders written by `handwriting prepare`")
    p.add_argument("--out", required=True, type=output_file, help="the calibrated model to write (may be MODEL itself)")
    p.add_argument("--max-items", type=int_range(MIN_CHARACTERS), default=50_000,
                   help="fit on at most this many lone characters, drawn at random (default 50000)")
    p.add_argument("--seed", type=int, default=0, help="for the draw (default 0)")
    p.add_argument("--threads", type=int_range(1), default=2, help="onnxruntime threads (default 2)")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        from handwriting.training.calibrate import errors, fit, lone_characters, measure, write_prior
    except ImportError as exc:
        raise HandwritingError(f"calibrate needs torch: pip install 'handwriting[train]' ({exc})") from None
    from handwriting.recognition.character_prior import CharacterPriors
    from handwriting.recognition.recognizer import Recognizer

    recognizer = Recognizer(args.model, lm=None, threads=args.threads)
    train = lone_characters([ink for root in args.data for ink in read_split(root, "train")], recognizer)
    if len(train) < MIN_CHARACTERS:
        raise HandwritingError(f"{', '.join(args.data)}: {len(train)} lone characters in the training split; "
                               f"at least {MIN_CHARACTERS} needed")
    train = random.Random(args.seed).sample(train, min(args.max_items, len(train)))
    held_out = lone_characters([ink for root in args.data if any(Path(root).rglob("val*.npz"))
                                for ink in read_split(root, "val")], recognizer)
    fitted = measure(recognizer, train, "reading training characters")
    priors = CharacterPriors(fit(fitted, use_guide=True), fit(fitted, use_guide=False), {})
    report = {"characters": len(train), "writers": len({ink.writer for ink in train}),
              "data": [Path(root).name for root in args.data]}
    sets = {"training": fitted} | ({"held-out": measure(recognizer, held_out, "reading held-out characters")} if held_out else {})
    for name, measured in sets.items():
        for use_guide, prior in ((False, priors.without_guide), (True, priors.with_guide)):
            key = f"{name} {'with' if use_guide else 'without'} guide"
            before, after = errors(measured, None, use_guide), errors(measured, prior, use_guide)
            report[key] = {"items": len(measured), "errors_before": before, "errors_after": after}
            print(f"{key:>27}: {len(measured):6d} characters, wrong {before / len(measured):6.2%} -> {after / len(measured):6.2%}")
    write_prior(recognizer.model.data, replace(priors, fitted_on=report), args.out)
    print(f"wrote {args.out}")
    return 0
