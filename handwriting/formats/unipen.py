"""UNIPEN 1.0 text files (Guyon et al., 1994): pen data plus `.SEGMENT` annotations.

A corpus holds `data/<category>/<contributor>/...` files with `.SEGMENT` lines and
`.INCLUDE` statements, and `include/<contributor>/...` files with the pen data
(`.PEN_DOWN` / `.PEN_UP` blocks of numbers laid out as `.COORD` declares) and the
device description (`.POINTS_PER_SECOND`, `.X_POINTS_PER_INCH`, ...). Includes nest;
they are looked up in the corpus `include/` folder, then beside the including file, and
must lie inside the corpus (the folder holding `data/` and `include/`; for a file outside
a corpus, its own folder), at most 8 deep and `HANDWRITING_MAX_INCLUDES` in all.

`.SEGMENT <level> <delineation> [quality] ["label"]` names blocks by number: only
non-empty `.PEN_DOWN`/`.PEN_UP` blocks count, from zero, restarting at `.START_SET`.
A delineation is a comma list of `A[:M][-B[:N]]` terms (blocks A..B, from point M of
A to point N of B, inclusive). Every labelled segment becomes one Ink made of its
pen-down pieces; pen-up blocks are not strokes. UNIPEN's y axis points up and is
flipped here. Without a T channel, times follow `.POINTS_PER_SECOND` (and `.DT`).
A file with pen data but no `.SEGMENT` line reads as one unlabelled Ink per set.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from handwriting.errors import InkFormatError
from handwriting.formats._common import read_limited
from handwriting.ink import DEFAULT_RATE_HZ, Ink
from handwriting.limits import INCLUDES

__all__ = [
    "NAME",
    "SUFFIXES",
    "CATEGORIES",
    "sniff",
    "read",
    "read_items",
    "is_placeholder",
    "category_of",
    "corpus_files",
]

NAME = "unipen"
SUFFIXES = (".dat", ".unp", ".unipen")
CATEGORIES = ("1a", "1b", "1c", "1d", "2", "3", "4", "5", "6", "7", "8")
MAX_INCLUDE_DEPTH = 8
PLACEHOLDER_LABELS = frozenset({"", "XXX", "Word!", "\\@"})

_SNIFF = re.compile(rb"^\.(VERSION|SEGMENT|PEN_DOWN|PEN_UP|INCLUDE|COORD|START_SET)\b", re.M)
_KEYWORD = re.compile(r"^\.([A-Za-z_][A-Za-z0-9_]*)", re.M)
_PEN = ("PEN_DOWN", "PEN_UP")
_RESOLUTION = {
    "X_POINTS_PER_INCH": (0, 1.0),
    "Y_POINTS_PER_INCH": (1, 1.0),
    "X_POINTS_PER_MM": (0, 25.4),
    "Y_POINTS_PER_MM": (1, 25.4),
}
_KEPT = {"INCLUDE", "DT", "START_SET", "COORD", "POINTS_PER_SECOND", "WRITER_ID", "SEGMENT", *_PEN, *_RESOLUTION}
_SEGMENT_ARGS = re.compile(
    r'\s*(?P<level>[^\s"]+)(?:\s+(?P<range>[^\s"]+))?(?:\s+(?P<quality>[^\s"]+))?'
    r'(?:\s+(?P<label>"(?:[^"\\]|\\.)*"))?\s*(?P<rest>.*)',
    re.S,
)
_TERM = re.compile(r"(\d+)(?::(\d+))?(?:-(\d+)(?::(\d+))?)?")
_ESCAPES = {'"': '"', "\\": "\\", "t": "\t", "n": "\n"}


# -- public helpers ---------------------------------------------------------------
def sniff(head: bytes) -> bool:
    return _SNIFF.search(head) is not None


def is_placeholder(label: str | None) -> bool:
    """True for labels that stand in for a transcription: empty, `XXX`, `Word!`, `\\@`
    (ligature/noise), or a text with an `XXX` word. A lone `?` is a real question mark."""
    if label is None:
        return True
    return label.strip() in PLACEHOLDER_LABELS or "XXX" in label.split()


def category_of(path: str | Path) -> str | None:
    """The category (`1a` ... `8`) of a file under `<corpus>/data/<category>/`, else None."""
    parts = _corpus_parts(Path(path))
    return parts[0] if parts else None


def corpus_files(root: str | Path) -> list[Path]:
    """The annotation files under `root/data/<category>/`.

    Ordered by the path below the category, then category, so that the files of all
    categories that share one pen-data include come together (the include cache hits).
    """
    data = Path(root) / "data"
    if not data.is_dir():
        raise InkFormatError(root, None, "not a UNIPEN corpus (no data/ folder)")
    files = [
        p
        for cat in CATEGORIES
        if (data / cat).is_dir()
        for p in (data / cat).rglob("*")
        if p.suffix.lower() in SUFFIXES and p.is_file()
    ]
    return sorted(files, key=lambda p: (p.relative_to(data).parts[1:], p.relative_to(data).parts[0]))


def read(path: str | Path) -> list[Ink]:
    """The labelled segments of `path` that could be read; InkFormatError if none."""
    items = read_items(path)
    inks = [item for item in items if isinstance(item, Ink)]
    if inks:
        return inks
    errors = [item for item in items if isinstance(item, InkFormatError)]
    if errors:
        more = f" (and {len(errors) - 1} more segments)" if len(errors) > 1 else ""
        raise InkFormatError(errors[0].path, errors[0].where, errors[0].reason + more)
    raise InkFormatError(path, None, "no labelled .SEGMENT and no pen data")


def read_items(path: str | Path) -> list[Ink | InkFormatError]:
    """One item per labelled segment: its Ink, or an InkFormatError saying why not
    (a file without `.SEGMENT` gives one unlabelled Ink per set of pen data).

    Raises InkFormatError only when `path` itself cannot be read.
    """
    path = Path(path)
    walker = _Walker(path)
    walker.walk(_parse(read_limited(path)), path, (path.resolve(),))
    if not walker.segments:
        return walker.whole_sets()
    items = (walker.segment_item(seg) for seg in walker.segments)
    return [item for item in items if item is not None]


# -- parsing one file into entries (cached for includes) ------------------------------
@dataclass(frozen=True)
class _Entry:
    """A kept keyword: its arguments, or for a pen block its flat numbers (or a problem)."""

    keyword: str
    line: int
    args: str = ""
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))  # none when there is a problem
    problem: str | None = None


def _parse(data: bytes) -> tuple[_Entry, ...]:
    text = data.decode("latin-1").replace("\r\n", "\n").replace("\r", "\n")
    matches = list(_KEYWORD.finditer(text))
    entries = []
    line, pos = 1, 0
    for i, match in enumerate(matches):
        keyword = match.group(1)
        if keyword not in _KEPT:
            continue
        line += text.count("\n", pos, match.start())
        pos = match.start()
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        args = text[match.end() : end]
        entries.append(_pen_entry(keyword, line, args) if keyword in _PEN else _Entry(keyword, line, args.strip()))
    return tuple(entries)


def _pen_entry(keyword: str, line: int, body: str) -> _Entry:
    tokens = body.split()
    try:
        values = np.array(tokens, dtype=np.float64)
    except ValueError:
        bad = next((t for t in tokens if not _is_number(t)), "?")
        return _Entry(keyword, line, problem=f"not a number: {bad[:20]!r}")
    return _Entry(keyword, line, values=values)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=32)
def _parse_cached(path: str, mtime_ns: int, size: int) -> tuple[_Entry, ...]:
    return _parse(read_limited(path))


def _load_include(path: Path) -> tuple[_Entry, ...]:
    try:
        st = path.stat()
    except OSError as exc:
        raise InkFormatError(path, None, exc.strerror or str(exc)) from None
    return _parse_cached(str(path), st.st_mtime_ns, st.st_size)


# -- corpus layout ------------------------------------------------------------------
@lru_cache(maxsize=1024)
def _corpus_root(folder: Path) -> Path | None:
    """The nearest folder at or above `folder` holding both data/ and include/."""
    for candidate in (folder, *folder.parents):
        if (candidate / "data").is_dir() and (candidate / "include").is_dir():
            return candidate
    return None


def _corpus_parts(path: Path) -> tuple[str, ...] | None:
    """Parts of `path` below `<corpus>/data/`, starting with a known category."""
    root = _corpus_root(path.parent.resolve())
    if root is None:
        return None
    try:
        parts = path.resolve().relative_to(root / "data").parts
    except ValueError:
        return None
    return parts if len(parts) > 1 and parts[0] in CATEGORIES else None


# -- walking a file and its includes --------------------------------------------------
@dataclass(slots=True)
class _Block:
    """One non-empty pen block; points are built only when a segment asks for them."""

    pen_down: bool
    values: np.ndarray
    coord: tuple[str, ...]
    t0: float
    step: float
    source: str
    line: int
    problem: str | None = None

    def points(self) -> np.ndarray:
        """(n, 4) x, y (flipped), t (ms), pressure."""
        rows = self.values.reshape(-1, len(self.coord))
        out = np.full((len(rows), 4), np.nan)
        out[:, 0] = rows[:, self.coord.index("X")]
        out[:, 1] = -rows[:, self.coord.index("Y")]
        if "T" in self.coord:
            out[:, 2] = rows[:, self.coord.index("T")]
        else:
            out[:, 2] = self.t0 + self.step * np.arange(len(rows))
        if "P" in self.coord:
            out[:, 3] = rows[:, self.coord.index("P")]
        return out


@dataclass
class _Set:
    blocks: list[_Block] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class _Segment:
    line: int
    index: int
    args: str
    set: _Set
    writer: str | None
    rate: float | None
    dpi: tuple[float | None, float | None]


class _Walker:
    """Replays a file with its includes: device state, numbered blocks, segments."""

    def __init__(self, path: Path):
        self.path = path
        parts = _corpus_parts(path)
        self.category = parts[0] if parts else None
        self.contributor = parts[1] if parts and len(parts) > 2 else None
        self.include_root = _corpus_root(path.parent.resolve())
        self.allowed_root = self.include_root or path.parent.resolve()
        self.includes_read = 0
        self.coord: tuple[str, ...] = ("X", "Y")
        self.rate: float | None = None
        self.dpi: list[float | None] = [None, None]
        self.writer: str | None = None
        self.clock = 0.0
        self.sets = [_Set()]
        self.segments: list[_Segment] = []

    # -- replay -----------------------------------------------------------------
    def walk(self, entries: tuple[_Entry, ...], source: Path, stack: tuple[Path, ...]) -> None:
        for entry in entries:
            kw = entry.keyword
            if kw in _PEN:
                self._block(entry, source)
            elif kw == "INCLUDE":
                self._include(entry, source, stack)
            elif kw == "SEGMENT":
                self._segment(entry)
            elif kw == "START_SET":
                self.sets.append(_Set())
            else:
                self._setting(kw, entry.args)

    def _setting(self, kw: str, args: str) -> None:
        first = args.split()[0] if args.split() else ""
        if kw == "COORD":
            self.coord = tuple(c.upper() for c in args.split())
        elif kw == "WRITER_ID":
            self.writer = first or None
        elif kw == "POINTS_PER_SECOND":
            self.rate = _positive(first)
        elif kw == "DT":
            self.clock += _positive(first) or 0.0
        elif kw in _RESOLUTION:
            axis, scale = _RESOLUTION[kw]
            value = _positive(first)
            self.dpi[axis] = value * scale if value else None

    def _block(self, entry: _Entry, source: Path) -> None:
        if entry.problem is None and entry.values.size == 0:
            return  # empty blocks are not numbered
        step = 1000.0 / (self.rate or DEFAULT_RATE_HZ)
        pen_down = entry.keyword == "PEN_DOWN"
        block = _Block(pen_down, entry.values, self.coord, self.clock, step, source.name, entry.line, entry.problem)
        if block.problem is None:
            block.problem = self._coord_problem(entry.values.size)
        if block.problem is None:
            n = entry.values.size // len(self.coord)
            if "T" in self.coord:
                self.clock = float(entry.values[-len(self.coord) + self.coord.index("T")])
            else:
                self.clock += step * n
        self.sets[-1].blocks.append(block)

    def _coord_problem(self, size: int) -> str | None:
        if "X" not in self.coord or "Y" not in self.coord:
            return f".COORD {' '.join(self.coord) or '(empty)'} lacks X or Y"
        if size % len(self.coord):
            return f"{size} numbers do not make points of .COORD {' '.join(self.coord)}"
        return None

    def _include(self, entry: _Entry, source: Path, stack: tuple[Path, ...]) -> None:
        name = entry.args.split()[0] if entry.args.split() else ""
        self.includes_read += 1
        if self.includes_read > INCLUDES.value():  # said once; the rest are skipped unresolved
            if self.includes_read == INCLUDES.value() + 1:
                self.sets[-1].problems.append(f".INCLUDE {name} ({source.name} line {entry.line}): "
                                              + INCLUDES.exceeded(f"over {INCLUDES.value():,}"))
            return
        try:
            target = self._resolve_include(name, source)
            if target in stack:
                raise InkFormatError(target, None, "include cycle")
            if len(stack) > MAX_INCLUDE_DEPTH:
                raise InkFormatError(target, None, f"includes nested deeper than {MAX_INCLUDE_DEPTH}")
            entries = _load_include(target)
        except InkFormatError as exc:
            self.sets[-1].problems.append(f".INCLUDE {name} ({source.name} line {entry.line}): {exc.reason}")
            return
        self.walk(entries, target, (*stack, target))

    def _resolve_include(self, name: str, source: Path) -> Path:
        if not name or Path(name).is_absolute():
            raise InkFormatError(None, None, "needs a relative file name")
        bases = [self.include_root / "include"] if self.include_root else []
        bases.append(source.parent)
        for base in bases:
            candidate = base / name
            try:
                if candidate.is_file():
                    target = candidate.resolve()
                    if not target.is_relative_to(self.allowed_root):
                        raise InkFormatError(None, None, f"refused: outside the corpus folder {self.allowed_root}")
                    return target
            except (OSError, ValueError) as exc:  # name too long, NUL bytes, ...
                raise InkFormatError(None, None, f"unusable file name ({exc})") from None
        raise InkFormatError(None, None, "file not found in " + " or ".join(str(b) for b in bases))

    def _segment(self, entry: _Entry) -> None:
        seg = _Segment(entry.line, len(self.segments), entry.args, self.sets[-1], self.writer, self.rate, (self.dpi[0], self.dpi[1]))
        self.segments.append(seg)

    # -- results -------------------------------------------------------------------
    def segment_item(self, seg: _Segment) -> Ink | InkFormatError | None:
        """The Ink of a labelled segment, an error, or None for an unlabelled one."""
        try:
            level, ranges, quality, label = _segment_fields(seg.args)
            if label is None:
                return None
            if seg.set.problems:
                raise ValueError("pen data incomplete: " + seg.set.problems[0])
            strokes = _pieces(seg.set.blocks, _parse_ranges(ranges))
            meta = self._meta(seg, level, quality, label)
            return Ink(_rebased(strokes), label=label, writer=seg.writer or self.contributor, meta=meta)
        except ValueError as exc:
            return InkFormatError(self.path, seg.line, f".SEGMENT: {exc}")

    def whole_sets(self) -> list[Ink | InkFormatError]:
        """Without segments: every set's pen-down blocks as one unlabelled Ink."""
        items: list[Ink | InkFormatError] = []
        for number, pen_set in enumerate(self.sets):
            downs = [i for i, b in enumerate(pen_set.blocks) if b.pen_down]
            if not downs and not pen_set.problems:
                continue
            try:
                if pen_set.problems:
                    raise ValueError(pen_set.problems[0])
                strokes = _pieces(pen_set.blocks, [(i, None, i, None) for i in downs])
                meta = {"source": str(self.path), "set": number, "points_per_second": self.rate}
                items.append(Ink(_rebased(strokes), writer=self.writer or self.contributor, meta=meta))
            except ValueError as exc:
                items.append(InkFormatError(self.path, f"set {number}", str(exc)))
        return items

    def _meta(self, seg: _Segment, level: str, quality: str | None, label: str) -> dict:
        return {
            "source": str(self.path),
            "line": seg.line,
            "segment": seg.index,
            "category": self.category,
            "contributor": self.contributor,
            "level": level,
            "quality": quality,
            "points_per_second": seg.rate,
            "resolution_dpi": seg.dpi if None not in seg.dpi else None,
            "placeholder": is_placeholder(label),
        }


