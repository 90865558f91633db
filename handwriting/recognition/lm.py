"""Character n-gram language model (interpolated Kneser-Ney, or Witten-Bell) and a word lexicon.

Built from text (`handwriting lm build`): running text lines, and optionally word
frequency lists (`word<TAB>count`). Stored as arrays in one gzip-compressed file (`.lm`,
see `handwriting.recognition.lmfile`), read in milliseconds.
Kneser-Ney keeps raw counts only for the longest contexts and for those that start at
the beginning of a text; shorter contexts count in how many different contexts a
character followed them (continuation counts), so that a character seen often but
only after one context does not dominate the back-off.
`log_probs(context)` gives log P(c | last n-1 characters) for every alphabet class at
once (index 0, the blank, gets 0), cached per context.

For decoders, `states()` numbers the contexts (states with cached log-prob rows and
next-state tables) and what the lexicon needs to know of the word being written (a
trie of the lexicon's prefixes), so that a decoding step is array lookups, not strings.
"""

from __future__ import annotations

import gzip
import math
import threading
from bisect import bisect_left
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Iterable, cast

import numpy as np

from handwriting.alphabet import Alphabet
from handwriting.atomic import atomic_write_bytes
from handwriting.errors import HandwritingError, InkFormatError
from handwriting.formats._common import read_limited
from handwriting.limits import inflate
from handwriting.recognition.lmfile import CountTable, LMParts, pack, unpack

__all__ = ["LanguageModel", "ContextStates", "WordStates", "build_language_model", "load_language_model", "save_language_model", "perplexity"]

BOUNDARY = "\n"  # marks the start of a text in contexts
PUNCTUATION = ".,;:!?\"'()-"  # stripped from both ends of a word before the lexicon is asked
MAX_STATES = 1 << 14  # numbered states kept before the tables start afresh (at most ~35 MiB with 89 classes)


SMOOTHING = ("kneser-ney", "witten-bell")


class LanguageModel:
    """Interpolated estimates, h' = h without its first character, T(h) the characters seen after h:

    Kneser-Ney:  P(c | h) = (C(h, c) - d(h, c) + D(h) P(c | h')) / C(h), d = min(C, discount), D(h) = sum of d;
    Witten-Bell: P(c | h) = (C(h, c) + T(h) P(c | h')) / (C(h) + T(h)).
    """

    def __init__(self, alphabet: Alphabet, order: int, counts: dict[str, dict[str, float]] | CountTable,
                 lexicon: set[str] | list[str], smoothing: str = "witten-bell", discount: float = 0.0):
        if smoothing not in SMOOTHING:
            raise HandwritingError(f"unknown smoothing {smoothing!r}; known: {', '.join(SMOOTHING)}")
        self.alphabet, self.order = alphabet, order
        self.table = counts if isinstance(counts, CountTable) else CountTable.from_dict(counts)
        self._sorted_lexicon = sorted(lexicon)
        self.lexicon = set(self._sorted_lexicon)
        self.smoothing, self.discount = smoothing, discount
        self._log_probs = lru_cache(maxsize=200_000)(self._compute)
        self._probs = lru_cache(maxsize=MAX_STATES)(self._probs)  # type: ignore[method-assign]
        self._uniform = np.full(alphabet.num_classes - 1, 1.0 / (alphabet.num_classes - 1))
        self._states: tuple[ContextStates, WordStates] | None = None

    @property
    def counts(self) -> dict[str, dict[str, float]]:
        """{context: {character: count}} (built from the table when first asked for)."""
        return self.table.to_dict()

    def log_probs(self, text: str) -> np.ndarray:
        """Log-probabilities of every class following `text` (the start of a line if empty)."""
        context = (BOUNDARY + text)[-(self.order - 1):] if self.order > 1 else ""
        return self._log_probs(context)

    def _compute(self, context: str) -> np.ndarray:
        out = np.zeros(self.alphabet.num_classes)
        out[1:] = np.log(self._probs(context))
        return out

    def _probs(self, context: str) -> np.ndarray:
        """P(c | context) for every character: the estimate of `context` over that of its suffix."""
        below = self._probs(context[1:]) if context else self._uniform
        row = self.table.row(context)
        if row is None or not row[0]:
            return below
        chars, counts = row
        seen = np.zeros_like(below)
        for char, count in zip(chars, counts):
            index = self.alphabet.chars.find(char)
            if index >= 0:
                seen[index] = count
        total = sum(counts)
        if self.smoothing == "kneser-ney":
            taken = np.minimum(seen, self.discount)
            return (seen - taken + taken.sum() * below) / total
        return (seen + len(chars) * below) / (total + len(chars))

    def is_word(self, word: str) -> bool:
        return word.lower().strip(".,;:!?\"'()") in self.lexicon

    def is_prefix(self, text: str) -> bool:
        """Whether some lexicon word starts with `text` (lower case)."""
        i = bisect_left(self._sorted_lexicon, text)
        return i < len(self._sorted_lexicon) and self._sorted_lexicon[i].startswith(text)

    def states(self) -> tuple[ContextStates, WordStates]:
        """The numbered contexts and word states, kept between calls (started afresh when large)."""
        if self._states is None or max(len(self._states[0]), len(self._states[1])) > MAX_STATES:
            self._states = (ContextStates(self), WordStates(self))
        return self._states

    def to_bytes(self) -> bytes:
        parts = LMParts(self.alphabet.chars, self.order, self.smoothing, self.discount, self.table, self._sorted_lexicon)
        return gzip.compress(pack(parts), mtime=0)


