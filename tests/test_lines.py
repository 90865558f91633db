"""Multi-line ink: split into lines in writing order, each line read on its own, readings joined."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from handwriting.explain import explain
from handwriting.formats import read_inks
from handwriting.ink import Ink
from handwriting.lines import split_lines
from handwriting.metrics import ErrorCounts
from handwriting.recognizer import Recognizer

FORM = Path(__file__).parent / "fixtures" / "iamondb" / "lineStrokes" / "a01" / "a01-001"


@pytest.fixture(scope="module")
def first_and_second() -> tuple[Ink, Ink]:
    """Two consecutive whiteboard lines, in place (the second written below the first)."""
    return read_inks(FORM / "a01-001z-01.xml")[0], read_inks(FORM / "a01-001z-02.xml")[0]


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(lm=None, beam=8)  # the shipped model, n-best without an LM


def test_a_line_with_descenders_dots_and_crossings_stays_one_line(first_and_second):
    for line in first_and_second:
        assert split_lines(line) == [list(range(line.num_strokes))]


def test_two_lines_split_where_the_second_begins(first_and_second):
    first, second = first_and_second
    both = first.concat(second)
    assert split_lines(both) == [list(range(first.num_strokes)), list(range(first.num_strokes, both.num_strokes))]


def test_a_list_written_downwards_is_one_line_per_entry():
    word = [[[x, 10 * np.sin(x / 3)] for x in range(0, 60, 2)], [[70, -12], [70, 12]]]  # a squiggle and a bar
    entries = [[np.array(s, float) + [0, 40 * n] for s in word] for n in range(3)]
    ink = Ink.from_strokes([s for entry in entries for s in entry])
    assert split_lines(ink) == [[0, 1], [2, 3], [4, 5]]


def test_lines_are_read_apart_and_joined_with_newlines(first_and_second, recognizer):
    first, second = first_and_second
    both = first.concat(second)
    alone = [recognizer.recognize(line).text for line in (first, second)]
    result = recognizer.recognize(both, with_hidden=True)
    assert result.text == "\n".join(alone)
    assert result.alternatives[0].text == result.text and len(result.alternatives) >= 2
    assert len(result.characters) == len(result.text) and result.characters[len(alone[0])].char == "\n"
    assert result.frames.line_starts == (0, len(featurize_frames(recognizer, first)))
    assert len(result.frames) == len(result.log_probs) == len(result.hidden[0])
    words = [w.text for w in result.words]
    assert words == alone[0].split() + alone[1].split()
    second_strokes = set(range(first.num_strokes, both.num_strokes))
    assert set(result.words[-1].strokes) <= second_strokes, "strokes are numbered in the whole ink"
    assert result.characters[-1].points.min() >= first.num_points
    assert ErrorCounts().add(" ".join(alone), result.text) == (0, 0), "a line break counts as a space"


def featurize_frames(recognizer: Recognizer, ink: Ink):
    from handwriting.preprocess import featurize

    return featurize(ink, recognizer.model.preprocess)


def test_explaining_a_multi_line_reading_unrolls_each_line_apart(first_and_second, recognizer):
    first, second = first_and_second
    joined = explain(recognizer, first.concat(second))
    alone = explain(recognizer, second)
    start = joined.recognition.frames.line_starts[1]
    for layer_joined, layer_alone in zip(joined.cells, alone.cells):
        assert np.allclose(layer_joined[start:], layer_alone, atol=1e-5)
    assert joined.target[0] - start == alone.target[0]
    assert np.allclose(joined.saliency[start:], alone.saliency, atol=1e-5)
    assert not joined.saliency[:start].any(), "the first line does not feed the second's characters"
