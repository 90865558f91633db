"""What is written: running text, a lone word, a single character or a number.

A reading mode tells the decoder what the ink is, as ML Kit's and the browser API's
recognition types do, so that it does not read a lone character as the start of a
sentence:

- `text`: lines of running text (the default); the LM starts at the start of a text,
  or after `context`, the text before the ink (the ink starts a new word after it).
- `word`: one word: no spaces, never split into lines; the LM starts as at the start of a
  text, or after `context`, and the lexicon applies. A lone word is as likely capitalised
  (a name, a first word, a heading) as a word inside a sentence: on 600 held-out UNIPEN
  words (27 % of them capitalised) the 3 × 96 model, the default then, read 7.4 % CER so,
  9.3 % when the LM started inside running text and 8.3 % with the two starts mixed.
- `character`: exactly one character, scored over the whole ink by the CTC probability
  of that single-character label (Graves et al. 2006: the sum over all its paths), with
  no LM; a writing guide (the height of the ruled line) lets size decide between
  characters that differ only in size (`o`/`O`, `x`/`X`). A model calibrated on lone
  characters (`handwriting.recognition.character_prior`) adds what it learned from their
  size, shape and strokes; one that is not falls back on a fixed rule for size.
- `digits`: numbers: digits, space and number signs only, no LM or lexicon.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from handwriting.alphabet import BLANK, Alphabet
from handwriting.recognition.decode import Hypothesis
from handwriting.errors import HandwritingError
from handwriting.ink import Ink

if TYPE_CHECKING:
    from handwriting.recognition.character_prior import CharacterPriors

__all__ = ["MODES", "Reading", "WritingGuide", "check_mode", "allowed_classes", "restrict", "lm_context", "read_character",
           "character_scores", "ranked_characters"]

MODES = ("text", "word", "character", "digits")
NUMBER_SIGNS = " +-.,:/()%$#"

# Characters written with the same shape at two sizes: the small ones and the large ones.
SMALL_SHAPES = "cosuvwxz"
LARGE_SHAPES = "COSUVWXZ0"
SMALL_TO_LINE = 0.5  # a character this part of the guide's line height is as likely small as large
SIZE_SLOPE = 0.08  # how sharply size decides around that ratio (in line heights)


@dataclass(frozen=True)
class WritingGuide:
    """The writing area: `line_height` is the height of one ruled line (or of the whole
    area when it holds one line), in the ink's units."""

    line_height: float

    def __post_init__(self) -> None:
        if not np.isfinite(self.line_height) or self.line_height <= 0:
            raise HandwritingError(f"writing guide: line height must be a positive number, not {self.line_height}")


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise HandwritingError(f"unknown reading mode {mode!r}; known: {', '.join(MODES)}")
    return mode


def allowed_classes(mode: str, alphabet: Alphabet) -> np.ndarray | None:
    """Boolean mask over the classes the mode may emit (the blank always), or None for all."""
    if mode == "text":
        return None
    if mode == "digits":
        chars = set("0123456789" + NUMBER_SIGNS)
    else:  # word, character: anything but a space
        chars = set(alphabet.chars) - {" "}
    mask = np.array([False] + [c in chars for c in alphabet.chars])
    mask[BLANK] = True
    return mask


def lm_context(context: str) -> str:
    """The text the LM is given before the ink: the ink starts a new word after `context`."""
    return context + " " if context and not context[-1].isspace() else context


def restrict(log_probs: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """`log_probs` with the classes outside `mask` made impossible."""
    if mask is None:
        return log_probs
    return np.where(mask[None, :], log_probs, -np.inf).astype(log_probs.dtype)


def single_label_log_probs(log_probs: np.ndarray) -> np.ndarray:
    """log P(label = c | ink) for every class c: the CTC forward pass over the three states
    (blanks before, c repeated, blanks after) of every one-character label at once."""
    blank, chars = log_probs[:, BLANK].astype(np.float64), log_probs.astype(np.float64)
    before = blank[0]
    inside = chars[0].copy()
    after = np.full(chars.shape[1], -np.inf)
    for t in range(1, len(log_probs)):
        after = np.logaddexp(after, inside) + blank[t]
        inside = np.logaddexp(inside, before) + chars[t]
        before = before + blank[t]
    total = np.logaddexp(inside, after)
    total[BLANK] = -np.inf
    return total


def size_log_prior(alphabet: Alphabet, ink_height: float, guide: WritingGuide) -> np.ndarray:
    """Log prior over classes from the character's size against the guide's line height:
    of two characters written alike at two sizes, the small one is favoured when the ink
    is small, the large one when it is large; other characters are left alone."""
    prior = np.zeros(alphabet.num_classes)
    ratio = ink_height / guide.line_height
    small = -np.logaddexp(0.0, (ratio - SMALL_TO_LINE) / SIZE_SLOPE)  # log sigmoid
    large = -np.logaddexp(0.0, (SMALL_TO_LINE - ratio) / SIZE_SLOPE)
    prior[[alphabet.encode(c)[0] for c in SMALL_SHAPES if alphabet.covers(c)]] = small
    prior[[alphabet.encode(c)[0] for c in LARGE_SHAPES if alphabet.covers(c)]] = large
    return prior


def read_character(log_probs: np.ndarray, alphabet: Alphabet, n_best: int, ink: Ink,
                   guide: WritingGuide | None = None, prior: CharacterPriors | None = None) -> list[Hypothesis]:
    """The `n_best` single characters the ink most likely is, each emitted at the frame
    where it is most probable; `prior`: the model's terms learned from lone characters."""
    if len(log_probs) == 0:
        return [Hypothesis((), (), 0.0)]
    return ranked_characters(character_scores(log_probs, alphabet, ink, guide, prior), log_probs, n_best)


def character_scores(log_probs: np.ndarray, alphabet: Alphabet, ink: Ink, guide: WritingGuide | None = None,
                     prior: CharacterPriors | None = None) -> np.ndarray:
    """How likely the ink is each single character (log scores by class; -inf: ruled out)."""
    scores = single_label_log_probs(restrict(log_probs, allowed_classes("character", alphabet)))
    if prior is not None:
        return prior.scores(scores, ink, guide)
    if guide is not None:
        _, top, _, bottom = ink.bounds()
        return scores + size_log_prior(alphabet, bottom - top, guide)
    return scores


def ranked_characters(scores: np.ndarray, log_probs: np.ndarray, n_best: int) -> list[Hypothesis]:
    """The `n_best` classes by `scores`, each emitted at the frame of `log_probs` where it is most probable."""
    ranked = [int(c) for c in np.argsort(-scores, kind="stable")[:n_best] if np.isfinite(scores[c])]
    return [Hypothesis((c,), (int(log_probs[:, c].argmax()),), float(scores[c])) for c in ranked]


@dataclass(frozen=True)
class Reading:
    """How to read an ink: its mode, the text written before it, and the writing guide."""

    mode: str = "text"
    context: str = ""
    guide: WritingGuide | None = None

    def __post_init__(self) -> None:
        check_mode(self.mode)

    @property
    def one_line(self) -> bool:
        """Whether the whole ink is one item (a word or a character), never split into lines."""
        return self.mode in ("word", "character")
