"""JSON ink: `{"strokes": [[[x, y, t, pressure], ...], ...], "label": ..., "writer": ...}`.

A point holds 2 to 4 numbers (t and pressure optional; null also means absent); label and
writer are optional strings. A file holds one such object, a list of them, or one per line
(ndjson / JSON Lines). NaN and Infinity are refused, files over 64 MB too, and nesting is
bounded by the JSON parser's recursion limit.

Writing: one ink as an indented object (a stroke per line), several as ndjson.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from handwriting.atomic import atomic_write
from handwriting.errors import InkFormatError
from handwriting.formats._common import format_number, read_text
from handwriting.ink import P, Ink
from handwriting.limits import ink_problem

__all__ = ["NAME", "SUFFIXES", "MAX_JSON_BYTES", "sniff", "read", "write", "dumps"]

NAME = "json"
SUFFIXES = (".json", ".ndjson", ".jsonl")
MAX_JSON_BYTES = 64 * 1024 * 1024
_POINT_HELP = "must be a list of 2 to 4 numbers: x, y[, t[, pressure]]"


def sniff(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON ink accepts")


def _loads(text: str, path: Path, line: int | None) -> object:
    """Parse JSON; numbers become floats. Errors other than "Extra data" become InkFormatError."""
    try:
        return json.loads(text, parse_int=float, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and line is None:
            raise
        raise InkFormatError(path, exc.lineno if line is None else line, f"{exc.msg} (column {exc.colno})") from None
    except ValueError as exc:
        raise InkFormatError(path, line, str(exc)) from None
    except RecursionError:
        raise InkFormatError(path, line, "JSON nested too deeply") from None


def _documents(text: str, path: Path) -> list[tuple[str, object]]:
    """(place, object) for each ink object in the file."""
    try:
        doc = _loads(text, path, None)
    except json.JSONDecodeError:  # more than one value: JSON Lines
        lines = enumerate(text.split("\n"), 1)  # not splitlines(): U+2028 and friends may sit in strings
        return [(f"line {n}", _loads(line, path, n)) for n, line in lines if line.strip()]
    if isinstance(doc, list):
        return [(f"item {i + 1}", item) for i, item in enumerate(doc)]
    return [("", doc)]


def _stroke(points: object, path: Path | None, where: str) -> np.ndarray:
    if not isinstance(points, list) or not points:
        raise InkFormatError(path, where, "a stroke must be a non-empty list of points")
    out = np.full((len(points), 4), np.nan)
    for j, point in enumerate(points):
        ok = isinstance(point, list) and 2 <= len(point) <= 4
        ok = ok and all(type(v) is float or (v is None and k >= 2) for k, v in enumerate(point))
        if not ok:
            raise InkFormatError(path, f"{where}, point {j + 1}", _POINT_HELP)
        out[j, : len(point)] = [math.nan if v is None else v for v in point]
    if np.isinf(out).any():
        raise InkFormatError(path, where, "a number is too large")
    return out


def _optional_text(obj: dict, key: str, path: Path | None, where: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise InkFormatError(path, where or None, f'"{key}" must be a string or null')
    if value is not None and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InkFormatError(path, where or None, f'"{key}" holds an unpaired surrogate escape') from None
    return value


def _ink(obj: object, path: Path | None, where: str) -> Ink:
    if not isinstance(obj, dict) or not isinstance(obj.get("strokes"), list):
        raise InkFormatError(path, where or None, 'expected an object with a "strokes" list')
    label = _optional_text(obj, "label", path, where)
    writer = _optional_text(obj, "writer", path, where)
    prefix = f"{where}, " if where else ""
    problem = ink_problem(obj["strokes"])  # before the points are checked one by one
    if problem:
        raise InkFormatError(path, where or None, problem)
    strokes = tuple(_stroke(s, path, f"{prefix}stroke {i + 1}") for i, s in enumerate(obj["strokes"]))
    return Ink(strokes, label=label, writer=writer, meta={"source": str(path)})


def read(path: str | Path) -> list[Ink]:
    path = Path(path)
    text = read_text(path, MAX_JSON_BYTES)
    return [_ink(obj, path, where) for where, obj in _documents(text, path)]


def _point(row: np.ndarray) -> str:
    values = row[:3] if math.isnan(row[P]) else row
    return "[" + ", ".join(format_number(v) for v in values) + "]"


def _stroke_text(stroke: np.ndarray) -> str:
    return "[" + ", ".join(_point(row) for row in stroke) + "]"


def dumps(ink: Ink, indent: bool = False) -> str:
    """One ink as a JSON object: compact on one line, or indented with a stroke per line."""
    head = [f'"label": {json.dumps(ink.label, ensure_ascii=False)}']
    if ink.writer is not None:
        head.append(f'"writer": {json.dumps(ink.writer, ensure_ascii=False)}')
    strokes = [_stroke_text(s) for s in ink.strokes]
    if not indent:
        return "{" + ", ".join(head) + ', "strokes": [' + ", ".join(strokes) + "]}"
    body = ",\n".join(f"    {s}" for s in strokes)
    return "{\n" + "".join(f"  {h},\n" for h in head) + '  "strokes": [\n' + body + ("\n" if body else "") + "  ]\n}"


def write(inks: list[Ink], path: str | Path) -> None:
    """One ink: an indented object; several: one compact object per line. Atomic."""
    if not inks:
        raise ValueError("no inks to write")
    text = dumps(inks[0], indent=True) if len(inks) == 1 else "\n".join(dumps(ink) for ink in inks)
    with atomic_write(path) as fh:
        fh.write(text + "\n")
