"""Pages: lines found by layout, each read on its own, readings joined in reading order; live page reading."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from handwriting.cli import main
from handwriting.recognition.explain import explain
from handwriting.formats import read_inks, write_ink
from handwriting.ink import Ink
from handwriting.metrics import ErrorCounts
from handwriting.recognition.modes import Reading
from handwriting.recognition.preprocess import featurize
from handwriting.recognition.recognizer import PageReader, Recognizer

FORM = Path(__file__).parent.parent / "datasets" / "samples" / "iamondb" / "lineStrokes" / "a01" / "a01-001"


@pytest.fixture(scope="module")
def first_and_second() -> tuple[Ink, Ink]:
    """Two consecutive whiteboard lines, in place (the second written below the first)."""
    return read_inks(FORM / "a01-001z-01.xml")[0], read_inks(FORM / "a01-001z-02.xml")[0]


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(lm=None, beam=8)  # the shipped model, n-best without an LM


def test_lines_are_read_apart_and_joined_with_newlines(first_and_second, recognizer):
    first, second = first_and_second
    both = first.concat(second)
    result = recognizer.recognize(both, with_hidden=True)
    lines = [Ink(tuple(both.strokes[k] for k in line.strokes)) for line in result.lines]
    alone = [r.text for r in recognizer._read_lines(lines, [Reading()] * len(lines), None, False, 0)]  # each line read alone
    assert result.text == "\n".join(alone)
    assert result.alternatives[0].text == result.text and len(result.alternatives) >= 2
    assert len(result.characters) == len(result.text) and result.characters[len(alone[0])].char == "\n"
    assert result.frames.line_starts == (0, len(featurize(first, recognizer.model.preprocess)))
    assert len(result.frames) == len(result.log_probs) == len(result.hidden[0])
    assert [w.text for w in result.words] == alone[0].split() + alone[1].split()
    second_strokes = set(range(first.num_strokes, both.num_strokes))
    assert set(result.words[-1].strokes) <= second_strokes, "strokes are numbered in the whole ink"
    assert result.characters[-1].points.min() >= first.num_points
    assert ErrorCounts().add(" ".join(alone), result.text) == (0, 0), "a line break counts as a space"


def test_lines_written_in_another_order_read_the_same(first_and_second, recognizer):
    first, second = first_and_second
    in_order = recognizer.recognize(first.concat(second))
    second_first = recognizer.recognize(Ink(second.strokes + first.strokes))
    assert second_first.text == in_order.text
    assert second_first.lines[0].strokes == tuple(k + second.num_strokes for k in in_order.lines[0].strokes)
    assert [w.strokes for w in second_first.lines[1].words] == [tuple(k - first.num_strokes for k in w.strokes)
                                                                for w in in_order.lines[1].words]


def test_lines_carry_their_text_box_strokes_and_words(first_and_second, recognizer):
    first, second = first_and_second
    ink = first.concat(second)
    result = recognizer.recognize(ink, word_alternatives=2)
    assert [line.text for line in result.lines] == result.text.split("\n")
    assert sorted(k for line in result.lines for k in line.strokes) == list(range(ink.num_strokes))
    assert [w for line in result.lines for w in line.words] == result.words
    assert all(w.alternatives and w.alternatives[0] == w.text for w in result.lines[1].words)
    for line, part in zip(result.lines, (first, second)):
        assert line.bbox == pytest.approx(part.bounds())
        assert all(set(w.strokes) <= set(line.strokes) for w in line.words)
    d = result.to_dict()["lines"][1]
    assert d["text"] == result.lines[1].text and d["words"][0]["text"] == result.lines[1].words[0].text


def test_a_page_reader_reads_again_only_the_lines_that_changed(first_and_second, recognizer, monkeypatch):
    first, second = first_and_second
    reader = PageReader(recognizer)
    read: list[int] = []
    real = recognizer._read_lines
    monkeypatch.setattr(recognizer, "_read_lines", lambda lines, *a: read.append(len(lines)) or real(lines, *a))
    page = first.concat(second)
    growing = Ink(page.strokes[:-1])  # the last stroke of the second line still to come
    assert reader.read(growing).text == recognizer.recognize(growing).text
    assert read[0] == 2
    read.clear()
    result = reader.read(page)
    assert read == [1], "the first line's reading was kept"
    assert result.text == recognizer.recognize(page).text
    assert result.timings_ms["decode"] > 0 and reader.cached_lines == 3
    read.clear()
    again = reader.read(page, beam=4)
    assert again.text == result.text and read == [], "a wider beam's reading serves a narrower one"
    fresh = recognizer.recognize(page)
    assert [w.strokes for w in again.words] == [w.strokes for w in fresh.words]
    assert all(np.array_equal(a.points, b.points) and a.frame == b.frame for a, b in zip(again.characters, fresh.characters))
    assert np.array_equal(again.frames.point_index, fresh.frames.point_index)


def test_recognize_writes_lines_in_jsonl_and_as_rows_in_text(first_and_second, tmp_path, capsys):
    first, second = first_and_second
    write_ink(first.concat(second), tmp_path / "page.inkml")
    out = tmp_path / "out.jsonl"
    assert main(["recognize", str(tmp_path / "page.inkml"), "--no-lm", "--format", "jsonl", "--output", str(out)]) == 0
    item = json.loads(out.read_text())
    assert set(item) == {"path", "index", "label", "text", "alternatives", "words", "error", "lines"}
    assert [line["text"] for line in item["lines"]] == item["text"].split("\n") and len(item["lines"]) == 2
    assert {"text", "bbox", "strokes", "words"} <= set(item["lines"][0])
    assert main(["recognize", str(tmp_path / "page.inkml"), "--no-lm"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 2 and rows[0].endswith(item["lines"][0]["text"]) and rows[1] == "\t" + item["lines"][1]["text"]


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


def test_warming_up_numbers_the_lms_first_states():
    recognizer = Recognizer()
    assert recognizer.lm is not None
    recognizer.warm_up()
    contexts, words = recognizer.lm.states()
    assert len(contexts) > 1 and len(words) > 1
