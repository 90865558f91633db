"""From raw ink to the frame features the network reads, and back from frames to points.

Steps (the same for training and recognition):
1. size: divide by a robust writing height h (5th-95th percentile of y), so that lines,
   words and characters from any device share one scale;
2. wild points (isolated spikes far from both neighbours) are dropped;
3. slant: shear by the length-weighted mean slope of near-vertical pen-down segments;
4. arc-length resampling at `step` (a fraction of h), keeping every stroke's end points;
5. per frame: log-compressed dx, dy (in units of `step`), pen-up (the move into this
   frame was in the air), y relative to the line centre, direction cos/sin and the
   change of direction cos/sin (curvature), in the spirit of Graves et al. 2009 and
   Carbune et al. 2020.
Each frame keeps the index of its nearest source point, so recognised characters map
back onto strokes and points.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from handwriting.ink import Ink

__all__ = ["PreprocessConfig", "Frames", "featurize", "FEATURE_NAMES"]

FEATURE_NAMES = ("dx", "dy", "pen_up", "y", "cos", "sin", "dcos", "dsin")


@dataclass(frozen=True)
class PreprocessConfig:
    """Parameters stored in every model, so recognition preprocesses as training did."""

    step: float = 0.15
    deslant: bool = True
    max_slant: float = 1.0
    version: int = 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "PreprocessConfig":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass(frozen=True)
class Frames:
    """Network input for one ink and the map from frames back to the ink's points."""

    features: np.ndarray  # (T, F) float32
    point_index: np.ndarray  # (T,) index into ink.points()
    stroke_index: np.ndarray  # (T,) stroke of each frame
    xy: np.ndarray  # (T, 2) normalised positions of the frames (for drawing)
    line_starts: tuple[int, ...] = (0,)  # first frame of each text line (lines run through the network apart)

    def __len__(self) -> int:
        return len(self.features)

    def line_bounds(self) -> list[tuple[int, int]]:
        """[start, end) frames of each line."""
        ends = self.line_starts[1:] + (len(self),)
        return list(zip(self.line_starts, ends))

    def part(self, start: int, end: int) -> "Frames":
        """Frames [start, end) of one line."""
        return Frames(self.features[start:end], self.point_index[start:end], self.stroke_index[start:end],
                      self.xy[start:end])


def featurize(ink: Ink, config: PreprocessConfig = PreprocessConfig()) -> Frames:
    """Frames for `ink`; an empty ink gives zero frames."""
    points = ink.points()[:, :2]
    strokes = ink.stroke_ids()
    if len(points) == 0:
        return Frames(np.zeros((0, len(FEATURE_NAMES)), np.float32), np.zeros(0, int), np.zeros(0, int), np.zeros((0, 2)))
    height = _writing_height(points)
    xy = points / height
    keep = ~_spikes(xy, strokes)
    xy, strokes, source = xy[keep], strokes[keep], np.flatnonzero(keep)
    if config.deslant:
        xy = _deslant(xy, strokes, config.max_slant)
    lo, hi = np.percentile(xy[:, 1], [5, 95])
    xy = xy - [xy[:, 0].min(), (lo + hi) / 2]
    rxy, rsource, rstroke = _resample(xy, strokes, source, config.step)
    return Frames(_features(rxy, rstroke, config.step), rsource, rstroke, rxy)


def _writing_height(points: np.ndarray) -> float:
    lo, hi = np.percentile(points[:, 1], [5, 95])
    width = np.ptp(points[:, 0])
    return float(max(hi - lo, width / 25.0, 1e-6))


