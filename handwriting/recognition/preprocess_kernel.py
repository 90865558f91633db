"""The compiled steps of `handwriting.recognition.preprocess.featurize` (numba): from an ink's
points to its frames in one pass over plain arrays, with no numpy call per step.

Each step computes what its numpy formulation computes, in the same order: percentiles
and medians by numpy's rules (linear interpolation with numpy's `_lerp`, the median the
mean of the two middle values), sums by numpy's pairwise sum, `np.interp` as numba ports
it. Compiled and cached as `handwriting.recognition.jit` says.
"""

from __future__ import annotations

import math

import numpy as np

from handwriting.recognition.jit import compiled, pairwise_sum

__all__ = ["frames", "resampled"]

SPIKE = 0.5  # a spike lies more than this many writing heights from both neighbours,
SPIKE_RATIO = 3.0  # and this many times farther than the neighbours lie from each other
END_FRACTION = 0.5  # a stroke's end is kept when it lies more than this many steps beyond the last frame
TURN_FLOOR = 1e-9  # moves shorter than this have no direction


@compiled(inline="always")
def _quantile(ordered, q):
    """numpy's percentile (method "linear") at `q` (a fraction) of the sorted `ordered`."""
    n = len(ordered)
    virtual = (n - 1) * q
    if virtual >= n - 1:
        return ordered[n - 1]
    below = int(math.floor(virtual))
    gamma = virtual - below
    a, b = ordered[below], ordered[below + 1]
    diff = b - a
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


@compiled(inline="always")
def _median(ordered):
    n = len(ordered)
    half = n // 2
    return ordered[half] if n % 2 else (ordered[half - 1] + ordered[half]) / 2.0


@compiled(inline="always")
def _norm(dx, dy):
    return math.sqrt(dx * dx + dy * dy)


@compiled()
def _kept(xy, strokes):
    """Which points are not spikes: points far from both neighbours of their stroke while those neighbours are close."""
    n = len(xy)
    keep = np.ones(n, np.bool_)
    for i in range(1, n - 1):
        if strokes[i - 1] != strokes[i] or strokes[i] != strokes[i + 1]:
            continue
        near = min(_norm(xy[i, 0] - xy[i - 1, 0], xy[i, 1] - xy[i - 1, 1]), _norm(xy[i + 1, 0] - xy[i, 0], xy[i + 1, 1] - xy[i, 1]))
        skip = _norm(xy[i + 1, 0] - xy[i - 1, 0], xy[i + 1, 1] - xy[i - 1, 1])
        keep[i] = not (near > SPIKE and near > SPIKE_RATIO * skip)
    return keep


@compiled()
def _slope(xy, strokes, max_slant):
    """The shear that stands near-vertical pen-down segments upright (0.0 when there are none):
    the weighted mean of dx/dy, a segment's weight (dy^2 - dx^2) / length fading to zero at 45 degrees."""
    n = len(xy)
    weighted_x, weighted_y = np.empty(max(n - 1, 0)), np.empty(max(n - 1, 0))
    m = 0
    for i in range(n - 1):
        if strokes[i + 1] != strokes[i]:
            continue
        dx, dy = xy[i + 1, 0] - xy[i, 0], xy[i + 1, 1] - xy[i, 1]
        if dy < 0:  # orient every segment downwards
            dx, dy = dx * -1.0, dy * -1.0
        length = _norm(dx, dy)
        weight = max(dy * dy - dx * dx, 0.0) / length if length > 0 else 0.0
        weighted_x[m], weighted_y[m] = weight * dx, weight * dy
        m += 1
    down = pairwise_sum(weighted_y, m)
    if down <= 1e-9:
        return 0.0
    return min(max(pairwise_sum(weighted_x, m) / down, -max_slant), max_slant)


