"""`handwriting train`: CTC training from prepared shards (see `handwriting.training.train`); its
options are the fields of `TrainOptions`."""

from __future__ import annotations

import argparse

from handwriting.errors import HandwritingError
from handwriting.options import add_options, options_from
from handwriting.training.train_options import TrainOptions

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model from prepared shards (resumable; runs under torchrun)")
    add_options(p, TrainOptions)
    p.add_argument("--weight", action="append", default=[], metavar="FOLDER=W",
                   help="sampling weight of a data folder by its name, e.g. unipen=0.5")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        from handwriting.training.train import train
    except ImportError as exc:
        raise HandwritingError(f"training needs torch: pip install 'handwriting[train]' ({exc})") from None
    try:
        weights = {k: float(v) for k, v in (w.split("=", 1) for w in args.weight)}
    except ValueError:
        raise HandwritingError("--weight expects FOLDER=NUMBER") from None
    state = train(options_from(args, TrainOptions, weights=weights))
    print(f"finished at epoch {state['epoch']}, best validation CER {state['best_cer']:.4f}")
    return 0