def _spikes(xy: np.ndarray, strokes: np.ndarray) -> np.ndarray:
    """Points far (> 0.5 h) from both neighbours of their stroke while those neighbours are close."""
    spike = np.zeros(len(xy), bool)
    if len(xy) < 3:
        return spike
    same = (strokes[:-2] == strokes[1:-1]) & (strokes[1:-1] == strokes[2:])
    d_prev = np.linalg.norm(xy[1:-1] - xy[:-2], axis=1)
    d_next = np.linalg.norm(xy[2:] - xy[1:-1], axis=1)
    d_skip = np.linalg.norm(xy[2:] - xy[:-2], axis=1)
    near = np.minimum(d_prev, d_next)
    spike[1:-1] = same & (near > 0.5) & (near > 3 * d_skip)
    return spike


def _deslant(xy: np.ndarray, strokes: np.ndarray, max_slant: float) -> np.ndarray:
    """Shear so that near-vertical pen-down segments stand upright on average.

    A segment's weight, (dy^2 - dx^2) / length, fades to zero at 45 degrees, so the
    estimate changes smoothly with the ink (no segment flips in or out of the average).
    """
    d = np.diff(xy, axis=0)[strokes[1:] == strokes[:-1]]
    d = d * np.where(d[:, 1:2] < 0, -1.0, 1.0)  # orient every segment downwards
    length = np.linalg.norm(d, axis=1)
    weight = np.divide(np.maximum(d[:, 1] ** 2 - d[:, 0] ** 2, 0.0), length, out=np.zeros_like(length), where=length > 0)
    down = float(np.sum(weight * d[:, 1]))
    if down <= 1e-9:
        return xy
    slope = float(np.clip(np.sum(weight * d[:, 0]) / down, -max_slant, max_slant))
    out = xy.copy()
    out[:, 0] -= slope * (xy[:, 1] - np.median(xy[:, 1]))
    return out


def _resample(xy: np.ndarray, strokes: np.ndarray, source: np.ndarray, step: float):
    """Points every `step` of arc length along each stroke, plus the stroke's end when it lies
    more than half a step beyond the last one; a stroke of zero length gives one point.

    All strokes at once: one arc-length axis where each stroke starts a gap of one unit after
    the previous one ends, so interpolation never crosses from one stroke into the next.
    """
    first = np.flatnonzero(np.r_[True, strokes[1:] != strokes[:-1]])
    last = np.r_[first[1:] - 1, len(xy) - 1]
    seg = np.linalg.norm(np.diff(xy, axis=0), axis=1)
    seg[first[1:] - 1] = 1.0  # the gap between strokes
    arc = np.r_[0.0, np.cumsum(seg)]
    origin, total = arc[first], arc[last] - arc[first]
    steps = np.floor(total / step).astype(int)
    with_end = (total - steps * step > step * 0.5) | ((steps == 0) & (total > 0))
    counts = steps + 1 + with_end
    owner = np.repeat(np.arange(len(first)), counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    local = np.where(k > steps[owner], total[owner], k * step)
    targets = origin[owner] + np.minimum(local, total[owner])
    x = np.interp(targets, arc, xy[:, 0])
    y = np.interp(targets, arc, xy[:, 1])
    nearest = np.minimum(np.searchsorted(arc, targets), last[owner])
    return np.stack([x, y], axis=1), source[nearest], strokes[first][owner]


def _features(xy: np.ndarray, strokes: np.ndarray, step: float) -> np.ndarray:
    n = len(xy)
    d = np.zeros_like(xy)
    d[1:] = np.diff(xy, axis=0)
    pen_up = np.ones(n)
    pen_up[1:] = (strokes[1:] != strokes[:-1]).astype(float)
    length = np.linalg.norm(d, axis=1)
    unit = np.divide(d, length[:, None], out=np.zeros_like(d), where=length[:, None] > 1e-9)
    prev = np.zeros_like(unit)
    prev[1:] = unit[:-1]
    dcos = (unit * prev).sum(axis=1)
    dsin = prev[:, 0] * unit[:, 1] - prev[:, 1] * unit[:, 0]
    compressed = np.sign(d) * np.log1p(np.abs(d) / step)
    feats = np.column_stack([compressed, pen_up, xy[:, 1], unit, dcos, dsin])
    return feats.astype(np.float32)
