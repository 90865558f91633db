"""The beam search against the former decoder (tests/reference_decoder.py): same hypotheses
on random (peaky, and full of exact ties) and real log-probabilities; numbered LM contexts and
lexicon word states against the string-based estimates they replace."""

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference_decoder as reference
from handwriting.alphabet import Alphabet
from handwriting.recognition.decode import Hypothesis, beam_search
from handwriting.recognition.lm import build_language_model, load_language_model
from handwriting.recognition.modelfile import default_model_path

ALPHABET = Alphabet(" abcdehlnot.,'-")
TEXT = ["the cat ate the hen.", "a hot dot, then tea", "don't ban the 'cad'", "co-ed toll hat"] * 10
WORDS = [("the", 50.0), ("cat", 20.0), ("hen", 5.0), ("tea", 3.0), ("toll", 2.0), ("a", 40.0)]
SHIPPED = default_model_path()
FIXTURE_LINES = sorted((Path(__file__).parent.parent / "datasets" / "samples" / "iamondb" / "lineStrokes").rglob("*.xml"))


def _same(new: list[Hypothesis], old: list[Hypothesis]) -> None:
    assert [(h.ids, h.frames) for h in new] == [(h.ids, h.frames) for h in old]
    assert np.allclose([h.score for h in new], [h.score for h in old], rtol=0, atol=1e-9)


def _random_log_probs(rng: np.random.Generator, frames: int, classes: int, peak: float) -> np.ndarray:
    """Peaky CTC-like output: a blank-heavy frame most of the time, a character run now and then."""
    logits = rng.normal(0.0, 1.0, (frames, classes))
    logits[:, 0] += peak
    starts = rng.random(frames) < 0.3
    chars = rng.integers(1, classes, frames)
    for t in np.flatnonzero(starts):
        logits[t:t + rng.integers(1, 4), chars[t]] += peak + rng.normal(0, 1.5)
    logits -= logits.max(axis=1, keepdims=True)
    return (logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))).astype(np.float32)


