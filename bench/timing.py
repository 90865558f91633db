"""Timing helpers: interleaved repeats, median/p10/p90 summaries and a least-squares line.

On a shared 2-core machine absolute times drift with the other processes' load, so
every comparison is measured side by side: each round runs every task once, in an
order rotated from round to round, and a summary is taken over the rounds.
"""

from __future__ import annotations

import time
from typing import Callable, Mapping, Sequence

import numpy as np

__all__ = ["Summary", "summarize", "time_ms", "interleaved", "fit_line", "ratio_summary"]

Summary = dict[str, float]


def summarize(samples: Sequence[float], digits: int = 3) -> Summary:
    """Median and spread (10th and 90th percentiles) of `samples`, with their number."""
    a = np.asarray(samples, dtype=float)
    p10, median, p90 = np.percentile(a, [10, 50, 90])
    return {"median": round(float(median), digits), "p10": round(float(p10), digits),
            "p90": round(float(p90), digits), "n": int(a.size)}


def time_ms(function: Callable[[], object]) -> float:
    """Wall time of one call, in milliseconds."""
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1e3


def interleaved(tasks: Mapping[str, Callable[[], object]], rounds: int, warmup: int = 1) -> dict[str, list[float]]:
    """Per task, `rounds` wall times (ms); every round runs each task once, the order rotating.

    `warmup` untimed rounds come first (caches, allocators, onnxruntime's first-run setup).
    """
    names = list(tasks)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(warmup + rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            elapsed = time_ms(tasks[name])
            if r >= warmup:
                samples[name].append(elapsed)
    return samples


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
