"""The compiled core of `handwriting.recognition.decode.beam_search` (numba, compiled on first use and
cached on disk): the frame loop of the CTC prefix beam search over plain arrays.

`search` runs frames from `meta[FRAME]` on and returns a status: `DONE`; `GROW` when the
trie's hash table or the emission records may overflow in the next frame (the caller
enlarges them, `grown`, and calls again); `NEED` when a prefix kept at a frame reaches an
LM context or word state that is new and the LM's tables have no room to number it (the
caller makes room for `meta[NEEDED]` more states and calls again: that frame is redone from
the beams before it). Every path probability is computed in the network's float type with
numpy's `logaddexp` formula, so scores and rankings are numpy's to the bit. One thread,
holding the GIL, the LM's lock held by the caller (states are numbered in its tables).
Compiled and cached as `handwriting.recognition.jit` says.
"""

from __future__ import annotations

import math

import numpy as np

from handwriting.recognition.jit import compiled
from handwriting.recognition.lm_kernel import context_after, word_state_after

__all__ = ["search", "grown", "path", "DONE", "GROW", "NEED", "PID", "PARENT", "END", "CONTEXT", "WORD", "RECORD",
           "COUNT", "NODES", "RECORDS", "FRAME", "NEEDED"]

DONE, GROW, NEED = range(3)
PID, PARENT, END, CONTEXT, WORD, RECORD = range(6)  # a beam's columns: trie node, parent's node, last class, LM states, record
COUNT, NODES, RECORDS, FRAME, NEEDED = range(5)  # meta: beams, trie nodes, records, next frame, LM states without room
LN2, NEG_INF = range(2)  # consts: ln 2 and -inf in the network's float type


@compiled(inline="always")
def _logaddexp(x, y, ln2):
    """numpy's npy_logaddexp(f), in the type of x and y."""
    if x == y:
        return x + ln2
    tmp = x - y
    if tmp > 0:
        return x + math.log1p(math.exp(-tmp))
    if tmp <= 0:
        return y + math.log1p(math.exp(tmp))
    return tmp


@compiled(inline="always")
def _node(table, meta, key):
    """The trie node of `key` (parent node x classes + class), numbered on first sight (open addressing)."""
    mask = len(table) - 1
    slot = (key * 0x9E3779B1) & mask
    while table[slot, 0] != key:
        if table[slot, 0] < 0:
            meta[NODES] += 1
            table[slot, 0], table[slot, 1] = key, meta[NODES]
            break
        slot = (slot + 1) & mask
    return table[slot, 1]


@compiled(inline="always")
def _record(records, meta, parent, cls, t):
    """A new emission record: `cls` emitted at frame `t` after the record `parent`."""
    n = meta[RECORDS]
    records[n, 0], records[n, 1], records[n, 2] = parent, cls, t
    meta[RECORDS] = n + 1
    return n


@compiled()
def search(lp, prune, contexts, words, weights, blank, label, lm, ints, table, records, meta, consts):
    """Beam search over the frames of `lp` from `meta[FRAME]` on (see the module docstring).

    contexts, words: the LM's context and word states (`kernel_args` of `handwriting.recognition.lm`'s
    tables: log-prob rows, next-state tables, out-of-lexicon flags, and what numbers new states);
    weights: LM weight, insertion bonus, OOV penalty, the space's class;
    blank, label, lm, ints: the beams (capacity: the beam width), `meta[COUNT]` of them in rank order;
    table: the trie's (key, node) hash table; records: (parent record, class, frame) of every emission.
    """
    frames, classes = lp.shape
    width = len(lm)
    t = done = meta[FRAME]
    while t <= frames:
        if t < frames and not _passes(lp, t, prune):
            t += 1
            continue
        if t > done:
            _blank_run(lp, done, t, blank, label, lm, ints, meta[COUNT], consts[LN2])
            meta[FRAME] = done = t
        if t == frames:
            return DONE
        if meta[RECORDS] + 2 * width > len(records) or 2 * (meta[NODES] + width) > len(table):
            return GROW
        if not _step(lp, t, prune, contexts, words, weights, blank, label, lm, ints, table, records, meta, consts):
            return NEED
        t += 1
        meta[FRAME] = done = t
    return DONE


@compiled(inline="always")
def _passes(lp, t, prune):
    """Whether some character (class > 0) passes the pruning threshold at frame t."""
    for c in range(1, lp.shape[1]):
        if lp[t, c] > prune:
            return True
    return False


