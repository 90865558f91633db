"""A model's posterior temperature: how far its log-probabilities are flattened before the beam
search weighs them against the language model (`handwriting calibrate`, in the metadata).

    log P_T(c | frame) = log P(c | frame) / T - log sum_k P(k | frame)^(1/T)

A network trained longer grows surer of its readings than the LM and the pruning of the
search expect; T above 1 gives the LM's word back some say and lets the search keep
characters the network thought unlikely. It is the "acoustic scale" of speech decoders: up
to how the search sums the paths of a prefix, dividing by T weighs the LM and the bonus
per character T times more. The best path of a frame does not change, so greedy reading
and character mode (one label scored over all its paths) are read without it.

A reading of one word or one character, alone, is weighed with a temperature of its own:
there the LM has no words before it to go by, only a sentence start, and more say for it
costs more than it gains (models/README.md, experiments rows 46-48). Which one a reading
gets is told by the network's best path: a space between two characters makes it several words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from handwriting.alphabet import Alphabet
from handwriting.recognition.decode import greedy

__all__ = ["METADATA_KEY", "Temperature", "flattened", "several_words"]

METADATA_KEY = "posterior_temperature"
RANGE = (0.25, 4.0)  # a temperature outside it reads the network as certain, or as noise


@dataclass(frozen=True)
class Temperature:
    """The temperature fitted for a model, and what it was fitted on (`handwriting calibrate`)."""

    value: float  # for readings of several words
    one_word: float | None = None  # for a reading of one word or character; None: `value`
    fitted_on: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for value in (self.value, self.for_one_word):
            if isinstance(value, bool) or not (isinstance(value, (int, float)) and RANGE[0] <= value <= RANGE[1]):
                raise ValueError(f"temperature {value!r}: must be a number in [{RANGE[0]:g}, {RANGE[1]:g}]")

    @property
    def for_one_word(self) -> float:
        return self.value if self.one_word is None else self.one_word

    def to_json(self) -> str:
        return json.dumps({"temperature": self.value, "one_word": self.one_word, "fitted_on": self.fitted_on})

    @classmethod
    def from_json(cls, text: str) -> "Temperature":
        """ValueError when `text` is not a temperature written by `to_json`."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise ValueError("expected an object with a numeric temperature")
        fitted_on = data.get("fitted_on")
        return cls(data.get("temperature"), data.get("one_word"),  # type: ignore[arg-type]
                   fitted_on if isinstance(fitted_on, dict) else {})


def flattened(log_probs: np.ndarray, temperature: float) -> np.ndarray:
    """`log_probs` (frames, classes) divided by `temperature` and renormalised per frame."""
    if temperature == 1.0 or len(log_probs) == 0:
        return log_probs
    scaled = log_probs.astype(np.float64) / temperature
    finite = np.isfinite(scaled).any(axis=1, keepdims=True)
    peak = np.where(finite, scaled.max(axis=1, keepdims=True), 0.0)
    with np.errstate(divide="ignore"):
        norm = peak + np.log(np.exp(scaled - peak).sum(axis=1, keepdims=True))
    return (scaled - np.where(finite, norm, 0.0)).astype(log_probs.dtype)


def several_words(log_probs: np.ndarray, alphabet: Alphabet) -> bool:
    """Whether the best path of `log_probs` (frames, classes of `alphabet`) has a space between two characters."""
    space_class = alphabet.chars.find(" ") + 1  # the blank where the alphabet has no space: never written
    written = np.array(greedy(log_probs).ids, dtype=np.int64)
    characters = np.flatnonzero(written != space_class)
    return len(characters) > 0 and bool((written[characters[0]:characters[-1]] == space_class).any())
