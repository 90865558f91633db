"""What character mode adds to the network's score of each character: terms learned from
lone characters (`handwriting calibrate`), stored in the model's metadata.

The network reads ink scaled to its own height, so a lone `o` and `O` look the same to
it, and it learned how often each character occurs from running text. The prior puts
back what a lone character's shape tells beyond that: for every character c,

    score(c) = scale * log P(label = c | ink) + bias[c] + weights[c] . geometry(ink, guide)

a multinomial logistic regression over the single-label CTC scores (Graves et al. 2006)
and a few measures of the ink: its height against the writing guide's line height (and
its square: a Gaussian of each character's size in log space), its width against its
height (and square), and its number of strokes (1, 2, 3, 4 or more). There are two sets
of terms, one for ink read with a writing guide and one for ink without; the latter does
without the height terms.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from handwriting.ink import Ink
from handwriting.recognition.modes import SMALL_TO_LINE, WritingGuide

__all__ = ["METADATA_KEY", "GEOMETRY", "CharacterPrior", "CharacterPriors", "geometry", "estimated_guides"]

METADATA_KEY = "character_prior"
GEOMETRY = ("height", "height^2", "aspect", "aspect^2", "1 stroke", "2 strokes", "3 strokes", "4+ strokes")
SMALLEST_PART = 0.02  # heights and widths below this part of the ink's size (a dot, a dash) count as this
HEIGHT_RANGE = (-4.0, 1.5)  # log(height / line height): from a dot to a scribble over several lines


def geometry(ink: Ink, guide: WritingGuide | None) -> np.ndarray:
    """The ink's measures in GEOMETRY order (the height terms zero without a guide)."""
    left, top, right, bottom = ink.bounds()
    width, height = right - left, bottom - top
    floor = SMALLEST_PART * max(width, height, 1e-9)
    aspect = np.log((width + floor) / (height + floor))
    size = 0.0
    if guide is not None:
        size = float(np.clip(np.log(max(height, floor) / guide.line_height), *HEIGHT_RANGE))
    strokes = np.zeros(4)
    strokes[min(ink.num_strokes, 4) - 1] = 1.0
    return np.concatenate([[size, size**2, aspect, aspect**2], strokes])


def estimated_guides(characters: list[Ink]) -> dict[str | None, WritingGuide]:
    """A writing guide per writer of lone characters that came without one, as a pad's ruled
    line would be set for its user: a line height twice the median height of the writer's
    characters (no labels used)."""
    heights = defaultdict(list)
    for ink in characters:
        if not ink.is_empty:
            heights[ink.writer].append(ink.bounds()[3] - ink.bounds()[1])
    return {w: WritingGuide(max(float(np.median(h)), 1e-6) / SMALL_TO_LINE) for w, h in heights.items()}


@dataclass(frozen=True)
class CharacterPrior:
    """One set of learned terms over the model's classes (`weights`: classes x GEOMETRY)."""

    scale: float
    bias: np.ndarray
    weights: np.ndarray

    def scores(self, single_label: np.ndarray, measures: np.ndarray) -> np.ndarray:
        """log P(c | ink) of every class c; -inf stays -inf (a class the mode rules out)."""
        finite = np.isfinite(single_label)
        learned = np.where(finite, self.scale * np.where(finite, single_label, 0.0) + self.bias + self.weights @ measures, -np.inf)
        return learned - np.logaddexp.reduce(learned) if finite.any() else learned

    def to_dict(self) -> dict:
        return {"scale": self.scale, "bias": [round(float(b), 5) for b in self.bias],
                "weights": [[round(float(w), 5) for w in row] for row in self.weights]}

    @classmethod
    def from_dict(cls, data: dict, num_classes: int) -> "CharacterPrior":
        bias = np.asarray(data["bias"], np.float64)
        weights = np.asarray(data["weights"], np.float64)
        scale = float(data["scale"])
        if bias.shape != (num_classes,) or weights.shape != (num_classes, len(GEOMETRY)):
            raise ValueError(f"terms for {bias.shape} classes and {weights.shape[1:]} measures, "
                             f"expected {num_classes} and {len(GEOMETRY)}")
        if not (np.isfinite(scale) and np.isfinite(bias).all() and np.isfinite(weights).all()):
            raise ValueError("terms that are not finite numbers")
        return cls(scale, bias, weights)


@dataclass(frozen=True)
class CharacterPriors:
    """The terms for ink read with a writing guide and for ink read without one, and what they were fitted on."""

    with_guide: CharacterPrior
    without_guide: CharacterPrior
    fitted_on: dict

    def scores(self, single_label: np.ndarray, ink: Ink, guide: WritingGuide | None) -> np.ndarray:
        prior = self.with_guide if guide is not None else self.without_guide
        return prior.scores(single_label, geometry(ink, guide))

    def to_json(self) -> str:
        return json.dumps({"geometry": GEOMETRY, "with_guide": self.with_guide.to_dict(),
                           "without_guide": self.without_guide.to_dict(), "fitted_on": self.fitted_on})

    @classmethod
    def from_json(cls, text: str, num_classes: int) -> "CharacterPriors":
        """ValueError for anything but the JSON `to_json` writes for `num_classes` classes."""
        try:
            data = json.loads(text)
            if tuple(data["geometry"]) != GEOMETRY:
                raise ValueError(f"measures {data['geometry']} are not {list(GEOMETRY)}")
            fitted_on = data.get("fitted_on", {})
            return cls(CharacterPrior.from_dict(data["with_guide"], num_classes),
                       CharacterPrior.from_dict(data["without_guide"], num_classes),
                       fitted_on if isinstance(fitted_on, dict) else {})
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a character prior ({exc!r})") from None