# -- segments ---------------------------------------------------------------------------
def _segment_fields(args: str) -> tuple[str, str | None, str | None, str | None]:
    """(level, delineation, quality, label) of `.SEGMENT` arguments; ValueError if malformed."""
    match = _SEGMENT_ARGS.fullmatch(args)
    if match is None or match["rest"]:
        raise ValueError("unreadable arguments (unterminated label?)")
    label = match["label"]
    if label is not None:
        label = " ".join(re.sub(r"\\(.)", _unescape, label[1:-1], flags=re.S).split())
    return match["level"].upper(), match["range"], match["quality"], label


def _unescape(match: re.Match) -> str:
    char = match.group(1)
    return _ESCAPES.get(char, "\\" + char)


def _parse_ranges(text: str | None) -> list[tuple[int, int | None, int, int | None]]:
    """`5-7,9,1:40-3:2` -> [(first block, first point, last block, last point), ...]."""
    if not text or text == "?":
        raise ValueError("no block delineation")
    terms = []
    for term in text.split(","):
        match = _TERM.fullmatch(term)
        if match is None:
            raise ValueError(f"bad delineation {text!r}")
        a = int(match.group(1))
        m, last, n = (int(g) if g is not None else None for g in match.groups()[1:])
        b = a if last is None else last
        if (b, n if n is not None else math.inf) < (a, m or 0):
            raise ValueError(f"delineation {term!r} runs backwards")
        terms.append((a, m, b, n))
    return terms


