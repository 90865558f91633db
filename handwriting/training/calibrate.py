"""Fitting a model's character prior (`handwriting.recognition.character_prior`) on lone
characters (`handwriting calibrate` writes it into the model's metadata).

The network reads every character once; the prior's terms are then fitted by L-BFGS on
the cross-entropy of the true character (an L2 penalty keeps the terms of rare
characters small), once with the writing guide's height terms and once without. Items
without a guide are given one per writer (`estimated_guides`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from handwriting.ink import Ink
from handwriting.recognition.character_prior import GEOMETRY, CharacterPrior, estimated_guides, geometry
from handwriting.recognition.modes import allowed_classes, restrict, single_label_log_probs, size_log_prior
from handwriting.recognition.preprocess import featurize
from handwriting.recognition.recognizer import Recognizer

__all__ = ["Measured", "lone_characters", "measure", "fit", "errors"]

L2 = 1e-4  # on the bias and weights, against a mean cross-entropy
BATCH = 64


@dataclass(frozen=True)
class Measured:
    """What the prior is fitted on: per item the single-label scores of every class, the
    measures with and without the guide, the height-only prior of an uncalibrated model, and the true class."""

    scores: np.ndarray  # (N, classes), -inf for the classes character mode rules out
    with_guide: np.ndarray  # (N, GEOMETRY)
    without_guide: np.ndarray  # (N, GEOMETRY)
    size_prior: np.ndarray  # (N, classes)
    labels: np.ndarray  # (N,)

    def __len__(self) -> int:
        return len(self.labels)


def lone_characters(inks: list[Ink], recognizer: Recognizer) -> list[Ink]:
    """The inks labelled with one character the model can read (not a space)."""
    alphabet = recognizer.alphabet
    return [ink for ink in inks if ink.label and len(ink.label) == 1 and ink.label != " "
            and alphabet.covers(ink.label) and not ink.is_empty]


def measure(recognizer: Recognizer, characters: list[Ink], desc: str = "reading characters") -> Measured:
    """Read every character once (each writer given an estimated guide)."""
    alphabet, mask = recognizer.alphabet, allowed_classes("character", recognizer.alphabet)
    guides = estimated_guides(characters)
    scores, with_guide, without_guide, size_prior = [], [], [], []
    for first in tqdm(range(0, len(characters), BATCH), desc=desc, unit="batch", disable=None):
        batch = characters[first:first + BATCH]
        log_probs, _ = recognizer.run([featurize(ink, recognizer.model.preprocess) for ink in batch])
        for ink, lp in zip(batch, log_probs):
            guide = guides[ink.writer]
            scores.append(single_label_log_probs(restrict(lp, mask)))
            with_guide.append(geometry(ink, guide))
            without_guide.append(geometry(ink, None))
            size_prior.append(size_log_prior(alphabet, ink.bounds()[3] - ink.bounds()[1], guide))
    labels = np.array([alphabet.encode(ink.label or "")[0] for ink in characters])
    return Measured(np.array(scores), np.array(with_guide), np.array(without_guide), np.array(size_prior), labels)


def fit(measured: Measured, use_guide: bool) -> CharacterPrior:
    """The prior that best predicts the true characters of `measured` (with or without the guide's height terms)."""
    finite = torch.tensor(np.isfinite(measured.scores))
    scores = torch.tensor(np.where(np.isfinite(measured.scores), measured.scores, 0.0))
    measures = torch.tensor(measured.with_guide if use_guide else measured.without_guide)  # the latter's height terms are 0
    labels = torch.tensor(measured.labels)
    classes = scores.shape[1]
    scale = torch.ones((), dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(classes, dtype=torch.float64, requires_grad=True)
    weights = torch.zeros(classes, len(GEOMETRY), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([scale, bias, weights], max_iter=300, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        logits = (scale * scores + bias + measures @ weights.T).masked_fill(~finite, -torch.inf)
        value = torch.nn.functional.cross_entropy(logits, labels) + L2 * (bias.square().sum() + weights.square().sum())
        value.backward()
        return value

    optimizer.step(loss)
    return CharacterPrior(float(scale.detach()), bias.detach().numpy().copy(), weights.detach().numpy().copy())


def errors(measured: Measured, prior: CharacterPrior | None, use_guide: bool) -> int:
    """How many items are read wrong: with `prior`, or as an uncalibrated model reads them (None)."""
    measures = measured.with_guide if use_guide else measured.without_guide
    wrong = 0
    for i in range(len(measured)):
        if prior is not None:
            scores = prior.scores(measured.scores[i], measures[i])
        else:
            scores = measured.scores[i] + (measured.size_prior[i] if use_guide else 0.0)
        wrong += int(np.argmax(scores) != measured.labels[i])
    return wrong

