"""Curve frames (numba): each stroke of a resampled ink cut, greedily, into cubic Bézier
curves that follow it within a tolerance, one frame per curve, as Carbune et al. 2020 feed
their network.

A curve starts where the last one ended and grows point by point while the least-squares
cubic through its end points (chord-length parameters) stays within `tolerance` of every
point, up to `max_points` points. Per frame: the chord (end minus start, log-compressed in
units of UNIT), pen-up (the move in the air into a stroke, a straight frame of its own; the
first stroke's, of length zero, starts the frames as a point frame's first pen-up does),
y of the start, the two control points relative to the chord's ends (in units of UNIT,
clipped to CONTROL_LIMIT) and the arc length (log-compressed). Compiled and cached as
`handwriting.recognition.jit` says.
"""

from __future__ import annotations

import math

import numpy as np

from handwriting.recognition.jit import compiled
from handwriting.recognition.preprocess import CURVE_FEATURE_NAMES

__all__ = ["curves"]

WIDTH = len(CURVE_FEATURE_NAMES)  # features per frame, in the order the module docstring gives
UNIT = 0.1  # writing heights: the scale of chords, control points and lengths
CONTROL_LIMIT = 10.0  # units: a control point farther than one writing height from its end is clipped


@compiled(inline="always")
def _bernstein(u):
    v = 1.0 - u
    return v * v * v, 3.0 * u * v * v, 3.0 * u * u * v, u * u * u


@compiled()
def _fit(xy, s, e, t):
    """(c1x, c1y, c2x, c2y, largest distance of a point from the curve) of the least-squares
    cubic from xy[s] to xy[e] (chord-length parameters, written into `t`); fewer than four
    points give the straight cubic."""
    m = e - s + 1
    x0, y0, x3, y3 = xy[s, 0], xy[s, 1], xy[e, 0], xy[e, 1]
    c1x, c1y = x0 + (x3 - x0) / 3.0, y0 + (y3 - y0) / 3.0
    c2x, c2y = x0 + 2.0 * (x3 - x0) / 3.0, y0 + 2.0 * (y3 - y0) / 3.0
    t[0] = 0.0
    for k in range(1, m):
        t[k] = t[k - 1] + math.hypot(xy[s + k, 0] - xy[s + k - 1, 0], xy[s + k, 1] - xy[s + k - 1, 1])
    total = t[m - 1]
    if total > 0:
        for k in range(m):
            t[k] /= total
    if m >= 4 and total > 0:
        a11 = a12 = a22 = r1x = r1y = r2x = r2y = 0.0
        for k in range(m):
            b0, b1, b2, b3 = _bernstein(t[k])
            a11 += b1 * b1
            a12 += b1 * b2
            a22 += b2 * b2
            rx = xy[s + k, 0] - b0 * x0 - b3 * x3
            ry = xy[s + k, 1] - b0 * y0 - b3 * y3
            r1x += b1 * rx
            r1y += b1 * ry
            r2x += b2 * rx
            r2y += b2 * ry
        det = a11 * a22 - a12 * a12
        if abs(det) > 1e-12:
            c1x, c1y = (a22 * r1x - a12 * r2x) / det, (a22 * r1y - a12 * r2y) / det
            c2x, c2y = (a11 * r2x - a12 * r1x) / det, (a11 * r2y - a12 * r1y) / det
    error = 0.0
    for k in range(m):
        b0, b1, b2, b3 = _bernstein(t[k])
        qx = b0 * x0 + b1 * c1x + b2 * c2x + b3 * x3
        qy = b0 * y0 + b1 * c1y + b2 * c2y + b3 * y3
        error = max(error, math.hypot(qx - xy[s + k, 0], qy - xy[s + k, 1]))
    return c1x, c1y, c2x, c2y, error


@compiled(inline="always")
def _log_scaled(d):
    return np.sign(d) * math.log1p(abs(d) / UNIT)


@compiled(inline="always")
def _control(c, anchor):
    return min(max((c - anchor) / UNIT, -CONTROL_LIMIT), CONTROL_LIMIT)


@compiled()
def curves(xy, strokes, source, tolerance, max_points):
    """(features, source point, stroke, position, control points (2, 2)) of each curve frame of
    resampled points `xy` of `strokes`, `source` the ink point of each; a frame's point and
    position are its curve's end's (a move in the air: a straight curve)."""
    n = len(xy)
    feats = np.zeros((2 * n + 1, WIDTH), np.float32)
    point, stroke, position = np.zeros(2 * n + 1, np.int64), np.zeros(2 * n + 1, np.int64), np.zeros((2 * n + 1, 2))
    controls = np.zeros((2 * n + 1, 2, 2))
    t = np.empty(max_points + 1)  # the parameters of the points of the curve being fitted
    f = 0
    first = 0
    while first < n:
        last = first
        while last + 1 < n and strokes[last + 1] == strokes[first]:
            last += 1
        before = xy[first - 1] if first > 0 else xy[first]  # the move in the air from the last stroke's end
        dx, dy = xy[first, 0] - before[0], xy[first, 1] - before[1]
        feats[f, 0], feats[f, 1], feats[f, 2] = _log_scaled(dx), _log_scaled(dy), 1.0
        feats[f, 3] = before[1]
        feats[f, 8] = math.log1p(math.hypot(dx, dy) / UNIT)
        point[f], stroke[f], position[f] = source[first], strokes[first], xy[first]
        controls[f, 0] = before + (xy[first] - before) / 3.0
        controls[f, 1] = before + 2.0 * (xy[first] - before) / 3.0
        f += 1
        s = first
        while True:
            e = min(s + 1, last)
            c1x, c1y, c2x, c2y, _ = _fit(xy, s, e, t)
            while e < last and e + 1 - s < max_points:
                longer = _fit(xy, s, e + 1, t)
                if longer[4] > tolerance:
                    break
                e += 1
                c1x, c1y, c2x, c2y = longer[0], longer[1], longer[2], longer[3]
            length = 0.0
            for k in range(s + 1, e + 1):
                length += math.hypot(xy[k, 0] - xy[k - 1, 0], xy[k, 1] - xy[k - 1, 1])
            feats[f, 0], feats[f, 1] = _log_scaled(xy[e, 0] - xy[s, 0]), _log_scaled(xy[e, 1] - xy[s, 1])
            feats[f, 3] = xy[s, 1]
            feats[f, 4], feats[f, 5] = _control(c1x, xy[s, 0]), _control(c1y, xy[s, 1])
            feats[f, 6], feats[f, 7] = _control(c2x, xy[e, 0]), _control(c2y, xy[e, 1])
            feats[f, 8] = math.log1p(length / UNIT)
            point[f], stroke[f], position[f] = source[e], strokes[e], xy[e]
            controls[f, 0, 0], controls[f, 0, 1], controls[f, 1, 0], controls[f, 1, 1] = c1x, c1y, c2x, c2y
            f += 1
            if e >= last:
                break
            s = e
        first = last + 1
    return feats[:f], point[:f], stroke[:f], position[:f], controls[:f]
