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
from handwriting.errors import HandwritingError
from handwriting.ink import Ink

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
    try:
        with np.load(path, allow_pickle=False) as data:
            points, stroke_ends, sample_ends = data["points"], data["stroke_ends"], data["sample_ends"]
            meta = json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise HandwritingError(f"{path}: not a readable training shard ({exc})") from None
    strokes = np.split(points.astype(np.float64), stroke_ends[:-1]) if len(stroke_ends) else []
    inks, start = [], 0
    for end, m in zip(sample_ends, meta):
        label, writer = m.pop("label"), m.pop("writer")
        inks.append(Ink(tuple(strokes[start:end]), label=label, writer=writer, meta=m))
        start = end
    return inks


def read_split(root: str | Path, split: str) -> list[Ink]:
    """All inks of `split` ("train" or "val") in the shards under `root` (searched recursively)."""
    files = sorted(Path(root).rglob(f"{split}*.npz"))
    if not files:
        raise HandwritingError(f"{root}: no '{split}' shards (run `handwriting prepare` first)")
    return [ink for f in files for ink in read_shard(f)]