def _pieces(blocks: list[_Block], terms: list[tuple[int, int | None, int, int | None]]) -> list[np.ndarray]:
    """The pen-down pieces the terms cover, in writing order."""
    wanted: dict[tuple[int, int], float] = {}  # (block, first point) -> end (inf: the block's end)
    for a, m, b, n in terms:
        if b >= len(blocks):
            raise ValueError(f"block {b} does not exist ({len(blocks)} non-empty blocks in this set)")
        for i in range(a, b + 1):
            start = m if i == a and m is not None else 0
            key = (i, start)
            wanted[key] = max(wanted.get(key, -1), n + 1 if i == b and n is not None else math.inf)
    strokes = []
    for (i, start), stop in sorted(wanted.items()):
        block = blocks[i]
        if block.problem:
            raise ValueError(f"block {i} ({block.source} line {block.line}): {block.problem}")
        if not block.pen_down:
            continue
        points = block.points()
        if start >= len(points) or (stop != math.inf and stop > len(points)):
            raise ValueError(f"block {i} has {len(points)} points, fewer than the delineation needs")
        strokes.append(points[start : None if stop == math.inf else int(stop)])
    if not strokes:
        raise ValueError("covers no pen-down points")
    return strokes


def _rebased(strokes: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Strokes with time starting at 0 (when the first time is known)."""
    t0 = strokes[0][0, 2]
    if not math.isfinite(t0):
        return tuple(strokes)
    out = []
    for s in strokes:
        s = s.copy()
        s[:, 2] -= t0
        out.append(s)
    return tuple(out)


def _positive(token: str) -> float | None:
    try:
        value = float(token)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None
