"""The compiled side of the language model (numba): LM contexts and lexicon word states as
integers, numbered and given their rows without a Python step per state.

A context (the last n-1 characters) is an integer with one base-128 digit per character
(its class, the line start `BOUNDARY_CODE`, anything else `UNKNOWN_CODE`; the constants
live in `handwriting.recognition.lm`), so the context after a character is arithmetic and every suffix is a
remainder. The counts' contexts are the same integers, sorted (`table_keys`), so a
context's estimate walks its suffixes from the empty one up, as `LanguageModel` defines it.

A word state packs (phase, length of the lower-case core, the range of the sorted lexicon's
words that start with the core, empty once none does): extending the core narrows the range
by binary search (the words' code points in one array, `letters`, split by `offsets`), and
the core is a word when the first word of its range is exactly as long.

Each probability is computed with the same operations in the same order as numpy's (the
total of a row summed left to right, the mass taken by discounting with numpy's pairwise
sum), so the probabilities are numpy's to the bit; their logarithm is the C library's (as
numpy's own where numpy has no vectorised logarithm of its own, within a unit in the last
place elsewhere). `context_after` and `word_state_after` number a state where the beam
search meets it, inside the compiled search, as long as the tables have room.
"""

from __future__ import annotations

import math

import numpy as np

from handwriting.recognition.jit import compiled, pairwise_sum
from handwriting.recognition.lm import ALPHA, BITS, CORE, LEAD, OTHER, PUNCT, SPACE, TRAIL

__all__ = ["context_probs", "context_row", "context_after", "number_contexts", "interned", "rehashed", "word_after", "root_word",
           "word_state_after", "number_words", "out_of_lexicon"]


@compiled()
def _row_of(table_keys, key):
    """The counts' row of context `key`, -1 if it has none."""
    i = np.searchsorted(table_keys, key)
    return i if i < len(table_keys) and table_keys[i] == key else -1


@compiled()
def context_probs(key, table_keys, firsts, ends, entry_class, values, kneser_ney, discount, out):
    """P(c | context `key`) for every character into `out`: from the uniform estimate, each
    suffix with counts (shortest first) mixes its counts with the estimate below it."""
    n = len(out)
    for c in range(n):
        out[c] = 1.0 / n
    seen, taken = np.zeros(n), np.zeros(n)
    length, rest = 0, key
    while rest > 0:
        length += 1
        rest >>= BITS
    for k in range(length + 1):
        row = _row_of(table_keys, key & ((1 << (BITS * k)) - 1))
        if row < 0:
            continue
        a, b = firsts[row], ends[row]
        total = 0.0
        for e in range(a, b):
            total += values[e]
        seen[:] = 0.0
        for e in range(a, b):
            if entry_class[e] >= 0:
                seen[entry_class[e]] = values[e]
        if kneser_ney:
            for c in range(n):
                taken[c] = min(seen[c], discount)
            mass = pairwise_sum(taken, n)
            for c in range(n):
                out[c] = (seen[c] - taken[c] + mass * out[c]) / total
        else:
            kinds = float(b - a)
            for c in range(n):
                out[c] = (seen[c] + kinds * out[c]) / (total + kinds)


@compiled()
def interned(slots, keys, key, count):
    """The state of `key` in the open-addressing table `slots` ((key, state) pairs, -1 empty),
    numbered `count` (and recorded in `keys`) if new; returns (state, whether it is new)."""
    mask = len(slots) - 1
    slot = (key * 0x9E3779B1) & mask
    while slots[slot, 0] != key:
        if slots[slot, 0] < 0:
            slots[slot, 0], slots[slot, 1] = key, count
            keys[count] = key
            return count, True
        slot = (slot + 1) & mask
    return slots[slot, 1], False


@compiled()
def rehashed(slots, keys, count):
    """The empty table `slots` filled with the first `count` states of `keys`."""
    for state in range(count):
        interned(slots, keys, keys[state], state)


@compiled()
def context_row(key, table_keys, firsts, ends, entry_class, values, kneser_ney, discount, row):
    """`row`: the log-probability of every class after context `key` (0.0 for class 0, the blank)."""
    context_probs(key, table_keys, firsts, ends, entry_class, values, kneser_ney, discount, row[1:])
    row[0] = 0.0
    for c in range(1, len(row)):
        row[c] = math.log(row[c])


