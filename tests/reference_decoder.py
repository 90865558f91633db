"""Reference CTC prefix beam search: the pure-Python decoder that `handwriting.recognition.decode.beam_search`
replaced, kept as an oracle for its tests and for `bench.decoder` (old vs new side by side).

Same algorithm and weights (Hannun et al. 2014, arXiv 1408.2873): every step scores all
beams x candidate characters as arrays, but prefixes and texts are tuples and strings, and
the LM's rows are computed from its counts by string context (`log_probs` below, the
model's original estimate, cached like the model's own cache was) and the lexicon asked
with `is_word(last word)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from handwriting.alphabet import BLANK, Alphabet
from handwriting.recognition.decode import DEFAULT_BEAM, INSERTION_BONUS, LM_WEIGHT, OOV_PENALTY, Hypothesis
from handwriting.recognition.lm import BOUNDARY, LanguageModel

__all__ = ["beam_search", "log_probs"]

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
        rows = np.array([log_probs(self.lm, text) for text in beams.texts])[:, candidates]
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


def log_probs(lm: LanguageModel, text: str) -> np.ndarray:
    """Log-probabilities of every class following `text`, from the model's counts."""
    return _context_log_probs(lm, (BOUNDARY + text)[-(lm.order - 1):] if lm.order > 1 else "")


@lru_cache(maxsize=200_000)
def _context_log_probs(lm: LanguageModel, context: str) -> np.ndarray:
    probs = np.full(lm.alphabet.num_classes - 1, 1.0 / (lm.alphabet.num_classes - 1))
    for k in range(len(context) + 1):  # from the empty context up to the full one
        h = context[len(context) - k:]
        table = lm.counts.get(h)
        if not table:
            continue
        total = sum(table.values())
        types = len(table)
        seen = np.zeros_like(probs)
        for char, count in table.items():
            index = lm.alphabet.chars.find(char)
            if index >= 0:
                seen[index] = count
        if lm.smoothing == "kneser-ney":
            taken = np.minimum(seen, lm.discount)
            probs = (seen - taken + taken.sum() * probs) / total
        else:
            probs = (seen + types * probs) / (total + types)
    out = np.zeros(lm.alphabet.num_classes)
    out[1:] = np.log(probs)
    return out
