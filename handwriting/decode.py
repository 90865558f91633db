"""CTC decoders over (T, C) log-probabilities; class 0 is the blank (see `handwriting.alphabet`).

- `greedy`: best class per frame, repeats merged, blanks removed.
- `beam_search`: CTC prefix beam search (Hannun et al. 2014, arXiv 1408.2873) with an
  optional character n-gram LM and lexicon (`handwriting.lm`), returning an n-best list.
Every decoded character carries the frames where it was emitted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handwriting.alphabet import BLANK, Alphabet
from handwriting.lm import LanguageModel

__all__ = ["Hypothesis", "greedy", "beam_search"]


@dataclass(frozen=True)
class Hypothesis:
    """A decoded text: class ids, the frame each character was emitted at, and a log score."""

    ids: tuple[int, ...]
    frames: tuple[int, ...]
    score: float


def greedy(log_probs: np.ndarray) -> Hypothesis:
    """Best path decoding; a character's frame is the first frame of its run."""
    if len(log_probs) == 0:
        return Hypothesis((), (), 0.0)
    best = log_probs.argmax(axis=1)
    starts = np.flatnonzero(np.concatenate([[True], best[1:] != best[:-1]]))
    keep = starts[best[starts] != BLANK]
    score = float(log_probs[np.arange(len(best)), best].sum())
    return Hypothesis(tuple(int(c) for c in best[keep]), tuple(int(f) for f in keep), score)


@dataclass
class _Beam:
    blank: float  # log P(prefix, path ends in blank)
    label: float  # log P(prefix, path ends in its last character)
    lm: float  # weighted LM and lexicon score of the prefix
    text: str
    frames: tuple[int, ...]

    @property
    def acoustic(self) -> float:
        return float(np.logaddexp(self.blank, self.label))


def beam_search(log_probs: np.ndarray, alphabet: Alphabet, beam: int = 16, lm: LanguageModel | None = None,
                lm_weight: float = 0.5, insertion_bonus: float = 1.0, n_best: int = 5,
                oov_penalty: float = 2.0, prune: float = -12.0) -> list[Hypothesis]:
    """CTC prefix beam search; with `lm`, each character adds lm_weight x log P_lm(c | prefix)
    plus `insertion_bonus`, and a finished word outside the lexicon costs `oov_penalty`."""
    if len(log_probs) == 0:
        return [Hypothesis((), (), 0.0)]
    neg_inf = -np.inf
    beams: dict[tuple[int, ...], _Beam] = {(): _Beam(0.0, neg_inf, 0.0, "", ())}
    space = alphabet.chars.find(" ") + 1
    for t, frame in enumerate(log_probs):
        candidates = [int(c) for c in np.flatnonzero(frame > prune) if c != BLANK]
        following: dict[tuple[int, ...], _Beam] = {}

        def entry(prefix: tuple[int, ...], lm_score: float, text: str, frames: tuple[int, ...]) -> _Beam:
            found = following.get(prefix)
            if found is None:
                found = following[prefix] = _Beam(neg_inf, neg_inf, lm_score, text, frames)
            return found

        for prefix, b in beams.items():
            total = b.acoustic
            same = entry(prefix, b.lm, b.text, b.frames)
            same.blank = np.logaddexp(same.blank, total + frame[BLANK])
            if prefix:
                same.label = np.logaddexp(same.label, b.label + frame[prefix[-1]])
            lm_row = lm.log_probs(b.text) if lm is not None else None
            for c in candidates:
                extended = prefix + (c,)
                char = alphabet.chars[c - 1]
                score = b.lm
                if lm_row is not None:
                    score += lm_weight * lm_row[c] + insertion_bonus
                    if c == space:
                        score -= _oov_cost(lm, b.text, oov_penalty)
                new = entry(extended, score, b.text + char, b.frames + (t,))
                from_prefix = b.blank if prefix and c == prefix[-1] else total
                new.label = np.logaddexp(new.label, from_prefix + frame[c])
        beams = dict(sorted(following.items(), key=lambda kv: -(kv[1].acoustic + kv[1].lm))[:beam])
    finals = []
    for prefix, b in beams.items():
        score = b.acoustic + b.lm - (_oov_cost(lm, b.text, oov_penalty) if lm is not None else 0.0)
        finals.append(Hypothesis(prefix, b.frames, float(score)))
    finals.sort(key=lambda h: -h.score)
    return finals[:n_best]


def _oov_cost(lm: LanguageModel, text: str, penalty: float) -> float:
    """`penalty` if the last word of `text` is alphabetic and not in the lexicon."""
    if not lm.lexicon:
        return 0.0
    word = text.rsplit(" ", 1)[-1]
    core = word.strip(".,;:!?\"'()-")
    return penalty if core.isalpha() and not lm.is_word(core) else 0.0