def _tied_log_probs(rng: np.random.Generator, frames: int, classes: int) -> np.ndarray:
    """Few distinct probabilities, two classes always level and frames repeated: many exact ties of scores."""
    weights = rng.integers(0, 4, (frames, classes)).astype(np.float64)
    weights[:, 0] += rng.integers(0, 6, frames)
    first, second = rng.choice(np.arange(1, classes), 2, replace=False)
    weights[:, second] = weights[:, first]
    weights[rng.random(frames) < 0.3] = weights[0]
    weights[weights == 0] = 1e-9
    return np.log(weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def small_lm():
    return build_language_model(TEXT, ALPHABET, order=4, words=WORDS)


@pytest.mark.parametrize("seed", range(12))
def test_same_hypotheses_as_the_former_decoder_on_random_log_probs(small_lm, seed):
    rng = np.random.default_rng(seed)
    lp = _random_log_probs(rng, int(rng.integers(1, 120)), ALPHABET.num_classes, float(rng.uniform(2, 8)))
    width = int(rng.choice([1, 2, 6, 32]))
    context = str(rng.choice(["", "the ", "a ca", "hen."]))
    for lm in (None, small_lm):
        _same(beam_search(lp, ALPHABET, width, lm, n_best=8, context=context),
              reference.beam_search(lp, ALPHABET, width, lm, n_best=8, context=context))
    # float64 input, a loose pruning threshold and other weights
    lp64 = lp.astype(np.float64)
    kwargs = dict(lm_weight=1.0, insertion_bonus=0.2, oov_penalty=2.5, prune=-12.0, n_best=3)
    _same(beam_search(lp64, ALPHABET, 8, small_lm, **kwargs), reference.beam_search(lp64, ALPHABET, 8, small_lm, **kwargs))


@pytest.mark.parametrize("seed", range(40))
def test_same_hypotheses_as_the_former_decoder_with_ties(seed):
    rng = np.random.default_rng(100 + seed)
    lp = _tied_log_probs(rng, int(rng.integers(1, 80)), ALPHABET.num_classes)
    width = int(rng.choice([1, 2, 3, 6, 32]))
    lm = build_language_model(TEXT, ALPHABET, order=int(rng.integers(2, 5)), words=WORDS)  # states numbered as it goes
    for model, kwargs in ((None, {}), (lm, {}), (lm, dict(lm_weight=0.0, insertion_bonus=0.0)),
                          (lm, dict(context="a ca", prune=-30.0))):
        _same(beam_search(lp, ALPHABET, width, model, n_best=40, **kwargs),
              reference.beam_search(lp, ALPHABET, width, model, n_best=40, **kwargs))


def test_same_hypotheses_as_the_former_decoder_on_a_long_input(small_lm):
    """Hundreds of frames with many candidates: the prefix trie and the emission records outgrow their first tables."""
    lp = _random_log_probs(np.random.default_rng(7), 700, ALPHABET.num_classes, 1.5)
    _same(beam_search(lp, ALPHABET, 32, small_lm, n_best=32), reference.beam_search(lp, ALPHABET, 32, small_lm, n_best=32))


def test_log_probs_must_match_the_alphabet(small_lm):
    with pytest.raises(ValueError, match="classes"):
        beam_search(np.zeros((5, ALPHABET.num_classes + 1), np.float32), ALPHABET, 8, small_lm)
    with pytest.raises(ValueError, match="beam"):
        beam_search(np.zeros((5, ALPHABET.num_classes), np.float32), ALPHABET, 0)


@pytest.mark.skipif(not SHIPPED.is_file() or not FIXTURE_LINES, reason="needs the shipped model and fixture lines")
def test_same_hypotheses_as_the_former_decoder_on_real_lines():
    from handwriting.formats import read_inks
    from handwriting.recognition.preprocess import featurize
    from handwriting.recognition.recognizer import Recognizer

    recognizer = Recognizer(SHIPPED)
    lines = [read_inks(path)[0] for path in FIXTURE_LINES]
    inks = [line.prefix(max(1, line.num_points * q // 4)) for line in lines for q in (1, 2, 3, 4)]
    inks.append(lines[0].concat(lines[1].translated(float(lines[0].points()[:, 0].max()) + 500, 0.0)))
    log_probs = recognizer.run([featurize(ink, recognizer.model.preprocess) for ink in inks])[0]
    assert recognizer.lm is not None
    for lp in log_probs:
        for width in (6, 32):
            _same(beam_search(lp, recognizer.alphabet, width, recognizer.lm),
                  reference.beam_search(lp, recognizer.alphabet, width, recognizer.lm))
    _same(beam_search(log_probs[-1], recognizer.alphabet, 16, recognizer.lm, context="It was "),
          reference.beam_search(log_probs[-1], recognizer.alphabet, 16, recognizer.lm, context="It was "))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET.chars + "Ab1\n", max_size=14), st.text(alphabet=ALPHABET.chars + "E2", max_size=10))
def test_word_states_judge_words_as_the_lexicon_does(text, more):
    lm = _lm_with_lexicon()
    contexts, words = lm.states()
    state = words.start(text)
    for i, char in enumerate(more):
        expected = reference._oov_cost(lm, text + more[:i], 1.0) == 1.0
        assert bool(words.oov[state]) == expected, repr(text + more[:i])
        if ALPHABET.covers(char):
            state = int(words.advance(np.array([state]), np.array(ALPHABET.encode(char)))[0])
        else:
            state = words.start(text + more[:i + 1])


def test_numbered_contexts_give_the_models_estimates(small_lm):
    contexts, _ = small_lm.states()
    rng = np.random.default_rng(3)
    for _ in range(40):
        text = "".join(rng.choice(list(ALPHABET.chars), int(rng.integers(0, 12))))
        state = contexts.start(text[:3])
        for char in text[3:]:
            state = int(contexts.advance(np.array([state]), np.array(ALPHABET.encode(char)))[0])
        assert np.array_equal(contexts.rows[state], small_lm.log_probs(text))
        # the C library's logarithm; numpy's own, where it has one, may differ in the last place
        assert np.allclose(contexts.rows[state], reference.log_probs(small_lm, text), rtol=4e-16, atol=0)


def test_word_states_without_a_lexicon_never_cost():
    lm = build_language_model(TEXT, ALPHABET, order=3)
    _, words = lm.states()
    assert not words.oov[words.start("zzz")] and not lm.lexicon


@lru_cache(maxsize=1)
def _lm_with_lexicon():
    return build_language_model(TEXT, ALPHABET, order=3, words=WORDS + [("co-ed", 1.0), ("don't", 1.0)])


@pytest.mark.skipif(not SHIPPED.with_suffix(".lm").is_file(), reason="needs the shipped LM")
def test_long_input_decodes_in_one_pass():
    """Thousands of frames spelling a text clearly (each character two frames, then a blank)."""
    lm = load_language_model(SHIPPED.with_suffix(".lm"))
    text = "It was the best of times, it was the worst of times. " * 40
    ids = lm.alphabet.encode(text)
    probs = np.full((3 * len(ids), lm.alphabet.num_classes), 0.1 / lm.alphabet.num_classes)
    probs[np.arange(len(ids)) * 3, ids] = probs[np.arange(len(ids)) * 3 + 1, ids] = 0.9
    probs[np.arange(len(ids)) * 3 + 2, 0] = 0.9
    best = beam_search(np.log(probs / probs.sum(axis=1, keepdims=True)), lm.alphabet, 6, lm, n_best=1)[0]
    assert lm.alphabet.decode(best.ids) == text and best.frames == tuple(range(0, 3 * len(ids), 3))


def test_threads_sharing_a_language_model_read_as_one_thread_does():
    """The search numbers LM states in the model's tables: threads searching at once (the
    tables growing under them) find what one thread finds with a model of its own."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(11)
    inputs = [_random_log_probs(rng, 60, ALPHABET.num_classes, 4.0) for _ in range(24)]
    shared, alone = (build_language_model(TEXT, ALPHABET, order=5, words=WORDS) for _ in range(2))
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda lp: beam_search(lp, ALPHABET, 8, shared), inputs))
    for lp, found in zip(inputs, together):
        _same(found, beam_search(lp, ALPHABET, 8, alone))
    assert len(shared.states()[0]) == len(alone.states()[0])
