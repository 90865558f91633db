"""Real IAM-OnDB lines for the benchmarks: a fixed spread of files, and inks cut or joined to exact sizes.

Files are picked evenly over the sorted corpus (many writers, no randomness), so every
run and every machine measures the same lines. An ink of N raw points is made from
consecutive lines joined with `Ink.concat` until there are enough points, then cut
with `Ink.prefix`, as a live replay would see the ink after N points. Each joined line is
first moved to continue the previous one on the same level (IAM-OnDB keeps the lines'
places on the whiteboard, one below the other), so that the result reads as one long
line with the writing height of one.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from handwriting.formats import read_inks
from handwriting.ink import X, Y, Ink

__all__ = ["IAMONDB", "PREP", "line_files", "load_lines", "sized_inks", "long_ink"]

# Where the benchmarks read their data by default, relative to the project root (README,
# "Benchmarks"): the IAM-OnDB archive extracted, with its writers.tsv beside lineStrokes/
# and ascii/ (as in datasets/samples/iamondb), and the outputs of `handwriting prepare`.
IAMONDB = Path("data/iamondb")
PREP = Path("data/prep")


@lru_cache(maxsize=None)
def _all_files(root: str) -> tuple[Path, ...]:
    files = tuple(sorted(Path(root).rglob("*.xml")))
    if not files:
        raise SystemExit(f"no IAM-OnDB line files (*.xml) under {root}")
    return files


def line_files(root: str | Path, count: int) -> list[Path]:
    """`count` line files spread evenly over the sorted corpus under `root`."""
    files = _all_files(str(root))
    count = min(count, len(files))
    return [files[k * len(files) // count] for k in range(count)]


def load_lines(root: str | Path, count: int) -> list[Ink]:
    """The first ink of each of `count` evenly spread line files."""
    return [read_inks(path)[0] for path in line_files(root, count)]


def _continued(ink: Ink, line: Ink) -> Ink:
    """`ink` followed by `line`, moved to start a word space right of `ink` with the same median height."""
    left, right = ink.points(), line.points()
    height = float(np.subtract(*np.percentile(left[:, Y], [95, 5])))
    dx = left[:, X].max() + height - right[:, X].min()
    dy = np.median(left[:, Y]) - np.median(right[:, Y])
    return ink.concat(line.translated(float(dx), float(dy)))


def _joined(lines: list[Ink], start: int, size: int) -> Ink:
    """Lines from `start` on (wrapping round), joined until the ink has `size` points, then cut."""
    ink = lines[start % len(lines)]
    step = 1
    while ink.num_points < size:
        if step >= len(lines):
            raise ValueError(f"all {len(lines)} lines together have fewer than {size} points")
        ink = _continued(ink, lines[(start + step) % len(lines)])
        step += 1
    return ink.prefix(size)


def sized_inks(lines: list[Ink], size: int, count: int) -> list[Ink]:
    """`count` inks of exactly `size` raw points, each starting at a different line."""
    stride = max(1, len(lines) // count)
    return [_joined(lines, k * stride, size) for k in range(count)]


def long_ink(lines: list[Ink], strokes: int) -> Ink:
    """One line of exactly `strokes` strokes: `lines` joined one after another (again and again if need be)."""
    ink, step = lines[0], 1
    while ink.num_strokes < strokes:
        ink = _continued(ink, lines[step % len(lines)])
        step += 1
    return ink.prefix(int(np.searchsorted(ink.stroke_ids(), strokes)))
