"""Character n-gram language model (interpolated Kneser-Ney, or Witten-Bell) and a word lexicon.

Built from text (`handwriting lm build`): running text lines, and optionally word
frequency lists (`word<TAB>count`). Stored as one gzip-compressed JSON file (`.lm`).
Kneser-Ney keeps raw counts only for the longest contexts and for those that start at
the beginning of a text; shorter contexts count in how many different contexts a
character followed them (continuation counts), so that a character seen often but
only after one context does not dominate the back-off.
`log_probs(context)` gives log P(c | last n-1 characters) for every alphabet class at
once (index 0, the blank, gets 0), cached per context.
"""

from __future__ import annotations

import gzip
import json
import math
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np

from handwriting.alphabet import Alphabet
from handwriting.atomic import atomic_write_bytes
from handwriting.errors import HandwritingError

__all__ = ["LanguageModel", "build_language_model", "load_language_model", "save_language_model", "perplexity"]

BOUNDARY = "\n"  # marks the start of a text in contexts


SMOOTHING = ("kneser-ney", "witten-bell")


class LanguageModel:
    """Interpolated estimates, h' = h without its first character, T(h) the characters seen after h:

    Kneser-Ney:  P(c | h) = (C(h, c) - d(h, c) + D(h) P(c | h')) / C(h), d = min(C, discount), D(h) = sum of d;
    Witten-Bell: P(c | h) = (C(h, c) + T(h) P(c | h')) / (C(h) + T(h)).
    """

    def __init__(self, alphabet: Alphabet, order: int, counts: dict[str, dict[str, float]], lexicon: set[str],
                 smoothing: str = "witten-bell", discount: float = 0.0):
        if smoothing not in SMOOTHING:
            raise HandwritingError(f"unknown smoothing {smoothing!r}; known: {', '.join(SMOOTHING)}")
        self.alphabet, self.order, self.counts, self.lexicon = alphabet, order, counts, lexicon
        self.smoothing, self.discount = smoothing, discount
        self._log_probs = lru_cache(maxsize=200_000)(self._compute)

    def log_probs(self, text: str) -> np.ndarray:
        """Log-probabilities of every class following `text` (the start of a line if empty)."""
        context = (BOUNDARY + text)[-(self.order - 1):] if self.order > 1 else ""
        return self._log_probs(context)

    def _compute(self, context: str) -> np.ndarray:
        probs = np.full(self.alphabet.num_classes - 1, 1.0 / (self.alphabet.num_classes - 1))
        for k in range(len(context) + 1):  # from the empty context up to the full one
            h = context[len(context) - k:]
            table = self.counts.get(h)
            if not table:
                continue
            total = sum(table.values())
            types = len(table)
            seen = np.zeros_like(probs)
            for char, count in table.items():
                index = self.alphabet.chars.find(char)
                if index >= 0:
                    seen[index] = count
            if self.smoothing == "kneser-ney":
                taken = np.minimum(seen, self.discount)
                probs = (seen - taken + taken.sum() * probs) / total
            else:
                probs = (seen + types * probs) / (total + types)
        out = np.zeros(self.alphabet.num_classes)
        out[1:] = np.log(probs)
        return out

    def is_word(self, word: str) -> bool:
        return word.lower().strip(".,;:!?\"'()") in self.lexicon

    def to_bytes(self) -> bytes:
        data = {"alphabet": self.alphabet.chars, "order": self.order, "counts": self.counts,
                "lexicon": sorted(self.lexicon), "smoothing": self.smoothing, "discount": self.discount}
        return gzip.compress(json.dumps(data, separators=(",", ":")).encode(), mtime=0)


def load_language_model(path: str | Path) -> LanguageModel:
    try:
        data = json.loads(gzip.decompress(Path(path).read_bytes()))
        return LanguageModel(Alphabet(data["alphabet"]), int(data["order"]), data["counts"], set(data["lexicon"]),
                             data.get("smoothing", "witten-bell"), float(data.get("discount", 0.0)))
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise HandwritingError(f"{path}: not a readable language model ({type(exc).__name__})") from None


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