class _Table:
    """States numbered in order of first use, each with a row of next states per class (-1: not yet known)."""

    def __init__(self, num_classes: int, chars: str):
        self.chars, self._lock = chars, threading.Lock()
        self._ids: dict[object, int] = {}
        self._keys: list[object] = []
        self._next = np.full((16, num_classes), -1, np.int32)

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def transitions(self) -> np.ndarray:
        """(states, classes) int32: the state after each state and class, -1 where not yet known (see `advance`)."""
        return self._next

    def _intern(self, key: object) -> int:
        """The state of `key`, new ones numbered and given their rows (`_added`)."""
        state = self._ids.get(key)
        if state is None:
            state = len(self._keys)
            if state == len(self._next):
                self._next = np.concatenate([self._next, np.full_like(self._next, -1)])
            self._added(key, state)
            self._keys.append(key)
            self._ids[key] = state
        return state

    def _added(self, key: object, state: int) -> None:
        """Per-state data of a new state (subclasses)."""

    def _after(self, key: object, char: str) -> object:
        raise NotImplementedError

    def advance(self, states: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """The state after each (state, class) pair."""
        out = self._next[states, classes]
        missing = (out < 0).nonzero()[0]
        if len(missing):
            with self._lock:
                for i in missing.tolist():
                    s, c = int(states[i]), int(classes[i])
                    out[i] = self._next[s, c] = self._intern(self._after(self._keys[s], self.chars[c - 1]))
        return out


class ContextStates(_Table):
    """The model's contexts (the last n-1 characters) as states; `rows[s]` is `log_probs` after state s."""

    def __init__(self, model: LanguageModel):
        super().__init__(model.alphabet.num_classes, model.alphabet.chars)
        self._model, self._width = model, model.order - 1
        self.rows = np.empty((16, model.alphabet.num_classes))

    def start(self, text: str) -> int:
        """The state after `text` (the start of a line if empty)."""
        with self._lock:
            return self._intern((BOUNDARY + text)[-self._width:] if self._width > 0 else "")

    def _after(self, key: object, char: str) -> object:
        return (str(key) + char)[-self._width:] if self._width > 0 else ""

    def _added(self, key: object, state: int) -> None:
        if state == len(self.rows):
            self.rows = np.concatenate([self.rows, np.empty_like(self.rows)])
        self.rows[state] = self._model._compute(str(key))


# word states: (phase, lower-case core so far or None once no lexicon word starts with it)
_LEAD, _CORE, _TRAIL, _OTHER = range(4)


class WordStates(_Table):
    """What the lexicon needs of the last word (the text after the last space): its core is
    the word stripped of `PUNCTUATION` at both ends; the word is out of the lexicon (`oov[s]`)
    when its core is alphabetic and, in lower case, not a lexicon word.

    States: only punctuation yet; an alphabetic core so far (a node of the lexicon's prefix
    trie, or a dead end), with or without trailing punctuation; anything else (never out of
    the lexicon). A space starts the next word.
    """

    def __init__(self, model: LanguageModel):
        super().__init__(model.alphabet.num_classes, model.alphabet.chars)
        self._model = model
        self.oov = np.zeros(16, bool)

    def start(self, text: str) -> int:
        """The state after `text`."""
        key: object = (_LEAD, "")
        for char in text.rsplit(" ", 1)[-1]:
            key = self._after(key, char)
        with self._lock:
            return self._intern(key)

    def _after(self, key: object, char: str) -> object:
        phase, core = cast("tuple[int, str | None]", key)
        if char == " ":
            return (_LEAD, "")
        if phase == _OTHER:
            return key
        if char in PUNCTUATION:
            return key if phase == _LEAD else (_TRAIL, core)
        if not char.isalpha() or phase == _TRAIL:
            return (_OTHER, None)
        if core is None:
            return (_CORE, None)
        longer = core + char.lower()
        return (_CORE, longer if self._model.is_prefix(longer) else None)

    def _added(self, key: object, state: int) -> None:
        if state == len(self.oov):
            self.oov = np.concatenate([self.oov, np.zeros_like(self.oov)])
        phase, core = cast("tuple[int, str | None]", key)
        self.oov[state] = bool(self._model.lexicon) and phase in (_CORE, _TRAIL) and core not in self._model.lexicon


def load_language_model(path: str | Path) -> LanguageModel:
    """A `.lm` file (either layout, see `handwriting.recognition.lmfile`); HandwritingError for one that is
    not one (or decompresses past the limits)."""
    try:
        parts = unpack(inflate(read_limited(path), path))
        return LanguageModel(Alphabet(parts.alphabet), parts.order, parts.counts, parts.lexicon, parts.smoothing,
                             parts.discount)
    except InkFormatError as exc:
        raise HandwritingError(f"{path}: not a readable language model ({exc.reason})") from None
    except (EOFError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise HandwritingError(f"{path}: not a readable language model ({str(exc)[:160] or type(exc).__name__})") from None


def build_language_model(texts: Iterable[str], alphabet: Alphabet, order: int = 7,
                         words: Iterable[tuple[str, float]] = (), lexicon_size: int = 50000,
                         min_count: float = 2.0, smoothing: str = "kneser-ney", discount: float = 0.9) -> LanguageModel:
    """Count n-grams of `texts` (one line each) and of weighted `words`; prune rare contexts."""
    counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def add(text: str, weight: float) -> None:
        padded = BOUNDARY + text
        for i in range(1, len(padded)):
            char = padded[i]
            if char not in alphabet.chars:
                continue
            for n in range(order):
                if i - n < 0:
                    break
                counts[padded[i - n:i]][char] += weight

    for line in texts:
        add(line.strip(), 1.0)
    vocabulary = []
    for word, weight in words:
        if alphabet.covers(word):
            vocabulary.append(word)
            add(" " + word + " ", weight)
    if smoothing == "kneser-ney":
        counts = _continuation_counts(counts, order)
    pruned = {h: {c: round(v, 3) for c, v in t.items()} for h, t in counts.items() if sum(t.values()) >= min_count or len(h) <= 1}
    return LanguageModel(alphabet, order, pruned, {w.lower() for w in vocabulary[:lexicon_size]}, smoothing,
                         discount if smoothing == "kneser-ney" else 0.0)


def _continuation_counts(counts: dict[str, dict[str, float]], order: int) -> dict[str, dict[str, float]]:
    """Raw counts for the longest contexts and those at a text's start; for the others, the
    number of distinct one-character-longer contexts each character was seen after."""
    out: dict[str, dict[str, float]] = {h: dict(t) for h, t in counts.items()
                                        if len(h) == order - 1 or h.startswith(BOUNDARY)}
    for h, table in counts.items():
        shorter = h[1:]
        if h and not (shorter.startswith(BOUNDARY) or len(shorter) == order - 1):
            row = out.setdefault(shorter, {})
            for char in table:
                row[char] = row.get(char, 0.0) + 1.0
    return out


def save_language_model(model: LanguageModel, path: str | Path) -> None:
    atomic_write_bytes(path, model.to_bytes())


def perplexity(model: LanguageModel, texts: Iterable[str]) -> float:
    """Per-character perplexity of `texts` (characters outside the alphabet skipped)."""
    total, n = 0.0, 0
    for text in texts:
        for i, char in enumerate(text):
            if model.alphabet.covers(char):
                total -= model.log_probs(text[:i])[model.alphabet.encode(char)[0]]
                n += 1
    if n == 0:
        raise HandwritingError("no characters to score")
    return math.exp(total / n)
