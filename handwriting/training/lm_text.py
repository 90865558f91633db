"""English running text for the language model, read from data that Debian packages ship.

- `fortunes` (BSD licence): the fortune-cookie files of fortune(6), quotations, sayings and
  short prose; every cookie file of the folder (`/usr/share/games/fortunes`).
- `wordnet-base` (WordNet licence, Princeton University): the example sentences quoted in
  WordNet 3.0's glosses (`/usr/share/wordnet`, files `data.noun`, `data.verb`, `data.adj`,
  `data.adv`).

Each reader returns text lines as `handwriting lm build` counts them: whitespace collapsed,
only lines of at least `MIN_CHARS` characters of which most are letters (no ASCII art, tables
or attributions).
"""

from __future__ import annotations

import re
from pathlib import Path

from handwriting.errors import HandwritingError

__all__ = ["fortune_lines", "wordnet_examples"]

MIN_CHARS = 10
MIN_LETTER_SHARE = 0.6
OVERSTRIKE = re.compile(r".\x08")  # "x<BS>x" (bold) and "_<BS>x" (underline): keep the last character
QUOTED = re.compile(r'"([^"]+)"')
WORDNET_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")


def _text_line(line: str) -> str | None:
    """`line` with its whitespace collapsed, or None if it is too short or mostly not letters."""
    line = " ".join(line.split())
    if len(line) < MIN_CHARS or line.startswith("--"):
        return None
    return line if sum(c.isalpha() for c in line) >= MIN_LETTER_SHARE * len(line) else None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise HandwritingError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _folder(folder: str | Path, what: str) -> Path:
    path = Path(folder)
    if not path.is_dir():
        raise HandwritingError(f"{path}: not a folder of {what}")
    return path


def fortune_lines(folder: str | Path) -> list[str]:
    """The text lines of every fortune-cookie file in `folder` (a cookie file is text with
    cookies separated by lines holding only `%`, too short to count; its index `.dat` and
    links are skipped)."""
    root = _folder(folder, "fortune-cookie files (Debian package fortunes: /usr/share/games/fortunes)")
    files = sorted(p for p in root.iterdir() if p.is_file() and not p.is_symlink() and not p.suffix)
    if not files:
        raise HandwritingError(f"{root}: no fortune-cookie files in it")
    lines = []
    for path in files:
        lines += [text for line in OVERSTRIKE.sub("", _read(path)).splitlines() if (text := _text_line(line))]
    return lines


def wordnet_examples(folder: str | Path) -> list[str]:
    """The example sentences quoted in the glosses of WordNet's data files in `folder`."""
    root = _folder(folder, "WordNet data files (Debian package wordnet-base: /usr/share/wordnet)")
    missing = [name for name in WORDNET_FILES if not (root / name).is_file()]
    if missing:
        raise HandwritingError(f"{root}: no WordNet {', '.join(missing)} in it")
    lines = []
    for name in WORDNET_FILES:
        for entry in _read(root / name).splitlines():
            if entry.startswith("  ") or "|" not in entry:  # the licence header
                continue
            gloss = entry.split("|", 1)[1]
            lines += [text for example in QUOTED.findall(gloss) if (text := _text_line(example))]
    return lines
