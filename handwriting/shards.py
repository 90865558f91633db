"""Training shards: many labelled inks in one compressed `.npz` (points + stroke/sample ends + JSON meta).

Shards keep the raw pen data (not features), so augmentation and preprocessing happen
at training time and a change of preprocessing needs no re-preparation.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from handwriting.atomic import atomic_write_bytes
from handwriting.errors import HandwritingError, InkFormatError
from handwriting.ink import Ink
from handwriting.limits import INFLATE_RATIO, INFLATE_RATIO_FROM, INFLATED_MB, MB, check_regular, inflated_too_much

__all__ = ["write_shard", "read_shard", "read_split"]


def write_shard(inks: list[Ink], path: str | Path) -> None:
    """Store x, y, t of every point (float32), the stroke and sample boundaries, and per-ink meta."""
    strokes = [s[:, :3] for ink in inks for s in ink.strokes]
    points = np.concatenate(strokes).astype(np.float32) if strokes else np.zeros((0, 3), np.float32)
    stroke_ends = np.cumsum([len(s) for s in strokes], dtype=np.int64)
    sample_ends = np.cumsum([ink.num_strokes for ink in inks], dtype=np.int64)
    meta = [{"label": ink.label, "writer": ink.writer, **ink.meta} for ink in inks]
    buf = io.BytesIO()
    np.savez_compressed(
        buf, points=points, stroke_ends=stroke_ends, sample_ends=sample_ends, meta=np.array(json.dumps(meta))
    )
    atomic_write_bytes(path, buf.getvalue())


def read_shard(path: str | Path) -> list[Ink]:
    """The inks of a shard; HandwritingError for a file that is not one, or that decompresses
    past the limits of `handwriting.limits` (checked before anything is decompressed)."""
    try:
        _check_inflated(path)
        with np.load(path, allow_pickle=False) as data:
            points, stroke_ends, sample_ends = data["points"], data["stroke_ends"], data["sample_ends"]
            meta = json.loads(str(data["meta"]))
    except InkFormatError as exc:
        raise HandwritingError(str(exc)) from None
    except MemoryError:
        raise
    except Exception as exc:  # numpy and zipfile raise many types for damaged files (zlib, tokenize, ...)
        raise HandwritingError(f"{path}: not a readable training shard ({type(exc).__name__}: {exc})") from None
    problem = _layout_problem(points, stroke_ends, sample_ends, meta)
    if problem:
        raise HandwritingError(f"{path}: not a readable training shard ({problem})")
    strokes = np.split(points.astype(np.float64), stroke_ends[:-1]) if len(stroke_ends) else []
    inks, start = [], 0
    for end, m in zip(sample_ends, meta):
        label, writer = m.pop("label", None), m.pop("writer", None)
        inks.append(Ink(tuple(strokes[start:end]), label=label, writer=writer, meta=m))
        start = end
    return inks


def _check_inflated(path: str | Path) -> None:
    """InkFormatError unless `path` is a regular file whose members decompress within the limits."""
    size = check_regular(path).st_size
    with zipfile.ZipFile(path) as archive:
        inflated = sum(info.file_size for info in archive.infolist())
    if inflated > min(INFLATED_MB.value() * MB, max(INFLATE_RATIO_FROM, INFLATE_RATIO.value() * size)):
        raise InkFormatError(path, None, inflated_too_much(size))


def _layout_problem(points: np.ndarray, stroke_ends: np.ndarray, sample_ends: np.ndarray, meta: object) -> str | None:
    """What is wrong with the arrays of a shard, or None."""
    if points.ndim != 2 or points.shape[1] != 3 or not np.issubdtype(points.dtype, np.floating):
        return f"points must be an (n, 3) float array, not {points.dtype} {points.shape}"
    for name, ends, total, step in (("stroke_ends", stroke_ends, len(points), 1),  # strokes have points
                                    ("sample_ends", sample_ends, len(stroke_ends), 0)):  # inks may be empty
        if ends.ndim != 1 or not np.issubdtype(ends.dtype, np.integer):
            return f"{name} must be a list of whole numbers"
        if len(ends) and (ends[0] < step or (np.diff(ends) < step).any() or ends[-1] != total):
            return f"{name} must rise to {total}"
    if len(stroke_ends) == 0 and len(points):
        return "points without strokes"
    if not isinstance(meta, list) or len(meta) != len(sample_ends) or not all(isinstance(m, dict) for m in meta):
        return "meta must hold one object per ink"
    return None


def read_split(root: str | Path, split: str) -> list[Ink]:
    """All inks of `split` ("train" or "val") in the shards under `root` (searched recursively)."""
    files = sorted(Path(root).rglob(f"{split}*.npz"))
    if not files:
        raise HandwritingError(f"{root}: no '{split}' shards (run `handwriting prepare` first)")
    return [ink for f in files for ink in read_shard(f)]
