"""Fitting a model's posterior temperatures (`handwriting.recognition.temperature`) on held-out
items read with the beam search and the LM as a user reads them: the one for several words on
lines, the one for a lone word or character on lone words and characters.

The temperature is chosen on one half of the validation items (those at odd positions) and
measured on the other: a network reads its own training lines more surely than a new
writer's, so a temperature fitted on them would come out too low. The search over
temperatures is a coarse grid, then the halfway points beside its best; of temperatures
with as many errors, the one nearest 1 wins. It is kept only if it also reads the other
half with fewer errors than 1 does; otherwise the network is read as it is (1): where the
errors hardly change with the temperature, the best of the fitting half is chance.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from tqdm import tqdm

from handwriting.ink import Ink
from handwriting.metrics import ErrorCounts
from handwriting.recognition.decode import DEFAULT_BEAM
from handwriting.recognition.recognizer import Recognizer
from handwriting.recognition.temperature import Temperature

__all__ = ["GRID", "written_items", "halves", "errors_at", "fit_temperature"]

GRID = (1.0, 1.25, 1.5, 2.0, 0.8)  # then the halfway points beside the best of these
BATCH = 32


def written_items(inks: list[Ink]) -> tuple[list[Ink], list[Ink]]:
    """The labelled inks, as lines (a space between two words) and as lone words and characters."""
    labelled = [ink for ink in inks if ink.label and ink.label.strip() and not ink.is_empty]
    lines = [ink for ink in labelled if " " in (ink.label or "").strip()]
    return lines, [ink for ink in labelled if " " not in (ink.label or "").strip()]


def halves(items: list[Ink], at_most: int, seed: int = 0) -> tuple[list[Ink], list[Ink]]:
    """The items at odd positions (to fit on) and at even ones (to check on), each drawn down
    to `at_most` at random."""
    draw = random.Random(seed)
    fit, check = items[1::2], items[0::2]
    return draw.sample(fit, min(at_most, len(fit))), draw.sample(check, min(at_most, len(check)))


def errors_at(recognizer: Recognizer, items: list[Ink], temperature: float, progress: Callable[[int], object] | None = None) -> int:
    """Character errors of `recognizer` reading `items` with the beam and its LM at `temperature`
    (for several words and for one)."""
    previous = recognizer.temperature, recognizer.one_word_temperature
    recognizer.temperature = recognizer.one_word_temperature = temperature
    counts = ErrorCounts()
    try:
        for first in range(0, len(items), BATCH):
            batch = items[first:first + BATCH]
            for ink, reading in zip(batch, recognizer.recognize_batch(batch, beam=DEFAULT_BEAM)):
                counts.add(ink.label or "", reading.text)
            if progress:
                progress(len(batch))
    finally:
        recognizer.temperature, recognizer.one_word_temperature = previous
    return counts.char_errors


def fit_temperature(recognizer: Recognizer, fit_on: list[Ink], check_on: list[Ink], what: str = "items") -> Temperature:
    """The temperature with the fewest character errors on `fit_on` if it has fewer than 1 on
    `check_on` too, else 1; with the errors on `fit_on` by temperature, the one chosen there and
    the errors on `check_on` at 1 and at it (`what`: the items, for the progress bar)."""
    tried: dict[float, int] = {}

    def best() -> float:
        return min(tried, key=lambda t: (tried[t], abs(t - 1.0)))

    with tqdm(desc=f"fitting the temperature for {what}", unit="item", disable=None,
              total=len(fit_on) * len(GRID) + 2 * len(check_on)) as bar:
        for t in GRID:
            tried[t] = errors_at(recognizer, fit_on, t, bar.update)
        ordered = sorted(tried)
        at = ordered.index(best())
        halfway = [round((ordered[at] + n) / 2, 3) for n in ordered[max(at - 1, 0):at] + ordered[at + 1:at + 2]]
        bar.total += len(fit_on) * len(halfway)
        bar.refresh()
        for t in halfway:
            tried[t] = errors_at(recognizer, fit_on, t, bar.update)
        chosen = best()
        before = errors_at(recognizer, check_on, 1.0, bar.update)
        if chosen == 1.0:  # nothing to read again
            bar.total -= len(check_on)
            after = before
        else:
            after = errors_at(recognizer, check_on, chosen, bar.update)
        check = {"items": len(check_on), "errors_before": before, "errors_after": after}
    kept = chosen if after < before else 1.0
    return Temperature(kept, fitted_on={"items": len(fit_on), "characters": sum(len(ink.label or "") for ink in fit_on),
                                        "errors": {f"{t:g}": e for t, e in sorted(tried.items())}, "chosen": chosen,
                                        "check": check})
