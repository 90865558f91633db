"""Splitting ink into text lines, in writing order (y points down).

A stroke starts a new line when it lies clearly below the line being written (its middle
more than `BELOW` of that line's height under the line's middle) and starts back to the
left of the line's right end: the pen went back and down, as at a line break or the next
entry of a list. Descenders, dots, crossings and corrections stay in their line: they are
neither that far down nor back at the left; and a line of dots alone (a stray mark, a
late full stop) is not a line, so it joins the writing that follows.
"""

from __future__ import annotations

import numpy as np

from handwriting.ink import X, Y, Ink

__all__ = ["split_lines", "BELOW"]

BELOW = 1.0  # a new line's strokes lie more than this many line heights below the line's middle
RECENT = 64  # the line's height and middle come from its last strokes (bounded work on long lines)


def split_lines(ink: Ink) -> list[list[int]]:
    """Stroke indices of each line of `ink`, consecutive and in writing order (one line for an empty ink)."""
    if ink.num_strokes < 2:
        return [list(range(ink.num_strokes))]
    letter = _letter_height(ink)
    lines = [[0]]
    ys, right = [ink.strokes[0][:, Y]], float(ink.strokes[0][:, X].max())
    for k, stroke in enumerate(ink.strokes[1:], start=1):
        if _starts_line(stroke, ys[-RECENT:], right, letter):
            lines.append([k])
            ys, right = [stroke[:, Y]], float(stroke[:, X].max())
        else:
            lines[-1].append(k)
            ys.append(stroke[:, Y])
            right = max(right, float(stroke[:, X].max()))
    return lines


def _starts_line(stroke: np.ndarray, line_ys: list[np.ndarray], right: float, letter: float) -> bool:
    """Whether `stroke` is back left of the line's right end and a line height below its middle."""
    if stroke[0, X] >= right - letter:  # a line is at least a letter tall: not back to the left (cheap test first)
        return False
    low, high = np.percentile(np.concatenate(line_ys), [5, 95])
    height = max(high - low, letter)
    below = np.median(stroke[:, Y]) - (low + high) / 2 > BELOW * height
    return bool(below and stroke[0, X] < right - height and high - low >= 0.5 * letter)


def _letter_height(ink: Ink) -> float:
    """The median height of the strokes that have one: about a letter's."""
    heights = np.array([np.ptp(s[:, Y]) for s in ink.strokes])
    tall = heights[heights > 0]
    return float(np.median(tall)) if len(tall) else 1.0
