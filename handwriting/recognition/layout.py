"""Page layout by geometry: a page's strokes grouped into text lines by where they lie, not
when they were written (y points down), and put in reading order.

1. Marks: strokes small in both directions (dots, commas, accents) are set aside.
2. Pieces: the other strokes that overlap or touch side by side on one level (middles
   within their vertical spreads) are one piece: a word or a part of one.
3. Line spacing: the median distance from a letter (a piece of most of the typical piece
   height) down to the nearest letter under it, at least a piece height away and clear of
   it (nearer or touching ones are letters of one line: a descender, a capital's bar or
   swash over its word; quotes over a letter are no line either).
4. Chains: every tall piece (an anchor) links to its cheapest neighbour to the right and
   to the left on about the same level, a few piece heights away at most (cost: the gap
   plus the vertical offset, heavily weighted); the chains follow a line even where it
   rises or falls. A chain holding pieces one above the other (two lines joined by a
   wrong link) loses one of its steepest links, the one whose removal leaves the fewest
   such pairs.
5. Lines: small pieces join the chain of the nearest anchor; chains that continue one
   another on the same level (at their end letters, past any quotes), a line break apart
   at most, are one line (a line with a wide gap in it); a narrow line off the level of
   its line (a tall capital, quotes, a stray stroke) joins the line beside it; a line of a
   piece or two, much less tall than a line it nearly touches above or below it (a
   capital's bar or top written apart, an underline), joins that line. An ink of bars only
   (`=`, dashes), no taller than wide, is one line: bars have no height to measure lines by;
   so is an ink of a few pieces, not bars only, no wider than tall: one character (`:`,
   `i`, `8`), not a column of lines; and so is an ink with no letter under another (no
   line spacing to measure) whose lines but the one of most pieces are a piece or two of
   narrow marks above it (quotes, an i-dot far above a lone word) or past its end within
   its height (a question mark's hook).
6. Marks join the nearest piece: side by side first, then above rather than below it (an
   i-dot sits above its letter, a comma at the baseline).
7. Reading order: lines stacked one above the other form blocks (a paragraph, a column, a
   margin note); blocks side by side are read left to right, else top to bottom; lines
   top to bottom in a block; in a line, words (pieces closer than a word gap side by
   side) by their left edge, the strokes of a word in writing order. A word added later
   to an earlier line, or a dot written at the end of the page, is read in its place.

Thresholds are relative to the page's own measures (stroke and piece heights, line
spacing), so the scale of the coordinates does not matter. Time stamps are not used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handwriting.ink import Ink

__all__ = ["TextLine", "WordGroup", "find_lines", "updated_lines", "group_boxes"]

Box = tuple[float, float, float, float]

MARK = 0.3  # marks are smaller than this many stroke heights in both directions
TOUCH = 0.15  # strokes less than this many stroke heights apart side by side may be one piece
SPREAD_FLOOR = 0.15  # a piece's vertical spread (standard deviation of y) is at least this many stroke heights
ANCHOR = 0.4  # pieces at least this part of the typical piece height are chained into lines
LETTER = 0.75  # pieces at least this part of it are letters: only letters one above another measure lines
WORD_GAP = 3.0  # chained pieces are at most this many piece heights apart side by side
LEVEL = 0.5  # neighbours in a line lie less than this many line spacings apart vertically
LEVEL_COST = 40.0  # a vertical offset of one line spacing costs as much as this many piece heights of gap
LINE_GAP = 2.5  # chains on one level less than this many line spacings (or 6 piece heights) apart are one line
SMALL_LINE = 1.5  # a line narrower than this many piece heights may belong to the line beside it,
NEAR_LEVEL = 0.75  # if that line spans most of its height or lies less than this many line spacings away
FRAGMENT = 2  # a line of at most this many pieces may be part of a line it nearly touches (a capital's bar or top):
TOUCH_GAP = 0.25  # its pieces less than this part of the height of the pieces they overlap above or below them,
ABOVE_SIZE = 0.5  # and less tall than this part of that line if above it,
BELOW_SIZE = 0.25  # or than this part if below it (a short last line of a paragraph below touches it too)
SUSPECTS = 4  # links of a chain spanning two lines tried for removal, steepest first
BELOW_COST = 3.0  # a mark below a piece costs this much more than one above it
BLOCK_GAP = 1.5  # lines overlapping side by side and less than this many line spacings apart are one block
GROWN_CHECK = 8  # strokes before the last compared point by point when a page grows (all are compared by length)
WORD_BREAK = 0.3  # a gap wider than this many stroke heights separates two words
BAR = 0.3  # a stroke less tall than this part of its width is a bar (a dash, a stroke of `=`)
ONE_CHARACTER = 3  # an ink of at most this many pieces, not bars only, no wider than tall, is one character
MARK_WIDTH = 0.5  # where no letter lies under another, marks narrower than this many piece heights above a line are its own
UNMEASURED_SPACING = 3.0  # the line spacing in piece heights where no letter lies over another


@dataclass(frozen=True)
class WordGroup:
    """Strokes lying together in a line (a word as written), in reading order, and their box."""

    strokes: tuple[int, ...]
    bbox: Box


@dataclass(frozen=True)
class TextLine:
    """A text line: its strokes in reading order (words left to right, each in writing order), box and words."""

    strokes: tuple[int, ...]
    bbox: Box
    words: tuple[WordGroup, ...]


def find_lines(ink: Ink) -> list[TextLine]:
    """The text lines of `ink` in reading order (none for an empty ink)."""
    if ink.is_empty:
        return []
    geometry = _Strokes.of(ink)
    height = _median_height(geometry.box[:, 3] - geometry.box[:, 1], geometry.length)
    size = geometry.box[:, 2:] - geometry.box[:, :2]
    body = np.flatnonzero(size.max(axis=1) >= MARK * height)
    if len(body) == 0:  # only marks: they are the writing
        body = np.arange(ink.num_strokes)
    piece_of = np.full(ink.num_strokes, -1)
    piece_of[body] = _pieces(geometry, body, height)
    n_pieces = int(piece_of.max()) + 1
    box, mid, spread = geometry.pooled(piece_of[body], n_pieces, body)
    spread = np.maximum(spread, SPREAD_FLOOR * height)
    tall = box[:, 3] - box[:, 1]
    unit = _median_height(tall, np.bincount(piece_of[body], geometry.length[body], n_pieces))
    anchors = np.flatnonzero(tall >= ANCHOR * unit)
    if len(anchors) == 0:  # flat writing (strokes of no height): every piece is an anchor
        anchors = np.arange(n_pieces)
    stacked = _stacked_pairs(box[anchors], mid[anchors], unit)
    letter = tall >= LETTER * unit
    measured = _line_spacing(stacked, box[anchors], mid[anchors], letter[anchors], unit)
    spacing = UNMEASURED_SPACING * unit if measured is None else measured
    if _single_line(size, n_pieces, ink.bounds()):
        line_of_piece = np.zeros(n_pieces, dtype=int)
    else:
        line_of_piece = _chained_lines(box, mid, spread, anchors, letter, stacked, unit, spacing)
        if measured is None and not _bars_only(size) and _marks_of_one_line(line_of_piece, box, unit):
            line_of_piece = np.zeros(n_pieces, dtype=int)
    marks = np.flatnonzero(piece_of < 0)
    if len(marks):
        piece_of[marks] = _nearest(geometry.box[marks], geometry.mid[marks], box, mid, spread)
    return _ordered(geometry, piece_of, line_of_piece, box, height, spacing)


def updated_lines(before: Ink, lines: list[TextLine], after: Ink) -> list[TextLine]:
    """The lines of `after`, an ink being written that was `before` (with `lines`) a moment
    ago: when the only change is the last stroke growing or strokes added, all within the
    band of the line the pen was in, only that line is laid out again; otherwise the
    whole page."""
    line = _grown_line(before, lines, after)
    if line is None:
        return find_lines(after)
    k, strokes = line
    again = find_lines(Ink(tuple(after.strokes[i] for i in strokes)))
    if len(again) != 1:
        return find_lines(after)
    words = tuple(WordGroup(tuple(strokes[i] for i in w.strokes), w.bbox) for w in again[0].words)
    return lines[:k] + [TextLine(tuple(strokes[i] for i in again[0].strokes), again[0].bbox, words)] + lines[k + 1:]


def _grown_line(before: Ink, lines: list[TextLine], after: Ink) -> tuple[int, list[int]] | None:
    """(index, strokes of `after`) of the line that took all the change, or None."""
    old, new = before.strokes, after.strokes
    if not old or not lines or len(new) < len(old):
        return None
    start = max(0, len(old) - GROWN_CHECK)
    if any(len(a) != len(b) or not np.array_equal(a[:, :2], b[:, :2]) for a, b in zip(old[start:-1], new[start:len(old) - 1])):
        return None
    head = np.array([len(s) for s in old[:-1]]), np.array([len(s) for s in new[: len(old) - 1]])
    if not np.array_equal(*head):
        return None
    last = old[-1]
    grown = len(new[len(old) - 1]) >= len(last) and np.array_equal(new[len(old) - 1][: len(last), :2], last[:, :2])
    if not grown:
        return None
    changed = list(range(len(old) - 1, len(new)))
    k = next(n for n, line in enumerate(lines) if len(old) - 1 in line.strokes)
    x0, y0, x1, y1 = lines[k].bbox
    points = np.concatenate([new[i] for i in changed])
    low, high = float(points[:, 1].min()), float(points[:, 1].max())
    inside = min(high, y1) - max(low, y0) >= 0.5 * (high - low) and y0 <= float(np.median(points[:, 1])) <= y1
    near = x0 - (y1 - y0) <= float(points[:, 0].min()) <= x1 + (y1 - y0)
    return (k, sorted(set(lines[k].strokes) | set(changed))) if inside and near else None


@dataclass(frozen=True)
class _Strokes:
    """Per-stroke geometry: box, mean and sum of squares of y, point count, ink length."""

    box: np.ndarray  # (n, 4) xmin, ymin, xmax, ymax
    mid: np.ndarray
    sq: np.ndarray
    count: np.ndarray
    length: np.ndarray

    @classmethod
    def of(cls, ink: Ink) -> "_Strokes":
        points = ink.points()
        counts = np.array([len(s) for s in ink.strokes])
        starts = np.zeros(len(counts), int)
        np.cumsum(counts[:-1], out=starts[1:])
        x, y = points[:, 0], points[:, 1]
        box = np.column_stack([np.minimum.reduceat(points[:, :2], starts), np.maximum.reduceat(points[:, :2], starts)])
        step = np.zeros(len(x))
        step[:-1] = np.hypot(np.diff(x), np.diff(y))
        step[starts[1:] - 1] = 0.0  # no ink between strokes
        return cls(box, np.add.reduceat(y, starts) / counts, np.add.reduceat(y * y, starts), counts,
                   np.add.reduceat(step, starts))

    def pooled(self, labels: np.ndarray, n: int, members: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Box, mean y and standard deviation of y of `n` groups of the strokes `members`, labelled `labels`."""
        count = np.bincount(labels, self.count[members], n)
        mid = np.bincount(labels, self.mid[members] * self.count[members], n) / count
        spread = np.sqrt(np.maximum(np.bincount(labels, self.sq[members], n) / count - mid ** 2, 0.0))
        return group_boxes(self.box[members], labels, n), mid, spread


