"""reMarkable v6 `.rm` pages (tablet software 3.0 and later), read through the `rmscene` package.

`rmscene` is an optional extra: `pip install 'handwriting[remarkable]'`; without it, reading
an `.rm` file fails with one line saying so. A page is one Ink: the lines of every visible
layer, in scene order. Highlighter, shader and eraser strokes are skipped (they mark up or
remove writing). Coordinates are screen pixels (226 per inch; x from -702 to 702 across
the page, y down from the top); point pressure (0-255) becomes 0-1, width (1/4 pixel) and
colour go into `meta` with the page (the 1404 x 1872 screen, grown to hold all the ink;
see `handwriting.formats.page`). The format has no time stamps (`meta["timed"]` False). Lines
anchored to typed text are placed as stored, without the text's offset.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np

from handwriting.errors import InkFormatError
from handwriting.formats._common import read_limited
from handwriting.ink import Ink
from handwriting.formats.page import PAGE, PENS, PT_PER_UNIT, TIMED

__all__ = ["NAME", "SUFFIXES", "HEADER", "sniff", "read"]

NAME = "remarkable"
SUFFIXES = (".rm",)
HEADER = b"reMarkable .lines file, version="
MAX_RM_BYTES = 64 * 1024 * 1024
SCREEN = (-702.0, 0.0, 1404.0, 1872.0)  # left, top, width, height in pixels
PIXELS_PER_INCH = 226.0
MARGIN_PX = 40.0
_SKIPPED_TOOLS = ("HIGHLIGHTER_1", "HIGHLIGHTER_2", "SHADER", "ERASER", "ERASER_AREA")
_COLORS = {  # PenColor names -> the tablet's rendering
    "BLACK": "#000000", "GRAY": "#7d7d7d", "WHITE": "#ffffff", "YELLOW": "#fbf719", "GREEN": "#00c000",
    "PINK": "#ff69b4", "BLUE": "#4e69c9", "RED": "#b33e39", "GRAY_OVERLAP": "#7d7d7d", "GREEN_2": "#a1e762",
    "CYAN": "#00bcd4", "MAGENTA": "#c04ec9", "YELLOW_2": "#fbf719",
}
_INSTALL = "reading reMarkable .rm files needs the rmscene package: pip install 'handwriting[remarkable]'"


def sniff(head: bytes) -> bool:
    return head.startswith(HEADER)


def read(path: str | Path) -> list[Ink]:
    path = Path(path)
    data = read_limited(path, MAX_RM_BYTES)
    if not data.startswith(HEADER):
        raise InkFormatError(path, None, "not a reMarkable .lines file (header missing)")
    version = data[len(HEADER):len(HEADER) + 2].strip()
    if version != b"6":
        raise InkFormatError(path, None, f"reMarkable .lines version {version.decode('latin-1')!r}: only version 6 "
                                         "(tablet software 3.0 and later) is supported")
    try:
        from rmscene import scene_items, scene_stream
    except ImportError:
        raise InkFormatError(path, None, _INSTALL) from None
    logger = logging.getLogger("rmscene")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # damaged blocks are reported below instead
    try:
        blocks = list(scene_stream.read_blocks(io.BytesIO(data)))
        bad = next((b for b in blocks if isinstance(b, scene_stream.UnreadableBlock)
                    and not b.error.startswith("Unknown block type")), None)
        if bad is not None:
            raise InkFormatError(path, f"block at byte {bad.info.offset}", f"damaged ({bad.error[:200]})")
        tree = scene_stream.SceneTree()
        scene_stream.build_tree(tree, blocks)
        lines = list(_visible_lines(tree.root, scene_items))
    except InkFormatError:
        raise
    except EOFError:
        raise InkFormatError(path, None, "damaged reMarkable file: cut short") from None
    except Exception as exc:  # rmscene reports damage with many exception types
        raise InkFormatError(path, None, f"damaged reMarkable file ({type(exc).__name__}: {str(exc)[:200]})") from None
    finally:
        logger.setLevel(level)
    return [_ink(lines, path)]


def _visible_lines(group, items):
    """Lines under `group` in scene order, skipping hidden layers and groups."""
    for child in group.children.values():
        if isinstance(child, items.Group):
            if child.visible.value:
                yield from _visible_lines(child, items)
        elif isinstance(child, items.Line) and child.tool.name not in _SKIPPED_TOOLS and child.points:
            yield child


def _ink(lines: list, path: Path) -> Ink:
    strokes: list[np.ndarray] = []
    pens = []
    for line in lines:
        pts = np.array([(p.x, p.y, np.nan, p.pressure / 255.0) for p in line.points], dtype=np.float64)
        if not np.isfinite(pts[:, :2]).all():
            raise InkFormatError(path, f"line {len(strokes) + 1}", "a point is not a finite number")
        strokes.append(pts)
        width = float(np.median([p.width for p in line.points])) / 4.0
        pens.append((width, _color(line)))
    left, top, width, height = SCREEN
    if strokes:
        pts = np.concatenate(strokes)
        x0, y0 = min(left, pts[:, 0].min() - MARGIN_PX), min(top, pts[:, 1].min() - MARGIN_PX)
        x1 = max(left + width, pts[:, 0].max() + MARGIN_PX)
        y1 = max(top + height, pts[:, 1].max() + MARGIN_PX)
        left, top, width, height = x0, y0, x1 - x0, y1 - y0
    meta = {"source": str(path), PAGE: (left, top, width, height), PT_PER_UNIT: 72.0 / PIXELS_PER_INCH,
            PENS: tuple(pens), TIMED: False}
    return Ink(tuple(strokes), meta=meta)


def _color(line) -> str:
    if line.color_rgba is not None:
        r, g, b, a = line.color_rgba
        return f"#{r:02x}{g:02x}{b:02x}{a:02x}"
    return _COLORS.get(line.color.name, "#000000") + "ff"
