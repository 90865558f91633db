"""Reading modes: text, word, character, digits; the writing guide; the text before the ink."""

import numpy as np
import pytest

from handwriting.alphabet import Alphabet
from handwriting.errors import HandwritingError
from handwriting.recognition.modes import (Reading, WritingGuide, allowed_classes, lm_context, read_character,
                               single_label_log_probs, size_log_prior)
from handwriting.recognition.recognizer import Recognizer
from handwriting.training.synth import synthesize

ALPHABET = Alphabet()


def _brute_force_single_label(log_probs: np.ndarray, c: int) -> float:
    """log P(label = c): sum over every path blank* c+ blank* (exhaustive, for short inputs)."""
    total, T = -np.inf, len(log_probs)
    for start in range(T):
        for end in range(start + 1, T + 1):
            path = [0] * start + [c] * (end - start) + [0] * (T - end)
            total = np.logaddexp(total, sum(log_probs[t, k] for t, k in enumerate(path)))
    return float(total)


def test_single_label_probabilities_sum_over_all_paths():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 5))
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    scores = single_label_log_probs(log_probs)
    for c in range(1, 5):
        assert scores[c] == pytest.approx(_brute_force_single_label(log_probs, c), abs=1e-9)
    assert scores[0] == -np.inf


def test_character_mode_reads_exactly_one_character_and_ranks_alternatives():
    log_probs = np.full((8, ALPHABET.num_classes), -12.0)
    log_probs[:, 0] = -0.01
    a, o = ALPHABET.encode("a")[0], ALPHABET.encode("o")[0]
    log_probs[2:4, a] = -0.5  # "a" spelt twice with a blank between would be "aa" in text mode
    log_probs[5:7, a] = -0.5
    log_probs[3, o] = -1.5
    hyps = read_character(log_probs, ALPHABET, 3, synthesize("a", font="futural"))
    assert [ALPHABET.decode(h.ids) for h in hyps][:2] == ["a", "o"]
    assert all(len(h.ids) == 1 for h in hyps) and hyps[0].score > hyps[1].score > hyps[2].score
    assert hyps[0].frames[0] in (2, 3, 5, 6)


def test_writing_guide_tells_small_from_large_by_size():
    guide = WritingGuide(10.0)
    small = size_log_prior(ALPHABET, 2.5, guide)
    large = size_log_prior(ALPHABET, 7.0, guide)
    o, big_o, e = ALPHABET.encode("o")[0], ALPHABET.encode("O")[0], ALPHABET.encode("e")[0]
    assert small[o] > small[big_o] and large[big_o] > large[o]
    assert small[e] == large[e] == 0.0  # characters not written alike at two sizes are left alone
    with pytest.raises(HandwritingError, match="line height"):
        WritingGuide(float("nan"))


def test_masks_and_contexts():
    word = allowed_classes("word", ALPHABET)
    digits = allowed_classes("digits", ALPHABET)
    assert allowed_classes("text", ALPHABET) is None
    assert word[0] and not word[ALPHABET.encode(" ")[0]] and word[ALPHABET.encode("Q")[0]]
    assert digits[ALPHABET.encode("7")[0]] and not digits[ALPHABET.encode("q")[0]]
    assert lm_context("") == "" and lm_context("Dear") == "Dear " and lm_context("is ") == "is "
    with pytest.raises(HandwritingError, match="unknown reading mode"):
        Reading("sentence")


@pytest.fixture(scope="module")
def recognizer():
    return Recognizer(threads=1)


def test_modes_through_the_recognizer(recognizer):
    two_lines = synthesize("on", font="futural").concat(synthesize("up", font="futural").translated(0, 40))
    as_text = recognizer.recognize(two_lines)
    as_word = recognizer.recognize(two_lines, mode="word")
    as_char = recognizer.recognize(two_lines, mode="character")
    as_digits = recognizer.recognize(two_lines, mode="digits")
    assert len(as_text.lines) == 2
    assert len(as_word.lines) == 1 and " " not in as_word.text and "\n" not in as_word.text
    assert len(as_char.text) == 1 and all(len(a.text) == 1 for a in as_char.alternatives)
    assert set(as_digits.text) <= set("0123456789 +-.,:/()%$#\n")


def test_guide_changes_the_case_of_a_lone_letter(recognizer):
    letter = synthesize("o", font="futural")
    height = letter.bounds()[3] - letter.bounds()[1]
    small = recognizer.recognize(letter, mode="character", guide=WritingGuide(height * 4))
    large = recognizer.recognize(letter, mode="character", guide=WritingGuide(height * 1.2))
    assert small.text in "oO0" and large.text in "oO0"
    assert small.text == "o" and large.text in "O0"
