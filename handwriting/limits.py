"""What reading one file may cost: bytes, decompressed bytes, points, strokes, includes,
extracted archives. Each limit has a default and an environment variable that raises it
(`HANDWRITING_MAX_POINTS=1000000 handwriting recognize big.json`); going past one is one
clear error naming the file, the limit and the variable. Only regular files are read: a
FIFO, a device or a link to one is refused before it is opened.
"""

from __future__ import annotations

import os
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handwriting.errors import HandwritingError, InkFormatError

__all__ = ["Limit", "LIMITS", "FILE_MB", "INFLATED_MB", "INFLATE_RATIO", "INK_POINTS", "INK_STROKES", "STROKE_POINTS",
           "RECOGNIZE_POINTS", "INCLUDES", "EXTRACT_MB", "ARCHIVE_FILES", "MB", "INFLATE_RATIO_FROM", "INFLATE_CHUNK", "check_regular", "inflate", "inflated_too_much", "ink_problem",
           "recognize_problem"]

MB = 1 << 20


@dataclass(frozen=True)
class Limit:
    """A limit: its environment variable, default and what it counts."""

    env: str
    default: int
    what: str

    def value(self) -> int:
        text = os.environ.get(self.env, "").strip()
        if not text:
            return self.default
        try:
            number = int(text)
        except ValueError:
            number = 0
        if number < 1:
            raise HandwritingError(f"${self.env} must be a positive whole number, not {text!r}")
        return number

    def exceeded(self, amount: int | str) -> str:
        """The reason to give when `amount` is over the limit."""
        return f"{amount} {self.what}, over the limit of {self.value():,} (set {self.env} to raise it)"


FILE_MB = Limit("HANDWRITING_MAX_FILE_MB", 256, "MB in one file")
INFLATED_MB = Limit("HANDWRITING_MAX_INFLATED_MB", 1024, "MB decompressed from one file")
INFLATE_RATIO = Limit("HANDWRITING_MAX_INFLATE_RATIO", 200, "times its compressed size when decompressed")
INK_POINTS = Limit("HANDWRITING_MAX_POINTS", 1_000_000, "points in one ink")
INK_STROKES = Limit("HANDWRITING_MAX_STROKES", 100_000, "strokes in one ink")
STROKE_POINTS = Limit("HANDWRITING_MAX_STROKE_POINTS", 200_000, "points in one stroke")
RECOGNIZE_POINTS = Limit("HANDWRITING_MAX_RECOGNIZE_POINTS", 100_000, "points to recognise in one ink")
INCLUDES = Limit("HANDWRITING_MAX_INCLUDES", 256, "UNIPEN .INCLUDE files read for one file")
EXTRACT_MB = Limit("HANDWRITING_MAX_EXTRACT_MB", 4096, "MB extracted from one archive")
ARCHIVE_FILES = Limit("HANDWRITING_MAX_ARCHIVE_FILES", 1_000_000, "files in one archive")
LIMITS = (FILE_MB, INFLATED_MB, INFLATE_RATIO, INK_POINTS, INK_STROKES, STROKE_POINTS, RECOGNIZE_POINTS, INCLUDES,
          EXTRACT_MB, ARCHIVE_FILES)
INFLATE_RATIO_FROM = 1 * MB  # small documents may compress as well as they like
INFLATE_CHUNK = 1 * MB  # decompressed per step


def check_regular(path: str | Path) -> os.stat_result:
    """The stat of `path` (links followed); InkFormatError unless it is a regular file within FILE_MB."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InkFormatError(path, None, exc.strerror or str(exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise InkFormatError(path, None, "is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        kind = "FIFO" if stat.S_ISFIFO(st.st_mode) else "device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(
            st.st_mode) else "socket" if stat.S_ISSOCK(st.st_mode) else "special file"
        raise InkFormatError(path, None, f"not a regular file (a {kind}); refused")
    if st.st_size > FILE_MB.value() * MB:
        raise InkFormatError(path, None, FILE_MB.exceeded(f"{st.st_size / MB:,.0f}"))
    return st


def inflate(data: bytes, path: str | Path, wbits: int = 31) -> bytes:
    """Every zlib/gzip member of `data` (`wbits` as for zlib: 31 gzip, 15 zlib, -15 raw),
    refused past INFLATED_MB or, beyond 1 MB, past INFLATE_RATIO times the compressed size.
    Decompressed INFLATE_CHUNK at a time, so a bomb costs at most the limit plus one chunk."""
    budget = min(INFLATED_MB.value() * MB, max(INFLATE_RATIO_FROM, INFLATE_RATIO.value() * len(data)))
    out: list[bytes] = []
    size = 0
    rest = data
    while rest:
        inflater = zlib.decompressobj(wbits)
        pending = rest
        while True:
            try:
                chunk = inflater.decompress(pending, INFLATE_CHUNK)
            except zlib.error as exc:
                raise InkFormatError(path, None, f"damaged compressed data ({exc})") from None
            size += len(chunk)
            if size > budget:
                raise InkFormatError(path, None, inflated_too_much(len(data)))
            out.append(chunk)
            pending = inflater.unconsumed_tail
            if inflater.eof or not (chunk or pending):
                break
        if not inflater.eof:
            raise InkFormatError(path, None, "compressed data is cut short")
        rest = inflater.unused_data if wbits == 31 else b""
    return b"".join(out)


def inflated_too_much(compressed: int) -> str:
    """The reason for a file that decompresses past INFLATED_MB or INFLATE_RATIO."""
    if INFLATE_RATIO.value() * compressed < INFLATED_MB.value() * MB:
        return f"decompresses to over {INFLATE_RATIO.value()} times its size (set {INFLATE_RATIO.env} to raise it)"
    return f"decompresses to over {INFLATED_MB.value():,} MB (set {INFLATED_MB.env} to raise it)"


def ink_problem(strokes: list | tuple) -> str | None:
    """Why an ink of these strokes (arrays or lists of points) is over a limit, or None
    (anything else among the strokes counts as no points: the reader reports it)."""
    if len(strokes) > INK_STROKES.value():
        return INK_STROKES.exceeded(f"{len(strokes):,}")
    sizes = [len(s) if isinstance(s, (list, tuple, np.ndarray)) else 0 for s in strokes]
    longest = max(sizes, default=0)
    if longest > STROKE_POINTS.value():
        return STROKE_POINTS.exceeded(f"{longest:,}")
    total = sum(sizes)
    if total > INK_POINTS.value():
        return INK_POINTS.exceeded(f"{total:,}")
    return None


def recognize_problem(points: int) -> str | None:
    """Why an ink of `points` points is too long to recognise (RECOGNIZE_POINTS), or None."""
    if points > RECOGNIZE_POINTS.value():
        return RECOGNIZE_POINTS.exceeded(f"{points:,}")
    return None
