"""The model card's error-rate rows for one or more models, side by side on the same items.

    python -m bench.model_card --prep data/prep models/handwriting-en.onnx runs/new.onnx \
        --out bench/model_card.json

Rows (held-out writers of `handwriting prepare`'s splits): all IAM-OnDB validation
lines and all UNIPEN validation text lines, words and single characters, so every model
reads the same items (`--per-level N` draws N of each UNIPEN level with a fixed seed, for
a quick look: 600 characters move a row by a point and a half by chance). Each row is read greedily and with
beam 32 + the model's LM (at the model's temperature, `handwriting calibrate`); words and characters are also read in their own mode
(`word`, `character`). UNIPEN has no writing guide, so for characters read with one the
guide is estimated per writer, as a pad's ruled line would be set for its user: a line
height twice the median height of the writer's held-out characters (no labels used).

With two or more models, each after the first is compared with the first item by item:
on how many items of a row it makes fewer character errors, on how many more, and the
two-sided exact sign test's p over those items (McNemar's test on the character rows),
so that a difference of a few errors is not taken for a better model.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from math import comb
from pathlib import Path

from tqdm import tqdm

from bench.data import PREP
from handwriting.recognition.decode import DEFAULT_BEAM
from handwriting.ink import Ink
from handwriting.metrics import ErrorCounts
from handwriting.recognition.character_prior import estimated_guides
from handwriting.recognition.modes import WritingGuide
from handwriting.recognition.recognizer import Recognizer
from handwriting.shards import read_shard

__all__ = ["held_out_sets", "evaluate", "sign_test", "paired", "main"]

UNIPEN_LEVELS = {"text lines": "TEXT", "words": "WORD", "single characters": "CHARACTER"}
MODE_OF_LEVEL = {"words": "word", "single characters": "character"}
BATCH = 16


def held_out_sets(prep: Path, per_level: int | None = None, seed: int = 0) -> tuple[dict[str, list[Ink]], dict[str | None, WritingGuide]]:
    """The labelled validation items of each model-card row, and a writing guide per UNIPEN writer."""
    sets = {"IAM-OnDB lines": read_shard(prep / "iamondb" / "val.npz")}
    unipen = read_shard(prep / "unipen" / "val.npz")
    for name, level in UNIPEN_LEVELS.items():
        items = [ink for ink in unipen if ink.meta.get("level") == level]
        sets[f"UNIPEN {name}"] = items if per_level is None else random.Random(seed).sample(items, min(per_level, len(items)))
    return sets, estimated_guides([ink for ink in unipen if ink.meta.get("level") == "CHARACTER"])


def evaluate(recognizer: Recognizer, inks: list[Ink], beam: int, mode: str = "text",
             guides: dict[str | None, WritingGuide] | None = None) -> dict:
    """Pooled CER/WER of `recognizer` on `inks` (each with its writer's guide when given), and the mean time per item."""
    counts = ErrorCounts()
    started = time.perf_counter()
    if guides:
        results = [recognizer.recognize(ink, beam=beam, mode=mode, guide=guides.get(ink.writer or "")) for ink in inks]
    else:
        results = [r for first in tqdm(range(0, len(inks), BATCH), desc="reading", leave=False, disable=None)
                   for r in recognizer.recognize_batch(inks[first:first + BATCH], beam=beam, mode=mode)]
    item_errors = [counts.add(ink.label or "", result.text)[0] for ink, result in zip(inks, results)]
    return {"cer": counts.cer, "wer": counts.wer, "chars": counts.chars, "items": len(inks),
            "ms_per_item": (time.perf_counter() - started) * 1e3 / max(len(inks), 1), "item_errors": item_errors}


def sign_test(fewer: int, more: int) -> float:
    """Two-sided exact sign test: the chance of a split at least this uneven between
    `fewer` and `more` if either model were as likely to be the better on each item."""
    n = fewer + more
    tail = sum(comb(n, i) for i in range(min(fewer, more) + 1))
    return min(1.0, 2 * tail / 2**n) if n else 1.0


def paired(first: dict, other: dict) -> dict:
    """Item-by-item comparison of two models' readings of one row (`evaluate` results)."""
    pairs = list(zip(first["item_errors"], other["item_errors"], strict=True))
    fewer = sum(b < a for a, b in pairs)
    more = sum(b > a for a, b in pairs)
    return {"fewer_errors": fewer, "more_errors": more, "p": sign_test(fewer, more)}


def _rows(model: Path, sets: dict[str, list[Ink]], guides: dict[str | None, WritingGuide]) -> dict:
    greedy = Recognizer(model, lm=None, threads=1)
    with_lm = Recognizer(model, threads=1)
    rows = {}
    for name, inks in sets.items():
        print(f"{model.name}: {name}", file=sys.stderr)
        row = {"greedy": evaluate(greedy, inks, 0), "beam+lm": evaluate(with_lm, inks, DEFAULT_BEAM)}
        mode = next((m for level, m in MODE_OF_LEVEL.items() if name.endswith(level)), None)
        if mode == "word":
            row["word mode, greedy"] = evaluate(greedy, inks, 0, mode)
            row["word mode, beam+lm"] = evaluate(with_lm, inks, DEFAULT_BEAM, mode)
        elif mode == "character":
            row["character mode"] = evaluate(with_lm, inks, 0, mode)
            row["character mode + guide"] = evaluate(with_lm, inks, 0, mode, guides)
        rows[name] = row
    return rows


def _table(results: dict[str, dict]) -> str:
    models = list(results)
    first = results[models[0]]
    lines = ["| held-out set | reading | " + " | ".join(f"{m} CER / WER" for m in models)
             + "".join(f" | {m} vs {models[0]}: items with fewer / more errors, p" for m in models[1:]) + " |",
             "|---|---|" + "---|" * (2 * len(models) - 1)]
    for name, row in first.items():
        for reading in row:
            cells = []
            for m in models:
                r = results[m].get(name, {}).get(reading)
                cells.append(f"{r['cer']:.2%} / {r['wer']:.1%}" if r else "–")
            for m in models[1:]:
                c = results[m][name][reading].get("paired")
                cells.append(f"{c['fewer_errors']} / {c['more_errors']}, p = {c['p']:.2g}" if c else "–")
            lines.append(f"| {name} | {reading} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _compared(results: dict[str, dict]) -> dict[str, dict]:
    """`results` with each later model's rows compared with the first's, item errors dropped."""
    first, *later = results
    out: dict[str, dict] = {}
    for model, rows in results.items():
        out[model] = {}
        for name, row in rows.items():
            out[model][name] = {}
            for reading, r in row.items():
                entry = {k: v for k, v in r.items() if k != "item_errors"}
                if model in later:
                    entry["paired"] = paired(results[first][name][reading], r)
                out[model][name][reading] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path, help="ONNX models (their LM beside them)")
    parser.add_argument("--prep", type=Path, default=PREP, help="folder of `handwriting prepare` outputs")
    parser.add_argument("--per-level", type=int, help="UNIPEN items per level, drawn with a fixed seed (default: all)")
    parser.add_argument("--out", type=Path, help="JSON file for the results")
    args = parser.parse_args(argv)
    sets, guides = held_out_sets(args.prep, args.per_level)
    results = _compared({str(m): _rows(m, sets, guides) for m in args.models})
    print(_table(results))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
