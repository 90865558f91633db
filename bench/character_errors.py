"""What the lone characters' errors are: case, look-alikes or shape, and how far size tells case.

    python -m bench.character_errors --out bench/character_errors.json

Reads the model card's held-out lone UNIPEN characters in character mode, without and with
the writing guide estimated per writer (as `bench.model_card`), and sorts each error:

- `case`: the right letter in the other case (`S` read `s`);
- `look-alike`: another of `0 O o` or of `1 l I |` (`0` read `O`);
- `shape`: anything else (`t` read `+`, `9` read `g`).

For each pair of letters that differ in case mainly by size (`s S`, `o O`, ...), it also gives
the share of the pair's characters whose case the model reads right, and the best share one
height threshold against the guide's line height reaches (chosen on these very characters, so
an upper bound of what size alone tells).

`--figure PNG` draws 60 of the shape errors with the guide, drawn at random with a fixed seed
(`bench.figures.ink_grid`), each at the scale of its writer's guide.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.data import PREP
from bench.model_card import held_out_sets
from handwriting.ink import Ink
from handwriting.recognition.modes import WritingGuide
from handwriting.recognition.recognizer import Recognizer

__all__ = ["error_kind", "size_threshold_share", "main"]

LOOK_ALIKES = ("0Oo", "1lI|")
CASE_BY_SIZE = "socpvwuzx"  # lower-case letters whose capital is mostly the same shape, larger
FIGURE_ERRORS = 60  # shape errors drawn by --figure


def error_kind(label: str, read: str) -> str | None:
    """How a reading of a lone character is wrong: `case`, `look-alike` or `shape` (None if right)."""
    if read == label:
        return None
    if read.lower() == label.lower():
        return "case"
    if any(read in group and label in group for group in LOOK_ALIKES if read and label):
        return "look-alike"
    return "shape"


def size_threshold_share(small: np.ndarray, large: np.ndarray) -> float:
    """The largest share of characters one threshold on their relative height puts on the right
    side (the `small` ones below it, the `large` ones at or above it)."""
    heights = np.sort(np.concatenate([small, large]))
    thresholds = np.concatenate([heights, [np.inf]])
    right = [(small < t).sum() + (large >= t).sum() for t in thresholds]
    return float(max(right)) / max(len(heights), 1)


def _relative_height(ink: Ink, guide: WritingGuide | None) -> float:
    xmin, ymin, xmax, ymax = ink.bounds()
    return (ymax - ymin) / guide.line_height if guide else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="ONNX model (default: the shipped one)")
    parser.add_argument("--prep", type=Path, default=PREP, help="folder of `handwriting prepare` outputs")
    parser.add_argument("--out", type=Path, help="JSON file for the results")
    parser.add_argument("--figure", type=Path, help="PNG of 60 shape errors with the guide, as written")
    args = parser.parse_args(argv)
    sets, guides = held_out_sets(args.prep)
    characters = [ink for ink in sets["UNIPEN single characters"] if not ink.is_empty]
    recognizer = Recognizer(args.model, threads=1)
    results: dict = {"characters": len(characters)}
    shapes: list[tuple[Ink, str]] = []  # the shape errors with the guide
    for name, use_guide in (("character mode", False), ("character mode + guide", True)):
        readings = [recognizer.recognize(ink, beam=0, mode="character", guide=guides.get(ink.writer or "") if use_guide else None).text
                    for ink in tqdm(characters, desc=name, disable=None)]
        kinds = Counter(error_kind(ink.label or "", read) for ink, read in zip(characters, readings))
        confusions = Counter((ink.label, read) for ink, read in zip(characters, readings) if read != ink.label)
        results[name] = {"errors": sum(n for kind, n in kinds.items() if kind), **{k: kinds[k] for k in ("case", "look-alike", "shape")},
                         "commonest": [f"{a} -> {b}: {n}" for (a, b), n in confusions.most_common(20)]}
        if use_guide:
            pairs = {}
            for small in CASE_BY_SIZE:
                pair = [(ink, read) for ink, read in zip(characters, readings) if ink.label in (small, small.upper())]
                heights = {c: np.array([_relative_height(ink, guides.get(ink.writer or "")) for ink, _ in pair if ink.label == c])
                           for c in (small, small.upper())}
                case_right = sum(error_kind(ink.label or "", read) != "case" for ink, read in pair)
                pairs[f"{small} {small.upper()}"] = {"characters": len(pair), "case read right": case_right / max(len(pair), 1),
                                                     "size threshold at best": size_threshold_share(heights[small], heights[small.upper()])}
            results["case pairs, with the guide"] = pairs
            shapes = [(ink, read) for ink, read in zip(characters, readings) if error_kind(ink.label or "", read) == "shape"]
    print(json.dumps(results, indent=1))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    if args.figure:
        _draw(random.Random(0).sample(shapes, min(FIGURE_ERRORS, len(shapes))), guides, args.figure)
    return 0


def _draw(errors: list[tuple[Ink, str]], guides: dict[str | None, WritingGuide], path: Path) -> None:
    from PyQt6.QtWidgets import QApplication

    from app.png import save_png
    from bench.figures import ink_grid

    app = QApplication.instance() or QApplication(["character_errors", "-platform", "offscreen"])
    cells = []
    for ink, read in errors:
        guide = guides.get(ink.writer or "")
        xmin, ymin, xmax, ymax = ink.bounds()
        cells.append((ink, f"{ink.label!r} read {read!r}", guide.line_height if guide else max(ymax - ymin, 1e-9)))
    save_png(ink_grid(cells), path)
    del app
    print(f"wrote {path}")


if __name__ == "__main__":
    raise SystemExit(main())
