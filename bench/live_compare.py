"""Live-update latency of several models side by side: the same 1,000-point inks, interleaved rounds.

`python -m bench.live_compare OLD.onnx NEW.onnx --out bench/live_compare.json` times one live
update (`Recognizer.recognize`, 1 thread, as while the pen moves) greedy and with the live beam
and the LM beside each model, and the reading at pen-up (beam 32 and the LM, with the model's
second network where it has one), every model's updates in the same rounds, so a busy or
throttled machine slows all of them alike and the ratio between models holds where the
absolute times do not.
"""

from __future__ import annotations

import argparse
import json
import statistics
from functools import partial
from pathlib import Path

from bench.data import load_lines, sized_inks
from bench.live import DECODERS, recognizers
from bench.machine import describe, load
from bench.timing import interleaved
from handwriting.atomic import atomic_write
from handwriting.recognition.decode import DEFAULT_BEAM
from handwriting.recognition.recognizer import Recognizer

__all__ = ["compare"]

PEN_UP = "pen_up"
READINGS = (*DECODERS, PEN_UP)


def compare(models: list[Path], data: Path, points: int, inks: int, rounds: int) -> dict:
    """Median (over inks) of each ink's median update time, in ms, per model and decoder, and each
    model's ratio to the first."""
    at_start = load()
    sample = sized_inks(load_lines(data, 300), points, inks)
    tasks = {}
    for model in models:
        for decoder, recognizer in recognizers(model, model.with_suffix(".lm")).items():
            for j, ink in enumerate(sample):
                tasks[f"{model}/{decoder}/{j}"] = partial(recognizer.recognize, ink, ensemble=False)
        pen_up = Recognizer(model, beam=DEFAULT_BEAM)
        for j, ink in enumerate(sample):
            tasks[f"{model}/{PEN_UP}/{j}"] = partial(pen_up.recognize, ink)
    timings = interleaved(tasks, rounds)
    medians = {str(model): {decoder: statistics.median(statistics.median(timings.wall[f"{model}/{decoder}/{j}"])
                                                       for j in range(inks))
                            for decoder in READINGS}
               for model in models}
    first = medians[str(models[0])]
    return {"points": points, "inks": inks, "rounds": rounds, "machine": describe(), "load_at_start": at_start,
            "median_ms": medians,
            "ratio_to_first": {name: {d: round(ms[d] / first[d], 3) for d in READINGS} for name, ms in medians.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help="ONNX models, each with its LM beside it")
    parser.add_argument("--data", type=Path, default=Path("data/iamondb"), help="IAM-OnDB (lineStrokes) for the inks")
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--inks", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path("bench/live_compare.json"))
    args = parser.parse_args()
    result = compare(args.models, args.data, args.points, args.inks, args.rounds)
    with atomic_write(args.out) as fh:
        json.dump(result, fh, indent=1)
    for name, ms in result["median_ms"].items():
        print(f"{name}: " + ", ".join(f"{d} {ms[d]:.2f} ms (x{result['ratio_to_first'][name][d]:.3f})" for d in READINGS))


if __name__ == "__main__":
    main()
