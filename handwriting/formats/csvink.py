"""CSV of pen points: one ink per file, one point per row.

Columns are found by a header row, named case-insensitively: `x`, `y`, time (`t`, `time`,
`timestamp`, `t_ms`, `time_ms` in milliseconds; `t_s`, `time_s`, `seconds` in seconds),
stroke (`stroke`, `stroke_id`, `strokeid`, `id`) and pressure (`p`, `pressure`, `force`);
other columns are ignored. A file whose first row is all numbers has no header and is
read by position: 2 columns x, y; 3 columns x, y, stroke; 4 columns x, y, t, stroke.
Fields are separated by commas, tabs or semicolons (whichever the first row uses).

A new stroke starts where the stroke id changes; without a stroke column, an empty row
ends a stroke. Without a time column the file has no time stamps (`meta["timed"]`
False). y grows downwards, as on a screen; negate it beforehand for y-up data. CSV is
found by its suffix only, and folders are not searched for it (`IN_FOLDERS`): name the
file on the command line.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from handwriting.errors import InkFormatError
from handwriting.formats._common import read_text
from handwriting.ink import Ink
from handwriting.formats.page import TIMED

__all__ = ["NAME", "SUFFIXES", "IN_FOLDERS", "sniff", "read"]

NAME = "csv"
SUFFIXES = (".csv", ".tsv")
IN_FOLDERS = False
MAX_CSV_BYTES = 64 * 1024 * 1024
_NAMES = {
    "x": ("x",), "y": ("y",),
    "t": ("t", "time", "timestamp", "t_ms", "time_ms"), "t_s": ("t_s", "time_s", "seconds"),
    "stroke": ("stroke", "stroke_id", "strokeid", "id"), "p": ("p", "pressure", "force"),
}
_BY_POSITION = {2: ("x", "y"), 3: ("x", "y", "stroke"), 4: ("x", "y", "t", "stroke")}


def sniff(head: bytes) -> bool:
    return False  # any text could be CSV: the suffix decides


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _columns(first: list[str], path: Path) -> tuple[dict[str, int], bool]:
    """Column index of each known field, and whether `first` is a header row."""
    if all(_number(v) is not None for v in first):
        if len(first) not in _BY_POSITION:
            raise InkFormatError(path, 1, f"{len(first)} columns without a header: expected 2 (x, y), "
                                          "3 (x, y, stroke) or 4 (x, y, t, stroke)")
        return {name: k for k, name in enumerate(_BY_POSITION[len(first)])}, False
    names = [v.strip().lower().replace(" ", "_") for v in first]
    found = {}
    for field, aliases in _NAMES.items():
        hits = [k for k, n in enumerate(names) if n in aliases]
        if hits:
            found[field] = hits[0]
    missing = [c for c in ("x", "y") if c not in found]
    if missing:
        raise InkFormatError(path, 1, f"the header has no {' or '.join(missing)} column (columns: {', '.join(first)[:200]})")
    if "t" in found and "t_s" in found:
        del found["t_s"]
    return found, True


def read(path: str | Path) -> list[Ink]:
    path = Path(path)
    text = read_text(path, MAX_CSV_BYTES)
    if "\x00" in text:
        raise InkFormatError(path, None, "binary data, not CSV text")
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line else ";" if ";" in first_line and "," not in first_line else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise InkFormatError(path, None, f"malformed CSV ({exc})") from None
    start = next((n for n, r in enumerate(rows) if any(v.strip() for v in r)), None)
    if start is None:
        raise InkFormatError(path, None, "no rows")
    columns, header = _columns(rows[start], path)
    return [_ink(rows, start + header, columns, path)]


def _ink(rows: list[list[str]], first: int, columns: dict[str, int], path: Path) -> Ink:
    strokes: list[list[list[float]]] = [[]]
    last_id: str | None = None
    width = max(columns.values()) + 1
    for n in range(first, len(rows)):
        row = rows[n]
        if not any(v.strip() for v in row):
            if "stroke" not in columns and strokes[-1]:
                strokes.append([])
            continue
        if len(row) < width:
            raise InkFormatError(path, n + 1, f"{len(row)} fields, expected at least {width}")
        values = [np.nan] * 4
        for k, field in enumerate(("x", "y", "t", "p")):
            column = columns.get(field, columns.get("t_s") if field == "t" else None)
            if column is not None:
                value = _number(row[column])
                if value is None or value != value or abs(value) == float("inf"):
                    raise InkFormatError(path, n + 1, f"{field}: not a finite number: {row[column][:40]!r}")
                values[k] = value * (1000.0 if field == "t" and "t" not in columns else 1.0)
        if "stroke" in columns:
            stroke_id = row[columns["stroke"]].strip()
            if last_id is not None and stroke_id != last_id and strokes[-1]:
                strokes.append([])
            last_id = stroke_id
        strokes[-1].append(values)
    strokes = [s for s in strokes if s]
    if not strokes:
        raise InkFormatError(path, None, "no points")
    timed = "t" in columns or "t_s" in columns
    return Ink(tuple(np.array(s) for s in strokes), meta={"source": str(path), TIMED: timed})
