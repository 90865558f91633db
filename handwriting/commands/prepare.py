"""`handwriting prepare CORPUS SRC --out DIR`: raw corpus -> writer-disjoint training shards."""

from __future__ import annotations

import argparse
import sys

from handwriting.training.prepare import CORPORA, prepare
from handwriting.options import fraction, nonnegative_int

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prepare", help="turn a raw corpus (folder or .tar archive) into training shards")
    p.add_argument("corpus", choices=sorted(CORPORA), help="corpus kind")
    p.add_argument("source", help="corpus folder or its distribution archive (.tar.gz / .tar.xz)")
    p.add_argument("--out", required=True, help="output folder for train.npz, val.npz, summary.json")
    p.add_argument("--val-fraction", type=fraction, default=0.1, help="share of writers held out (default 0.1)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the writer split")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    summary = prepare(args.corpus, args.source, args.out, val_fraction=args.val_fraction, seed=args.seed)
    print(
        f"{summary['corpus']}: kept {summary['kept']} ({summary['train']} train, {summary['val']} val; "
        f"{summary['train_writers']} + {len(summary['val_writers'])} writers)",
        file=sys.stdout,
    )
    for reason, count in summary["dropped"].items():
        print(f"  dropped {count:6d}  {reason}")
    return 0
