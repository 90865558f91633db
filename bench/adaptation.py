"""Personal adaptation as a user runs it, on IAM-OnDB writers the model never saw.

    nice -n 10 python -m bench.adaptation --out bench/adaptation.json

For each held-out writer (the validation writers of the prepared IAM-OnDB shard,
`summary.json`; `--writers N`: the N with the most usable lines), the lines of the writer's first
forms (at least `--lines` of them) are the adaptation set and the lines of the writer's other
forms the test set. The commands are those the README gives a user, with their defaults:

    handwriting finetune --data ADAPT_LINES... --out adapted.onnx     (writes adapted.lm beside it)
    handwriting recognize TEST_LINES... --model MODEL --format jsonl  (beam + the LM beside MODEL)

CER of the test lines is computed from `recognize`'s output, before (the base model) and
after (the adapted one; the base's CER when finetune writes no model), per writer and pooled
over all writers' test lines (a writer's few hundred characters move by whole errors).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.data import IAMONDB, PREP
from handwriting.atomic import atomic_write
from handwriting.formats import read_inks
from handwriting.metrics import ErrorCounts

__all__ = ["main", "writer_lines", "split_by_form", "errors_of"]

SUMMARY = PREP / "iamondb" / "summary.json"


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "handwriting.cli", *args], capture_output=True, text=True, env=env)


def _epochs(progress: str) -> int:
    """The last epoch finetune's progress records (JSON lines on its output) name."""
    epochs = [json.loads(line).get("epoch", 0) for line in progress.splitlines() if line.startswith("{")]
    return max(epochs, default=0)


def writer_lines(corpus: Path, writers: set[str]) -> dict[str, list[Path]]:
    """The line files of each writer in `writers` (ids as in the shards: `iamondb:10101`) that
    carry a label without crossed-out words, in form and line order."""
    form_writer = {}
    for row in (corpus / "writers.tsv").read_text().splitlines()[1:]:
        form, _, writer = row.partition("\t")
        if f"iamondb:{writer.strip()}" in writers:
            form_writer[form.strip()] = f"iamondb:{writer.strip()}"
    lines: dict[str, list[Path]] = defaultdict(list)
    for form, writer in sorted(form_writer.items()):
        folder = corpus / "lineStrokes" / form[:3] / form[:7]
        for path in sorted(folder.glob(f"{form}-*.xml")):
            label = read_inks(path)[0].label or ""
            if label.strip() and "#" not in label:
                lines[writer].append(path)
    return lines


def split_by_form(lines: list[Path], at_least: int) -> tuple[list[Path], list[Path]]:
    """(the lines of the first forms, at least `at_least` of them; the lines of the other forms)."""
    forms = list(dict.fromkeys(p.name.rsplit("-", 1)[0] for p in lines))
    adapt: list[Path] = []
    for form in forms:
        if len(adapt) >= at_least:
            break
        adapt += [p for p in lines if p.name.rsplit("-", 1)[0] == form]
    return adapt, [p for p in lines if p not in adapt]


def errors_of(model: Path, files: list[Path], out: Path) -> ErrorCounts:
    """Errors of `handwriting recognize --model MODEL` (its defaults: beam + LM) on `files`."""
    done = _cli("recognize", *map(str, files), "--model", str(model), "--format", "jsonl", "--output", str(out))
    if done.returncode != 0:
        raise SystemExit(f"recognize failed: {done.stderr.strip()}")
    counts = ErrorCounts()
    for line in out.read_text().splitlines():
        item = json.loads(line)
        counts.add(item["label"], item["text"])
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="models/handwriting-en.onnx")
    parser.add_argument("--corpus", type=Path, default=IAMONDB, help="IAM-OnDB folder: lineStrokes/, ascii/, writers.tsv")
    parser.add_argument("--summary", type=Path, default=SUMMARY, help="the prepared shard's summary.json (val_writers)")
    parser.add_argument("--writers", type=int, default=0, help="the N writers with the most lines (default: all)")
    parser.add_argument("--lines", type=int, default=30, help="at least this many lines to adapt on")
    parser.add_argument("--finetune", nargs=argparse.REMAINDER, default=[], help="extra finetune options (default none)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    held_out = set(json.loads(args.summary.read_text())["val_writers"])
    by_writer = writer_lines(args.corpus, held_out)
    chosen = sorted(by_writer, key=lambda w: (-len(by_writer[w]), w))[: args.writers or None]
    rows, pooled_before, pooled_after = [], ErrorCounts(), ErrorCounts()
    for writer in chosen:
        adapt, test = split_by_form(by_writer[writer], args.lines)
        with tempfile.TemporaryDirectory() as tmp:
            adapted = Path(tmp) / "adapted.onnx"
            started = time.monotonic()
            tuned = _cli("finetune", "--data", *map(str, adapt), "--out", str(adapted), *args.finetune)
            seconds = time.monotonic() - started
            if tuned.returncode not in (0, 1) or (tuned.returncode == 1 and adapted.exists()):
                raise SystemExit(f"finetune failed: {tuned.stderr.strip()}")
            before = errors_of(Path(args.model), test, Path(tmp) / "before.jsonl")
            after = errors_of(adapted, test, Path(tmp) / "after.jsonl") if adapted.exists() else before
            pooled_before.merge(before)
            pooled_after.merge(after)
            lm_beside = adapted.with_suffix(".lm").is_file()
        rows.append({"writer": writer, "adapt_lines": len(adapt), "test_lines": len(test),
                     "adapt_forms": sorted({p.name.rsplit("-", 1)[0] for p in adapt}),
                     "chars": before.chars, "errors_before": before.char_errors, "errors_after": after.char_errors,
                     "cer_before": before.cer, "cer_after": after.cer,
                     "relative_reduction": (before.cer - after.cer) / before.cer if before.cer else 0.0,
                     "finetune_seconds": seconds, "finetune_says": [line for line in tuned.stdout.splitlines() if line.startswith("held-back")],
                     "epochs": _epochs(tuned.stdout),
                     "written": tuned.returncode == 0, "lm_beside": lm_beside})
        print(json.dumps(rows[-1]), flush=True)
    summary = {"model": args.model, "finetune": ["handwriting", "finetune", "--data", "ADAPT", "--out", "adapted.onnx",
                                                 *args.finetune],
               "recognize": "handwriting recognize TEST --model MODEL --format jsonl (beam 32 + LM beside the model)",
               "rows": rows, "mean_relative_reduction": sum(r["relative_reduction"] for r in rows) / max(len(rows), 1),
               "pooled_cer_before": pooled_before.cer, "pooled_cer_after": pooled_after.cer,
               "writers_better": sum(r["errors_after"] < r["errors_before"] for r in rows),
               "writers_worse": sum(r["errors_after"] > r["errors_before"] for r in rows)}
    with atomic_write(args.out) as fh:
        json.dump(summary, fh, indent=1)


if __name__ == "__main__":
    main()