@compiled()
def _resampled(xy, strokes, source, step):
    """Points every `step` of arc length along each stroke, plus the stroke's end when it lies
    more than half a step beyond the last one (a stroke of zero length gives one point): their
    positions, nearest source point and stroke. Strokes lie one unit apart on the arc-length axis."""
    n = len(xy)
    arc = np.empty(n)
    arc[0] = 0.0
    for i in range(1, n):
        gap = 1.0 if strokes[i] != strokes[i - 1] else _norm(xy[i, 0] - xy[i - 1, 0], xy[i, 1] - xy[i - 1, 1])
        arc[i] = arc[i - 1] + gap
    firsts = np.flatnonzero(np.concatenate((np.ones(1, np.bool_), strokes[1:] != strokes[:-1])))
    lasts = np.concatenate((firsts[1:] - 1, np.array([n - 1])))
    totals = arc[lasts] - arc[firsts]
    steps = np.floor(totals / step).astype(np.int64)
    counts = np.empty(len(firsts), np.int64)
    for s in range(len(firsts)):
        with_end = (totals[s] - steps[s] * step > step * END_FRACTION) or (steps[s] == 0 and totals[s] > 0)
        counts[s] = steps[s] + 1 + with_end
    targets = np.empty(counts.sum())
    owner = np.empty(len(targets), np.int64)
    t = 0
    for s in range(len(firsts)):
        for k in range(counts[s]):
            local = totals[s] if k > steps[s] else k * step
            targets[t] = arc[firsts[s]] + min(local, totals[s])
            owner[t] = s
            t += 1
    out = np.empty((len(targets), 2))
    out[:, 0] = np.interp(targets, arc, xy[:, 0])
    out[:, 1] = np.interp(targets, arc, xy[:, 1])
    nearest = np.minimum(np.searchsorted(arc, targets), lasts[owner])
    return out, source[nearest], strokes[firsts][owner]


@compiled()
def _features(xy, strokes, step):
    """Per frame: log-compressed dx, dy, pen-up, y, direction cos/sin, change of direction cos/sin."""
    n = len(xy)
    feats = np.zeros((n, 8), np.float32)
    prev_x = prev_y = 0.0
    for i in range(n):
        dx = xy[i, 0] - xy[i - 1, 0] if i else 0.0
        dy = xy[i, 1] - xy[i - 1, 1] if i else 0.0
        length = _norm(dx, dy)
        ux, uy = (dx / length, dy / length) if length > TURN_FLOOR else (0.0, 0.0)
        feats[i, 0] = np.sign(dx) * math.log1p(abs(dx) / step)
        feats[i, 1] = np.sign(dy) * math.log1p(abs(dy) / step)
        feats[i, 2] = 1.0 if i == 0 or strokes[i] != strokes[i - 1] else 0.0
        feats[i, 3] = xy[i, 1]
        feats[i, 4], feats[i, 5] = ux, uy
        feats[i, 6] = ux * prev_x + uy * prev_y
        feats[i, 7] = prev_x * uy - prev_y * ux
        prev_x, prev_y = ux, uy
    return feats


@compiled()
def resampled(points, strokes, step, deslant, max_slant):
    """(position, source point, stroke) of points every `step` along a non-empty ink's (x, y)
    `points`: sized by the writing height, spikes dropped, deslanted, centred, resampled."""
    ys = np.sort(points[:, 1])
    width = points[:, 0].max() - points[:, 0].min()
    height = max(_quantile(ys, 0.95) - _quantile(ys, 0.05), width / 25.0, 1e-6)
    xy = points / height
    source = np.flatnonzero(_kept(xy, strokes))
    xy, strokes = xy[source], strokes[source]
    ordered = np.sort(xy[:, 1])
    if deslant:
        slope = _slope(xy, strokes, max_slant)
        if slope != 0.0:
            xy[:, 0] -= slope * (xy[:, 1] - _median(ordered))
    centre = (_quantile(ordered, 0.05) + _quantile(ordered, 0.95)) / 2
    xy[:, 0] -= xy[:, 0].min()
    xy[:, 1] -= centre
    return _resampled(xy, strokes, source, step)


@compiled()
def frames(points, strokes, step, deslant, max_slant):
    """(features, source point, stroke, position) of each frame of a non-empty ink's (x, y) `points`:
    the points `resampled` gives, featurized."""
    rxy, rsource, rstroke = resampled(points, strokes, step, deslant, max_slant)
    return _features(rxy, rstroke, step), rsource, rstroke, rxy
