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

__all__ = ["Hypothesis", "greedy", "beam_search", "DEFAULT_BEAM", "LIVE_BEAM", "LM_WEIGHT", "INSERTION_BONUS", "OOV_PENALTY"]



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


# Chosen on IAM-OnDB validation lines (see models/README.md), characters below log-prob -6
# pruned: beam 32 for batch and final readings (WER 15.7 % vs 17.3 % at beam 8, 1.3x the
# decoding time); beam 6 for the updates while the pen moves (the 30 ms live budget; final model
# and LM on every 8th line: WER 8.6 % at beam 6, 8.3 % at 8, 9.6 % at 4).
DEFAULT_BEAM = 32
LIVE_BEAM = 6
# LM weight, bonus per character, cost of a finished word outside the lexicon: chosen on every
# 8th IAM-OnDB validation line with the shipped model and LM (see models/README.md).
LM_WEIGHT = 0.55
INSERTION_BONUS = 0.5
OOV_PENALTY = 4.0
NEG_INF32 = np.float32(-np.inf)
ZERO32 = np.float32(0.0)


def _from_empty(x: np.ndarray) -> np.ndarray:
    """np.logaddexp(-inf, x), bit for bit: x + log1p(exp(-inf)) = x + 0 (float32), a tenth of the time."""
    return x + ZERO32


@dataclass(frozen=True)
class _Beams:
    """Prefixes in rank order, with their path probabilities and LM scores as arrays.

    Path probabilities are float32 like the network's output, LM scores float64;
    blank: log P(prefix, path ends in blank), label: log P(prefix, path ends in its last character).
    """

    prefixes: list[tuple[int, ...]]
    texts: list[str]
    frames: list[tuple[int, ...]]  # emission frame of each character
    blank: np.ndarray
    label: np.ndarray
    lm: np.ndarray  # weighted LM and lexicon score

    @property
    def acoustic(self) -> np.ndarray:
        return np.logaddexp(self.blank, self.label)


class _Scoring:
    """The LM part of the score of a prefix extended by one character (OOV costs cached per text)."""

    def __init__(self, alphabet: Alphabet, lm: LanguageModel | None, lm_weight: float, insertion_bonus: float,
                 oov_penalty: float):
        self.alphabet, self.lm, self.lm_weight, self.insertion_bonus = alphabet, lm, lm_weight, insertion_bonus
        self.oov_penalty, self.space = oov_penalty, alphabet.chars.find(" ") + 1
        self._oov: dict[str, float] = {}

    def oov(self, text: str) -> float:
        if text not in self._oov:
            self._oov[text] = _oov_cost(self.lm, text, self.oov_penalty) if self.lm is not None else 0.0
        return self._oov[text]

    def extensions(self, beams: _Beams, candidates: list[int]) -> np.ndarray:
        """(beams, candidates): lm + lm_weight x log P_lm(c | text) + insertion_bonus [- OOV cost at a space]."""
        base = beams.lm[:, None]
        if self.lm is None:
            return np.repeat(base, len(candidates), axis=1)
        rows = np.array([self.lm.log_probs(text) for text in beams.texts])[:, candidates]
        scores = base + (self.lm_weight * rows + self.insertion_bonus)
        if self.space in candidates:
            scores[:, candidates.index(self.space)] -= [self.oov(text) for text in beams.texts]
        return scores


def beam_search(log_probs: np.ndarray, alphabet: Alphabet, beam: int = DEFAULT_BEAM, lm: LanguageModel | None = None,
                lm_weight: float = LM_WEIGHT, insertion_bonus: float = INSERTION_BONUS, n_best: int = 5,
                oov_penalty: float = OOV_PENALTY, prune: float = -6.0, context: str = "") -> list[Hypothesis]:
    """CTC prefix beam search; with `lm`, each character adds lm_weight x log P_lm(c | context + prefix)
    plus `insertion_bonus`, and a finished word outside the lexicon costs `oov_penalty`.
    `context` is text already read before these frames (for the LM only)."""
    if len(log_probs) == 0:
        return [Hypothesis((), (), 0.0)]
    scoring = _Scoring(alphabet, lm, lm_weight, insertion_bonus, oov_penalty)
    beams = _Beams([()], [context], [()], np.zeros(1, np.float32), np.full(1, NEG_INF32), np.zeros(1))
    for t, frame in enumerate(log_probs):
        candidates = [c for c in np.flatnonzero(frame > prune).tolist() if c != BLANK]
        beams = _step(beams, t, frame, candidates, beam, scoring)
    acoustic = beams.acoustic
    finals = [Hypothesis(prefix, frames, float(float(acoustic[j]) + beams.lm[j] - scoring.oov(text)))
              for j, (prefix, text, frames) in enumerate(zip(beams.prefixes, beams.texts, beams.frames))]
    finals.sort(key=lambda h: -h.score)
    return finals[:n_best]


