"""CTC decoders over (T, C) log-probabilities; class 0 is the blank (see `handwriting.alphabet`).

- `greedy`: best class per frame, repeats merged, blanks removed.
- `beam_search`: CTC prefix beam search (Hannun et al. 2014, arXiv 1408.2873) with an
  optional character n-gram LM and lexicon (`handwriting.recognition.lm`), returning an n-best list.
Every decoded character carries the frames where it was emitted.

The beam search keeps each prefix as integers (a node of the trie of prefixes seen, its
parent, last class, LM context state, lexicon word state and the record of its emission
frames), so a step costs the same at frame 10 as at frame 10,000. Its frame loop is
compiled (`handwriting.recognition.decode_kernel`, numba, imported with the first beam search) and
numbers new LM states in the LM's tables itself; this module holds the search's arrays and
enlarges them, and the LM's tables, when the loop asks for room.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

import numpy as np

from handwriting.alphabet import BLANK, Alphabet
from handwriting.recognition.lm import LanguageModel

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
# LM weight, bonus per character, cost of a finished word outside the lexicon: chosen on
# IAM-OnDB validation lines with the shipped model and LM (weight and bonus on every other
# line, checked on the rest and on UNIPEN; see models/README.md).
LM_WEIGHT = 0.45
INSERTION_BONUS = 1.0
OOV_PENALTY = 4.0


def _kernel() -> ModuleType:
    """`handwriting.recognition.decode_kernel`, imported on first use: numba takes a third of a second to import."""
    from handwriting.recognition import decode_kernel

    return decode_kernel


class _Search:
    """One beam search's arrays for `kernel.search`: the beams (capacity `width`), the trie's
    hash table, the emission records, and the LM's tables (a stand-in with every state known
    and no weights without an LM)."""

    def __init__(self, alphabet: Alphabet, lm: LanguageModel | None, width: int, dtype: np.dtype, context: str,
                 weights: tuple[float, float, float]):
        space = alphabet.chars.find(" ") + 1
        self.states = lm.states() if lm is not None else None
        self.weights = np.array([*(weights if lm is not None else (0.0, 0.0, 0.0)), space], np.float64)
        self.blank, self.label = np.zeros(width, dtype), np.full(width, -np.inf, dtype)
        self.lm, self.ints = np.zeros(width), np.zeros((width, 6), np.int64)
        contexts = words = 0
        if self.states is not None:
            contexts, words = self.states[0].start(context), self.states[1].start(context)
        self.ints[0] = [0, -1, BLANK, contexts, words, 0]
        self.table = np.full((4096, 2), -1, np.int64)  # (parent node x classes + class, node); the empty prefix is node 0
        self.records = np.empty((4096, 3), np.int64)  # (parent record, class, frame); record 0: the empty prefix
        self.records[0] = [-1, BLANK, -1]
        self.kernel = _kernel()
        self.meta = np.zeros(5, np.int64)
        self.meta[self.kernel.COUNT] = self.meta[self.kernel.RECORDS] = 1
        self.consts = np.array([np.log(2), -np.inf], dtype)
        self._none = _known_states(alphabet.num_classes) if self.states is None else None

    def tables(self) -> tuple[tuple, tuple]:
        """The context and word states' arrays as the kernel takes them (as they are now)."""
        if self.states is None:
            assert self._none is not None
            return self._none
        return self.states[0].kernel_args(), self.states[1].kernel_args()

    def run(self, log_probs: np.ndarray, prune: float) -> None:
        """All frames, enlarging the tables as the kernel asks."""
        kernel = self.kernel
        while (status := kernel.search(log_probs, prune, *self.tables(), self.weights, self.blank, self.label,
                                       self.lm, self.ints, self.table, self.records, self.meta,
                                       self.consts)) != kernel.DONE:
            if status == kernel.GROW:
                width = len(self.lm)
                if self.meta[kernel.RECORDS] + 2 * width > len(self.records):
                    self.records = np.concatenate([self.records, np.empty_like(self.records)])
                while 2 * (self.meta[kernel.NODES] + width) > len(self.table):
                    self.table = kernel.grown(self.table)
            else:
                assert self.states is not None
                for states in self.states:
                    states.room(int(self.meta[kernel.NEEDED]))

    def hypotheses(self, n_best: int, oov_penalty: float) -> list[Hypothesis]:
        """The best `n_best` prefixes, each finished word outside the lexicon costing `oov_penalty`."""
        count, word, record = int(self.meta[self.kernel.COUNT]), self.kernel.WORD, self.kernel.RECORD
        ints = self.ints[:count]
        oov = self.states[1].oov[ints[:, word]] if self.states is not None else np.zeros(count, bool)
        scores = (np.logaddexp(self.blank[:count], self.label[:count]).astype(np.float64) + self.lm[:count]
                  - np.where(oov, oov_penalty, 0.0)).tolist()
        ranked = sorted(range(count), key=lambda j: -scores[j])[:n_best]
        return [self.hypothesis(int(ints[j, record]), scores[j]) for j in ranked]

    def hypothesis(self, record: int, score: float) -> Hypothesis:
        classes, frames = self.kernel.path(self.records, record)
        return Hypothesis(tuple(classes.tolist()), tuple(frames.tolist()), score)


