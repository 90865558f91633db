"""Live-update latency: from "the ink changed" to "the text is ready", by ink size, plus cells + saliency.

One update is `Recognizer.recognize(ink, ensemble=False)`: preprocessing, one onnxruntime
call and decoding, with characters and words mapped back onto strokes, as the pad runs it
while the pen moves (one intra-op thread; a model's second network reads at pen-up only).
Greedy and beam search with the LM (the default beam, 8) are separate recognizers; the LM's cache is warm after the warm-up round, as it is while writing.
For each size there are several real inks, all measured in interleaved rounds together
with cells and saliency (`bench.bench_explain.explain_tasks`) on the first ink.

Also here: latency against ink length (a least-squares line over the per-ink medians)
and a cProfile of 1,000-point updates split into preprocessing, network, decoding
and the rest (mapping characters and words back onto the ink).
"""

from __future__ import annotations

import cProfile
import pstats
from pathlib import Path
from typing import Callable

import numpy as np

from bench.bench_explain import explain_tasks
from bench.data import sized_inks
from bench.timing import Timings, fit_line, interleaved, summarize
from handwriting.recognition.decode import LIVE_BEAM
from handwriting.ink import Ink
from handwriting.recognition.recognizer import Recognition, Recognizer

__all__ = ["DECODERS", "EXPLAIN_STEPS", "recognizers", "live_latency", "scaling", "profile_update",
           "profile_updates"]

DECODERS = ("greedy", "beam_lm")
WARMUP = 1  # untimed rounds
EXPLAIN_STEPS = ("cells", "saliency")
STAGES = ("preprocess", "network", "decode")
# where the time of one update goes, by the functions that do each part (file, function name)
PROFILE_PARTS = {
    "preprocess": ("preprocess.py", "featurize"),
    "network": ("recognizer.py", "run"),
    "decode": ("recognizer.py", "decode"),
    "spans": ("recognizer.py", "_result"),
}


def recognizers(model: str | Path, lm: str | Path) -> dict[str, Recognizer]:
    """The live configurations: greedy without LM, and the live beam with the LM."""
    return {"greedy": Recognizer(model, lm=None), "beam_lm": Recognizer(model, lm=lm, beam=LIVE_BEAM)}


def _recording(recognizer: Recognizer, ink: Ink, log: list[Recognition]) -> Callable[[], None]:
    """One live update of `ink` that keeps its Recognition (for the per-stage timings)."""
    return lambda: log.append(recognizer.recognize(ink, ensemble=False))


def _tasks(decoders: dict[str, Recognizer], inks: dict[int, list[Ink]]
           ) -> tuple[dict[str, Callable[[], object]], dict[str, list[Recognition]]]:
    """Updates of every ink by every decoder ("size/decoder/ink"), cells and saliency ("size/step"),
    and the lists that the updates append their Recognitions to."""
    tasks: dict[str, Callable[[], object]] = {}
    logs: dict[str, list[Recognition]] = {}
    for size, size_inks in inks.items():
        for name, recognizer in decoders.items():
            for j, ink in enumerate(size_inks):
                logs[f"{size}/{name}/{j}"] = []
                tasks[f"{size}/{name}/{j}"] = _recording(recognizer, ink, logs[f"{size}/{name}/{j}"])
        steps = explain_tasks(decoders["greedy"], size_inks[0])
        tasks.update({f"{size}/{step}": steps[step] for step in EXPLAIN_STEPS})
    return tasks, logs


def _decoder_entry(keys: list[str], timings: Timings, logs: dict[str, list[Recognition]]) -> dict:
    """Update time (wall and CPU) over all inks of one size, per-ink medians, and each stage's time."""
    timed = [r for k in keys for r in logs[k][WARMUP:]]
    return {
        "total_ms": summarize([t for k in keys for t in timings.wall[k]]),
        "cpu_ms": summarize([t for k in keys for t in timings.cpu[k]]),
        "per_ink_median_ms": [summarize(timings.wall[k])["median"] for k in keys],
        **{f"{stage}_ms": summarize([r.timings_ms[stage] for r in timed]) for stage in STAGES},
    }


def live_latency(decoders: dict[str, Recognizer], lines: list[Ink], sizes: list[int], inks_per_size: int,
                 rounds: int) -> dict:
    """Per size: frames, and per decoder the update time and its stages; cells and saliency on the first ink."""
    inks = {size: sized_inks(lines, size, inks_per_size) for size in sizes}
    tasks, logs = _tasks(decoders, inks)
    timings = interleaved(tasks, rounds, WARMUP)
    result: dict = {"inks_per_size": inks_per_size, "rounds": rounds, "sizes": {}}
    for size in sizes:
        entry: dict = {"frames": int(np.median([len(logs[f"{size}/greedy/{j}"][0].frames) for j in range(inks_per_size)]))}
        for name in decoders:
            entry[name] = _decoder_entry([f"{size}/{name}/{j}" for j in range(inks_per_size)], timings, logs)
        entry["explain"] = {f"{step}_{kind}": summarize(times[f"{size}/{step}"]) for step in EXPLAIN_STEPS
                            for kind, times in (("ms", timings.wall), ("cpu_ms", timings.cpu))}
        result["sizes"][str(size)] = entry
    return result


def scaling(live: dict) -> dict:
    """Per decoder, latency (per-ink medians, ms) against raw points: slope per 1,000 points, intercept, R^2."""
    out = {}
    for name in DECODERS:
        points, times = [], []
        for size, entry in live["sizes"].items():
            medians = entry[name]["per_ink_median_ms"]
            points += [int(size)] * len(medians)
            times += medians
        fit = fit_line(points, times)
        out[name] = {"ms_per_1000_points": round(fit["slope"] * 1000, 3), "intercept_ms": round(fit["intercept"], 3),
                     "r2": fit["r2"]}
    return out


def _cumulative_s(stats: pstats.Stats, filename: str, function: str) -> float:
    return sum(row[3] for (path, _, name), row in stats.stats.items()  # type: ignore[attr-defined]
               if path.endswith(filename) and name == function)


def _top_functions(stats: pstats.Stats, total: float, count: int = 8) -> list[dict]:
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:count]  # type: ignore[attr-defined]
    return [{"function": f"{Path(path).name}:{line}({name})", "self_share": round(row[2] / total, 3)}
            for (path, line, name), row in rows]


def profile_update(recognizer: Recognizer, ink: Ink, repeats: int) -> dict:
    """cProfile of `repeats` updates of `ink`: each part's share of the time, and the busiest functions.

    Profiling slows Python code more than onnxruntime's C++; the unprofiled stage times
    are in the live section.
    """
    recognizer.recognize(ink, ensemble=False)  # warm-up (LM cache, onnxruntime)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeats):
        recognizer.recognize(ink, ensemble=False)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = _cumulative_s(stats, "recognizer.py", "recognize_batch")
    shares = {part: round(_cumulative_s(stats, *where) / total, 3) for part, where in PROFILE_PARTS.items()}
    shares["other"] = round(1.0 - sum(shares.values()), 3)
    return {"points": ink.num_points, "repeats": repeats, "profiled_ms_per_update": round(total / repeats * 1e3, 3),
            "share": shares, "top_self_time": _top_functions(stats, total)}


def profile_updates(decoders: dict[str, Recognizer], lines: list[Ink], size: int, repeats: int) -> dict:
    """`profile_update` of one `size`-point ink for every decoder."""
    ink = sized_inks(lines, size, 1)[0]
    return {name: profile_update(recognizer, ink, repeats) for name, recognizer in decoders.items()}
