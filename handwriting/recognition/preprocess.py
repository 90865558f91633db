"""From raw ink to the frame features the network reads, and back from frames to points.

Steps (the same for training and recognition):
1. size: divide by a robust writing height h (5th-95th percentile of y), so that lines,
   words and characters from any device share one scale;
2. wild points (isolated spikes far from both neighbours) are dropped;
3. slant: shear by the length-weighted mean slope of near-vertical pen-down segments;
4. arc-length resampling at `step` (a fraction of h), keeping every stroke's end points;
5. frames, of one of two kinds (`PreprocessConfig.frames`):
   - "points", one per resampled point: log-compressed dx, dy (in units of `step`), pen-up
     (the move into this frame was in the air), y relative to the line centre, direction
     cos/sin and the change of direction cos/sin (curvature), in the spirit of Graves et
     al. 2009;
   - "curves", one per cubic Bézier curve that follows a stroke within `tolerance`
     (`handwriting.recognition.curves_kernel`), as Carbune et al. 2020: about half as many
     frames, each saying more.
Each frame keeps the index of a source point, so recognised characters map back onto
strokes and points. The steps run compiled (`handwriting.recognition.preprocess_kernel`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from handwriting.ink import Ink

__all__ = ["PreprocessConfig", "Frames", "featurize", "feature_names", "FEATURE_NAMES", "CURVE_FEATURE_NAMES",
           "FRAME_KINDS"]

FEATURE_NAMES = ("dx", "dy", "pen_up", "y", "cos", "sin", "dcos", "dsin")  # of point frames
CURVE_FEATURE_NAMES = ("dx", "dy", "pen_up", "y", "c1x", "c1y", "c2x", "c2y", "length")  # of curve frames
FRAME_KINDS = ("points", "curves")
CURVE_MAX_LENGTH = 1.6  # writing heights of arc length at most in one curve


@dataclass(frozen=True)
class PreprocessConfig:
    """Parameters stored in every model, so recognition preprocesses as training did."""

    step: float = 0.15
    deslant: bool = True
    max_slant: float = 1.0
    version: int = 1
    frames: str = "points"  # one of FRAME_KINDS
    tolerance: float = 0.02  # writing heights a curve frame may stray from its points

    def __post_init__(self) -> None:
        if self.frames not in FRAME_KINDS:
            raise ValueError(f"unknown kind of frames {self.frames!r} (known: {', '.join(FRAME_KINDS)})")

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
    controls: np.ndarray | None = None  # (T, 2, 2) curve frames: the control points of the curve into each frame

    def __len__(self) -> int:
        return len(self.features)

    def line_bounds(self) -> list[tuple[int, int]]:
        """[start, end) frames of each line."""
        ends = self.line_starts[1:] + (len(self),)
        return list(zip(self.line_starts, ends))

    def part(self, start: int, end: int) -> "Frames":
        """Frames [start, end) of one line."""
        return Frames(self.features[start:end], self.point_index[start:end], self.stroke_index[start:end],
                      self.xy[start:end], controls=None if self.controls is None else self.controls[start:end])

    def shifted(self, dx: float) -> "Frames":
        """The same frames drawn `dx` further right (lines laid side by side)."""
        return replace(self, xy=self.xy + [dx, 0.0], controls=None if self.controls is None else self.controls + [dx, 0.0])


def feature_names(config: PreprocessConfig) -> tuple[str, ...]:
    """The names of the features of the frames `config` makes, in order."""
    return CURVE_FEATURE_NAMES if config.frames == "curves" else FEATURE_NAMES


def featurize(ink: Ink, config: PreprocessConfig = PreprocessConfig()) -> Frames:
    """Frames for `ink`; an empty ink gives zero frames."""
    if ink.is_empty:
        return Frames(np.zeros((0, len(feature_names(config))), np.float32), np.zeros(0, int), np.zeros(0, int),
                      np.zeros((0, 2)))
    from handwriting.recognition import preprocess_kernel  # numba takes a third of a second to import

    points = np.ascontiguousarray(ink.points()[:, :2], np.float64)
    strokes = ink.stroke_ids().astype(np.int64, copy=False)
    if config.frames == "curves":
        from handwriting.recognition.curves_kernel import curves

        xy, source, stroke = preprocess_kernel.resampled(points, strokes, config.step, config.deslant, config.max_slant)
        max_points = max(4, int(CURVE_MAX_LENGTH / config.step))
        features, point, stroke, position, controls = curves(np.ascontiguousarray(xy), stroke, source,
                                                             config.tolerance, max_points)
        return Frames(features, point, stroke, position, controls=controls)
    return Frames(*preprocess_kernel.frames(points, strokes, config.step, config.deslant, config.max_slant))
