"""`handwriting train`: CTC training from prepared shards (see `handwriting.train`)."""

from __future__ import annotations

import argparse

from handwriting.errors import HandwritingError
from handwriting.options import float_range, nonnegative_int, positive_float, positive_int

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model from prepared shards (resumable; runs under torchrun)")
    p.add_argument("--data", nargs="+", required=True, help="shard folders made by `handwriting prepare`")
    p.add_argument("--out", required=True, help="run folder for checkpoints and history.json")
    p.add_argument("--epochs", type=positive_int, default=100)
    p.add_argument("--minutes", type=positive_float, help="stop (with a checkpoint) after this much wall time")
    p.add_argument("--batch-frames", type=positive_int, default=3000, help="frames per batch (longest x count)")
    p.add_argument("--lr", type=positive_float, default=1.5e-3)
    p.add_argument("--lr-decay", type=positive_float, default=1.0,
                   help="multiply the learning rate by this after every epoch (on top of halving on a plateau)")
    p.add_argument("--hidden", type=positive_int, default=96)
    p.add_argument("--layers", type=positive_int, default=3)
    p.add_argument("--dropout", type=float_range(0, 1, high_open=True), default=0.2)
    p.add_argument("--step", type=positive_float, default=0.2, help="resampling step, fraction of the writing height")
    p.add_argument("--no-augment", dest="augment", action="store_false")
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--resume", help="checkpoint to continue from (weights, optimizer, schedule)")
    p.add_argument("--init", help="checkpoint whose weights start a new run (fine-tuning)")
    p.add_argument("--max-train", type=positive_int, help="use at most this many training inks")
    p.add_argument("--max-val", type=positive_int, help="validate on at most this many inks of each data folder")
    p.add_argument("--max-frames", type=positive_int, help="train only on items of at most this many frames (curriculum)")
    p.add_argument("--workers", type=nonnegative_int, default=1, help="data-loading processes")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="torch threads per process (default 1: on a few shared cores more threads thrash)")
    p.add_argument("--weight", action="append", default=[], metavar="FOLDER=W",
                   help="sampling weight of a data folder by its name, e.g. unipen=0.5")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        from handwriting.train import TrainOptions, train
    except ImportError as exc:
        raise HandwritingError(f"training needs torch: pip install 'handwriting[train]' ({exc})") from None
    try:
        weights = {k: float(v) for k, v in (w.split("=", 1) for w in args.weight)}
    except ValueError:
        raise HandwritingError("--weight expects FOLDER=NUMBER") from None
    options = TrainOptions(
        data=args.data, out=args.out, epochs=args.epochs, minutes=args.minutes, batch_frames=args.batch_frames,
        lr=args.lr, lr_decay=args.lr_decay, hidden=args.hidden, layers=args.layers, dropout=args.dropout, step=args.step,
        augment=args.augment, seed=args.seed, resume=args.resume, init=args.init, max_train=args.max_train,
        max_val=args.max_val, max_frames=args.max_frames, workers=args.workers, weights=weights, threads=args.threads,
    )
    state = train(options)
    print(f"finished at epoch {state['epoch']}, best validation CER {state['best_cer']:.4f}")
    return 0
