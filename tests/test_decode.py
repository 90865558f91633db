"""CTC decoding, the character language model and error rates."""

import numpy as np
import pytest

from handwriting.alphabet import Alphabet
from handwriting.recognition.decode import beam_search, greedy
from handwriting.errors import HandwritingError
from handwriting.recognition.lm import build_language_model, load_language_model, perplexity, save_language_model
from handwriting.metrics import ErrorCounts, edit_distance, error_rates

ALPHABET = Alphabet(" abcdehlnot")


def frames_for(paths: list[dict[str, float]]) -> np.ndarray:
    """Log-probs with the given per-frame probabilities (rest spread evenly)."""
    out = np.full((len(paths), ALPHABET.num_classes), 1e-4)
    for t, probs in enumerate(paths):
        for char, p in probs.items():
            out[t, 0 if char == "_" else ALPHABET.encode(char)[0]] = p
    out /= out.sum(axis=1, keepdims=True)
    return np.log(out)


def test_greedy_merges_repeats_and_drops_blanks():
    lp = frames_for([{"h": 0.9}, {"h": 0.9}, {"_": 0.9}, {"e": 0.9}, {"l": 0.9}, {"_": 0.9}, {"l": 0.9}, {"o": 0.9}])
    hyp = greedy(lp)
    assert ALPHABET.decode(hyp.ids) == "hello"
    assert hyp.frames == (0, 3, 4, 6, 7)
    assert greedy(np.zeros((0, ALPHABET.num_classes))).ids == ()


def test_beam_without_lm_agrees_with_greedy_on_clear_input():
    lp = frames_for([{"c": 0.95}, {"_": 0.95}, {"a": 0.95}, {"t": 0.95}])
    assert ALPHABET.decode(beam_search(lp, ALPHABET, 8)[0].ids) == ALPHABET.decode(greedy(lp).ids) == "cat"


def test_beam_sums_paths_that_greedy_cannot():
    # best single path is blank-blank ("") but "a" collects more probability over its paths
    lp = frames_for([{"_": 0.4, "a": 0.35}, {"_": 0.4, "a": 0.35}])
    assert greedy(lp).ids == ()
    assert ALPHABET.decode(beam_search(lp, ALPHABET, 8)[0].ids) == "a"


def test_language_model_prefers_words_it_knows():
    lm = build_language_model(["the cat ate", "a cat at the den"] * 20, ALPHABET, order=4,
                              words=[("cat", 50.0), ("the", 80.0), ("den", 5.0)])
    # acoustically "cet" is slightly ahead of "cat"
    lp = frames_for([{"c": 0.9}, {"e": 0.5, "a": 0.45}, {"t": 0.9}])
    assert ALPHABET.decode(greedy(lp).ids) == "cet"
    hyps = beam_search(lp, ALPHABET, 8, lm, lm_weight=1.0, n_best=3)
    assert ALPHABET.decode(hyps[0].ids) == "cat"
    assert len(hyps) == 3 and hyps[0].score >= hyps[1].score >= hyps[2].score


def test_context_before_the_frames_steers_the_language_model():
    lm = build_language_model(["the cat ate", "the den"] * 20 + ["a cot"] * 20, ALPHABET, order=5)
    # acoustically "cot" and "cat" are level; what came before decides
    lp = frames_for([{"c": 0.9}, {"o": 0.45, "a": 0.45}, {"t": 0.9}])
    after_the = beam_search(lp, ALPHABET, 8, lm, lm_weight=1.0, context="the ")
    after_a = beam_search(lp, ALPHABET, 8, lm, lm_weight=1.0, context="a ")
    assert ALPHABET.decode(after_the[0].ids) == "cat" and ALPHABET.decode(after_a[0].ids) == "cot"
    assert after_the[0].frames == (0, 1, 2), "frames count from the start of these log-probs"


@pytest.mark.parametrize("smoothing", ["kneser-ney", "witten-bell"])
def test_language_model_round_trip_and_perplexity(tmp_path, smoothing):
    text = ["the cat ate the hen", "the hen ate a cod"] * 30
    lm = build_language_model(text, ALPHABET, order=5, words=[("den", 0.4), ("cat", 3.0)], smoothing=smoothing)
    save_language_model(lm, tmp_path / "m.lm")
    again = load_language_model(tmp_path / "m.lm")
    assert again.smoothing == smoothing and np.allclose(again.log_probs("the c"), lm.log_probs("the c"))
    for context in ("", "the c", "xx", "a d", "hen ate"):  # seen, unseen and partly seen contexts
        assert np.isclose(np.exp(lm.log_probs(context)[1:]).sum(), 1.0), context
    assert perplexity(lm, ["the cat ate"]) < perplexity(lm, ["tac eht eta"])
    (tmp_path / "bad.lm").write_bytes(b"junk")
    with pytest.raises(HandwritingError, match="bad.lm"):
        load_language_model(tmp_path / "bad.lm")


def test_kneser_ney_backs_off_to_how_widely_a_character_follows():
    # "n" is frequent but only ever after "e"; "t" follows many characters
    text = ["hen ten den pen men"] * 20 + ["at it ot ut et"] * 5
    kn = build_language_model(text, ALPHABET, order=2, smoothing="kneser-ney")
    wb = build_language_model(text, ALPHABET, order=2, smoothing="witten-bell")
    n, t = ALPHABET.encode("n")[0], ALPHABET.encode("t")[0]
    unseen = "c"  # a context never seen: the estimate is the back-off alone
    assert wb.log_probs(unseen)[n] > wb.log_probs(unseen)[t]
    assert kn.log_probs(unseen)[t] > kn.log_probs(unseen)[n]


def test_error_rates():
    assert edit_distance("kitten", "sitting") == 3
    cer, wer = error_rates([("the cat", "the bat"), ("a dog", "a dog")])
    assert cer == pytest.approx(1 / 12) and wer == pytest.approx(1 / 4)


def test_error_counts_merge_pools_characters_not_rates():
    short, long = ErrorCounts(), ErrorCounts()
    short.add("ab", "xb")  # 1 error in 2 characters
    long.add("abcdefghij", "abcdefghij")  # 0 in 10
    short.merge(long)
    assert (short.char_errors, short.chars, short.word_errors, short.words) == (1, 12, 1, 2)
    assert short.cer == pytest.approx(1 / 12)