def beam_search(log_probs: np.ndarray, alphabet: Alphabet, beam: int = DEFAULT_BEAM, lm: LanguageModel | None = None,
                lm_weight: float = LM_WEIGHT, insertion_bonus: float = INSERTION_BONUS, n_best: int = 5,
                oov_penalty: float = OOV_PENALTY, prune: float = -6.0, context: str = "") -> list[Hypothesis]:
    """CTC prefix beam search; with `lm`, each character adds lm_weight x log P_lm(c | context + prefix)
    plus `insertion_bonus`, and a finished word outside the lexicon costs `oov_penalty`.
    `context` is text already read before these frames (for the LM only)."""
    if len(log_probs) == 0:
        return [Hypothesis((), (), 0.0)]
    if log_probs.ndim != 2 or log_probs.shape[1] != alphabet.num_classes:
        raise ValueError(f"log-probs of shape {log_probs.shape}: expected (frames, {alphabet.num_classes} classes)")
    if lm is not None and lm.alphabet.num_classes != alphabet.num_classes:
        raise ValueError(f"the language model has {lm.alphabet.num_classes} classes, the alphabet {alphabet.num_classes}")
    if beam < 1:
        raise ValueError(f"beam width {beam}: must be at least 1")
    dtype = np.result_type(np.float32, log_probs.dtype)
    with lm.lock if lm is not None else nullcontext():  # the search numbers states in the LM's tables
        search = _Search(alphabet, lm, beam, dtype, context, (lm_weight, insertion_bonus, oov_penalty))
        search.run(np.ascontiguousarray(log_probs, dtype), prune)
        return search.hypotheses(n_best, oov_penalty)


@lru_cache(maxsize=4)
def _known_states(num_classes: int) -> tuple[tuple, tuple]:
    """Tables of one context and one word state, every class leading back to them, in the
    types of the LM's (one compiled search serves both): the search without an LM."""
    ints, no_ints = np.zeros(1, np.int64), np.zeros(0, np.int64)
    contexts = (np.zeros((1, num_classes)), np.zeros((1, num_classes), np.int32), np.full((2, 2), -1, np.int64), ints,
                ints.copy(), np.zeros(num_classes, np.int64), 0, no_ints, no_ints, no_ints, no_ints, np.zeros(0), False, 0.0)
    words = (np.zeros((1, num_classes), np.int32), np.zeros(1, bool), np.full((2, 2), -1, np.int64), ints, ints.copy(),
             no_ints, no_ints, no_ints, no_ints, False)
    return contexts, words
