"""CTC decoders over (T, C) log-probabilities; class 0 is the blank (see `handwriting.alphabet`).

- `greedy`: best class per frame, repeats merged, blanks removed.
- `beam_search`: CTC prefix beam search (Hannun et al. 2014, arXiv 1408.2873) with an
  optional character n-gram LM and lexicon (`handwriting.lm`), returning an n-best list.
Every decoded character carries the frames where it was emitted.

The beam search keeps each prefix as integers (a node of the trie of prefixes seen, its
parent, last class, LM context state, lexicon word state and the record of its emission
frames), so a step costs the same at frame 10 as at frame 10,000. Frames where no
character passes the pruning threshold (most frames: the blank is sure) change no
prefix, only path probabilities: runs of them are one loop over arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handwriting.alphabet import BLANK, Alphabet
from handwriting.lm import ContextStates, LanguageModel, WordStates

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
PID, PARENT, END, CONTEXT, WORD, RECORD = range(6)  # the integer columns of a beam


@dataclass(frozen=True)
class _Beams:
    """Prefixes in rank order. blank / label: log P(prefix, path ends in blank / in its last
    character), in the network's float type (float32); lm: weighted LM and lexicon score (float64);
    ints: per prefix its trie node, the parent's node, last class, LM state, word state, record."""

    blank: np.ndarray
    label: np.ndarray
    lm: np.ndarray
    ints: np.ndarray

    def __getitem__(self, rows: np.ndarray) -> _Beams:
        return _Beams(self.blank[rows], self.label[rows], self.lm[rows], self.ints[rows])


class _Search:
    """One beam search's weights, LM and word states, the trie of prefixes and the emission records."""

    def __init__(self, alphabet: Alphabet, lm: LanguageModel | None, lm_weight: float, insertion_bonus: float,
                 oov_penalty: float):
        self.num_classes, self.space = alphabet.num_classes, alphabet.chars.find(" ") + 1
        self.lm_weight, self.insertion_bonus, self.oov_penalty = lm_weight, insertion_bonus, oov_penalty
        self.states: tuple[ContextStates, WordStates] | None = lm.states() if lm is not None else None
        self.children: dict[int, int] = {}  # parent node x classes + class -> node; the empty prefix is node 0
        self.records: tuple[list[int], list[int], list[int]] = ([-1], [BLANK], [-1])  # parent, class, frame

    def start(self, context: str, dtype: np.dtype) -> _Beams:
        words = contexts = 0
        if self.states is not None:
            contexts, words = self.states[0].start(context), self.states[1].start(context)
        return _Beams(np.zeros(1, dtype), np.full(1, -np.inf, dtype), np.zeros(1),
                      np.array([[0, -1, BLANK, contexts, words, 0]], np.int64))

    def oov_costs(self, words: np.ndarray) -> np.ndarray:
        if self.states is None:
            return np.zeros(len(words))
        return np.where(self.states[1].oov[words], self.oov_penalty, 0.0)

    def extensions(self, beams: _Beams, candidates: np.ndarray) -> np.ndarray:
        """(beams, candidates): lm + lm_weight x log P_lm(c | text) + insertion_bonus [- OOV cost at a space]."""
        base = beams.lm[:, None]
        if self.states is None:
            return np.repeat(base, len(candidates), axis=1)
        rows = self.states[0].rows[beams.ints[:, CONTEXT, None], candidates]
        scores = base + (self.lm_weight * rows + self.insertion_bonus)
        space = (candidates == self.space).nonzero()[0]
        if len(space):
            scores[:, space[0]] -= self.oov_costs(beams.ints[:, WORD])
        return scores

    def record(self, parents: np.ndarray, classes: np.ndarray, t: int) -> np.ndarray:
        """New emission records: `classes` emitted at frame `t` after the records `parents`."""
        parent, cls, frame = self.records
        first = len(parent)
        parent += parents.tolist()
        cls += classes.tolist()
        frame += [t] * len(parents)
        return np.arange(first, len(parent))

    def extended(self, parents: np.ndarray, classes: np.ndarray, t: int) -> np.ndarray:
        """The integer columns of the prefixes `parents` (rows of beam columns) extended by `classes` at frame `t`."""
        out = np.empty_like(parents)
        nodes, children = [], self.children
        for key in (parents[:, PID] * self.num_classes + classes).tolist():
            node = children.get(key)
            if node is None:  # one node per distinct prefix
                node = children[key] = len(children) + 1
            nodes.append(node)
        out[:, PID], out[:, PARENT], out[:, END] = nodes, parents[:, PID], classes
        if self.states is not None:
            out[:, CONTEXT] = self.states[0].advance(parents[:, CONTEXT], classes)
            out[:, WORD] = self.states[1].advance(parents[:, WORD], classes)
        else:
            out[:, CONTEXT] = out[:, WORD] = 0
        out[:, RECORD] = self.record(parents[:, RECORD], classes, t)
        return out

    def hypothesis(self, record: int, score: float) -> Hypothesis:
        parent, cls, frame = self.records
        ids, frames = [], []
        while record > 0:
            ids.append(cls[record])
            frames.append(frame[record])
            record = parent[record]
        return Hypothesis(tuple(ids[::-1]), tuple(frames[::-1]), score)


