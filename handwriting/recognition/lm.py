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
from types import ModuleType
from typing import Iterable

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
# contexts and word states as integers (see `handwriting.recognition.lm_kernel`)
BITS = 7  # per character of a context
BOUNDARY_CODE, UNKNOWN_CODE = (1 << BITS) - 1, (1 << BITS) - 2
MAX_ORDER = 9  # contexts of up to 8 characters fit an int64
LEAD, CORE, TRAIL, OTHER = range(4)  # a word state's phase: punctuation only yet, a core, punctuation after it, other
SPACE, PUNCT, ALPHA, NONALPHA = range(4)  # what a character does to the word being written
MAX_STATES = 1 << 14  # numbered states kept before the tables start afresh (at most ~35 MiB with 89 classes)


SMOOTHING = ("kneser-ney", "witten-bell")


def _kernel() -> ModuleType:
    """`handwriting.recognition.lm_kernel`, imported on first use (numba takes a third of a second to import)."""
    from handwriting.recognition import lm_kernel

    return lm_kernel


class LanguageModel:
    """Interpolated estimates, h' = h without its first character, T(h) the characters seen after h:

    Kneser-Ney:  P(c | h) = (C(h, c) - d(h, c) + D(h) P(c | h')) / C(h), d = min(C, discount), D(h) = sum of d;
    Witten-Bell: P(c | h) = (C(h, c) + T(h) P(c | h')) / (C(h) + T(h)).

    Contexts are matched as integers (see `handwriting.recognition.lm_kernel`): a character
    outside the alphabet matches no context of the counts.
    """

    def __init__(self, alphabet: Alphabet, order: int, counts: dict[str, dict[str, float]] | CountTable,
                 lexicon: set[str] | list[str], smoothing: str = "witten-bell", discount: float = 0.0):
        if smoothing not in SMOOTHING:
            raise HandwritingError(f"unknown smoothing {smoothing!r}; known: {', '.join(SMOOTHING)}")
        if not 1 <= order <= MAX_ORDER:
            raise HandwritingError(f"language model of order {order}: orders 1 to {MAX_ORDER} are supported")
        if alphabet.num_classes > UNKNOWN_CODE:
            raise HandwritingError(f"alphabet of {alphabet.num_classes - 1} characters: a language model takes at most "
                                   f"{UNKNOWN_CODE - 1}")
        self.alphabet, self.order, self.width = alphabet, order, order - 1
        self.table = counts if isinstance(counts, CountTable) else CountTable.from_dict(counts)
        self._sorted_lexicon = sorted(lexicon)
        self.lexicon = set(self._sorted_lexicon)
        self.smoothing, self.discount = smoothing, discount
        self._log_probs = lru_cache(maxsize=200_000)(self._compute)
        self._codes = np.arange(alphabet.num_classes, dtype=np.int64)  # each class's digit in a context key: itself
        self._counts = _counts_by_key(self.table, alphabet.chars)
        self._states: tuple[ContextStates, WordStates] | None = None
        self.lock = threading.RLock()  # held while states are numbered (by a beam search, or `advance`)

    @property
    def counts(self) -> dict[str, dict[str, float]]:
        """{context: {character: count}} (built from the table when first asked for)."""
        return self.table.to_dict()

    def log_probs(self, text: str) -> np.ndarray:
        """Log-probabilities of every class following `text` (the start of a line if empty)."""
        return self._log_probs(self.context_key(text))

    def context_key(self, text: str) -> int:
        """The context after `text` as an integer (the last n-1 characters, the line start before the first)."""
        key = 0
        for char in (BOUNDARY + text)[-self.width:] if self.width > 0 else "":
            key = (key << BITS) | _code(char, self.alphabet.chars)
        return key

    def _compute(self, key: int) -> np.ndarray:
        out = np.empty(self.alphabet.num_classes)
        _kernel().context_row(key, *self._counts, self.smoothing == "kneser-ney", self.discount, out)
        return out

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


def _code(char: str, chars: str) -> int:
    """A character's digit in a context key (see `handwriting.recognition.lm_kernel`)."""
    if char == BOUNDARY:
        return BOUNDARY_CODE
    index = chars.find(char)
    return index + 1 if index >= 0 else UNKNOWN_CODE