def group_boxes(boxes: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """The box around the `boxes` of each of `n` labels (inf, inf, -inf, -inf for a label with none)."""
    out = np.empty((n, 4))
    out[:, :2], out[:, 2:] = np.inf, -np.inf
    if len(labels):
        order = np.argsort(labels, kind="stable")
        ranked, ordered = labels[order], boxes[order]
        starts = np.flatnonzero(_run_starts(ranked))
        out[ranked[starts], :2] = np.minimum.reduceat(ordered[:, :2], starts)
        out[ranked[starts], 2:] = np.maximum.reduceat(ordered[:, 2:], starts)
    return out


def _run_starts(values: np.ndarray) -> np.ndarray:
    """Where each run of equal `values` starts."""
    starts = np.empty(len(values), bool)
    starts[:1] = True
    np.not_equal(values[1:], values[:-1], out=starts[1:])
    return starts


def _single_line(size: np.ndarray, n_pieces: int, bounds: Box) -> bool:
    """Whether the ink is one line whatever its gaps: bars only (`=`, `≡`, a dash) no taller
    than wide (bars have no height to measure a line by; bars far apart one over another are
    rules), or a few pieces, not bars only, no wider than tall: one character (`:`, `i`, `8`)."""
    xmin, ymin, xmax, ymax = bounds
    if _bars_only(size):
        return bool(ymax - ymin <= xmax - xmin)
    return bool(n_pieces <= ONE_CHARACTER and xmax - xmin <= ymax - ymin)


def _bars_only(size: np.ndarray) -> bool:
    """Whether every stroke (width, height in `size`) is a bar."""
    return bool((size[:, 1] < BAR * size[:, 0]).all())


def _chained_lines(box: np.ndarray, mid: np.ndarray, spread: np.ndarray, anchors: np.ndarray, letter: np.ndarray,
                   stacked: tuple[np.ndarray, np.ndarray], unit: float, spacing: float) -> np.ndarray:
    """The line of every piece: anchors chained along their lines (steps 4-5), the other pieces
    joining the chain of the nearest anchor, chains on one level and small lines joined."""
    chain = np.full(len(box), -1)
    chain[anchors] = _chains(box[anchors], mid[anchors], stacked, unit, spacing)
    others = np.flatnonzero(chain < 0)
    if len(others):
        chain[others] = chain[anchors[_nearest(box[others], mid[others], box[anchors], mid[anchors], spread[anchors])]]
    line = _small_joined(_same_level(chain, anchors, letter, box, mid, unit, spacing), box, mid, spread, unit, spacing)
    return _fragments_joined(line, box, mid)


def _median_height(heights: np.ndarray, lengths: np.ndarray) -> float:
    """The length-weighted median of `heights`; positive."""
    order = np.argsort(heights)
    cumulative = np.cumsum(lengths[order] + 1e-9)
    value = float(heights[order][np.searchsorted(cumulative, cumulative[-1] / 2)])
    return value if value > 0 else float(max(heights.max(), 1.0))


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of each of `n` nodes joined by the edges (a, b), numbered in the
    order of each component's first node."""
    root = np.arange(n)
    while True:  # every node points at the smallest node it is known to be joined with
        low = np.minimum(root[a], root[b])
        before = root.copy()
        np.minimum.at(root, a, low)
        np.minimum.at(root, b, low)
        root = root[root]
        if np.array_equal(root, before):  # the roots, numbered in order, name their components
            return (np.cumsum(root == np.arange(n)) - 1)[root]


def _level_pairs(mid: np.ndarray, reach: float) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i < j), in order, whose middles are at most `reach` apart vertically."""
    n = len(mid)
    order = np.argsort(mid, kind="stable")
    level = mid[order]
    ends = np.searchsorted(level, level + reach, side="right")  # each one's neighbours above it in `level`
    counts = ends - np.arange(n) - 1
    first = np.repeat(np.arange(n), counts)
    second = first + 1 + np.arange(len(first)) - np.repeat(np.cumsum(counts) - counts, counts)
    near = level[second] - level[first] <= reach
    first, second = first[near], second[near]
    a, b = order[first], order[second]
    a, b = np.minimum(a, b), np.maximum(a, b)
    ranked = np.lexsort((b, a))
    return a[ranked], b[ranked]


def _gap(box: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Horizontal gap between boxes a and b (negative where they overlap)."""
    return np.maximum(box[a, 0], box[b, 0]) - np.minimum(box[a, 2], box[b, 2])


