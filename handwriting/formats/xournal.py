"""Xournal++ `.xopp` and Xournal `.xoj` notes: reader, writer, and a text layer for annotating.

Both are one XML document, gzip-compressed (`.xoj` may also be plain XML):
`<xournal><page width height><background/><layer>` holding `<stroke tool color width>`
elements whose text is `x1 y1 x2 y2 ...` in PDF points (y down), and `<text>`, `<image>`
and `<teximage>` elements. A stroke's `width` is the pen width, optionally followed by one
width per point (all but the last) when the pen was pressure-sensitive.

Reading: every page is one Ink (item index = page number, from 0), holding the strokes
of all its layers in document order. Only pen strokes are read: highlighter strokes mark
up writing rather than being writing, and eraser strokes paint the background; text,
images and LaTeX are skipped. Pressure becomes width / pen width. The files have no time
stamps: times are left to `Ink` (made up, `meta["timed"]` False); page size and each
stroke's width and colour go into `meta` (see `handwriting.formats.page`). Decompression is
bounded by the limits of `handwriting.limits.inflate` (a gzip bomb is a small file).

Writing: one page per Ink, gzip-compressed, which Xournal++ and Xournal open. The page is
the one the Ink was read from, else its writing with a margin (scaled down to A4 width
when wider; see `handwriting.formats.page.page_of`). Labels and times are not stored; a
one-point stroke is written as two equal points (Xournal++ needs two).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Iterable
from xml.etree.ElementTree import Element, SubElement, tostring

import numpy as np

from handwriting.atomic import atomic_write_bytes
from handwriting.errors import InkFormatError
from handwriting.formats._common import local_name, parse_xml, read_limited, to_float
from handwriting.ink import P, Ink
from handwriting.limits import inflate
from handwriting.formats.page import DEFAULT_COLOR, DEFAULT_PEN_PT, PAGE, PENS, PT_PER_UNIT, TIMED, page_of, pen_of

__all__ = ["NAME", "SUFFIXES", "TEXT_LAYER", "sniff", "read", "write", "load_document",
           "save_document", "add_text_layer", "TextItem"]

NAME = "xournal"
SUFFIXES = (".xopp", ".xoj")
TEXT_LAYER = "Recognised text"
_GZIP_MAGIC = b"\x1f\x8b"
_READ_TOOLS = ("pen",)
_NAMED_COLORS = {  # Xournal's colour names
    "black": "#000000", "blue": "#3333cc", "red": "#ff0000", "green": "#008000", "gray": "#808080",
    "lightblue": "#00c0ff", "lightgreen": "#00ff00", "magenta": "#ff00ff", "orange": "#ff8000",
    "yellow": "#ffff00", "white": "#ffffff",
}
TextItem = tuple[str, float, float, float]  # text, x, y (top left, points), font size (points)


def sniff(head: bytes) -> bool:
    if head.startswith(_GZIP_MAGIC):
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, 4096)
        except zlib.error:
            return False
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and b"<xournal" in head


def load_document(path: str | Path) -> Element:
    """The `<xournal>` root element of a .xopp or .xoj file (gzip or plain XML)."""
    path = Path(path)
    data = read_limited(path)
    if data.startswith(_GZIP_MAGIC):
        data = inflate(data, path)
    root = parse_xml(data, path)
    if local_name(root.tag) != "xournal":
        raise InkFormatError(path, None, f"root element is <{local_name(root.tag)}>, not <xournal>")
    return root


def _children(el: Element, name: str) -> list[Element]:
    return [c for c in el if local_name(c.tag) == name]


def read(path: str | Path) -> list[Ink]:
    path = Path(path)
    root = load_document(path)
    pages = _children(root, "page")
    if not pages:
        raise InkFormatError(path, None, "no <page> in the document")
    return [_page_ink(page, n, path) for n, page in enumerate(pages)]


def _page_ink(page: Element, n: int, path: Path) -> Ink:
    where = f"page {n + 1}"
    width, height = (to_float(page.get(k), path, f"{where} {k}") for k in ("width", "height"))
    if width <= 0 or height <= 0:
        raise InkFormatError(path, where, f"page size {width} x {height} is not positive")
    strokes, pens = [], []
    for k, layer in enumerate(_children(page, "layer")):
        for j, el in enumerate(_children(layer, "stroke")):
            if (el.get("tool") or "pen") in _READ_TOOLS:
                stroke, pen_width = _stroke(el, path, f"{where}, layer {k + 1}, stroke {j + 1}")
                strokes.append(stroke)
                pens.append((pen_width, _color(el.get("color"))))
    meta = {"source": str(path), PAGE: (0.0, 0.0, width, height), PT_PER_UNIT: 1.0, PENS: tuple(pens), TIMED: False}
    return Ink(tuple(strokes), meta=meta)


def _numbers(text: str, path: Path, where: str) -> np.ndarray:
    try:
        values = np.array(text.split(), dtype=np.float64)
    except ValueError:
        bad = next(v for v in text.split() if not _is_number(v))
        raise InkFormatError(path, where, f"not a number: {bad[:40]!r}") from None
    if not np.isfinite(values).all():
        raise InkFormatError(path, where, "a value is not a finite number")
    return values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _stroke(el: Element, path: Path, where: str) -> tuple[np.ndarray, float]:
    """(points as x, y, t (NaN), pressure rows; the pen width) of one <stroke>."""
    coords = _numbers(el.text or "", path, where)
    if len(coords) < 2 or len(coords) % 2:
        raise InkFormatError(path, where, f"{len(coords)} coordinates: expected x y pairs")
    widths = _numbers(el.get("width") or str(DEFAULT_PEN_PT), path, f"{where} width")
    if el.get("pressures"):  # MrWriter keeps them apart
        widths = np.concatenate([widths[:1], _numbers(el.get("pressures") or "", path, f"{where} pressures")])
    if len(widths) == 0 or widths[0] < 0:
        raise InkFormatError(path, where, "the stroke has no pen width")
    n = len(coords) // 2
    out = np.full((n, 4), np.nan)
    out[:, :2] = coords.reshape(n, 2)
    per_point = widths[1:]
    if widths[0] > 0 and len(per_point) >= max(n - 1, 1):
        out[:, P] = np.r_[per_point[: n - 1], per_point[min(n - 1, len(per_point) - 1)]][:n] / widths[0]
    return out, float(widths[0])


def _color(text: str | None) -> str:
    """`#rrggbbaa` from `#rrggbb[aa]` or a Xournal colour name; black when unknown."""
    text = (text or "").strip().lower()
    text = _NAMED_COLORS.get(text, text)
    if text.startswith("#") and len(text) in (7, 9) and all(c in "0123456789abcdef" for c in text[1:]):
        return text if len(text) == 9 else text + "ff"
    return DEFAULT_COLOR


# -- writing ------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _document() -> Element:
    root = Element("xournal", creator="handwriting", fileversion="4")
    SubElement(root, "title").text = "Xournal++ document - see https://github.com/xournalpp/xournalpp"
    return root


def _page_element(root: Element, ink: Ink) -> Element:
    page = page_of(ink)
    width, height = page.size_pt
    el = SubElement(root, "page", width=_fmt(width), height=_fmt(height))
    SubElement(el, "background", type="solid", color="#ffffffff", style="plain")
    layer = SubElement(el, "layer")
    for k, stroke in enumerate(ink.strokes):
        pen_width, color = pen_of(ink, k, page)
        xy = (stroke[:, :2] - [page.left, page.top]) * page.pt_per_unit
        if len(xy) == 1:
            xy = np.repeat(xy, 2, axis=0)
        pt_width = pen_width * page.pt_per_unit
        widths = [pt_width]
        pressure = stroke[:, P]
        if np.isfinite(pressure).any():
            widths += list(pt_width * np.where(np.isfinite(pressure), pressure, 1.0)[: max(len(xy) - 1, 1)])
        SubElement(layer, "stroke", tool="pen", color=color, width=" ".join(_fmt(w) for w in widths)).text = \
            " ".join(_fmt(v) for v in xy.ravel())
    return el


def write(inks: list[Ink], path: str | Path) -> None:
    """Each Ink as one page of a gzip-compressed Xournal++ document, written atomically."""
    if not inks:
        raise ValueError("no inks to write")
    root = _document()
    for ink in inks:
        _page_element(root, ink)
    save_document(root, path)


def save_document(root: Element, path: str | Path) -> None:
    """Write a `<xournal>` document gzip-compressed, atomically (readable as .xopp and .xoj)."""
    xml = b'<?xml version="1.0" standalone="no"?>\n' + tostring(root, encoding="utf-8", xml_declaration=False)
    atomic_write_bytes(path, gzip.compress(xml, compresslevel=6, mtime=0))


# -- annotating ---------------------------------------------------------------------------


def add_text_layer(root: Element, pages: Iterable[list[TextItem]], color: str = "#3333ccff") -> None:
    """Give page n of `root` a layer named TEXT_LAYER with the texts of `pages[n]`, replacing
    an earlier such layer (so annotating twice does not stack layers)."""
    for page, items in zip(_children(root, "page"), pages):
        for old in [layer for layer in _children(page, "layer") if layer.get("name") == TEXT_LAYER]:
            page.remove(old)
        layer = SubElement(page, "layer", name=TEXT_LAYER)
        for text, x, y, size in items:
            SubElement(layer, "text", font="Sans", size=_fmt(size), x=_fmt(x), y=_fmt(y), color=color).text = text
