"""IAM-OnDB `lineStrokes` XML (Liwicki & Bunke, ICDAR 2005): one text line per file.

The transcription lives apart, in `ascii/<a01>/<a01-000>/<form>.txt`: after the line
`CSR:` and a blank line, the N-th non-empty line is the text of `<form>-<NN>.xml`.
When the file sits inside a corpus folder (`.../lineStrokes/...` beside `.../ascii/`),
the label is looked up there, and the writer id from `writers.tsv` if present.
IAM-OnDB's y axis already points down; times are seconds and become milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from xml.etree.ElementTree import Element

import numpy as np

from handwriting.errors import InkFormatError
from handwriting.formats._common import local_name, parse_xml, read_limited, to_float
from handwriting.ink import Ink

__all__ = ["NAME", "SUFFIXES", "sniff", "read", "normalize_transcription", "line_text"]

NAME = "iamondb"
SUFFIXES = (".xml",)
_LINE_NAME = re.compile(r"^(?P<form>[a-z]\d\d-\d\d\d[a-z]?)-(?P<line>\d\d)$")


def sniff(head: bytes) -> bool:
    return b"<WhiteboardCaptureSession" in head or (b"<StrokeSet" in head and b"<Point" in head)


def read(path: str | Path) -> list[Ink]:
    path = Path(path)
    root = parse_xml(read_limited(path), path)
    strokes = []
    for stroke_set in _named(root, "StrokeSet", deep=True):
        for n, stroke in enumerate(_named(stroke_set, "Stroke")):
            rows = [(p.get("x"), p.get("y"), p.get("time")) for p in _named(stroke, "Point")]
            if rows:
                strokes.append(_stroke_points(rows, path, f"Stroke {n + 1}"))
    if not strokes:
        raise InkFormatError(path, "StrokeSet", "no strokes with points")
    label, writer = _lookup_label(path)
    try:
        ink = Ink(tuple(strokes), label=label, writer=writer, meta={"source": str(path)})
    except ValueError as exc:
        raise InkFormatError(path, "StrokeSet", str(exc)) from None
    return [ink]


def _named(parent: Element, name: str, deep: bool = False) -> list[Element]:
    """The children (`deep`: the element itself and all below it) named `name`, in no namespace
    (found by ElementTree's C code) or, when there are none, in any namespace."""
    plain = list(parent.iter(name)) if deep else parent.findall(name)
    return plain or [el for el in (parent.iter() if deep else parent) if local_name(el.tag) == name]


def _stroke_points(rows: Sequence[tuple[str | None, ...]], path: Path, where: str) -> np.ndarray:
    """(x, y, milliseconds) rows from the attribute texts; a missing time is NaN."""
    try:  # fast path: every value present and numeric
        points = np.array(rows, dtype=np.float64)
        if np.isfinite(points).all():
            points[:, 2] *= 1000.0
            return points
    except (TypeError, ValueError):
        pass
    return np.array([(to_float(x, path, where), to_float(y, path, where),
                      to_float(t, path, where) * 1000.0 if t is not None else np.nan) for x, y, t in rows])


def normalize_transcription(text: str) -> str:
    """Undo the CSR's tokenised punctuation: `That ' s` -> `That's`, `Mr .` -> `Mr.`."""
    text = re.sub(r"\s+", " ", text.strip())
    text = re.sub(r"(\w) ' (\w)", r"\1'\2", text)
    text = re.sub(r" ([.,;:!?)])", r"\1", text)
    text = re.sub(r"([(]) ", r"\1", text)
    return text


def line_text(ascii_file: Path, line_number: int) -> str | None:
    """Text of line `line_number` (1-based) from a form's CSR block, or None."""
    lines = _csr_lines(ascii_file)
    if lines is None or not 1 <= line_number <= len(lines):
        return None
    return lines[line_number - 1]


@lru_cache(maxsize=4096)
def _csr_lines(ascii_file: Path) -> list[str] | None:
    try:
        text = ascii_file.read_text(encoding="latin-1")
    except OSError:
        return None
    _, found, after = text.partition("CSR:")
    if not found:
        return None
    return [normalize_transcription(line) for line in after.splitlines() if line.strip()]


def _lookup_label(path: Path) -> tuple[str | None, str | None]:
    match = _LINE_NAME.match(path.stem)
    corpus = next((p.parent for p in path.parents if p.name == "lineStrokes"), None)
    if match is None or corpus is None:
        return None, None
    form = match["form"]
    rel = path.parent.relative_to(corpus / "lineStrokes")
    label = line_text(corpus / "ascii" / rel / f"{form}.txt", int(match["line"]))
    writer = _writers(corpus / "writers.tsv").get(form)
    return label, writer


@lru_cache(maxsize=8)
def _writers(tsv: Path) -> dict[str, str]:
    try:
        rows = tsv.read_text().splitlines()
    except OSError:
        return {}
    return dict(row.split("\t")[:2] for row in rows[1:] if row.count("\t") >= 1)
