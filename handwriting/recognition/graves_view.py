"""What the Graves panel shows, as plain arrays: the model of its four rows (output, cells,
writing, saliency), made from a Recognition and its Explanation without Qt, so that the
app paints it and `handwriting explain --json` writes it from the same numbers."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from handwriting.alphabet import BLANK
from handwriting.recognition.explain import DIRECTIONS, MOVEMENT, Explanation, select_cells
from handwriting.recognition.recognizer import Recognition

__all__ = ["GravesView", "build_view", "writing_path", "ARROWS"]

ARROWS = ("\u2192", "\u2190")  # forward, backward


@dataclass(frozen=True)
class GravesView:
    """Everything the four rows show, as plain arrays (no model needed to paint it)."""

    activity: np.ndarray  # (T,) 1 - p(blank) per frame
    chars: tuple[tuple[str, int], ...]  # recognised characters and their emission frames
    xy: np.ndarray  # (T, 2) frame positions (y down)
    joined: np.ndarray  # (T,) frame t is joined to frame t-1 by the pen
    controls: np.ndarray | None = None  # (T, 2, 2) curve frames: the control points of the curve into frame t
    cells: np.ndarray | None = None  # (K, T) chosen cell states
    cell_labels: tuple[str, ...] = ()
    cell_title: str = "cells"
    saliency: np.ndarray | None = None  # (T, 2) d/d dx, d/d dy
    target: tuple[int, str] | None = None  # (frame, character) the saliency is for
    cursor: int | None = None  # a frame to mark across the rows
    output_title: str = "output"  # the output row's title (which line of a page it is)

    @property
    def num_frames(self) -> int:
        return len(self.activity)


def build_view(recognition: Recognition, explanation: Explanation | None = None, how: str = "active", k: int = 16,
               layer: int | None = None, direction: int | None = None) -> GravesView:
    """The view of `recognition`; cells (from `layer`/`direction`, None = all) and saliency
    come from `explanation` when it belongs to this recognition."""
    frames = recognition.frames
    activity = 1.0 - np.exp(recognition.log_probs[:, BLANK]) if len(frames) else np.zeros(0)
    joined = np.zeros(len(frames), bool)
    joined[1:] = frames.stroke_index[1:] == frames.stroke_index[:-1]
    view = GravesView(activity, tuple((c.char, c.frame) for c in recognition.characters), frames.xy, joined,
                      frames.controls)
    if explanation is None or explanation.recognition is not recognition:
        return view
    layers = range(len(explanation.cells)) if layer is None else [layer]
    directions = [0, 1] if direction is None else [direction]
    subset = [explanation.cells[n][:, directions] for n in layers]
    chosen = select_cells(subset, how, k)
    units = subset[0].shape[2]
    labels, rows = [], []
    for index in chosen.tolist():
        n, d, unit = np.unravel_index(index, (len(subset), len(directions), units))
        labels.append(f"L{layers[n] + 1}{ARROWS[directions[d]]}{unit}")
        rows.append(subset[n][:, d, unit])
    where = "all layers" if layer is None else f"layer {layer + 1}"
    if direction is not None:
        where += f" {DIRECTIONS[direction]}"
    return replace(view, cells=np.array(rows).reshape(len(rows), len(frames)), cell_labels=tuple(labels),
                   cell_title=f"cells\nmost {how}\n{where}", saliency=explanation.saliency[:, MOVEMENT],
                   target=(explanation.target[0], explanation.target_char))


def writing_path(view: GravesView, samples: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(points (M, 2), frame of each point) of the writing row: the frames' positions, and where
    frames are curves, `samples` points along each curve the pen drew into its frame."""
    if view.controls is None or not len(view.xy):
        return view.xy, np.arange(len(view.xy))
    u = np.arange(1, samples + 1)[:, None] / samples  # (S, 1), the curve's end last
    start, end = view.xy[:-1], view.xy[1:]
    c1, c2 = view.controls[1:, 0], view.controls[1:, 1]
    curves = ((1 - u) ** 3)[None] * start[:, None] + (3 * u * (1 - u) ** 2)[None] * c1[:, None] \
        + (3 * u * u * (1 - u))[None] * c2[:, None] + (u ** 3)[None] * end[:, None]  # (T - 1, S, 2)
    kept = view.joined[1:, None] | (np.arange(samples) == samples - 1)[None]  # (T - 1, S): a move in the air keeps its end
    return np.concatenate([view.xy[:1], curves[kept]]), np.concatenate([[0], np.nonzero(kept)[0] + 1])
