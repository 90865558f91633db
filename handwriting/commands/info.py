"""`handwriting info FILE... [--json]`: what each ink file holds, one line per ink, and
what a model file (`.onnx`) is: its network, weights, training and the LM beside it.

A file that cannot be read gives one error record and the others are still read; a
reader with `read_items` (UNIPEN) reports a bad segment as an error record of its own.
Exit status 1 when there was any error record. Files without time stamps (Xournal++,
reMarkable, CSV without a time column) have no duration (`duration_ms` null).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from handwriting import formats
from handwriting.errors import HandwritingError, InkFormatError
from handwriting.ink import Ink
from handwriting.jsonsafe import dumps
from handwriting.formats.page import is_timed

__all__ = ["register", "records"]

PROGRESS_MIN_FILES = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="list the inks in ink files, folders or globs; describe model files", description=__doc__)
    p.add_argument("files", nargs="+", metavar="FILE", help="ink or model (.onnx) file, folder (searched for ink files) or glob")
    p.add_argument("--json", action="store_true", help="print one JSON object per ink instead of text")
    p.set_defaults(run=_run)


def records(path: Path) -> list[dict]:
    """One record per ink or per error in `path` (the keys `info --json` prints); one for a model."""
    if path.suffix.lower() == ".onnx":
        return [model_record(path)]
    fmt = None
    try:
        fmt = formats.detect_format(path)
        items: list[Ink | InkFormatError] = formats.read_items(path, fmt)
    except InkFormatError as exc:
        return [_record(path, fmt, None, exc)]
    if not items:  # an error, as in `recognize`
        return [_record(path, fmt, None, InkFormatError(path, None, "holds no ink"))]
    return [_record(path, fmt, i, item) for i, item in enumerate(items)]


def _record(path: Path, fmt: str | None, index: int | None, item: Ink | InkFormatError) -> dict:
    ink = item if isinstance(item, Ink) else None
    return {
        "path": str(path),
        "format": fmt,
        "index": index,
        "label": ink.label if ink else None,
        "writer": ink.writer if ink else None,
        "strokes": ink.num_strokes if ink else None,
        "points": ink.num_points if ink else None,
        "duration_ms": ink.duration_ms if ink and is_timed(ink) else None,
        "error": None if ink else str(item),
    }


def model_record(path: Path) -> dict:
    """What a model file is: network shape, weights, alphabet, training summary, character prior, temperature,
    the second network it reads with and the LM beside it."""
    from handwriting.recognition.modelfile import load_model_file

    try:
        model = load_model_file(path)
    except HandwritingError as exc:
        return {"path": str(path), "format": "model", "error": str(exc)}
    training, lm = model.training, path.with_suffix(".lm")
    last = training.get("last") or {}
    prior, leaves = model.character_prior, averaged_leaves(training.get("averaged"))
    return {
        "path": str(path), "format": "model", "layers": model.layers, "hidden": model.hidden,
        "characters": len(model.alphabet.chars), "weights": "int8" if model.quantized else "float32",
        "megabytes": round(len(model.data) / 1e6, 2), "epochs": training.get("epochs"),
        "validation_cer": last.get("val_cer"), "earlier_runs": earlier_runs(training),
        "averaged_checkpoints": len(leaves) or None, "averaged_runs": len({str(Path(leaf).parent) for leaf in leaves}) or None,
        "lm": str(lm) if lm.is_file() else None, "card": bool(model.metadata.get("model_card")),
        "calibrated_on": prior.fitted_on.get("characters") if prior else None,
        "temperature": model.temperature.value if model.temperature else None,
        "one_word_temperature": model.temperature.for_one_word if model.temperature else None,
        "second_network": model.ensemble.file if model.ensemble else None,
        "first_weight": model.ensemble.weight if model.ensemble else None, "error": None,
    }


def averaged_leaves(entries: object, depth: int = 0) -> list[str]:
    """The checkpoints of runs a soup's `averaged` record stands for, soups of soups followed through
    (to a depth of 20)."""
    if not isinstance(entries, list) or depth > 20:
        return []
    return [leaf for e in entries
            for leaf in (averaged_leaves(e.get("of"), depth + 1) if isinstance(e, dict) else [str(e)])]


def earlier_runs(training: dict) -> list[dict]:
    """The runs a model's training started from, latest first: each one's file and epochs."""
    runs: list[dict] = []
    origin = training.get("started_from")
    while isinstance(origin, dict) and len(runs) < 100:
        runs.append({"from": origin.get("from"), "epochs": origin.get("epochs")})
        origin = origin.get("started_from")
    return runs


def _model_text(record: dict) -> str:
    parts = [record["path"], "model", f"{record['layers']}x{record['hidden']} BiLSTM",
             f"{record['characters']} characters", f"{record['weights']} weights", f"{record['megabytes']:.1f} MB"]
    if record["epochs"] is not None and (record["averaged_runs"] or 1) == 1:  # else it tells of one run of several
        cer = record["validation_cer"]
        parts.append(f"trained {record['epochs']} epoch{'' if record['epochs'] == 1 else 's'}" + (f" (validation CER {cer:.2%})" if cer is not None else ""))
        earlier = [run["epochs"] for run in record["earlier_runs"] if isinstance(run["epochs"], int)]
        if earlier:
            parts.append(f"after {sum(earlier)} epochs in {len(earlier)} earlier run{'s' if len(earlier) > 1 else ''}")
    if record["averaged_checkpoints"]:
        runs = record["averaged_runs"]
        parts.append(f"mean of {record['averaged_checkpoints']} checkpoints" + (f" of {runs} runs" if runs > 1 else ""))
    if record["calibrated_on"]:
        parts.append(f"character mode calibrated on {record['calibrated_on']} characters")
    if record["temperature"] is not None:
        one_word = record["one_word_temperature"]
        parts.append(f"beam temperature {record['temperature']:g}"
                     + (f" ({one_word:g} for one word)" if one_word != record["temperature"] else ""))
    if record["second_network"]:
        parts.append(f"reads with {record['second_network']} (weight {record['first_weight']:g} : {1 - record['first_weight']:g})")
    parts.append(f"LM {Path(record['lm']).name}" if record["lm"] else "no LM beside it")
    if record["card"]:
        parts.append("model card inside")
    return "  ".join(parts)


def _text(record: dict) -> str:
    if record["error"] is not None:
        return f"error: {record['error']}"
    if record["format"] == "model":
        return _model_text(record)
    parts = [
        f"{record['path']}[{record['index']}]",
        record["format"],
        f"{record['strokes']} strokes",
        f"{record['points']} points",
        "no time stamps" if record["duration_ms"] is None else f"{record['duration_ms'] / 1000:.2f} s",
    ]
    if record["label"] is not None:
        parts.append(json.dumps(record["label"], ensure_ascii=False))
    return "  ".join(parts)


def _run(args: argparse.Namespace) -> int:
    paths = formats.expand_paths(args.files)
    show_bar = sys.stderr.isatty() and len(paths) >= PROGRESS_MIN_FILES
    inks = models = failures = 0
    for path in tqdm(paths, unit="file", file=sys.stderr, disable=not show_bar, leave=False):
        for record in records(path):
            failed = record["error"] is not None
            failures += failed
            models += not failed and record["format"] == "model"
            inks += not failed and record["format"] != "model"
            if args.json:
                tqdm.write(dumps(record), file=sys.stdout)
            else:
                tqdm.write(_text(record), file=sys.stderr if failed else sys.stdout)
    if not args.json:
        found = f"{inks} inks" + (f", {models} models" if models else "")
        print(f"{len(paths)} files, {found}, {failures} failures", file=sys.stderr)
    return 1 if failures else 0