def _counts_by_key(table: CountTable, chars: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The counts as the kernel reads them: sorted context keys, each row's first and end entry,
    each entry's character position (-1 outside the alphabet) and count. Contexts holding a
    character outside the alphabet are left out: no decoded text reaches them."""
    points = np.ascontiguousarray(table.contexts).reshape(-1, 1).view(np.uint32) if len(table) else np.zeros((0, 1), np.uint32)
    digits = _positions(points, chars) + 1
    digits[points == ord(BOUNDARY)] = BOUNDARY_CODE
    lengths = np.count_nonzero(points, axis=1)  # contexts are padded with NUL at the end
    shifts = BITS * np.arange(points.shape[1] - 1, -1, -1, dtype=np.int64)
    keys = np.bitwise_or.reduce(np.where(points > 0, digits, 0) << shifts, axis=1) >> (BITS * (points.shape[1] - lengths))
    usable = ((digits > 0) | (points == 0)).all(axis=1)
    order = np.flatnonzero(usable)[np.argsort(keys[usable], kind="stable")]
    return (keys[order], table.starts[:-1][order], table.starts[1:][order],
            _positions(table.chars, chars), np.array(table.values, np.float64))  # a writable copy: one kernel signature


class _Table:
    """States numbered in order of first use (`keys`: each state's integer key, `slots`: key -> state),
    each with a row of next states per class (-1: not yet known). The compiled beam search numbers
    states in the arrays of `kernel_args` while they have room (`room` makes more); `lock` is the model's."""

    def __init__(self, num_classes: int, lock: threading.RLock):
        self.lock = lock
        self._count = np.zeros(1, np.int64)  # shared with the kernels, which number states
        self.keys = np.zeros(16, np.int64)
        self.slots = np.full((64, 2), -1, np.int64)
        self._next = np.full((16, num_classes), -1, np.int32)

    @property
    def count(self) -> int:
        return int(self._count[0])

    def __len__(self) -> int:
        return self.count

    @property
    def transitions(self) -> np.ndarray:
        """(states, classes) int32: the state after each state and class, -1 where not yet known (see `advance`)."""
        return self._next

    def kernel_args(self) -> tuple:
        """The arrays and constants the kernels number states with (see `handwriting.recognition.lm_kernel`)."""
        raise NotImplementedError

    def room(self, more: int) -> None:
        """Arrays large enough for `more` new states (the hash table at most half full)."""
        if 2 * (self.count + more) <= min(len(self.slots), 2 * len(self.keys)):
            return
        while self.count + more > len(self.keys):
            self.keys = np.concatenate([self.keys, np.zeros_like(self.keys)])
            self._next = np.concatenate([self._next, np.full_like(self._next, -1)])
            self._grown(len(self.keys))
        if 2 * (self.count + more) > len(self.slots):
            size = len(self.slots)
            while 2 * (self.count + more) > size:
                size *= 2
            self.slots = np.full((size, 2), -1, np.int64)
            _kernel().rehashed(self.slots, self.keys, self.count)

    def _grown(self, capacity: int) -> None:
        """Per-state arrays of subclasses enlarged to `capacity`."""

    def _state(self, key: int) -> int:
        """The state of `key`, numbered if new."""
        with self.lock:
            self.room(1)
            state, new = _kernel().interned(self.slots, self.keys, key, self.count)
            if new:
                self._added(self.count)
                self._count[0] += 1
            return int(state)

    def _added(self, state: int) -> None:
        """Per-state data of a state numbered by `_state` (subclasses)."""

    def advance(self, states: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """The state after each (state, class) pair."""
        out = self._next[states, classes]
        missing = (out < 0).nonzero()[0]
        if len(missing):
            with self.lock:
                pairs = np.stack([states[missing], classes[missing]], axis=1).astype(np.int64)
                self.room(len(pairs))
                self._number(pairs)
                out[missing] = self._next[pairs[:, 0], pairs[:, 1]]
        return out

    def _number(self, pairs: np.ndarray) -> None:
        raise NotImplementedError


class ContextStates(_Table):
    """The model's contexts (the last n-1 characters) as states; `rows[s]` is `log_probs` after state s."""

    def __init__(self, model: LanguageModel):
        super().__init__(model.alphabet.num_classes, model.lock)
        self._model = model
        self.rows = np.empty((16, model.alphabet.num_classes))

    def start(self, text: str) -> int:
        """The state after `text` (the start of a line if empty)."""
        return self._state(self._model.context_key(text))

    def kernel_args(self) -> tuple:
        model = self._model
        return (self.rows, self._next, self.slots, self.keys, self._count, model._codes, model.width, *model._counts,
                model.smoothing == "kneser-ney", model.discount)

    def _grown(self, capacity: int) -> None:
        self.rows = np.concatenate([self.rows, np.empty((capacity - len(self.rows), self.rows.shape[1]))])

    def _added(self, state: int) -> None:
        self.rows[state] = self._model._log_probs(int(self.keys[state]))

    def _number(self, pairs: np.ndarray) -> None:
        _kernel().number_contexts(pairs, self.kernel_args())


class WordStates(_Table):
    """What the lexicon needs of the last word (the text after the last space): its core is
    the word stripped of `PUNCTUATION` at both ends; the word is out of the lexicon (`oov[s]`)
    when its core is alphabetic and, in lower case, not a lexicon word.

    States: only punctuation yet; an alphabetic core so far (the range of lexicon words that
    start with it, or a dead end), with or without trailing punctuation; anything else (never
    out of the lexicon). A space starts the next word.
    """

    def __init__(self, model: LanguageModel):
        super().__init__(model.alphabet.num_classes, model.lock)
        self._model = model
        self.oov = np.zeros(16, bool)
        words = model._sorted_lexicon
        self._letters = np.frombuffer("".join(words).encode("utf-32-le"), np.uint32).astype(np.int64)
        self._offsets = np.concatenate([[0], np.cumsum([len(w) for w in words])]).astype(np.int64)
        described = [_described(char) for char in " " + model.alphabet.chars]  # class 0 (blank) never advances
        self._kinds = np.array([kind for kind, _ in described], np.int64)
        self._lowers = np.array([lower for _, lower in described], np.int64)

    def start(self, text: str) -> int:
        """The state after `text`."""
        key = _kernel().root_word(len(self._offsets) - 1)
        for char in text.rsplit(" ", 1)[-1]:
            key = _kernel().word_after(key, *_described(char), self._letters, self._offsets)
        return self._state(key)

    def kernel_args(self) -> tuple:
        return (self._next, self.oov, self.slots, self.keys, self._count, self._kinds, self._lowers, self._letters,
                self._offsets, bool(self._model.lexicon))

    def _grown(self, capacity: int) -> None:
        self.oov = np.concatenate([self.oov, np.zeros(capacity - len(self.oov), bool)])

    def _added(self, state: int) -> None:
        self.oov[state] = bool(self._model.lexicon) and _kernel().out_of_lexicon(int(self.keys[state]), self._offsets)

    def _number(self, pairs: np.ndarray) -> None:
        _kernel().number_words(pairs, self.kernel_args())


def _described(char: str) -> tuple[int, int]:
    """What a character does to a word (`lm_kernel.SPACE`, ...) and its lower case's code point (-1 if not one)."""
    kind = (SPACE if char == " " else PUNCT if char in PUNCTUATION
            else ALPHA if char.isalpha() else NONALPHA)
    lower = char.lower()
    return kind, ord(lower) if len(lower) == 1 else -1


def _positions(codepoints: np.ndarray, chars: str) -> np.ndarray:
    """The position in `chars` of each code point, -1 for one outside it (a table over code points)."""
    codes = [ord(c) for c in chars]
    table = np.full(max(codes, default=0) + 2, -1, np.int64)  # the last slot stands for every larger code point
    table[codes[::-1]] = np.arange(len(codes))[::-1]  # the first position wins
    return table[np.minimum(codepoints, len(table) - 1)]


def load_language_model(path: str | Path) -> LanguageModel:
    """A `.lm` file (either layout, see `handwriting.recognition.lmfile`); HandwritingError for one that is
    not one (or decompresses past the limits)."""
    try:
        parts = unpack(inflate(read_limited(path), path))
        return LanguageModel(Alphabet(parts.alphabet), parts.order, parts.counts, parts.lexicon, parts.smoothing,
                             parts.discount)
    except InkFormatError as exc:
        raise HandwritingError(f"{path}: not a readable language model ({exc.reason})") from None
    except HandwritingError as exc:
        raise HandwritingError(f"{path}: {exc}") from None
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
