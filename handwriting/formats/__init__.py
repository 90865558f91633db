"""Readers and writers for ink files; the reader is picked by content, then by suffix.

`read_inks(path)` returns every ink in a file (InkML and UNIPEN files can hold many)
and raises only `InkFormatError`, whatever the bytes. `expand_paths` turns command-line
arguments (files, directories, globs) into the ink files to read.
"""

from __future__ import annotations

import glob
from pathlib import Path
from types import ModuleType
from typing import Iterable

from handwriting.errors import InkFormatError
from handwriting.formats import csvink, iamondb, inkml, jsonink, remarkable, shard, unipen, xournal
from handwriting.ink import Ink
from handwriting.limits import check_regular, ink_problem

__all__ = ["READERS", "WRITERS", "detect_format", "read_inks", "read_items", "write_ink", "expand_paths", "INK_SUFFIXES"]

READERS: dict[str, ModuleType] = {m.NAME: m for m in (inkml, iamondb, unipen, jsonink, shard, xournal, remarkable, csvink)}
WRITERS = {"inkml": inkml.write, "json": jsonink.write, "xournal": xournal.write}
_WRITER_SUFFIXES = {".json": "json", ".ndjson": "json", ".jsonl": "json", ".xopp": "xournal", ".xoj": "xournal"}
INK_SUFFIXES = tuple(sorted({s for m in READERS.values() if getattr(m, "IN_FOLDERS", True) for s in m.SUFFIXES}))
_SNIFF_BYTES = 4096


def detect_format(path: str | Path) -> str:
    """The reader name for `path`: by its first bytes, else by its suffix."""
    path = Path(path)
    check_regular(path)  # a FIFO or a device would block or never end
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise InkFormatError(path, None, exc.strerror or str(exc)) from None
    if not head.strip() and len(head) < _SNIFF_BYTES:
        raise InkFormatError(path, None, "empty file" if not head else "empty file (only white space)")
    for name, module in READERS.items():
        if module.sniff(head):
            return name
    for name, module in READERS.items():
        if path.suffix.lower() in module.SUFFIXES:
            return name
    raise InkFormatError(path, None, "unknown ink format (expected InkML, IAM-OnDB XML, UNIPEN, JSON ink, Xournal++, reMarkable or CSV)")


def read_inks(path: str | Path, fmt: str | None = None) -> list[Ink]:
    """Every ink in `path`. Raises InkFormatError naming the file, the place and the reason."""
    return _guarded(path, fmt, "read")


def read_items(path: str | Path, fmt: str | None = None) -> list[Ink | InkFormatError]:
    """Every item in `path`: an Ink, or the InkFormatError of an item that could not be built
    (UNIPEN segments whose pen data is missing). Raises InkFormatError if the file itself fails."""
    return _guarded(path, fmt, "read_items")


def _guarded(path: str | Path, fmt: str | None, function: str) -> list:
    path = Path(path)
    name = fmt or detect_format(path)
    if name not in READERS:
        raise InkFormatError(path, None, f"unknown format {name!r}; known: {', '.join(READERS)}")
    module = READERS[name]
    try:
        return _within_limits(getattr(module, function, module.read)(path), path, function == "read")
    except InkFormatError:
        raise
    except RecursionError:
        raise InkFormatError(path, None, "nesting too deep") from None
    except MemoryError:
        raise InkFormatError(path, None, "too large to read into memory") from None
    except Exception as exc:  # a reader bug must still reach the user as one clear message
        raise InkFormatError(path, None, f"unreadable ({type(exc).__name__}: {exc})") from None


def _within_limits(items: list, path: Path, strict: bool) -> list:
    """`items`, with an ink over a limit of `handwriting.limits` raised (`strict`) or replaced by its error."""
    out = []
    for i, item in enumerate(items):
        problem = ink_problem(item.strokes) if isinstance(item, Ink) else None
        if problem and strict:
            raise InkFormatError(path, f"item {i}", problem)
        out.append(InkFormatError(path, f"item {i}", problem) if problem else item)
    return out


def write_ink(inks: Ink | list[Ink], path: str | Path, fmt: str | None = None) -> None:
    """Write one or many inks atomically; format from `fmt` or the suffix (.inkml, .json, .xopp)."""
    path = Path(path)
    name = fmt or _WRITER_SUFFIXES.get(path.suffix.lower(), "inkml")
    WRITERS[name]([inks] if isinstance(inks, Ink) else list(inks), path)


def expand_paths(args: Iterable[str | Path]) -> list[Path]:
    """Files named on a command line: directories are searched for ink files, globs expanded.

    A name that matches nothing is kept, so that reading it reports the problem.
    """
    out: list[Path] = []
    for arg in args:
        arg = str(arg)
        matches = sorted(glob.glob(arg, recursive=True)) if glob.has_magic(arg) else [arg]
        for m in matches or [arg]:
            p = Path(m)
            if p.is_dir():
                out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in INK_SUFFIXES))
            else:
                out.append(p)
    return out
