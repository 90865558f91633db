"""`handwriting train`: CTC training from prepared shards (see `handwriting.training.train`); its
options are the fields of `TrainOptions`."""

from __future__ import annotations

import argparse
from pathlib import Path

from handwriting.errors import HandwritingError
from handwriting.options import add_options, options_from
from handwriting.training.train_options import TrainOptions

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model from prepared shards (resumable; runs under torchrun)")
    add_options(p, TrainOptions)
    p.add_argument("--weight", action="append", default=[], metavar="FOLDER[/LEVEL]=W",
                   help="sampling weight of a data folder by its name, e.g. unipen=0.5, or of one level "
                        "of its items, e.g. unipen/character=1 (levels: character, word, text)")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        from handwriting.training.train import train
    except ImportError as exc:
        raise HandwritingError(f"training needs torch: pip install 'handwriting[train]' ({exc})") from None
    try:
        weights = {_weight_key(k): float(v) for k, v in (w.split("=", 1) for w in args.weight)}
    except ValueError:
        raise HandwritingError("--weight expects FOLDER=NUMBER or FOLDER/LEVEL=NUMBER") from None
    folders = {Path(root).name for root in args.data}
    unknown = sorted(k for k in weights if k.split("/")[0] not in folders)
    if unknown:
        raise HandwritingError(f"--weight {unknown[0]}: no data folder of that name in --data")
    state = train(options_from(args, TrainOptions, weights=weights))
    print(f"finished at epoch {state['epoch']}, best validation CER {state['best_cer']:.4f}")
    return 0


def _weight_key(key: str) -> str:
    """`folder` or `folder/level`, the level in lower case as `weighted_groups` looks it up."""
    folder, _, level = key.partition("/")
    return f"{folder}/{level.lower()}" if level else folder