def _step(beams: _Beams, t: int, frame: np.ndarray, candidates: list[int], width: int, scoring: _Scoring) -> _Beams:
    """One frame of prefix beam search: the best `width` prefixes after `frame`.

    Every beam continues as itself and extended by each candidate character, all scored
    as arrays. An extension that equals another beam's prefix (a merge) is summed into
    that beam's entry, in the order a dict filled beam by beam would see the two (its
    LM score and frames are those of whichever came first). Entries are ranked by
    score, ties by that same order. A Python float meeting a float32 is float32, so
    every path probability is a float32 sum, as it always was.
    """
    count, stride = len(beams.prefixes), len(candidates) + 1  # entry first made by beam i, extension k: i*stride+k+1
    ends = np.array([p[-1] if p else BLANK for p in beams.prefixes])
    totals = beams.acoustic
    own_blank = _from_empty(totals + frame[BLANK])
    own_path = beams.label + frame[ends]  # the last character continues
    own_label = np.where(ends != BLANK, _from_empty(own_path), NEG_INF32)

    chosen = np.asarray(candidates, dtype=np.int64)
    from_prefix = np.where(chosen == ends[:, None], beams.blank[:, None], totals[:, None])
    ext_label = from_prefix + frame[chosen]  # (beams, candidates)
    ext_lm = scoring.extensions(beams, candidates)

    lm, rank, frames = beams.lm.copy(), np.arange(count) * stride, list(beams.frames)
    fresh = np.ones(ext_label.shape, bool)
    index, columns = {p: i for i, p in enumerate(beams.prefixes)}, {c: k for k, c in enumerate(candidates)}
    for j, prefix in enumerate(beams.prefixes):
        i, k = (index.get(prefix[:-1]), columns.get(prefix[-1])) if prefix else (None, None)
        if i is None or k is None:
            continue
        fresh[i, k] = False
        if i < j:  # the extension made the entry, then beam j added its own path
            own_label[j] = np.logaddexp(_from_empty(ext_label[i, k]), own_path[j])
            lm[j], rank[j], frames[j] = ext_lm[i, k], i * stride + k + 1, beams.frames[i] + (t,)
        else:
            own_label[j] = np.logaddexp(own_label[j], ext_label[i, k])

    new_label = _from_empty(ext_label)  # a new entry's label; its acoustic score, logaddexp(-inf, label), is the same
    flat = np.flatnonzero(fresh)  # the new entries, as flat (beam, candidate) indices
    keys = np.concatenate([-(np.logaddexp(own_blank, own_label).astype(np.float64) + lm),
                           -(new_label.astype(np.float64) + ext_lm).ravel()[flat]])
    kept = _best(keys, np.concatenate([rank, flat + 1 + flat // max(len(candidates), 1)]), width)

    def entry(j: int) -> tuple[tuple[int, ...], str, tuple[int, ...]]:
        if j < count:
            return beams.prefixes[j], beams.texts[j], frames[j]
        i, k = divmod(int(flat[j - count]), len(candidates))
        c = candidates[k]
        return beams.prefixes[i] + (c,), beams.texts[i] + scoring.alphabet.chars[c - 1], beams.frames[i] + (t,)

    prefixes, texts, emitted = zip(*map(entry, kept))
    blank = np.concatenate([own_blank, np.full(len(flat), NEG_INF32)])[kept]
    label = np.concatenate([own_label, new_label.ravel()[flat]])[kept]
    return _Beams(list(prefixes), list(texts), list(emitted), blank, label, np.concatenate([lm, ext_lm.ravel()[flat]])[kept])


def _best(keys: np.ndarray, order: np.ndarray, width: int) -> list[int]:
    """Positions of the `width` smallest keys, ties by `order` (as a stable sort of entries in `order` would)."""
    if len(keys) > width:
        threshold = np.partition(keys, width - 1)[width - 1]
        near = np.flatnonzero(keys <= threshold)
    else:
        near = np.arange(len(keys))
    return near[np.lexsort((order[near], keys[near]))][:width].tolist()


def _oov_cost(lm: LanguageModel, text: str, penalty: float) -> float:
    """`penalty` if the last word of `text` is alphabetic and not in the lexicon."""
    if not lm.lexicon:
        return 0.0
    word = text.rsplit(" ", 1)[-1]
    core = word.strip(".,;:!?\"'()-")
    return penalty if core.isalpha() and not lm.is_word(core) else 0.0
