"""Page geometry and pen styles of note files, carried in `Ink.meta`, and the page of any ink.

Readers of note formats (Xournal++, reMarkable, CSV) store what the file says under these
keys; other inks get a page fitted around their writing:

- `PAGE`: (left, top, width, height) of the page, in the ink's units;
- `PT_PER_UNIT`: PDF points per ink unit (1 for Xournal++, 72/226 for reMarkable);
- `PENS`: per stroke, (width in ink units, colour `#rrggbbaa`);
- `TIMED`: False when the file had no time stamps, so the strokes' times (filled in by
  `Ink` at 100 Hz for replays) are made up and the duration is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

from handwriting.ink import Ink

__all__ = ["PAGE", "PT_PER_UNIT", "PENS", "TIMED", "Page", "page_of", "pen_of", "is_timed",
           "DEFAULT_PEN_PT", "DEFAULT_COLOR", "MARGIN_PT", "FIT_WIDTH_PT"]

PAGE, PT_PER_UNIT, PENS, TIMED = "page", "pt_per_unit", "pens", "timed"
DEFAULT_PEN_PT = 1.41  # Xournal++'s medium pen
DEFAULT_COLOR = "#000000ff"
MARGIN_PT = 36.0
FIT_WIDTH_PT = 595.0 - 2 * MARGIN_PT  # writing wider than A4's text width is scaled down to it


@dataclass(frozen=True)
class Page:
    """A page box in ink units and its scale: a point (x, y) lies at
    ((x - left) * pt_per_unit, (y - top) * pt_per_unit) PDF points from the top-left corner."""

    left: float
    top: float
    width: float
    height: float
    pt_per_unit: float

    @property
    def size_pt(self) -> tuple[float, float]:
        return self.width * self.pt_per_unit, self.height * self.pt_per_unit

    def to_pt(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.left) * self.pt_per_unit, (y - self.top) * self.pt_per_unit


def page_of(ink: Ink) -> Page:
    """The page the file declared, else the writing's bounds with a margin of MARGIN_PT
    (writing wider than FIT_WIDTH_PT units is scaled down to that width; an empty ink gets an A4 page)."""
    scale = float(ink.meta.get(PT_PER_UNIT, 0.0))
    if PAGE in ink.meta:
        left, top, width, height = (float(v) for v in ink.meta[PAGE])
        return Page(left, top, width, height, scale or 1.0)
    if ink.is_empty:
        return Page(0.0, 0.0, 595.0, 842.0, 1.0)
    x0, y0, x1, y1 = ink.bounds()
    if not scale:
        scale = min(1.0, FIT_WIDTH_PT / (x1 - x0)) if x1 > x0 else 1.0
    margin = MARGIN_PT / scale
    return Page(x0 - margin, y0 - margin, x1 - x0 + 2 * margin, y1 - y0 + 2 * margin, scale)


def pen_of(ink: Ink, stroke: int, page: Page) -> tuple[float, str]:
    """(width in ink units, `#rrggbbaa`) of a stroke: from the file, else a medium black pen."""
    pens = ink.meta.get(PENS)
    if pens is not None and stroke < len(pens):
        width, color = pens[stroke]
        return float(width), str(color)
    return DEFAULT_PEN_PT / page.pt_per_unit, DEFAULT_COLOR


def is_timed(ink: Ink) -> bool:
    """False when the file had no time stamps (the duration is then unknown)."""
    return bool(ink.meta.get(TIMED, True))
