"""W3C InkML (https://www.w3.org/TR/InkML/): reader and writer.

Reading, for each `<ink>` element (normally the root; a file may wrap several):

- Channels: the `<traceFormat>` in force, X Y when none is declared. A `<context>` (or a
  bare `<traceFormat>`) child of `<ink>` sets it for the traces after it; `contextRef` on a
  trace, traceGroup or context, and `traceFormatRef` / `inkSourceRef` on a context, name
  elements by id (`#id` or `id`, `xml:id` or `id`), usually inside `<definitions>`.
  Channels may come in any order; X, Y, T and F (tip force, kept as pressure) are used.
  Intermittent channels may be left out of a point and then take their `default`.
- Trace text by the spec grammar: points separated by commas, values by whitespace or
  glued where unambiguous (`10-5`, `1.5.5`); prefixes `!` explicit, `'` first and `"`
  second difference, sticky per channel until the next prefix; `T`/`F` booleans, `*` the
  previous value, `?` unknown; hex `#1F`. Traces of type "penUp" are skipped.
- T becomes milliseconds by its `units` (ms when absent). Y grows downwards as in InkML;
  an X or Y channel with orientation "-ve" is negated. `timeOffset` on a trace is added to T.
- Inks: when traceGroups (or traceViews) carry `<annotation type="truth">` (or
  "transcription"), each such labelled group is one Ink, made of the strokes under it
  that are not inside a nested labelled group, `<traceView traceDataRef>` included;
  traces outside every labelled group are then left out. Otherwise the whole `<ink>` is
  one Ink, labelled by its own truth annotation. Empty labels read as None. A "writer"
  annotation (group or ink level) sets the writer.

Writing: one `<ink>` with a `<context>` declaring X Y T (plus F as an intermittent
channel when any point has pressure, so points without it leave it out). One Ink sits
directly in it, its label as the ink's truth annotation; several Inks become one
`<traceGroup>` each, labelled by its truth annotation. Labels are stored stripped.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from handwriting.atomic import atomic_write
from handwriting.errors import InkFormatError
from handwriting.formats._common import format_number, local_name, parse_xml, read_limited, to_float
from handwriting.ink import P, T, X, Y, Ink

__all__ = ["NAME", "SUFFIXES", "NAMESPACE", "sniff", "read", "decode_trace", "write", "to_string"]

NAME = "inkml"
SUFFIXES = (".inkml",)
NAMESPACE = "http://www.w3.org/2003/InkML"
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
_LABEL_TYPES = ("truth", "transcription")
_RESERVED_IDS = ("DefaultContext", "DefaultTraceFormat", "DefaultInkSource")
_MAX_DEPTH = 64
_BOOLEANS = {"T": 1.0, "F": 0.0}
_TIME_UNITS = {"ms": 1.0, "s": 1000.0, "sec": 1000.0, "us": 1e-3, "\u00b5s": 1e-3, "ns": 1e-6, "min": 60000.0}
_INK_TAG = re.compile(rb"<(?:[\w.-]+:)?ink[\s>/]")
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def sniff(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and _INK_TAG.search(head) is not None


# -- channels and trace text ------------------------------------------------------------


@dataclass(frozen=True)
class _Channel:
    name: str
    intermittent: bool = False
    default: float = math.nan
    scale: float = 1.0  # unit conversion (T) or orientation sign (X, Y)


_DEFAULT_FORMAT = (_Channel("X"), _Channel("Y"))
_Format = tuple[_Channel, ...]

_TOKEN = re.compile(
    r"""(?P<sep>,)
      | (?P<prefix>[!'"])
      | (?P<num>[-+]?\s*(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<hex>[-+]?\s*\#[0-9a-fA-F]+)
      | (?P<word>[TF*?])
      | (?P<space>\s+)
      | (?P<bad>.)""",
    re.VERBOSE | re.DOTALL,
)
_PLAIN = re.compile(r"[^\d\s,.eE+-]")


class _ChannelDecoder:
    """One channel's values within a trace, undoing `'` / `"` difference coding."""

    __slots__ = ("mode", "last", "velocity")

    def __init__(self) -> None:
        self.mode = "!"
        self.last: float | None = None
        self.velocity = 0.0

    def number(self, value: float) -> float:
        if self.mode == "!":
            self.velocity = 0.0 if self.last is None else value - self.last
            self.last = value
            return value
        if self.last is None:
            raise ValueError("a difference-coded value has no previous value to add to")
        if self.mode == "'":
            self.velocity = value
        else:
            self.velocity += value
        self.last += self.velocity
        return self.last

    def word(self, word: str) -> float:
        if word == "?":
            return math.nan
        if word == "*":
            self.velocity = 0.0
            return math.nan if self.last is None else self.last
        self.last, self.velocity = _BOOLEANS[word], 0.0
        return self.last


def _number(kind: str, text: str) -> float:
    text = "".join(text.split())
    try:
        return float(int(text.replace("#", ""), 16)) if kind == "hex" else float(text)
    except OverflowError:
        return math.inf


def _tokenized_rows(text: str, n: int) -> list[list[float]]:
    """Rows of explicit values from trace text in the full grammar."""
    decoders = [_ChannelDecoder() for _ in range(n)]
    rows: list[list[float]] = [[]]
    prefix = None
    for m in _TOKEN.finditer(text):
        kind, token = m.lastgroup or "", m.group()
        if kind == "space":
            continue
        if kind == "bad":
            raise ValueError(f"unexpected {token!r} at character {m.start() + 1}")
        if kind in ("sep", "prefix") and prefix is not None:
            raise ValueError(f"{prefix!r} not followed by a value at character {m.start() + 1}")
        if kind == "sep":
            rows.append([])
        elif kind == "prefix":
            prefix = token
        else:
            row = rows[-1]
            if len(row) >= n:
                raise ValueError(f"point {len(rows)} has more values than the {n} channels")
            decoder = decoders[len(row)]
            if prefix is not None:
                decoder.mode, prefix = prefix, None
            row.append(decoder.word(token) if kind == "word" else decoder.number(_number(kind, token)))
    if prefix is not None:
        raise ValueError(f"trace ends with {prefix!r}")
    return rows


def _plain_rows(text: str) -> list[list[float]] | None:
    """Rows of a trace written with explicit decimal numbers only, else None."""
    if _PLAIN.search(text):
        return None
    try:
        return [[float(v) for v in point.split()] for point in text.split(",")]
    except ValueError:
        return None


def decode_trace(text: str, channels: _Format) -> np.ndarray:
    """The (points, channels) values of one trace's text; ValueError says what is wrong."""
    n = len(channels)
    rows = _plain_rows(text)
    if rows is None or any(len(r) > n for r in rows):
        rows = _tokenized_rows(text, n)
    if rows and not rows[-1]:
        rows.pop()  # a trailing comma, or no text at all
    regular = sum(not c.intermittent for c in channels)
    out = np.empty((len(rows), n))
    for i, row in enumerate(rows):
        if len(row) < regular:
            raise ValueError(f"point {i + 1} has {len(row)} values, the traceFormat has {regular} channels")
        out[i] = row + [c.default for c in channels[len(row) :]]
    if np.isinf(out).any():
        raise ValueError("a value is out of range")
    return out


def _stroke(values: np.ndarray, channels: _Format, time_offset: float) -> np.ndarray:
    names = [c.name for c in channels]
    if "X" not in names or "Y" not in names:
        raise ValueError(f"the traceFormat ({' '.join(names)}) has no X or no Y channel")
    out = np.full((len(values), 4), np.nan)
    for column, name in ((X, "X"), (Y, "Y"), (T, "T"), (P, "F")):
        if name in names:
            j = names.index(name)
            out[:, column] = (values[:, j] + (time_offset if name == "T" else 0.0)) * channels[j].scale
    if not np.isfinite(out[:, :2]).all():
        raise ValueError("a point has no X or Y value")
    return out


# -- document structure -------------------------------------------------------------------


@dataclass
class _Group:
    """A traceGroup or traceView: strokes and subgroups, with its annotations."""

    labelled: bool = False
    label: str | None = None
    writer: str | None = None
    items: list = field(default_factory=list)  # np.ndarray | _Group

    def own_strokes(self) -> Iterator[np.ndarray]:
        """Strokes under this group that are not under a labelled subgroup."""
        for item in self.items:
            if isinstance(item, _Group):
                if not item.labelled:
                    yield from item.own_strokes()
            else:
                yield item

    def all_strokes(self) -> Iterator[np.ndarray]:
        for item in self.items:
            yield from item.all_strokes() if isinstance(item, _Group) else (item,)

    def labelled_groups(self) -> Iterator["_Group"]:
        """Labelled groups below this one, outer before inner, in document order."""
        for item in self.items:
            if isinstance(item, _Group):
                if item.labelled:
                    yield item
                yield from item.labelled_groups()


class _InkReader:
    """Reads one `<ink>` element: pass 1 parses every trace, pass 2 builds the group tree."""

    def __init__(self, path: Path, ink: Element, where: str):
        self.path, self.ink, self.where = path, ink, where
        self.ids: dict[str, Element] = {}
        elements = 0
        for el in ink.iter():
            elements += 1
            ident = el.get(_XML_ID) or el.get("id")
            if ident:
                self.ids.setdefault(ident, el)
        self.items_left = 1000 + 4 * elements  # traceViews may not blow the tree up exponentially
        traces = (el for el in ink.iter() if local_name(el.tag) == "trace")
        self.trace_numbers = {el: i + 1 for i, el in enumerate(traces)}
        self.strokes: dict[Element, np.ndarray | None] = {}
        self.ref_formats: dict[str, _Format] = {}

    def error(self, where: str, reason: str) -> InkFormatError:
        return InkFormatError(self.path, f"{self.where}{where}", reason)

    def inks(self) -> list[Ink]:
        document: list[np.ndarray] = []
        self._read_traces(self.ink, _DEFAULT_FORMAT, document, 0)
        root = self._group(self.ink, True, 0)
        segments = [(g.label, g.writer or root.writer, list(g.own_strokes())) for g in root.labelled_groups()]
        if not segments:
            segments = [(root.label, root.writer, document or list(root.all_strokes()))]
        meta = {"source": str(self.path)}
        return [Ink(tuple(s), label=lab, writer=w, meta=dict(meta)) for lab, w, s in segments if s]

    # pass 1: traces, with the channels in force where each one stands
    def _read_traces(self, parent: Element, fmt: _Format, out: list | None, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise self.error("traceGroup", f"nested more than {_MAX_DEPTH} levels deep")
        for child in parent:
            kind = local_name(child.tag)
            if kind in ("context", "traceFormat") and parent is self.ink:
                fmt = self._format_of(child, fmt, 0)
            elif kind == "trace":
                stroke = self._trace(child, self._format_of(child, fmt, 0))
                self.strokes[child] = stroke
                if stroke is not None and out is not None:
                    out.append(stroke)
            elif kind == "traceGroup":
                self._read_traces(child, self._format_of(child, fmt, 0), out, depth + 1)
            elif kind == "definitions":
                self._read_traces(child, _DEFAULT_FORMAT, None, depth + 1)

    def _trace(self, el: Element, fmt: _Format) -> np.ndarray | None:
        ident = el.get(_XML_ID) or el.get("id")
        where = f"trace {self.trace_numbers[el]}" + (f" (id {ident!r})" if ident else "")
        if el.get("type") == "penUp":
            return None
        offset = el.get("timeOffset")
        try:
            stroke = _stroke(decode_trace(el.text or "", fmt), fmt, float(offset) if offset else 0.0)
        except ValueError as exc:
            raise self.error(where, str(exc)) from None
        return stroke if len(stroke) else None

    # channels
    def _format_of(self, el: Element, base: _Format, depth: int) -> _Format:
        """The channels a context, inkSource or traceFormat element (or a contextRef) puts in force."""
        if depth > _MAX_DEPTH:
            raise self.error(local_name(el.tag), "references nested too deeply (circular?)")
        if local_name(el.tag) == "traceFormat":
            return self._parse_format(el)
        fmt = base
        for attr in ("contextRef", "inkSourceRef", "traceFormatRef"):
            ref = el.get(attr)
            if ref:
                fmt = self._referenced_format(ref, depth)
        for child in el:
            if local_name(child.tag) in ("traceFormat", "inkSource"):
                fmt = self._format_of(child, fmt, depth + 1)
        return fmt

    def _referenced_format(self, ref: str, depth: int) -> _Format:
        if ref not in self.ref_formats:
            target = self._lookup(ref)
            found = _DEFAULT_FORMAT if target is None else self._format_of(target, _DEFAULT_FORMAT, depth + 1)
            self.ref_formats[ref] = found
        return self.ref_formats[ref]

    def _parse_format(self, el: Element) -> _Format:
        channels = []
        for child in el:
            kind = local_name(child.tag)
            if kind == "channel":
                channels.append(self._channel(child, False))
            elif kind in ("intermittentChannels", "regularChannels"):
                intermittent = kind == "intermittentChannels"
                channels += [self._channel(c, intermittent) for c in child if local_name(c.tag) == "channel"]
        names = [c.name for c in channels]
        if not names:
            raise self.error("traceFormat", "declares no channels")
        if len(set(names)) < len(names):
            raise self.error("traceFormat", f"repeats a channel name: {' '.join(names)}")
        return tuple(channels)

    def _channel(self, el: Element, intermittent: bool) -> _Channel:
        name = (el.get("name") or "").strip().upper()
        if not name:
            raise self.error("traceFormat", "a channel has no name")
        where = f"channel {name}"
        default = el.get("default")
        scale = -1.0 if el.get("orientation") == "-ve" and name in ("X", "Y") else 1.0
        if name == "T":
            units = (el.get("units") or "ms").strip()
            if units not in _TIME_UNITS:
                raise self.error(where, f"unknown time unit {units!r} (known: {', '.join(_TIME_UNITS)})")
            scale = _TIME_UNITS[units]
        value = math.nan
        if default is not None:
            default = default.strip()
            value = _BOOLEANS[default] if default in _BOOLEANS else to_float(default, self.path, f"{self.where}{where}")
        return _Channel(name, intermittent, value, scale)

    def _lookup(self, ref: str) -> Element | None:
        """The element `ref` names (`#id` or `id`); None for the spec's Default* ids."""
        ident = ref.strip()
        if "#" in ident[1:] or "/" in ident:
            raise self.error(f"reference {ref!r}", "references to other files are not supported")
        ident = ident.removeprefix("#")
        if ident in self.ids:
            return self.ids[ident]
        if ident in _RESERVED_IDS:
            return None
        raise self.error(f"reference {ref!r}", "names no element in this ink")

    # pass 2: groups, views and labels
    def _group(self, el: Element, labels: bool, depth: int) -> _Group:
        if depth > _MAX_DEPTH:
            raise self.error(local_name(el.tag), f"nested more than {_MAX_DEPTH} levels deep (circular traceView?)")
        group = _Group()
        for child in el:
            kind = local_name(child.tag)
            if kind == "annotation" and labels:
                text = (child.text or "").strip() or None
                if child.get("type") in _LABEL_TYPES:
                    group.labelled, group.label = True, text
                elif child.get("type") == "writer":
                    group.writer = text
            elif kind == "trace" and (stroke := self.strokes.get(child)) is not None:
                self._add(group, stroke)
            elif kind in ("traceGroup", "traceView"):
                self._add(group, self._item(child, labels, depth + 1))
        ref = el.get("traceDataRef") if local_name(el.tag) == "traceView" else None
        if ref:
            self._add(group, self._view(el, ref, depth))
        return group

    def _item(self, el: Element, labels: bool, depth: int) -> _Group | np.ndarray:
        """A traceGroup or traceView; a bare traceView stands for what it shows (one item in index paths)."""
        group = self._group(el, labels, depth)
        bare = local_name(el.tag) == "traceView" and not group.labelled and group.writer is None
        return group.items[0] if bare and len(group.items) == 1 else group

    def _add(self, group: _Group, item: np.ndarray | _Group) -> None:
        self.items_left -= 1
        if self.items_left < 0:
            raise self.error("traceView", "traceView references expand to far more items than the file holds")
        group.items.append(item)

    def _view(self, view: Element, ref: str, depth: int) -> np.ndarray | _Group:
        target = self._lookup(ref)
        kind = "" if target is None else local_name(target.tag)
        if target is None or kind not in ("trace", "traceGroup", "traceView"):
            raise self.error(f"traceView {ref!r}", "traceDataRef must name a trace, traceGroup or traceView")
        content = self.strokes.get(target) if kind == "trace" else self._item(target, False, depth + 1)
        if content is None:
            return _Group()
        lo, hi = (self._index_path(view, attr) for attr in ("from", "to"))
        try:
            return _select(content, lo, hi) if lo or hi else content
        except ValueError as exc:
            raise self.error(f"traceView {ref!r}", str(exc)) from None

    def _index_path(self, view: Element, attr: str) -> tuple[int, ...]:
        text = (view.get(attr) or "").strip()
        if not re.fullmatch(r"(\d{1,9}(:\d{1,9})*)?", text):  # (int() refuses thousands of digits)
            raise self.error("traceView", f"{attr}={text!r} is not an index path like 2 or 2:5")
        return tuple(int(i) for i in text.split(":")) if text else ()


def _select(node: np.ndarray | _Group, lo: tuple[int, ...], hi: tuple[int, ...]) -> np.ndarray | _Group:
    """The part of a trace or group between 1-based index paths `lo` and `hi`, inclusive."""
    items = node if isinstance(node, np.ndarray) else node.items
    first, last = (lo[0] if lo else 1), (hi[0] if hi else len(items))
    if not 1 <= first <= last <= len(items):
        raise ValueError(f"from/to select {first}..{last} of {len(items)} items")
    if isinstance(node, np.ndarray):
        if len(lo) > 1 or len(hi) > 1:
            raise ValueError("an index path goes deeper than a trace")
        return node[first - 1 : last]
    picked = []
    for i in range(first, last + 1):
        sub_lo, sub_hi = (lo[1:] if i == first else ()), (hi[1:] if i == last else ())
        item = items[i - 1]
        picked.append(_select(item, sub_lo, sub_hi) if sub_lo or sub_hi else item)
    return _Group(items=picked)


def read(path: str | Path) -> list[Ink]:
    path = Path(path)
    root = parse_xml(read_limited(path), path)
    inks = [root] if local_name(root.tag) == "ink" else [el for el in root.iter() if local_name(el.tag) == "ink"]
    if not inks:
        raise InkFormatError(path, local_name(root.tag), "no <ink> element")
    out = []
    for i, ink in enumerate(inks):
        out += _InkReader(path, ink, f"ink {i + 1}, " if len(inks) > 1 else "").inks()
    if not out:
        raise InkFormatError(path, "ink", "no traces with points")
    return out


# -- writing ---------------------------------------------------------------------------------


def _xml_text(text: str) -> str:
    if _XML_ILLEGAL.search(text):
        raise ValueError(f"{text!r} holds characters that XML 1.0 cannot store")
    return escape(text.strip()).replace("\r", "&#13;")


def _annotations(ink: Ink, indent: str, always_label: bool) -> list[str]:
    lines = []
    if ink.label or always_label:
        lines.append(f'{indent}<annotation type="truth">{_xml_text(ink.label or "")}</annotation>')
    if ink.writer:
        lines.append(f'{indent}<annotation type="writer">{_xml_text(ink.writer)}</annotation>')
    return lines


def _explicit_rows(values: np.ndarray) -> list[list[str]]:
    return [[format_number(v) for v in row] for row in values]


def _difference_rows(values: np.ndarray) -> list[list[str]]:
    """First point explicit, second as `'` first differences, the rest as (sticky) `"` second
    differences, computed against what a reader reconstructs so rounding does not add up."""
    rows = [[format_number(v) for v in values[0]]]
    last, velocity = values[0].copy(), np.zeros(values.shape[1])
    for i in range(1, len(values)):
        change = values[i] - last - velocity  # the velocity is zero before the second point
        velocity = velocity + change
        last = last + velocity
        prefix = "'" if i == 1 else '"' if i == 2 else ""
        rows.append([prefix + format_number(v) for v in change])
    return rows


def _trace(stroke: np.ndarray, with_force: bool, delta: bool) -> str:
    rows = (_difference_rows if delta else _explicit_rows)(stroke[:, :3])
    if with_force:
        for row, p in zip(rows, stroke[:, P]):
            if math.isfinite(p):
                row.append(format_number(p))
    return ", ".join(" ".join(row) for row in rows)


def to_string(inks: Sequence[Ink], delta: bool = False) -> str:
    """InkML text for `inks`; `delta` writes difference-coded traces."""
    if not inks or any(ink.is_empty for ink in inks):
        raise ValueError("InkML needs at least one ink, and every ink at least one stroke")
    force = any(ink.has_pressure for ink in inks)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<ink xmlns={quoteattr(NAMESPACE)}>",
        "  <context>",
        "    <traceFormat>",
        '      <channel name="X" type="decimal"/>',
        '      <channel name="Y" type="decimal"/>',
        '      <channel name="T" type="decimal" units="ms"/>',
    ]
    if force:
        lines += [
            "      <intermittentChannels>",
            '        <channel name="F" type="decimal"/>',
            "      </intermittentChannels>",
        ]
    lines += ["    </traceFormat>", "  </context>"]
    several = len(inks) > 1
    indent = "    " if several else "  "
    for ink in inks:
        if several:
            lines.append("  <traceGroup>")
        lines += _annotations(ink, indent, several)
        lines += [f"{indent}<trace>{_trace(s, force, delta)}</trace>" for s in ink.strokes]
        if several:
            lines.append("  </traceGroup>")
    lines.append("</ink>")
    return "\n".join(lines) + "\n"


def write(inks: list[Ink], path: str | Path, delta: bool = False) -> None:
    """Write `inks` to `path` atomically (see the module docstring for the layout)."""
    text = to_string(inks, delta)
    with atomic_write(path) as fh:
        fh.write(text)
