"""Personal adaptation on writers the model never saw: fine-tune on ~30 lines, test on the rest.

    python -m bench.adaptation --model models/handwriting-en.onnx --shard prep/iamondb/val.npz \
        --writers 3 --lines 30 --minutes 8 --out bench/adaptation.json

For each of the writers with the most lines in the held-out shard, the first `--lines`
lines go to `handwriting.finetune` (which itself holds a quarter back), the remaining
lines are the test set; greedy CER on them before and after is reported.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from handwriting.atomic import atomic_write
from handwriting.finetune import finetune
from handwriting.metrics import ErrorCounts
from handwriting.recognizer import Recognizer
from handwriting.shards import read_shard

__all__ = ["main"]


def _cer(model: Path, inks) -> float:
    recognizer = Recognizer(model, lm=None)
    counts = ErrorCounts()
    for ink, result in zip(inks, recognizer.recognize_batch(inks)):
        counts.add(ink.label, result.text)
    return counts.cer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--shard", required=True, help="held-out writers' shard (val.npz)")
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--lines", type=int, default=30)
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    by_writer = defaultdict(list)
    for ink in read_shard(args.shard):
        by_writer[ink.writer].append(ink)
    chosen = sorted(by_writer, key=lambda w: -len(by_writer[w]))[: args.writers]
    rows = []
    for writer in chosen:
        inks = by_writer[writer]
        adapt, test = inks[: args.lines], inks[args.lines:]
        with tempfile.TemporaryDirectory() as tmp:
            adapted = Path(tmp) / "adapted.onnx"
            started = time.monotonic()
            report = finetune(adapt, adapted, args.model, epochs=100, minutes=args.minutes)
            seconds = time.monotonic() - started
            before = _cer(Path(args.model), test)
            after = _cer(adapted, test) if report.written else before
        rows.append({"writer": writer, "adapt_lines": len(adapt), "test_lines": len(test), "cer_before": before,
                     "cer_after": after, "relative_reduction": (before - after) / before if before else 0.0,
                     "seconds": seconds, "epochs": report.epochs, "written": report.written})
        print(json.dumps(rows[-1]), flush=True)
    summary = {"model": args.model, "rows": rows,
               "mean_relative_reduction": sum(r["relative_reduction"] for r in rows) / max(len(rows), 1)}
    with atomic_write(args.out) as fh:
        json.dump(summary, fh, indent=1)


if __name__ == "__main__":
    main()