@compiled()
def context_after(contexts, state, cls):
    """The context state after `state` and class `cls`, numbered (with its row) if new; -1 when the
    tables are full. `contexts`: `ContextStates.kernel_args()`."""
    rows, next_states, slots, keys, count, codes, width, table_keys, firsts, ends, entry_class, values, kneser_ney, \
        discount = contexts
    if next_states[state, cls] >= 0:
        return next_states[state, cls]
    n = count[0]
    if n >= min(len(keys), len(rows), len(next_states)) or 2 * (n + 1) > len(slots):
        return -1
    key = ((keys[state] << BITS) | codes[cls]) & ((1 << (BITS * width)) - 1)
    after, new = interned(slots, keys, key, n)
    if new:
        context_row(key, table_keys, firsts, ends, entry_class, values, kneser_ney, discount, rows[n])
        count[0] = n + 1
    next_states[state, cls] = after
    return after


@compiled()
def number_contexts(pairs, contexts):
    """The context state after each (state, class) row of `pairs`, new ones numbered (room made beforehand)."""
    for p in range(len(pairs)):
        context_after(contexts, pairs[p, 0], pairs[p, 1])


@compiled()
def word_after(key, kind, lower, letters, offsets):
    """The word state after a character of `kind` whose lower case is code point `lower`."""
    phase, length, lo, hi = key & 3, (key >> 2) & 255, (key >> 10) & _HALF, key >> 36
    if kind == SPACE:
        return root_word(len(offsets) - 1)
    if phase == OTHER:
        return key
    if kind == PUNCT:
        return key if phase == LEAD else (key & ~3) | TRAIL
    if kind != ALPHA or phase == TRAIL:
        return OTHER
    if lo == hi or length == 254:
        return CORE
    # the words of [lo, hi) share the core; past the one that is the core itself (first, if any),
    # their characters at `length` ascend: the ones equal to `lower` are the new range
    a = _first_at_least(letters, offsets, lo, hi, length, lower)
    b = _first_at_least(letters, offsets, a, hi, length, lower + 1)
    return _word(CORE, length + 1, a, b) if a < b else CORE


@compiled(inline="always")
def root_word(words):
    """The state at the start of a word: no core yet, every lexicon word ahead."""
    return _word(LEAD, 0, 0, words)


_HALF = (1 << 26) - 1  # lexicon indices fit 26 bits


@compiled(inline="always")
def _word(phase, length, lo, hi):
    return phase | (length << 2) | (lo << 10) | (hi << 36)


@compiled(inline="always")
def _first_at_least(letters, offsets, lo, hi, length, code):
    """The first word in [lo, hi) longer than `length` whose character at `length` is at least `code`."""
    while lo < hi:
        mid = (lo + hi) // 2
        if offsets[mid + 1] - offsets[mid] > length and letters[offsets[mid] + length] >= code:
            hi = mid
        else:
            lo = mid + 1
    return lo


@compiled()
def word_state_after(words, state, cls):
    """The word state after `state` and class `cls`, numbered (with its out-of-lexicon flag) if new;
    -1 when the tables are full. `words`: `WordStates.kernel_args()`."""
    next_states, oov, slots, keys, count, kinds, lowers, letters, offsets, has_lexicon = words
    if next_states[state, cls] >= 0:
        return next_states[state, cls]
    n = count[0]
    if n >= min(len(keys), len(oov), len(next_states)) or 2 * (n + 1) > len(slots):
        return -1
    key = word_after(keys[state], kinds[cls], lowers[cls], letters, offsets)
    after, new = interned(slots, keys, key, n)
    if new:
        oov[n] = has_lexicon and out_of_lexicon(key, offsets)
        count[0] = n + 1
    next_states[state, cls] = after
    return after


@compiled()
def number_words(pairs, words):
    """The word state after each (state, class) row of `pairs`, new ones numbered (room made beforehand)."""
    for p in range(len(pairs)):
        word_state_after(words, pairs[p, 0], pairs[p, 1])


@compiled()
def out_of_lexicon(key, offsets):
    """Whether a word state's core is alphabetic and not a lexicon word (the first word of its range is the core)."""
    phase, length, lo, hi = key & 3, (key >> 2) & 255, (key >> 10) & _HALF, key >> 36
    if phase != CORE and phase != TRAIL:
        return False
    return lo == hi or offsets[lo + 1] - offsets[lo] != length
