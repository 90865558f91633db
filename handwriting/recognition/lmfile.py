"""The `.lm` file: a language model's counts and lexicon as arrays, read without parsing text.

Layout (all of it gzip-compressed, so the decompression limits of `handwriting.limits` apply):
the line `HWLM 1`, one line of JSON (alphabet, order, smoothing, discount, and each array's
name, dtype and length) padded with spaces to a multiple of 8 bytes, then the arrays' bytes
in this order, little-endian:
- `starts` (`<i8`, one more than contexts): the counts of context i are entries starts[i]:starts[i+1];
- `values` (`<f8`) and `chars` (`<u4`, code points): the entries, in the order they were counted;
- `contexts` (`<U{width}`): every context with counts, sorted, so a context is found by bisection;
- `lexicon` (`<U{width}`): the lexicon's words, sorted.
Files written before this format (one gzip-compressed JSON object) are still read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import chain

import numpy as np

from handwriting.errors import HandwritingError

__all__ = ["CountTable", "LMParts", "MAGIC", "pack", "unpack"]

MAGIC = b"HWLM 1\n"
_DTYPES = {"starts": "<i8", "values": "<f8", "chars": "<u4", "contexts": "<U", "lexicon": "<U"}  # 8-byte items first
_MAX_CODE_POINT = 0x10FFFF


class CountTable:
    """Counts per context, as sorted contexts and one array of entries (characters, counts)."""

    def __init__(self, contexts: np.ndarray, starts: np.ndarray, chars: np.ndarray, values: np.ndarray):
        self.contexts, self.starts, self.chars, self.values = contexts, starts, chars, values
        self._dict: dict[str, dict[str, float]] | None = None

    @classmethod
    def from_dict(cls, counts: dict[str, dict[str, float]]) -> CountTable:
        """The table of `counts` (kept as given, for `to_dict`)."""
        if any("\0" in h for h in counts):
            raise HandwritingError("language model contexts may not hold NUL characters")
        keys = sorted(counts)
        rows = [counts[h] for h in keys]
        starts = np.concatenate([[0], np.cumsum([len(r) for r in rows], dtype=np.int64)]).astype(np.int64)
        width = max((len(h) for h in keys), default=0) or 1
        table = cls(np.array(keys, f"<U{width}"), starts,
                    np.array([ord(c) for c in chain.from_iterable(rows)], np.uint32),
                    np.array(list(chain.from_iterable(r.values() for r in rows)), np.float64))
        table._dict = counts
        return table

    def __len__(self) -> int:
        return len(self.contexts)

    def index(self, context: str) -> int:
        """The row of `context`, -1 if it has none."""
        i = int(self.contexts.searchsorted(context))
        return i if i < len(self.contexts) and self.contexts[i] == context else -1

    def to_dict(self) -> dict[str, dict[str, float]]:
        """{context: {character: count}}, built once."""
        if self._dict is None:
            bounds = self.starts.tolist()
            chars, values = [chr(c) for c in self.chars.tolist()], self.values.tolist()
            self._dict = {h: dict(zip(chars[a:b], values[a:b]))
                          for h, a, b in zip(self.contexts.tolist(), bounds, bounds[1:])}
        return self._dict


@dataclass(frozen=True)
class LMParts:
    """What a `.lm` file holds."""

    alphabet: str
    order: int
    smoothing: str
    discount: float
    counts: CountTable
    lexicon: list[str]  # sorted


def pack(parts: LMParts) -> bytes:
    """The uncompressed bytes of `parts` in the current layout."""
    if any("\0" in w for w in parts.lexicon):
        raise HandwritingError("lexicon words may not hold NUL characters")
    width = max((len(w) for w in parts.lexicon), default=0) or 1
    counts = parts.counts
    arrays = {name: np.ascontiguousarray(a, a.dtype.newbyteorder("<")) for name, a in
              (("starts", counts.starts), ("values", counts.values), ("chars", counts.chars),
               ("contexts", counts.contexts), ("lexicon", np.array(parts.lexicon, f"<U{width}")))}
    header = {"alphabet": parts.alphabet, "order": parts.order, "smoothing": parts.smoothing,
              "discount": parts.discount,
              "arrays": [[name, array.dtype.str, len(array)] for name, array in arrays.items()]}
    line = MAGIC + json.dumps(header, separators=(",", ":")).encode()
    line += b" " * (-(len(line) + 1) % 8) + b"\n"
    return b"".join([line] + [a.tobytes() for a in arrays.values()])


def unpack(data: bytes) -> LMParts:
    """The parts of uncompressed `.lm` bytes (either layout); ValueError saying what is wrong."""
    if not data.startswith(MAGIC):
        return _from_json(json.loads(data))
    end = data.index(b"\n", len(MAGIC))
    header = json.loads(data[len(MAGIC):end])
    _check_fields(header)
    arrays, at = {}, end + 1
    specs = header.get("arrays")
    if not isinstance(specs, list) or [s[0] if isinstance(s, list) and s else None for s in specs] != list(_DTYPES):
        raise ValueError(f"arrays must be {', '.join(_DTYPES)}")
    for name, dtype, length in specs:
        wanted = _DTYPES[name]
        if not (isinstance(dtype, str) and (dtype == wanted or wanted == "<U" and re.fullmatch(r"<U[0-9]{1,4}", dtype))
                and isinstance(length, int) and length >= 0):
            raise ValueError(f"array {name}: bad dtype or length")
        kind = np.dtype(dtype)
        size = kind.itemsize * length
        if dtype.startswith("<U") and not 1 <= kind.itemsize // 4 <= 1024 or at + size > len(data):
            raise ValueError(f"array {name}: cut short or too wide")
        arrays[name] = np.frombuffer(data, kind, length, at)
        at += size
    if at != len(data):
        raise ValueError("bytes after the arrays")
    return _checked(header, arrays)


def _checked(header: dict, arrays: dict[str, np.ndarray]) -> LMParts:
    starts, values, chars, contexts, lexicon = (arrays[name] for name in _DTYPES)
    if len(starts) != len(contexts) + 1 or starts[0] != 0 or (np.diff(starts) < 0).any() or starts[-1] != len(chars):
        raise ValueError("starts must rise from 0 to the number of entries, one per context and one more")
    if len(values) != len(chars) or not (np.isfinite(values) & (values >= 0)).all():
        raise ValueError("counts must be finite and not negative, one per character")
    for name, text in (("characters", chars), ("contexts", contexts), ("lexicon", lexicon)):
        if (text.view(np.uint32) > _MAX_CODE_POINT).any():
            raise ValueError(f"{name}: not Unicode")
    if (contexts[1:] <= contexts[:-1]).any() or (lexicon[1:] <= lexicon[:-1]).any():
        raise ValueError("contexts and lexicon must be sorted, each once")
    return LMParts(header["alphabet"], header["order"], header.get("smoothing", "witten-bell"),
                   float(header.get("discount", 0.0)), CountTable(contexts, starts, chars, values), lexicon.tolist())


def _check_fields(data: object) -> None:
    """ValueError unless `data` has a usable alphabet, order and discount."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if not isinstance(data.get("alphabet"), str):
        raise ValueError("alphabet missing")
    if not isinstance(data.get("order"), int) or not 1 <= data["order"] <= 32:
        raise ValueError("order must be a whole number from 1 to 32")
    if not isinstance(data.get("discount", 0.0), (int, float)) or not isinstance(data.get("smoothing", ""), str):
        raise ValueError("discount or smoothing of the wrong type")


def _from_json(data: object) -> LMParts:
    """The parts of the former layout: one JSON object with counts as {context: {character: count}}."""
    _check_fields(data)
    assert isinstance(data, dict)
    if not isinstance(data.get("lexicon"), list) or not all(isinstance(w, str) for w in data["lexicon"]):
        raise ValueError("lexicon missing or of the wrong type")
    counts = data.get("counts")
    if not isinstance(counts, dict) or not all(type(row) is dict for row in counts.values()):
        raise ValueError("counts must map contexts to rows of character counts")
    values = list(chain.from_iterable(row.values() for row in counts.values()))
    if not set(map(type, values)) <= {int, float}:
        raise ValueError("counts must be numbers")
    array = np.array(values, dtype=float)
    if not (np.isfinite(array) & (array >= 0)).all():
        raise ValueError("counts must be finite and not negative")
    if any(len(c) != 1 for row in counts.values() for c in row):
        raise ValueError("counts must be per single character")
    return LMParts(data["alphabet"], data["order"], data.get("smoothing", "witten-bell"),
                   float(data.get("discount", 0.0)), CountTable.from_dict(counts), sorted(set(data["lexicon"])))
