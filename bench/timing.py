"""Timing helpers: interleaved repeats, median/p10/p90 summaries and a least-squares line.

On a shared 2-core machine absolute times drift with the other processes' load, so
every comparison is measured side by side: each round runs every task once, in an
order rotated from round to round, and a summary is taken over the rounds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np

__all__ = ["Summary", "Timings", "summarize", "time_ms", "rotations", "interleaved", "fit_line", "ratio_summary"]

Summary = dict[str, float]


def summarize(samples: Sequence[float], digits: int = 3) -> Summary:
    """Median and spread (10th and 90th percentiles) of `samples`, with their number."""
    a = np.asarray(samples, dtype=float)
    p10, median, p90 = np.percentile(a, [10, 50, 90])
    return {"median": round(float(median), digits), "p10": round(float(p10), digits),
            "p90": round(float(p90), digits), "n": int(a.size)}


def time_ms(function: Callable[[], object]) -> tuple[float, float]:
    """Wall time and CPU time (this process, all threads) of one call, in milliseconds."""
    start, start_cpu = time.perf_counter(), time.process_time()
    function()
    return (time.perf_counter() - start) * 1e3, (time.process_time() - start_cpu) * 1e3


@dataclass(frozen=True)
class Timings:
    """Per task, the wall times and the CPU times (ms) of its timed calls, in round order.

    With one busy thread, CPU time is what the wall time would be on an idle machine;
    a wall time well above it means the process waited for a core.
    """

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]


def rotations(names: Sequence[str], rounds: int | Mapping[str, int]) -> Iterator[tuple[int, str]]:
    """(round, name) in interleaved order: round r runs every name with more than r rounds,
    starting from the r-th of them (so no name is always first or always after the same one)."""
    counts = rounds if isinstance(rounds, Mapping) else {name: rounds for name in names}
    for r in range(max(counts.values(), default=0)):
        due = [name for name in names if counts[name] > r]
        shift = r % len(due)
        yield from ((r, name) for name in due[shift:] + due[:shift])


def interleaved(tasks: Mapping[str, Callable[[], object]], rounds: int, warmup: int = 1) -> Timings:
    """Every round runs each task once, the order rotating; `warmup` untimed rounds come first
    (caches, allocators, onnxruntime's first-run setup)."""
    timings = Timings({name: [] for name in tasks}, {name: [] for name in tasks})
    for r, name in rotations(list(tasks), warmup + rounds):
        wall, cpu = time_ms(tasks[name])
        if r >= warmup:
            timings.wall[name].append(wall)
            timings.cpu[name].append(cpu)
    return timings


def ratio_summary(numerator: Sequence[float], denominator: Sequence[float]) -> Summary:
    """Summary of per-round ratios numerator[i] / denominator[i] (paired samples, same round)."""
    return summarize([n / d for n, d in zip(numerator, denominator)])


def fit_line(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    """Least-squares y = slope * x + intercept and its coefficient of determination R^2."""
    xs, ys = np.asarray(x, float), np.asarray(y, float)
    slope, intercept = np.polyfit(xs, ys, 1)
    residual = ys - (slope * xs + intercept)
    total = float(np.sum((ys - ys.mean()) ** 2))
    r2 = 1.0 - float(np.sum(residual ** 2)) / total if total > 0 else 1.0
    return {"slope": float(slope), "intercept": float(intercept), "r2": round(r2, 4)}
