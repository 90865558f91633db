"""Benchmark: cell states and saliency (`handwriting.explain`) against one recognition.

    OMP_NUM_THREADS=1 .venv/bin/python -m bench.bench_explain [--model M] [--ink FILE] [--repeats N] [--out F]

Prints (and with --out writes) JSON with median times in ms for one ink: recognition
as the recognizer runs it (greedy, no LM), with hidden states, and the explanation
steps on top of a recognition. Target: explanation < recognition + 100 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Callable

from handwriting.explain import default_target, explain, unroll
from handwriting.formats import read_inks
from handwriting.recognizer import Recognizer

__all__ = ["benchmark", "main"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = Path("/work/data/dev.onnx")
DEFAULT_INK = ROOT / "tests" / "fixtures" / "iamondb" / "lineStrokes" / "a01" / "a01-001" / "a01-001z-01.xml"
BUDGET_MS = 100.0


def _median_ms(function: Callable[[], object], repeats: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1e3)
    return round(statistics.median(times), 3)


def benchmark(model: str | Path = DEFAULT_MODEL, ink_path: str | Path = DEFAULT_INK, repeats: int = 20) -> dict:
    """Median timings (ms) of recognition and of cells + saliency for the first ink of `ink_path`."""
    recognizer = Recognizer(model, lm=None)
    ink = read_inks(ink_path)[0]
    recognition = recognizer.recognize(ink, with_hidden=True)
    features, hidden = recognition.frames.features, recognition.hidden
    unrolled = unroll(recognizer.model, features, hidden)
    target = default_target(recognition, recognizer.alphabet)
    result = {
        "model": str(model), "ink": str(ink_path), "points": ink.num_points, "frames": len(features),
        "layers": recognizer.model.layers, "hidden": recognizer.model.hidden,
        "recognize_ms": _median_ms(lambda: recognizer.recognize(ink), repeats),
        "recognize_with_hidden_ms": _median_ms(lambda: recognizer.recognize(ink, with_hidden=True), repeats),
        "cells_ms": _median_ms(lambda: unroll(recognizer.model, features, hidden).cells, repeats),
        "saliency_ms": _median_ms(lambda: unrolled.saliency(target), repeats),
        "explain_ms": _median_ms(lambda: explain(recognizer, recognition, num_points=ink.num_points), repeats),
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