def beam_search(log_probs: np.ndarray, alphabet: Alphabet, beam: int = DEFAULT_BEAM, lm: LanguageModel | None = None,
                lm_weight: float = LM_WEIGHT, insertion_bonus: float = INSERTION_BONUS, n_best: int = 5,
                oov_penalty: float = OOV_PENALTY, prune: float = -6.0, context: str = "") -> list[Hypothesis]:
    """CTC prefix beam search; with `lm`, each character adds lm_weight x log P_lm(c | context + prefix)
    plus `insertion_bonus`, and a finished word outside the lexicon costs `oov_penalty`.
    `context` is text already read before these frames (for the LM only)."""
    if len(log_probs) == 0:
        return [Hypothesis((), (), 0.0)]
    search = _Search(alphabet, lm, lm_weight, insertion_bonus, oov_penalty)
    beams = search.start(context, np.result_type(np.float32, log_probs.dtype))
    passing = log_probs[:, 1:] > prune
    done = 0
    for t in passing.any(axis=1).nonzero()[0].tolist():
        if t > done:
            beams = _blank_run(beams, log_probs[done:t])
        beams = _step(beams, t, log_probs[t], passing[t].nonzero()[0] + 1, beam, search)
        done = t + 1
    if done < len(log_probs):
        beams = _blank_run(beams, log_probs[done:])
    scores = (np.logaddexp(beams.blank, beams.label).astype(np.float64) + beams.lm
              - search.oov_costs(beams.ints[:, WORD])).tolist()
    ranked = sorted(range(len(scores)), key=lambda j: -scores[j])[:n_best]
    return [search.hypothesis(int(beams.ints[j, RECORD]), scores[j]) for j in ranked]


def _blank_run(beams: _Beams, frames: np.ndarray) -> _Beams:
    """Frames where only the blank passes pruning: every prefix continues as itself, none is
    added, and they end ranked as frame-by-frame steps would rank them (ties by the earlier ranks)."""
    count = len(beams.lm)
    label = np.cumsum(np.concatenate([beams.label[None], frames[:, beams.ints[:, END]]]), axis=0)
    totals = np.empty((len(frames) + 1, count), label.dtype)
    blank = beams.blank
    for t, from_blank in enumerate(frames[:, BLANK].tolist()):
        np.logaddexp(blank, label[t], out=totals[t])
        blank = totals[t] + from_blank
    np.logaddexp(blank, label[-1], out=totals[-1])
    ended = _Beams(blank, label[-1], beams.lm, beams.ints)
    if count == 1:
        return ended
    keys = -(totals[1:].astype(np.float64) + beams.lm)
    order = np.argsort(keys[-1], kind="stable")
    ordered = keys[-1][order]
    if (ordered[1:] == ordered[:-1]).any():  # ties: decided by the scores after earlier frames
        order = np.lexsort(np.concatenate([np.arange(count)[None], keys]))
    return ended[order]


def _step(beams: _Beams, t: int, frame: np.ndarray, candidates: np.ndarray, width: int, search: _Search) -> _Beams:
    """One frame of prefix beam search: the best `width` prefixes after `frame`.

    Every beam continues as itself and extended by each candidate character, all scored
    as arrays. An extension that equals another beam's prefix (a merge: that beam's parent
    node is the extended beam's node) is summed into that beam's entry, its LM score and
    frames those of whichever came first in rank order. Entries are ranked by score, ties
    by rank order (a beam's own entry, then its extensions in class order).
    """
    count, k = len(beams.lm), len(candidates)
    ints = beams.ints
    ends = ints[:, END]
    totals = np.logaddexp(beams.blank, beams.label)
    own_blank = totals + frame[BLANK]
    own_label = beams.label + frame[ends]  # the last character continues (-inf for the empty prefix)
    repeats = candidates == ends[:, None]  # an extension by the beam's own last character
    ext_label = np.where(repeats, beams.blank[:, None], totals[:, None]) + frame[candidates]
    ext_lm = search.extensions(beams, candidates)
    lm, rank = beams.lm, np.arange(0, count * (k + 1), k + 1)
    flat = np.arange(count * k)  # the new entries, as flat (beam, candidate) indices

    maybe = repeats.any(axis=1).nonzero()[0]  # beams whose last character is a candidate
    if len(maybe):
        same = ints[maybe, PARENT, None] == ints[:, PID]
        merged = same.any(axis=1)
        if merged.any():
            j, i = maybe[merged], same[merged].argmax(axis=1)
            c = repeats[j].argmax(axis=1)
            own_label[j] = np.logaddexp(own_label[j], ext_label[i, c])
            flat = np.delete(flat, i * k + c)
            first = i < j  # the extension made the entry, then beam j added its own path
            if first.any():
                j, i, c = j[first], i[first], c[first]
                lm, rank, ints = lm.copy(), rank.copy(), ints.copy()
                lm[j], rank[j] = ext_lm[i, c], i * (k + 1) + c + 1
                ints[j, RECORD] = search.record(beams.ints[i, RECORD], candidates[c], t)

    new_label = ext_label.ravel()[flat]
    new_lm = ext_lm.ravel()[flat]
    keys = np.concatenate([-(np.logaddexp(own_blank, own_label).astype(np.float64) + lm),
                           -(new_label.astype(np.float64) + new_lm)])
    kept = _best(keys, np.concatenate([rank, flat + 1 + flat // k]), width)
    fresh = kept >= count
    out = ints[np.minimum(kept, count - 1)]
    if fresh.any():
        i, column = np.divmod(flat[kept[fresh] - count], k)
        out[fresh] = search.extended(beams.ints[i], candidates[column], t)
    return _Beams(np.concatenate([own_blank, np.full(len(flat), -np.inf, own_blank.dtype)])[kept],
                  np.concatenate([own_label, new_label])[kept], np.concatenate([lm, new_lm])[kept], out)


def _best(keys: np.ndarray, order: np.ndarray, width: int) -> np.ndarray:
    """Positions of the `width` smallest keys, ties by `order` (as a stable sort of entries in `order` would)."""
    if len(keys) > width:
        threshold = np.partition(keys, width - 1)[width - 1]
        near = (keys <= threshold).nonzero()[0]
    else:
        near = np.arange(len(keys))
    return near[np.lexsort((order[near], keys[near]))][:width]
