"""Benchmark: cell states and saliency (`handwriting.recognition.explain`) against one recognition.

    OMP_NUM_THREADS=1 .venv/bin/python -m bench.bench_explain [--model M] [--ink FILE] [--repeats N] [--out F]

Prints (and with --out writes) JSON with median times in ms for one ink: recognition
as the recognizer runs it (greedy, no LM), with hidden states, and the explanation
steps on top of a recognition. Target: explanation < recognition + 100 ms.
`explain_tasks` gives those steps as callables; the suite (`python -m bench`) times
them for every ink size of its live-update section.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

from bench.timing import interleaved, summarize
from handwriting.recognition.explain import default_target, explain, unroll
from handwriting.formats import read_inks
from handwriting.ink import Ink
from handwriting.recognition.modelfile import default_model_path
from handwriting.recognition.recognizer import Recognizer

__all__ = ["explain_tasks", "benchmark", "main"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = default_model_path()
DEFAULT_INK = ROOT / "datasets" / "samples" / "iamondb" / "lineStrokes" / "a01" / "a01-001" / "a01-001z-01.xml"
BUDGET_MS = 100.0


def explain_tasks(recognizer: Recognizer, ink: Ink) -> dict[str, Callable[[], object]]:
    """Callables to time for `ink`: recognition (plain, with hidden states) and the explanation steps.

    "cells" and "saliency" are the two computations of `handwriting.recognition.explain` on top of a
    recognition made with hidden states; "explain" is the whole call (cells, saliency,
    cell selection, per-point saliency).
    """
    recognition = recognizer.recognize(ink, with_hidden=True)
    features, hidden = recognition.frames.features, recognition.hidden
    unrolled = unroll(recognizer.model, features, hidden)
    target = default_target(recognition, recognizer.alphabet)
    return {
        "recognize": lambda: recognizer.recognize(ink),
        "recognize_with_hidden": lambda: recognizer.recognize(ink, with_hidden=True),
        "cells": lambda: unroll(recognizer.model, features, hidden).cells,
        "saliency": lambda: unrolled.saliency(target),
        "explain": lambda: explain(recognizer, recognition, num_points=ink.num_points),
    }


def benchmark(model: str | Path = DEFAULT_MODEL, ink_path: str | Path = DEFAULT_INK, repeats: int = 20) -> dict:
    """Median timings (ms) of recognition and of cells + saliency for the first ink of `ink_path`."""
    recognizer = Recognizer(model, lm=None)
    ink = read_inks(ink_path)[0]
    tasks = explain_tasks(recognizer, ink)
    medians = {name: summarize(times)["median"] for name, times in interleaved(tasks, repeats).wall.items()}
    result = {
        "model": str(model), "ink": str(ink_path), "points": ink.num_points,
        "frames": len(recognizer.recognize(ink).frames),
        "layers": recognizer.model.layers, "hidden": recognizer.model.hidden,
        **{f"{name}_ms": value for name, value in medians.items()},
    }
    result["within_budget"] = result["explain_ms"] < result["recognize_ms"] + BUDGET_MS
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--ink", default=str(DEFAULT_INK), help="ink file (its first ink is used)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args(argv)
    text = json.dumps(benchmark(args.model, args.ink, args.repeats), indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