@compiled()
def _blank_run(lp, t0, t1, blank, label, lm, ints, count, ln2):
    """Frames t0..t1 where only the blank passes pruning: every prefix continues as itself, and
    they end ranked as frame-by-frame steps would rank them (ties by the scores after earlier frames, then rank)."""
    n = t1 - t0
    keys = np.empty((n, count))  # -score of each prefix after each frame of the run
    end_blank, end_label = np.empty(count, blank.dtype), np.empty(count, blank.dtype)
    for b in range(count):
        x, y, e = blank[b], label[b], ints[b, END]
        total = _logaddexp(x, y, ln2)
        for t in range(t0, t1):
            x, y = total + lp[t, 0], y + lp[t, e]
            total = _logaddexp(x, y, ln2)
            keys[t - t0, b] = -(np.float64(total) + lm[b])
        end_blank[b], end_label[b] = x, y
    order = np.empty(count, np.int64)
    for b in range(count):  # stable insertion sort: the last score, then the latest earlier one that differs
        j = b
        while j > 0 and _before(keys, b, order[j - 1]):
            order[j] = order[j - 1]
            j -= 1
        order[j] = b
    end_lm, end_ints = np.empty(count), np.empty((count, ints.shape[1]), np.int64)
    for r in range(count):
        end_lm[r] = lm[order[r]]
        for col in range(ints.shape[1]):
            end_ints[r, col] = ints[order[r], col]
    for r in range(count):
        blank[r], label[r], lm[r] = end_blank[order[r]], end_label[order[r]], end_lm[r]
        for col in range(ints.shape[1]):
            ints[r, col] = end_ints[r, col]


@compiled(inline="always")
def _before(keys, u, v):
    """Whether prefix u ranks before an earlier-ranked v after a blank run (keys: -score after each frame)."""
    for s in range(len(keys) - 1, -1, -1):
        if keys[s, u] != keys[s, v]:
            return keys[s, u] < keys[s, v]
    return False