def _pieces(geometry: _Strokes, body: np.ndarray, height: float) -> np.ndarray:
    """Piece label of each body stroke: strokes touching side by side on one level."""
    box, mid = geometry.box[body], geometry.mid[body]
    spread = np.sqrt(np.maximum(geometry.sq[body] / geometry.count[body] - mid ** 2, 0.0))
    spread = np.maximum(spread, SPREAD_FLOOR * height)
    a, b = _level_pairs(mid, 2 * float(spread.max()))
    keep = (np.abs(mid[a] - mid[b]) < spread[a] + spread[b]) & (_gap(box, a, b) < TOUCH * height)
    return _components(len(body), a[keep], b[keep])


def _stacked_pairs(box: np.ndarray, mid: np.ndarray, unit: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (upper, lower) of pieces that overlap side by side, more than half a piece height apart vertically."""
    a, b = _level_pairs(mid, 8 * unit)
    keep = (_gap(box, a, b) < 0) & (np.abs(mid[a] - mid[b]) > unit / 2)
    a, b = a[keep], b[keep]
    up = mid[a] < mid[b]
    return np.where(up, a, b), np.where(up, b, a)


def _line_spacing(stacked: tuple[np.ndarray, np.ndarray], box: np.ndarray, mid: np.ndarray, letter: np.ndarray,
                  unit: float) -> float | None:
    """The median distance from a piece down to the nearest piece under it, of those at least a
    piece height apart, both `letter`s and with a gap between their boxes (a capital's bar
    touching its word or quotes over a letter are not a line above it); None when none is."""
    upper, lower = stacked
    both = letter[upper] & letter[lower] & (box[lower, 1] > box[upper, 3])
    upper, lower = upper[both], lower[both]
    if not len(upper):
        return None
    down = np.full(len(mid), np.inf)
    np.minimum.at(down, upper, mid[lower] - mid[upper])
    lines_apart = down[np.isfinite(down) & (down >= unit)]  # nearer: letters of one line (a capital's bar, a descender)
    return float(np.median(lines_apart)) if len(lines_apart) else None


def _marks_of_one_line(line: np.ndarray, box: np.ndarray, unit: float) -> bool:
    """Whether every line but the one of most pieces is a piece or two that, joined with it and
    read left to right, keeps its place: narrow marks above it and not past its end (quotes,
    an i-dot), or pieces past its end within its height (a question mark's hook)."""
    count = np.bincount(line)
    extent = group_boxes(box, line, len(count))
    longest = int(np.argmax(count))
    main = extent[longest]
    above, below = extent[:, 3] < main[1], extent[:, 1] > main[3]
    widest = np.zeros(len(count))
    np.maximum.at(widest, line, box[:, 2] - box[:, 0])
    marks_above = above & (widest < MARK_WIDTH * unit) & (extent[:, 0] <= main[2])
    beyond_end = ~above & ~below & (extent[:, 0] > main[2])
    fits = (count <= FRAGMENT) & (marks_above | beyond_end)
    fits[longest] = True
    return bool(fits.all())


def _chains(box: np.ndarray, mid: np.ndarray, stacked: tuple[np.ndarray, np.ndarray], unit: float,
            spacing: float) -> np.ndarray:
    """Chain label of each piece: pieces linked to their cheapest neighbours on a level."""
    a, b = _level_pairs(mid, LEVEL * spacing)
    a, b = np.concatenate([a, b]), np.concatenate([b, a])  # both directions: a looks right to b
    gap = box[b, 0] - box[a, 2]
    ok = (box[b, 0] > box[a, 0]) & (gap < WORD_GAP * unit)
    a, b = a[ok], b[ok]
    cost = np.maximum(gap[ok], 0.0) / unit + LEVEL_COST * np.abs(mid[a] - mid[b]) / spacing
    links = np.union1d(_cheapest(a, cost), _cheapest(b, cost))  # each piece's best right and best left neighbour
    upper, lower = stacked
    far = np.abs(mid[upper] - mid[lower]) > LEVEL * spacing
    return _untangled(len(mid), a[links], b[links], np.abs(mid[a[links]] - mid[b[links]]), upper[far], lower[far])


def _cheapest(owner: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Index of the cheapest entry of every owner."""
    order = np.lexsort((cost, owner))
    first = np.ones(len(order), bool)
    first[1:] = owner[order][1:] != owner[order][:-1]
    return order[first]


def _untangled(n: int, a: np.ndarray, b: np.ndarray, offset: np.ndarray, upper: np.ndarray, lower: np.ndarray
               ) -> np.ndarray:
    """Components of the links (a, b) such that no pair (upper, lower) lies in one: each chain
    holding such a pair loses one of its SUSPECTS steepest links (vertical `offset`), the
    one whose removal leaves the fewest pairs together, until none is left."""
    keep = np.ones(len(a), bool)
    chain = _components(n, a, b)
    while True:
        tangled = np.unique(chain[upper][chain[upper] == chain[lower]])
        if not len(tangled):
            return chain
        suspects = {}
        for c in tangled:
            inside = np.flatnonzero(keep & (chain[a] == c))
            suspects[c] = inside[np.argsort(-offset[inside])[:SUSPECTS]]
        base = keep.copy()
        base[np.concatenate(list(suspects.values()))] = False
        part = _components(n, a[base], b[base])  # the chains without their suspects, in pieces
        for c, links in suspects.items():
            pairs = chain[upper] == c
            scores = [_together(part, a[links[links != cut]], b[links[links != cut]], upper[pairs], lower[pairs])
                      for cut in links]
            keep[links[int(np.argmin(scores))]] = False
        chain = _components(n, a[keep], b[keep])


def _together(part: np.ndarray, a: np.ndarray, b: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> int:
    """How many pairs (upper, lower) share a component once the components `part` are joined by the few links (a, b)."""
    up, low = part[upper], part[lower]
    ends = list(zip(part[a].tolist(), part[b].tolist()))
    for k, (x, y) in enumerate(ends):
        if x != y:  # label x becomes y everywhere
            up[up == x], low[low == x] = y, y
            ends[k + 1:] = [(y if p == x else p, y if q == x else q) for p, q in ends[k + 1:]]
    return int(np.count_nonzero(up == low))


def _same_level(chain: np.ndarray, anchors: np.ndarray, letter: np.ndarray, box: np.ndarray, mid: np.ndarray,
                unit: float, spacing: float) -> np.ndarray:
    """Chains that continue one another on the same level (their end letters, or end anchors
    in a chain of no letters, less than LEVEL line spacings apart vertically: quotes opening or
    closing a line are off its level), less than a line gap apart side by side, become one line."""
    n = int(chain.max()) + 1
    if n == 1:
        return chain
    order = anchors[np.lexsort((box[anchors, 0], ~letter[anchors], chain[anchors]))]
    first = order[_run_starts(chain[order])]  # leftmost letter (else anchor) of each chain
    order = anchors[np.lexsort((box[anchors, 2], letter[anchors], chain[anchors]))]
    last = order[_run_starts(chain[order][::-1])[::-1]]  # rightmost letter (else anchor) of each chain
    extent = group_boxes(box, chain, n)
    a, b = (index.ravel() for index in np.meshgrid(last, first, indexing="ij"))  # right ends against left ends
    gap = extent[chain[b], 0] - extent[chain[a], 2]
    join = ((chain[a] != chain[b]) & (gap > -unit) & (gap < max(LINE_GAP * spacing, 6 * unit))
            & (np.abs(mid[a] - mid[b]) < LEVEL * spacing))
    return _components(n, chain[a[join]], chain[b[join]])[chain]


def _small_joined(line: np.ndarray, box: np.ndarray, mid: np.ndarray, spread: np.ndarray, unit: float,
                  spacing: float) -> np.ndarray:
    """A narrow line joins the line beside it holding the nearest piece, if that line spans
    most of its height or that piece lies less than NEAR_LEVEL line spacings away."""
    n = int(line.max()) + 1
    if n == 1:
        return line
    extent = group_boxes(box, line, n)
    for small in np.flatnonzero(extent[:, 2] - extent[:, 0] < SMALL_LINE * unit):
        if not np.isfinite(extent[small, 0]):
            continue
        others = np.arange(n) != small
        beside = others & (_gap(extent, np.full(n, small), np.arange(n)) < WORD_GAP * unit)
        if not beside.any():
            continue
        pieces, candidates = np.flatnonzero(line == small), np.flatnonzero(beside[line])
        nearest = candidates[_nearest(box[pieces], mid[pieces], box[candidates], mid[candidates], spread[candidates])]
        target = line[nearest[0]]
        overlap = min(extent[target, 3], extent[small, 3]) - max(extent[target, 1], extent[small, 1])
        if overlap > (extent[small, 3] - extent[small, 1]) / 2 or np.abs(mid[pieces] - mid[nearest]).min() < NEAR_LEVEL * spacing:
            line[pieces] = target
            extent[target] = np.concatenate([np.minimum(extent[target, :2], extent[small, :2]), np.maximum(extent[target, 2:], extent[small, 2:])])
            extent[small] = (np.inf, np.inf, -np.inf, -np.inf)  # gone: beside nothing
    return np.unique(line, return_inverse=True)[1]


def _fragments_joined(line: np.ndarray, box: np.ndarray, mid: np.ndarray) -> np.ndarray:
    """A line of at most FRAGMENT pieces joins the line it nearly touches above or below it, if
    it is much less tall than that line: a capital's bar or top written apart (`T`, `I`, `J`,
    `Y`), an apostrophe, an underline. The touch is measured between pieces that overlap side
    by side, over the height of the other line's piece; the nearest such line is taken."""
    n = int(line.max()) + 1
    small = np.bincount(line, minlength=n) <= FRAGMENT
    if n == 1 or not small.any():
        return line
    extent = group_boxes(box, line, n)
    height, tall = extent[:, 3] - extent[:, 1], box[:, 3] - box[:, 1]
    a, b = _level_pairs(mid, (2 + TOUCH_GAP) * float(tall.max()))  # every pair that may touch
    a, b = np.concatenate([a, b]), np.concatenate([b, a])  # both ways: a is the fragment's piece
    keep = small[line[a]] & (line[a] != line[b]) & (_gap(box, a, b) < 0)
    a, b = a[keep], b[keep]
    touch = np.maximum(box[b, 1] - box[a, 3], box[a, 1] - box[b, 3]) / np.maximum(tall[b], 1e-9)
    above = extent[line[a], 1] < extent[line[b], 1]
    size = height[line[a]] / np.maximum(height[line[b]], 1e-9)
    fits = (touch < TOUCH_GAP) & (size < np.where(above, ABOVE_SIZE, BELOW_SIZE))
    a, b = a[fits], b[fits]
    nearest = _cheapest(line[a], touch[fits])
    return _components(n, line[a[nearest]], line[b[nearest]])[line]


def _nearest(box: np.ndarray, mid: np.ndarray, to_box: np.ndarray, to_mid: np.ndarray, to_spread: np.ndarray) -> np.ndarray:
    """For each box (middle `mid`), the nearest of the `to` pieces: side by side first, then
    above rather than below it."""
    dx = np.maximum(np.maximum(to_box[None, :, 0] - box[:, 2:3], box[:, 0:1] - to_box[None, :, 2]), 0.0)
    above = np.maximum(to_mid[None, :] - to_spread[None, :] - mid[:, None], 0.0)
    below = np.maximum(mid[:, None] - to_mid[None, :] - to_spread[None, :], 0.0)
    return np.argmin(dx + above + BELOW_COST * below, axis=1)


def _ordered(geometry: _Strokes, piece_of: np.ndarray, line_of_piece: np.ndarray, box: np.ndarray,
             height: float, spacing: float) -> list[TextLine]:
    """Lines in reading order, each with its words and strokes in reading order."""
    line_of_stroke = line_of_piece[piece_of]
    n_lines = int(line_of_piece.max()) + 1
    everything = np.arange(len(piece_of))
    lbox, lmid, _ = geometry.pooled(line_of_stroke, n_lines, everything)
    rank = np.empty(n_lines, int)
    rank[_reading_order(lbox, lmid, spacing)] = np.arange(n_lines)
    order = np.lexsort((everything, piece_of, box[piece_of, 0], rank[line_of_stroke]))  # line, piece's left edge, piece, writing order
    line_sorted = rank[line_of_stroke[order]]
    starts = np.flatnonzero(np.concatenate([[True], line_sorted[1:] != line_sorted[:-1]]))
    lines = []
    for start, end in zip(starts.tolist(), starts[1:].tolist() + [len(order)]):
        strokes = order[start:end]
        left, right = box[piece_of[strokes], 0], box[piece_of[strokes], 2]
        breaks = np.flatnonzero(left[1:] - np.maximum.accumulate(right)[:-1] > WORD_BREAK * height) + 1
        word_starts = np.concatenate([[0], breaks])
        boxes = geometry.box[strokes]
        word_boxes = np.column_stack([np.minimum.reduceat(boxes[:, :2], word_starts), np.maximum.reduceat(boxes[:, 2:], word_starts)])
        ids = strokes.tolist()
        bounds = word_starts.tolist() + [len(ids)]
        words = tuple(WordGroup(tuple(sorted(ids[i:j])), tuple(b)) for i, j, b in zip(bounds, bounds[1:], word_boxes.tolist()))
        lines.append(TextLine(sum((w.strokes for w in words), ()), tuple(lbox[line_of_stroke[ids[0]]].tolist()), words))
    return lines


def _reading_order(lbox: np.ndarray, lmid: np.ndarray, spacing: float) -> list[int]:
    """Line indices in reading order: blocks (lines overlapping side by side, less than
    BLOCK_GAP line spacings apart) side by side left to right, else top to bottom; lines
    top to bottom in a block."""
    n = len(lmid)
    if n == 1:
        return [0]
    a, b = np.triu_indices(n, 1)
    stacked = (_gap(lbox, a, b) < 0) & (np.abs(lmid[a] - lmid[b]) < BLOCK_GAP * spacing)
    block = _components(n, a[stacked], b[stacked])
    bbox = group_boxes(lbox, block, int(block.max()) + 1)
    left = list(range(len(bbox)))
    ordered = []
    while left:
        top = min(left, key=lambda k: bbox[k, 1])
        beside = [k for k in left if bbox[k, 2] <= bbox[top, 0] and bbox[k, 1] < bbox[top, 3] and bbox[k, 3] > bbox[top, 1]]
        pick = min(beside, key=lambda k: bbox[k, 0]) if beside else top
        left.remove(pick)
        ordered += sorted(np.flatnonzero(block == pick).tolist(), key=lambda k: lmid[k])
    return ordered
