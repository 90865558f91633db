"""A given text against a network's (T, C) log-probabilities, compiled (numba): the CTC
log-likelihood (the sum over all the text's paths, Graves et al. 2006) and the best path's
alignment (the frame each character is emitted at, as the decoders give it: the first
frame of its run). Class 0 is the blank; a path runs through the 2L + 1 states
blank, c1, blank, c2, ..., cL, blank.
"""

from __future__ import annotations

import math

import numpy as np

from handwriting.recognition.jit import compiled

__all__ = ["log_likelihood", "alignment"]

NEG_INF = -np.inf


@compiled(inline="always")
def _logaddexp(a, b):
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    top = max(a, b)
    return top + math.log1p(math.exp(-abs(a - b)))


@compiled(inline="always")
def _state_class(labels, s):
    return 0 if s % 2 == 0 else labels[s // 2]


@compiled(inline="always")
def _may_skip(labels, s):
    """Whether state s can be reached from s - 2 (a character after another one that differs)."""
    return s % 2 == 1 and s >= 2 and labels[s // 2] != labels[s // 2 - 1]


@compiled()
def log_likelihood(log_probs, labels):
    """log P(labels | log_probs) summed over every CTC path; -inf where no path fits."""
    frames, states = log_probs.shape[0], 2 * len(labels) + 1
    if frames == 0:
        return 0.0 if len(labels) == 0 else NEG_INF
    alpha = np.full(states, NEG_INF)
    alpha[0] = log_probs[0, 0]
    if states > 1:
        alpha[1] = log_probs[0, labels[0]]
    for t in range(1, frames):
        for s in range(states - 1, -1, -1):  # from the end: alpha[s - 1] and alpha[s - 2] still hold frame t - 1
            total = alpha[s]
            if s >= 1:
                total = _logaddexp(total, alpha[s - 1])
            if _may_skip(labels, s):
                total = _logaddexp(total, alpha[s - 2])
            alpha[s] = total + log_probs[t, _state_class(labels, s)] if total != NEG_INF else NEG_INF
    return _logaddexp(alpha[states - 1], alpha[states - 2]) if states > 1 else alpha[0]


@compiled()
def alignment(log_probs, labels):
    """The first frame of each character's run on the most probable path of `labels`;
    all -1 where no path fits."""
    frames, states = log_probs.shape[0], 2 * len(labels) + 1
    emitted = np.full(len(labels), -1, np.int64)
    if frames == 0 or len(labels) == 0:
        return emitted
    best = np.full(states, NEG_INF)
    came_from = np.zeros((frames, states), np.int8)  # how many states back the best path came from
    best[0] = log_probs[0, 0]
    best[1] = log_probs[0, labels[0]]
    for t in range(1, frames):
        for s in range(states - 1, -1, -1):
            top, step = best[s], 0
            if s >= 1 and best[s - 1] > top:
                top, step = best[s - 1], 1
            if _may_skip(labels, s) and best[s - 2] > top:
                top, step = best[s - 2], 2
            best[s] = top + log_probs[t, _state_class(labels, s)] if top != NEG_INF else NEG_INF
            came_from[t, s] = step
    s = states - 1 if best[states - 1] >= best[states - 2] else states - 2
    if best[s] == NEG_INF:
        return emitted
    for t in range(frames - 1, -1, -1):
        if s % 2 == 1:
            emitted[s // 2] = t  # walking back, the last frame set is the run's first
        s -= came_from[t, s]
    return emitted
