"""`Ink`: an immutable sequence of pen strokes, each an (n, 4) array of x, y, t, pressure.

Conventions: y grows downwards (screen convention; readers of y-up formats flip it);
t is in milliseconds and non-decreasing over the whole ink; pressure is NaN when the
device did not record it. Every stroke has at least one point, and x/y are finite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

__all__ = ["Ink", "X", "Y", "T", "P"]

X, Y, T, P = 0, 1, 2, 3
DEFAULT_RATE_HZ = 100.0


def _as_stroke(points: object) -> np.ndarray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2 or arr.shape[1] > 4:
        raise ValueError(f"a stroke must be an (n, 2..4) array of x, y[, t[, p]], got shape {arr.shape}")
    if arr.shape[1] < 4:
        pad = np.full((arr.shape[0], 4 - arr.shape[1]), np.nan)
        arr = np.hstack([arr, pad])
    return arr


@dataclass(frozen=True, eq=False)
class Ink:
    """Strokes of points plus an optional transcription (`label`) and writer id."""

    strokes: tuple[np.ndarray, ...]
    label: str | None = None
    writer: str | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        strokes = tuple(_as_stroke(s) for s in self.strokes)
        points = np.zeros((0, 4))
        if strokes:
            if "timed" not in self.meta and not any(np.isfinite(s[:, T]).any() for s in strokes):
                object.__setattr__(self, "meta", {**self.meta, "timed": False})  # times below are invented
            points, strokes = _checked(strokes)
        points.setflags(write=False)
        object.__setattr__(self, "strokes", strokes)
        object.__setattr__(self, "_points", points)

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_strokes(cls, strokes: Iterable[Sequence[Sequence[float]]], **kwargs) -> "Ink":
        return cls(tuple(np.asarray(s, dtype=np.float64) for s in strokes), **kwargs)

    def with_label(self, label: str | None) -> "Ink":
        return Ink(self.strokes, label, self.writer, dict(self.meta))

    # -- views ---------------------------------------------------------------------
    @property
    def num_strokes(self) -> int:
        return len(self.strokes)

    @property
    def num_points(self) -> int:
        return sum(len(s) for s in self.strokes)

    @property
    def is_empty(self) -> bool:
        return not self.strokes

    def points(self) -> np.ndarray:
        """All points as one read-only (N, 4) array (the strokes are views of it)."""
        return self._points  # type: ignore[attr-defined]

    def stroke_ids(self) -> np.ndarray:
        """For every point of `points()`, the index of its stroke."""
        return np.repeat(np.arange(len(self.strokes)), [len(s) for s in self.strokes])

    @property
    def has_pressure(self) -> bool:
        return any(np.isfinite(s[:, P]).any() for s in self.strokes)

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax); raises ValueError on empty ink."""
        if self.is_empty:
            raise ValueError("empty ink has no bounds")
        pts = self.points()
        return (float(pts[:, X].min()), float(pts[:, Y].min()), float(pts[:, X].max()), float(pts[:, Y].max()))

    @property
    def duration_ms(self) -> float:
        if self.is_empty:
            return 0.0
        return float(self.strokes[-1][-1, T] - self.strokes[0][0, T])

    # -- transforms ----------------------------------------------------------------
    def transformed(self, matrix: np.ndarray, offset: Sequence[float] = (0.0, 0.0)) -> "Ink":
        """Apply x' = matrix @ (x, y) + offset to every point."""
        m = np.asarray(matrix, dtype=np.float64).reshape(2, 2)
        out = []
        for s in self.strokes:
            s2 = s.copy()
            s2[:, :2] = s[:, :2] @ m.T + np.asarray(offset)
            out.append(s2)
        return Ink(tuple(out), self.label, self.writer, dict(self.meta))

    def translated(self, dx: float, dy: float) -> "Ink":
        return self.transformed(np.eye(2), (dx, dy))

    def scaled(self, sx: float, sy: float | None = None) -> "Ink":
        return self.transformed(np.diag([sx, sx if sy is None else sy]))

    def flipped_y(self) -> "Ink":
        return self.scaled(1.0, -1.0)

    def concat(self, other: "Ink") -> "Ink":
        """This ink followed by `other` (its times shifted to start after this one ends)."""
        if self.is_empty:
            return other
        shift = 0.0
        if not other.is_empty:
            shift = max(0.0, self.strokes[-1][-1, T] - other.strokes[0][0, T])
        shifted = []
        for s in other.strokes:
            s2 = s.copy()
            s2[:, T] += shift
            shifted.append(s2)
        return Ink(self.strokes + tuple(shifted), self.label, self.writer, dict(self.meta))

    def prefix(self, num_points: int) -> "Ink":
        """The first `num_points` points, as they were written (for live-decoding replays)."""
        out, left = [], num_points
        for s in self.strokes:
            if left <= 0:
                break
            out.append(s[:left])
            left -= len(s)
        return Ink(tuple(out), self.label, self.writer, dict(self.meta))

    def same_as(self, other: "Ink", atol: float = 1e-6) -> bool:
        """Equal strokes (NaN pressure equals NaN) and labels."""
        if self.label != other.label or len(self.strokes) != len(other.strokes):
            return False
        return all(
            a.shape == b.shape and np.allclose(a, b, atol=atol, equal_nan=True)
            for a, b in zip(self.strokes, other.strokes)
        )

    def __repr__(self) -> str:
        return f"Ink({self.num_strokes} strokes, {self.num_points} points, label={self.label!r})"


def _checked(strokes: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """All points as one read-only array and the strokes as views of it, points checked and times
    repaired (one pass over the whole ink: a page of many strokes costs about as much as a long line)."""
    lengths = np.array([len(s) for s in strokes])
    if not lengths.all():
        raise ValueError(f"stroke {int(np.argmin(lengths))} has no points")
    points = np.concatenate(strokes)
    bad = np.flatnonzero(~np.isfinite(points[:, :2]).all(axis=1))
    ends = np.cumsum(lengths)
    if len(bad):
        raise ValueError(f"stroke {int(np.searchsorted(ends, bad[0], side='right'))} has a non-finite x or y coordinate")
    if np.isfinite(points[:, T]).all():  # time made non-decreasing across the ink
        np.maximum.accumulate(points[:, T], out=points[:, T])
    else:
        points = np.concatenate(_repair_time(strokes))
    points.setflags(write=False)
    bounds = [0, *ends.tolist()]
    return points, tuple(points[a:b] for a, b in zip(bounds, bounds[1:]))


def _repair_time(strokes: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Fill missing times at DEFAULT_RATE_HZ and make time non-decreasing across the ink."""
    step = 1000.0 / DEFAULT_RATE_HZ
    out = []
    last = None
    for s in strokes:
        s = s.copy()
        t = s[:, T]
        if not np.isfinite(t).all():
            start = (last + step) if last is not None else 0.0
            if np.isfinite(t).any():
                first = t[np.isfinite(t)][0]
                start = max(start, first) if last is not None else first
            t = start + step * np.arange(len(s))
        if last is not None:
            t = np.maximum(t, last)
        t = np.maximum.accumulate(t)
        s[:, T] = t
        last = float(t[-1])
        out.append(s)
    return tuple(out)
