"""Labels on one line without overlaps: pushed apart as little as possible, thinned out when crowded.

`spread` places labels of given widths, in their order, as near their wished centres as
they can be without overlapping and inside [left, right]: with the offsets each label
needs from the first, the positions are an isotonic (least-squares nondecreasing)
regression, solved by pool-adjacent-violators, then clamped. `fit_labels` first drops
labels marked optional (the space marks of the Graves panel's output row), then keeps
every k-th of the rest, until what is left fits.
"""

from __future__ import annotations

import numpy as np

__all__ = ["spread", "fit_labels", "span"]


def _isotonic(values: np.ndarray) -> np.ndarray:
    """The nondecreasing sequence nearest to `values` in least squares (pool adjacent violators)."""
    means: list[float] = []
    counts: list[int] = []
    for value in values.tolist():
        means.append(value)
        counts.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            count = counts[-2] + counts[-1]
            means[-2] = (means[-2] * counts[-2] + means[-1] * counts[-1]) / count
            counts[-2] = count
            del means[-1], counts[-1]
    return np.repeat(means, counts)


def _offsets(widths: np.ndarray, gap: float) -> np.ndarray:
    """How far each label's centre must be from the first one's, at the least."""
    return np.concatenate([[0.0], np.cumsum((widths[:-1] + widths[1:]) / 2 + gap)])


def span(widths: np.ndarray, gap: float) -> float:
    """The width that labels of `widths` need side by side."""
    widths = np.asarray(widths, dtype=float)
    return float(widths.sum() + gap * max(len(widths) - 1, 0))


def spread(centres: np.ndarray, widths: np.ndarray, left: float, right: float, gap: float = 2.0) -> np.ndarray:
    """Centres for the labels, in order, at least `gap` apart and inside [left, right] where they fit."""
    centres, widths = np.asarray(centres, dtype=float), np.asarray(widths, dtype=float)
    if not len(centres):
        return centres.copy()
    offsets = _offsets(widths, gap)
    first = _isotonic(centres - offsets)
    low, high = left + widths[0] / 2, right - widths[-1] / 2 - offsets[-1]
    return np.clip(first, low, max(low, high)) + offsets


def fit_labels(centres: np.ndarray, widths: np.ndarray, left: float, right: float, gap: float = 2.0,
               optional: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(indices of the labels kept, their centres): all when they fit, else without the optional
    ones, else every k-th of those for the smallest k that fits."""
    centres, widths = np.asarray(centres, dtype=float), np.asarray(widths, dtype=float)
    kept = np.arange(len(centres))
    if span(widths, gap) > right - left and optional is not None:
        kept = kept[~np.asarray(optional, bool)]
    step = 1
    while len(kept[::step]) > 1 and span(widths[kept[::step]], gap) > right - left:
        step += 1
    kept = kept[::step]
    return kept, spread(centres[kept], widths[kept], left, right, gap)
