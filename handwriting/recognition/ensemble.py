"""Two networks reading one ink together, by n-best rescoring.

A model may name a second network in its metadata (`handwriting ensemble`): another
model file beside it, with the same alphabet, that reads other frames of the same ink (the
shipped pair: point frames and Bézier-curve frames), so that its mistakes differ from the
first's. Each network proposes its best readings (its own beam, temperature and the LM, or
its greedy reading); every proposal is scored by both networks, by the CTC log-likelihood
of its text (the sum over all its paths) on each network's log-probabilities,

    weight x first + (1 - weight) x second + the LM's terms of the beam search,

and the best proposal is the reading, its characters placed on the first network's frames
by its best path. Character mode mixes the two models' calibrated log P(c | ink) alike.
On held-out writers (models/README.md, experiments row 76) this makes 9-13 % fewer
character errors than the better network alone on lines and words, 3-4 % on lone characters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Callable

import numpy as np

from handwriting.atomic import atomic_copy
from handwriting.recognition.decode import Hypothesis

__all__ = ["Ensemble", "METADATA_KEY", "DEFAULT_WEIGHT", "PROPOSALS", "rescored", "mixed", "copy_second_network"]

METADATA_KEY = "ensemble"
DEFAULT_WEIGHT = 0.6  # of the first network (row 76: 0.5-0.7 read alike)
PROPOSALS = 8  # readings each network proposes


@dataclass(frozen=True)
class Ensemble:
    """The second network of a model: its file (a name in the model's folder) and the weight of the first's scores."""

    file: str
    weight: float = DEFAULT_WEIGHT

    def __post_init__(self) -> None:
        name = PurePath(self.file)
        if not self.file or name.name != self.file or self.file in (".", ".."):
            raise ValueError(f"the second network must be a file name beside the model, not {self.file!r}")
        if not (isinstance(self.weight, (int, float)) and 0.0 < self.weight < 1.0):
            raise ValueError(f"the first network's weight must lie between 0 and 1, not {self.weight!r}")

    def to_json(self) -> str:
        return json.dumps({"file": self.file, "weight": self.weight})

    @classmethod
    def from_json(cls, text: str) -> "Ensemble":
        try:
            data = json.loads(text)
            return cls(str(data["file"]), float(data["weight"]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"not an ensemble entry ({type(exc).__name__}: {exc})") from None


def rescored(proposals: list[tuple[int, ...]], first: np.ndarray, second: np.ndarray, weight: float, n_best: int,
             language: Callable[[tuple[int, ...]], float] | None = None) -> list[Hypothesis]:
    """The `n_best` of `proposals` (class ids) by weight x their CTC log-likelihood on `first`
    + (1 - weight) x that on `second` (+ `language(ids)`), each placed on `first`'s frames."""
    from handwriting.recognition import ctc_kernel

    first64, second64 = np.ascontiguousarray(first, np.float64), np.ascontiguousarray(second, np.float64)
    scored = []
    for ids in dict.fromkeys(proposals):
        labels = np.array(ids, np.int64)
        score = weight * ctc_kernel.log_likelihood(first64, labels) + (1 - weight) * ctc_kernel.log_likelihood(second64, labels)
        if np.isfinite(score):
            scored.append((score + (language(ids) if language else 0.0), ids))
    scored.sort(key=lambda pair: -pair[0])
    return [Hypothesis(ids, tuple(int(f) for f in ctc_kernel.alignment(first64, np.array(ids, np.int64))), float(score))
            for score, ids in scored[:n_best]]


def mixed(first: np.ndarray, second: np.ndarray, weight: float) -> np.ndarray:
    """weight x first + (1 - weight) x second, class by class; -inf where either is -inf."""
    finite = np.isfinite(first) & np.isfinite(second)
    return np.where(finite, weight * np.where(finite, first, 0.0) + (1 - weight) * np.where(finite, second, 0.0), -np.inf)


def copy_second_network(model: str | Path, metadata: dict[str, str], out: str | Path) -> Path | None:
    """The second network that `metadata` (of `model`, written again as `out`) names, copied
    from beside `model` to beside `out` so that `out` reads with it too; its path there, or
    None where there is none, it is there already or it is missing beside `model` too (then
    `out` reads as `model` does: with its first network alone)."""
    if METADATA_KEY not in metadata:
        return None
    name = Ensemble.from_json(metadata[METADATA_KEY]).file
    return atomic_copy(Path(model).parent / name, Path(out).parent / name)
