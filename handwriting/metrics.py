"""Edit distance, character error rate (CER) and word error rate (WER)."""

from __future__ import annotations

from typing import Iterable, Sequence

__all__ = ["edit_distance", "error_rates", "ErrorCounts"]


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance (substitutions, insertions, deletions all cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


class ErrorCounts:
    """Accumulates character and word edits over many (reference, hypothesis) pairs.

    A line break counts as a space: transcriptions rarely record where the writer
    started a new line, and the recognizer reads each line of a multi-line ink apart."""

    def __init__(self) -> None:
        self.char_errors = self.chars = self.word_errors = self.words = 0

    def add(self, reference: str, hypothesis: str) -> tuple[int, int]:
        reference, hypothesis = reference.replace("\n", " "), hypothesis.replace("\n", " ")
        ce = edit_distance(reference, hypothesis)
        we = edit_distance(reference.split(), hypothesis.split())
        self.char_errors += ce
        self.chars += len(reference)
        self.word_errors += we
        self.words += len(reference.split())
        return ce, we

    def merge(self, other: "ErrorCounts") -> None:
        """Adds `other`'s counts to these."""
        self.char_errors += other.char_errors
        self.chars += other.chars
        self.word_errors += other.word_errors
        self.words += other.words

    @property
    def cer(self) -> float:
        return self.char_errors / max(self.chars, 1)

    @property
    def wer(self) -> float:
        return self.word_errors / max(self.words, 1)


def error_rates(pairs: Iterable[tuple[str, str]]) -> tuple[float, float]:
    """(CER, WER) over (reference, hypothesis) pairs, pooled over all characters / words."""
    counts = ErrorCounts()
    for reference, hypothesis in pairs:
        counts.add(reference, hypothesis)
    return counts.cer, counts.wer
