"""CTC decoders over (T, C) log-probabilities; class 0 is the blank (see `handwriting.alphabet`).

- `greedy`: best class per frame, repeats merged, blanks removed.
- `beam_search`: CTC prefix beam search (Hannun et al. 2014, arXiv 1408.2873) with an
  optional character n-gram LM and lexicon (`handwriting.lm`), returning an n-best list.
Every decoded character carries the frames where it was emitted.
"""

from __future__ import annotations

import math
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
        return _logaddexp(self.blank, self.label)


_LOG2 = math.log(2.0)


def _logaddexp(x: float, y: float) -> float:
    """log(exp(x) + exp(y)) on Python floats, computed step by step as numpy's `logaddexp` does (same bits)."""
    if x == y:  # also -inf and -inf
        return x + _LOG2
    tmp = x - y
    if tmp > 0:
        return x + math.log1p(math.exp(-tmp))
    if tmp <= 0:
        return y + math.log1p(math.exp(tmp))
    return tmp  # NaN


@dataclass(frozen=True)
class _Scoring:
    """The LM part of the score of a prefix extended by one character."""

    alphabet: Alphabet
    lm: LanguageModel | None
    lm_weight: float
    insertion_bonus: float
    oov_penalty: float

    def extensions(self, beams: list[_Beam], candidates: list[int]) -> np.ndarray:
        """(beams, candidates): beam.lm + lm_weight x log P_lm(c | text) + insertion_bonus [- OOV cost at a space]."""
        base = np.array([b.lm for b in beams], dtype=np.float64)[:, None]
        if self.lm is None:
            return np.repeat(base, len(candidates), axis=1)
        rows = np.stack([self.lm.log_probs(b.text) for b in beams])[:, candidates]
        scores = base + (self.lm_weight * rows + self.insertion_bonus)
        space = self.alphabet.chars.find(" ") + 1
        if space in candidates:
            scores[:, candidates.index(space)] -= [_oov_cost(self.lm, b.text, self.oov_penalty) for b in beams]
        return scores


def beam_search(log_probs: np.ndarray, alphabet: Alphabet, beam: int = 16, lm: LanguageModel | None = None,
                lm_weight: float = 0.5, insertion_bonus: float = 1.0, n_best: int = 5,
                oov_penalty: float = 2.0, prune: float = -12.0) -> list[Hypothesis]:
    """CTC prefix beam search; with `lm`, each character adds lm_weight x log P_lm(c | prefix)
    plus `insertion_bonus`, and a finished word outside the lexicon costs `oov_penalty`."""
    if len(log_probs) == 0:
        return [Hypothesis((), (), 0.0)]
    scoring = _Scoring(alphabet, lm, lm_weight, insertion_bonus, oov_penalty)
    beams: dict[tuple[int, ...], _Beam] = {(): _Beam(0.0, -math.inf, 0.0, "", ())}
    for t, frame in enumerate(log_probs):
        candidates = [c for c in np.flatnonzero(frame > prune).tolist() if c != BLANK]
        beams = _step(beams, t, frame, candidates, beam, scoring)
    finals = []
    for prefix, b in beams.items():
        score = b.acoustic + b.lm - (_oov_cost(lm, b.text, oov_penalty) if lm is not None else 0.0)
        finals.append(Hypothesis(prefix, b.frames, float(score)))
    finals.sort(key=lambda h: -h.score)
    return finals[:n_best]


def _step(beams: dict[tuple[int, ...], _Beam], t: int, frame: np.ndarray, candidates: list[int], width: int,
          scoring: _Scoring) -> dict[tuple[int, ...], _Beam]:
    """One frame of prefix beam search: the best `width` prefixes after `frame`.

    Every beam continues as itself (its `same` entry) and extended by each candidate.
    Most extensions are new prefixes, scored here as arrays and turned into beams only
    if kept; an extension that equals another beam's prefix (a "merge") is summed with
    it one by one. Entries are ranked by score, ties by the order in which a dict
    filled beam by beam, each beam's own entry before its extensions, would hold them.
    """
    prefixes, olds = list(beams), list(beams.values())
    values = frame.tolist()
    columns = {c: k for k, c in enumerate(candidates)}
    stride = len(candidates) + 1  # rank of an entry first made by beam i (k = -1: itself) = i * stride + k + 1
    index = {prefix: i for i, prefix in enumerate(prefixes)}
    merges: dict[int, list[tuple[int, tuple[int, ...]]]] = {}
    for prefix in prefixes:
        if prefix and prefix[:-1] in index and prefix[-1] in columns:
            merges.setdefault(index[prefix[:-1]], []).append((columns[prefix[-1]], prefix))
    totals = [b.acoustic for b in olds]
    lm_scores = scoring.extensions(olds, candidates)
    ends = np.array([p[-1] if p else -1 for p in prefixes])[:, None]
    chosen = np.asarray(candidates, dtype=np.int64)
    from_prefix = np.where(chosen == ends, np.array([b.blank for b in olds])[:, None], np.array(totals)[:, None])
    labels = from_prefix + frame[chosen]  # log P(path ends in c) of each extension (float64)

    kept: dict[tuple[int, ...], _Beam] = {}
    rank: dict[tuple[int, ...], int] = {}
    fresh = np.ones(labels.shape, bool)  # extensions that are new prefixes
    for i, (prefix, b) in enumerate(zip(prefixes, olds)):
        same = kept.get(prefix)
        if same is None:
            same = kept[prefix] = _Beam(-math.inf, -math.inf, b.lm, b.text, b.frames)
            rank[prefix] = i * stride
        same.blank = _logaddexp(same.blank, totals[i] + values[BLANK])
        if prefix:
            same.label = _logaddexp(same.label, b.label + values[prefix[-1]])
        for k, extended in sorted(merges.get(i, ())):
            fresh[i, k] = False
            new = kept.get(extended)
            if new is None:
                char = scoring.alphabet.chars[extended[-1] - 1]
                new = kept[extended] = _Beam(-math.inf, -math.inf, float(lm_scores[i, k]), b.text + char, b.frames + (t,))
                rank[extended] = i * stride + k + 1
            new.label = _logaddexp(new.label, float(labels[i, k]))

    merged = list(kept)
    acoustic = labels + 0.0  # logaddexp(-inf, x) = x + 0.0, twice: the label, then the total
    keys = np.concatenate([[-(kept[p].acoustic + kept[p].lm) for p in merged], -(acoustic + lm_scores)[fresh]])
    order = np.concatenate([[rank[p] for p in merged], (np.arange(labels.size) + 1 + np.arange(labels.size) // len(candidates)
                                                          if candidates else np.zeros(0, int))[fresh.ravel()]])
    rows, cols = np.nonzero(fresh)
    following: dict[tuple[int, ...], _Beam] = {}
    for position in _best(keys, order, width):
        if position < len(merged):
            following[merged[position]] = kept[merged[position]]
            continue
        i, k = int(rows[position - len(merged)]), int(cols[position - len(merged)])
        c, b = candidates[k], olds[i]
        following[prefixes[i] + (c,)] = _Beam(-math.inf, float(acoustic[i, k]), float(lm_scores[i, k]),
                                              b.text + scoring.alphabet.chars[c - 1], b.frames + (t,))
    return following


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
