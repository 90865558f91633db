"""JSON ink: one object, a list, or JSON Lines; strict validation; writing and round trips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handwriting.errors import InkFormatError
from handwriting.formats import detect_format, jsonink, read_inks, write_ink
from handwriting.ink import Ink


def write_text(tmp_path: Path, text: str, name: str = "i.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_one_object_with_optional_time_and_pressure(tmp_path: Path) -> None:
    doc = {"label": "hi", "writer": "w9", "strokes": [[[0, 0], [1, 2]], [[3, 4, 100, 0.5], [5, 6, None, None]]]}
    path = write_text(tmp_path, json.dumps(doc))
    assert detect_format(path) == "json"
    [ink] = read_inks(path)
    assert (ink.label, ink.writer, ink.num_strokes, ink.num_points) == ("hi", "w9", 2, 4)
    assert ink.strokes[0][:, :2].tolist() == [[0, 0], [1, 2]]
    assert ink.strokes[1][0].tolist() == [3, 4, 100, 0.5] and np.isnan(ink.strokes[1][1, 3])
    assert ink.meta["source"] == str(path)


def test_list_and_json_lines(tmp_path: Path) -> None:
    a, b = {"strokes": [[[0, 0]]], "label": "a"}, {"strokes": [[[1, 1]]]}
    assert [i.label for i in read_inks(write_text(tmp_path, json.dumps([a, b])))] == ["a", None]
    lines = f"{json.dumps(a)}\n\n{json.dumps(b)}\n"
    assert [i.label for i in read_inks(write_text(tmp_path, lines, "i.ndjson"))] == ["a", None]
    assert read_inks(write_text(tmp_path, "\ufeff" + json.dumps(a)))[0].label == "a"  # BOM
    assert read_inks(write_text(tmp_path, "[]")) == []
    assert read_inks(write_text(tmp_path, '{"strokes": []}'))[0].is_empty
    assert detect_format(write_text(tmp_path, '{"label": "<ink >", "strokes": []}', "x.txt")) == "json"


@pytest.mark.parametrize(
    "text, where, reason",
    [
        ("", 1, "Expecting value"),
        ('{"strokes": [[[0, 0]]]}\n{"strokes": [[[0, 0]]]', 2, "Expecting"),
        ('{"strokes": [[[0, 0]]]}\n[1, 2] [3]', 2, "Extra data"),
        ('{"strokes": [[[NaN, 0]]]}', None, "NaN is not a number"),
        ('{"strokes": [[[1e400, 0]]]}', "stroke 1", "too large"),
        ('{"strokes": [[[1' + "0" * 5000 + ', 0]]]}', "stroke 1", "too large"),
        ('{"strokes": [[[0, true]]]}', "stroke 1, point 1", "2 to 4 numbers"),
        ('{"strokes": [[[0, "1"]]]}', "stroke 1, point 1", "2 to 4 numbers"),
        ('{"strokes": [[[0, null]]]}', "stroke 1, point 1", "2 to 4 numbers"),
        ('{"strokes": [[[0, 1], [0, 1, 2, 3, 4]]]}', "stroke 1, point 2", "2 to 4 numbers"),
        ('{"strokes": [[[0, 1]], []]}', "stroke 2", "non-empty list"),
        ('{"strokes": [[[0, 1]], 7]}', "stroke 2", "non-empty list"),
        ('[{"strokes": [[[0, 1]]]}, {"strokes": [[[0, 1]]], "label": 5}]', "item 2", '"label" must be'),
        ('{"strokes": [[[0, 1]]], "writer": ["w"]}', None, '"writer" must be'),
        ('{"strokes": [[[0, 1]]], "label": "\\udc00"}', None, "unpaired surrogate"),
        ('{"points": []}', None, 'with a "strokes" list'),
        ("[[1, 2]]", "item 1", 'with a "strokes" list'),
        ('{"strokes": [[[0, 0]]]}\n{"strokes": {}}', "line 2", 'with a "strokes" list'),
        ('{"strokes": [[[0, 0]]]}\n{"strokes": [[[0, 0], [1]]]}', "line 2, stroke 1, point 2", "2 to 4"),
        ("[" * 100_000, None, "nested too deeply"),
    ],
)
def test_errors_name_the_place(tmp_path: Path, text: str, where, reason: str) -> None:
    path = write_text(tmp_path, text)
    with pytest.raises(InkFormatError) as info:
        read_inks(path, "json")
    assert info.value.where == where and reason in info.value.reason


def test_not_utf8_and_too_big(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"label": "\xff"}')
    with pytest.raises(InkFormatError, match="not UTF-8 text"):
        read_inks(path)
    monkeypatch.setattr(jsonink, "MAX_JSON_BYTES", 10)
    path.write_text('{"strokes": [[[0, 0]]]}')
    with pytest.raises(InkFormatError, match="over the"):
        read_inks(path)


def sample(label: str | None = "x") -> Ink:
    return Ink.from_strokes([[[0.5, 1, 0, 0.25], [2, 3, 10, np.nan]], [[4, 5, 20, 1]]], label=label, writer="w")


def test_one_ink_is_written_indented_several_as_json_lines(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    write_ink(sample("café"), one)
    text = one.read_text(encoding="utf-8")
    assert text == (
        '{\n  "label": "café",\n  "writer": "w",\n  "strokes": [\n'
        "    [[0.5, 1, 0, 0.25], [2, 3, 10]],\n    [[4, 5, 20, 1]]\n  ]\n}\n"
    )
    several = tmp_path / "several.ndjson"
    write_ink([sample("a"), sample(None)], several)
    lines = several.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["label"] is None
    assert [i.label for i in read_inks(several)] == ["a", None]
    odd = tmp_path / "odd.ndjson"  # line separators other than \n stay inside strings
    write_ink([sample("a\u2028b\x85c"), sample("\r")], odd)
    assert [i.label for i in read_inks(odd)] == ["a\u2028b\x85c", "\r"]
    odd.unlink()
    with pytest.raises(ValueError):
        jsonink.write([], tmp_path / "none.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.json", "several.ndjson"]


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def inks(draw) -> Ink:
    strokes = []
    for _ in range(draw(st.integers(0, 4))):
        n = draw(st.integers(1, 10))
        pts = [[draw(finite), draw(finite), draw(st.floats(0, 1e9)), draw(st.one_of(st.just(np.nan), finite))]
               for _ in range(n)]
        strokes.append(pts)
    text = st.one_of(st.none(), st.text())
    return Ink.from_strokes(strokes, label=draw(text), writer=draw(text))


@settings(max_examples=60, deadline=None)
@given(ink_list=st.lists(inks(), min_size=1, max_size=3))
def test_round_trip(tmp_path_factory, ink_list: list[Ink]) -> None:
    path = tmp_path_factory.mktemp("rt") / "rt.json"
    jsonink.write(ink_list, path)
    back = read_inks(path)
    assert len(back) == len(ink_list)
    for b, i in zip(back, ink_list):
        assert b.same_as(i, atol=0) and b.writer == i.writer
        assert all(np.array_equal(x, y, equal_nan=True) for x, y in zip(b.strokes, i.strokes))  # bit-exact