@compiled()
def _step(lp, t, prune, contexts, words, weights, blank, label, lm, ints, table, records, meta, consts):
    """One frame of prefix beam search (the characters above `prune` are candidates): the best `width` prefixes
    after frame `t`, or False (beams unchanged, `meta[NEEDED]`: the states the LM's tables lack room for).

    Every beam continues as itself and extended by each candidate. An extension that equals
    another beam's prefix (a merge: that beam's parent node is the extended beam's node) is
    summed into that beam's entry, its LM score and frames those of whichever came first in
    rank order. Entries are ranked by score, ties by rank order (a beam's own entry, then
    its extensions in class order).
    """
    classes, count, width = lp.shape[1], meta[COUNT], len(lm)
    rows, context_next, word_next, oov = contexts[0], contexts[1], words[0], words[1]
    ln2, weight, bonus, penalty, space = consts[LN2], weights[0], weights[1], weights[2], int(weights[3])
    candidates, column = np.empty(classes, np.int64), np.empty(classes, np.int64)
    k = 0
    for c in range(classes):
        column[c] = -1
        if c > 0 and lp[t, c] > prune:
            candidates[k], column[c] = c, k
            k += 1
    entries = count * (k + 1)  # entry i * (k + 1): beam i's own; i * (k + 1) + 1 + c: beam i extended by candidate c
    label_of, lm_of = np.empty(entries, blank.dtype), np.empty(entries)
    blank_of, rank, origin = np.empty(count, blank.dtype), np.empty(entries, np.int64), np.empty(count, np.int64)
    for i in range(count):
        own = i * (k + 1)
        total = _logaddexp(blank[i], label[i], ln2)
        blank_of[i] = total + lp[t, 0]
        label_of[own] = label[i] + lp[t, ints[i, END]]  # the last character continues (-inf for the empty prefix)
        lm_of[own], rank[own], origin[i] = lm[i], own, -1
        row, out_of_lexicon = rows[ints[i, CONTEXT]], oov[ints[i, WORD]]
        for c in range(k):
            cls = candidates[c]
            label_of[own + 1 + c] = (blank[i] if cls == ints[i, END] else total) + lp[t, cls]
            score = lm[i] + (weight * row[cls] + bonus)
            lm_of[own + 1 + c] = score - penalty if cls == space and out_of_lexicon else score
            rank[own + 1 + c] = own + 1 + c
    for j in range(count):  # merges: beam j's prefix is beam i's extended by j's last character
        c = column[ints[j, END]]  # -1 for the empty prefix (class 0, the blank, is never a candidate)
        if c < 0:
            continue
        for i in range(count):
            if ints[i, PID] == ints[j, PARENT]:
                own, ext = j * (k + 1), i * (k + 1) + 1 + c
                label_of[own] = _logaddexp(label_of[own], label_of[ext], ln2)
                rank[ext] = -1
                if i < j:  # the extension made the entry, then beam j added its own path
                    lm_of[own], rank[own], origin[j] = lm_of[ext], ext, ext
                break

    keys, kept = np.empty(width), np.empty(width, np.int64)  # the best entries by key, then rank
    n = 0
    for e in range(entries):
        if rank[e] < 0:
            continue
        i, c = e // (k + 1), e % (k + 1)
        acoustic = _logaddexp(blank_of[i], label_of[e], ln2) if c == 0 else label_of[e]
        key = -(np.float64(acoustic) + lm_of[e])
        if n == width and not (key < keys[n - 1] or (key == keys[n - 1] and rank[e] < rank[kept[n - 1]])):
            continue
        pos = n if n < width else width - 1
        while pos > 0 and (key < keys[pos - 1] or (key == keys[pos - 1] and rank[e] < rank[kept[pos - 1]])):
            keys[pos], kept[pos] = keys[pos - 1], kept[pos - 1]
            pos -= 1
        keys[pos], kept[pos] = key, e
        if n < width:
            n += 1

    missing = 0
    for r in range(n):  # the LM states of the new prefixes kept, numbered here if new
        i, c = kept[r] // (k + 1), kept[r] % (k + 1)
        if c > 0:
            cls = candidates[c - 1]
            context, word = context_next[ints[i, CONTEXT], cls], word_next[ints[i, WORD], cls]
            if context < 0:
                context = context_after(contexts, ints[i, CONTEXT], cls)
            if word < 0:
                word = word_state_after(words, ints[i, WORD], cls)
            if context < 0 or word < 0:
                missing += 1
    if missing:
        meta[NEEDED] = missing
        return False

    out = np.empty((n, ints.shape[1]), np.int64)
    for r in range(n):
        i, c = kept[r] // (k + 1), kept[r] % (k + 1)
        label[r], lm[r] = label_of[kept[r]], lm_of[kept[r]]
        if c == 0:
            blank[r] = blank_of[i]
            for col in range(ints.shape[1]):
                out[r, col] = ints[i, col]
            if origin[i] >= 0:
                parent, cls = origin[i] // (k + 1), origin[i] % (k + 1)
                out[r, RECORD] = _record(records, meta, ints[parent, RECORD], candidates[cls - 1], t)
        else:
            cls = candidates[c - 1]
            blank[r] = consts[NEG_INF]
            out[r, PID] = _node(table, meta, ints[i, PID] * classes + cls)
            out[r, PARENT], out[r, END] = ints[i, PID], cls
            out[r, CONTEXT], out[r, WORD] = context_next[ints[i, CONTEXT], cls], word_next[ints[i, WORD], cls]
            out[r, RECORD] = _record(records, meta, ints[i, RECORD], cls, t)
    for r in range(n):
        for col in range(ints.shape[1]):
            ints[r, col] = out[r, col]
    meta[COUNT] = n
    return True


@compiled()
def path(records, record):
    """The classes and frames of the emissions leading to `record`, first to last."""
    n, r = 0, record
    while r > 0:
        n += 1
        r = records[r, 0]
    classes, frames = np.empty(n, np.int64), np.empty(n, np.int64)
    r = record
    for i in range(n - 1, -1, -1):
        classes[i], frames[i] = records[r, 1], records[r, 2]
        r = records[r, 0]
    return classes, frames


@compiled()
def grown(table):
    """The trie's hash table with twice the slots, every key in its new slot."""
    out = np.empty((2 * len(table), 2), np.int64)
    for slot in range(len(out)):
        out[slot, 0] = -1
    mask = len(out) - 1
    for old in range(len(table)):
        if table[old, 0] >= 0:
            slot = (table[old, 0] * 0x9E3779B1) & mask
            while out[slot, 0] >= 0:
                slot = (slot + 1) & mask
            out[slot, 0], out[slot, 1] = table[old, 0], table[old, 1]
    return out
