"""InkML: the spec's trace grammar, channels and contexts, groups and labels, writing."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handwriting.errors import InkFormatError
from handwriting.formats import detect_format, inkml, read_inks
from handwriting.ink import Ink

XY = inkml._DEFAULT_FORMAT


def write_text(tmp_path: Path, body: str, name: str = "t.inkml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def ink_doc(body: str) -> str:
    return f'<ink xmlns="http://www.w3.org/2003/InkML">{body}</ink>'


# -- trace text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("10 0, 9 14, 8 28", [[10, 0], [9, 14], [8, 28]]),
        ("10 0,9 14,", [[10, 0], [9, 14]]),  # a trailing comma ends nothing
        ("5-5,-5-5", [[5, -5], [-5, -5]]),  # minus signs glued to numbers
        ("1.5.5, .25.75", [[1.5, 0.5], [0.25, 0.75]]),  # compact decimals
        ("2e1 -1.5E-1, #1F -#a", [[20, -0.15], [31, -10]]),  # exponents and hex
        ("1125 18432,'23'43,\"7\"-8,3-5", [[1125, 18432], [1148, 18475], [1178, 18510], [1211, 18540]]),
        ("0 0, '1 '1, 1 1, !5 1, 6 1", [[0, 0], [1, 1], [2, 2], [5, 3], [6, 4]]),  # sticky modes
        ("0 0, '2 '0, \"1 \"0, 0 0, '0 0", [[0, 0], [2, 0], [5, 0], [8, 0], [8, 0]]),
        ("! 3 4, - 2 '- 1", [[3, 4], [-2, 3]]),  # whitespace after prefixes and signs
        ("1 2, * 5", [[1, 2], [1, 5]]),  # '*' repeats the previous value
        ("", np.zeros((0, 2))),
    ],
)
def test_decode_trace_grammar(text: str, expected) -> None:
    assert np.allclose(inkml.decode_trace(text, XY), np.array(expected, dtype=float).reshape(-1, 2))


def test_decode_trace_booleans_unknowns_and_defaults() -> None:
    channels = (
        inkml._Channel("X"),
        inkml._Channel("Y"),
        inkml._Channel("S", intermittent=True, default=0.0),
        inkml._Channel("F", intermittent=True, default=0.5),
    )
    out = inkml.decode_trace("1 2 T ?, 3 4 F, 5 6", channels)
    assert np.allclose(out[:, :3], [[1, 2, 1], [3, 4, 0], [5, 6, 0]])
    assert math.isnan(out[0, 3]) and out[1, 3] == out[2, 3] == 0.5


@pytest.mark.parametrize(
    "text, message",
    [
        ("1 2 3", "more values than the 2 channels"),
        ("1", "point 1 has 1 values"),
        ("1 2,, 3 4", "point 2 has 0 values"),
        ("1 x", "unexpected 'x'"),
        ("1 2, ' , 3", "not followed by a value"),
        ("1 2 '", "ends with"),
        ("'1 2", "no previous value"),
        ("1e999 2", "out of range"),
        ("#" + "F" * 300 + " 1", "out of range"),
    ],
)
def test_decode_trace_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        inkml.decode_trace(text, XY)


# -- fixtures -------------------------------------------------------------------------------


def test_channels_in_any_order_time_units_orientation_and_force(fixtures: Path) -> None:
    path = fixtures / "inkml" / "channels_order.inkml"
    assert detect_format(path) == "inkml"
    [ink] = read_inks(path)
    assert (ink.label, ink.writer) == ("hi", "w042")
    assert np.allclose(ink.strokes[0], [[1, 10, 500, 0.25], [2, 12, 510, 0.5], [3, 14, 520, 0.75]])
    assert np.allclose(ink.strokes[1], [[5, 20, 1000, 0.3], [6, 21, 1020, 0.4]])


def test_difference_coded_traces(fixtures: Path) -> None:
    [ink] = read_inks(fixtures / "inkml" / "delta.inkml")
    assert ink.label == "delta" and not ink.has_pressure
    assert np.allclose(ink.strokes[0][:, :2], [[1125, 18432], [1148, 18475], [1178, 18510], [1211, 18540]])
    assert np.allclose(ink.strokes[1][:, :2], [[10, 10], [11, 12], [12, 14], [20, 14], [21, 14]])
    assert np.allclose(ink.strokes[2][:, :2], [[5, -5], [-5, -5], [1.5, 0.5], [31, -10], [20, 0]])
    assert np.all(np.diff(ink.points()[:, 2]) > 0)  # no T channel: times filled in


def test_labelled_groups_become_inks(fixtures: Path) -> None:
    inks = read_inks(fixtures / "inkml" / "groups.inkml")
    assert [i.label for i in inks] == ["x", "+", "1"]  # "Segmentation" holds no strokes of its own
    assert [i.writer for i in inks] == ["crohme_7", "someone_else", "crohme_7"]
    x, plus, one = inks
    assert np.allclose(x.strokes[0][:, :2], [[0, 0], [10, 10]])
    assert [s[:, :2].tolist() for s in plus.strokes] == [[[20, 5], [30, 5]], [[25, 0], [25, 10]]]
    assert one.strokes[0][:, :2].tolist() == [[40, 5], [40, 10]]  # from="2" to="3", 1-based inclusive


def test_contexts_from_definitions(fixtures: Path) -> None:
    [ink] = read_inks(fixtures / "inkml" / "definitions.inkml")
    assert ink.label == "defs"
    s = ink.strokes
    assert np.allclose(s[0][:, :3], [[1, 2, 0], [3, 4, 10]])  # contextRef -> contextRef -> traceFormatRef
    assert np.allclose(s[1][:, :3], [[5, 6, 20]])  # traceGroup contextRef
    assert np.allclose(s[2][:, [0, 1, 3]], [[10, 20, 0.9], [30, 40, 0.5]])  # inkSource: Y X [F=0.5]
    assert np.allclose(s[3][:, :2], [[7, 8]])  # #DefaultContext: X Y


# -- structure, made up in the tests ------------------------------------------------------------


def test_unlabelled_groups_give_one_ink_in_document_order(tmp_path: Path) -> None:
    body = ink_doc(
        '<annotation type="truth"> whole line </annotation>'
        "<trace>0 0, 1 1</trace><traceGroup><trace>2 2</trace><traceGroup><trace>3 3</trace></traceGroup></traceGroup>"
        '<trace type="penUp">9 9</trace>'
    )
    [ink] = read_inks(write_text(tmp_path, body))
    assert ink.label == "whole line"
    assert [s[0, 0] for s in ink.strokes] == [0, 2, 3]


def test_traceviews_alone_give_the_strokes(tmp_path: Path) -> None:
    body = ink_doc(
        '<definitions><trace xml:id="a">0 0, 1 1, 2 2</trace><trace xml:id="b">5 5, 6 6</trace>'
        '<traceGroup xml:id="g"><traceView traceDataRef="#a"/><traceView traceDataRef="#b"/></traceGroup></definitions>'
        '<traceView traceDataRef="#g" from="1:2" to="2:1"/>'
    )
    [ink] = read_inks(write_text(tmp_path, body))
    assert [s[:, 0].tolist() for s in ink.strokes] == [[1, 2], [5]]


def test_several_ink_elements_and_time_offset(tmp_path: Path) -> None:
    tf = '<traceFormat><channel name="X"/><channel name="Y"/><channel name="T" units="s"/></traceFormat>'
    body = (
        "<corpus>"
        f'<ink><annotation type="truth">one</annotation>{tf}<trace timeOffset="2">0 0 0, 1 1 0.5</trace></ink>'
        f'<ink><annotation type="truth">two</annotation><trace>5 5</trace></ink>'
        "</corpus>"
    )
    first, second = read_inks(write_text(tmp_path, body))
    assert (first.label, second.label) == ("one", "two")
    assert first.strokes[0][:, 2].tolist() == [2000, 2500]


@pytest.mark.parametrize(
    "body, where, reason",
    [
        ("<trace>0 0</trace><trace>1 2 3</trace>", "trace 2", "more values"),
        ('<trace id="s7">1 q</trace>', "trace 1 (id 's7')", "unexpected 'q'"),
        ('<trace contextRef="#nope">1 2</trace>', "reference '#nope'", "names no element"),
        ('<trace contextRef="other.inkml#c">1 2</trace>', "reference 'other.inkml#c'", "other files"),
        ('<context xml:id="c" contextRef="#c"/><trace contextRef="#c">1 2</trace>', "context", "circular"),
        ('<traceFormat><channel name="X"/><channel name="T" units="week"/></traceFormat>', "channel T", "time unit"),
        ('<traceFormat><channel name="X"/><channel name="X"/></traceFormat>', "traceFormat", "repeats"),
        ("<traceFormat/>", "traceFormat", "no channels"),
        ('<traceFormat><channel name="X"/><channel name="T"/></traceFormat><trace>1 2</trace>', "trace 1", "no Y"),
        ('<trace>1 ?</trace>', "trace 1", "no X or Y value"),
        ('<traceFormat><channel name="X"/><channel name="Y" default="up"/></traceFormat>', "channel Y", "not a number"),
        ('<trace>1 2</trace><traceView traceDataRef="#DefaultContext"/>', "traceView '#DefaultContext'", "must name"),
        ('<trace id="t">1 2</trace><traceView traceDataRef="t" from="3"/>', "traceView 't'", "select 3..1"),
        ('<trace id="t">1 2</trace><traceView traceDataRef="t" from="x"/>', "traceView", "index path"),
        ("<annotation>nothing</annotation>", "ink", "no traces"),
    ],
)
def test_errors_name_the_place(tmp_path: Path, body: str, where: str, reason: str) -> None:
    path = write_text(tmp_path, ink_doc(body))
    with pytest.raises(InkFormatError) as info:
        read_inks(path)
    assert info.value.where == where and reason in info.value.reason
    assert str(path) in str(info.value)


def test_deep_and_exploding_structures_are_refused(tmp_path: Path) -> None:
    deep = ink_doc("<traceGroup>" * 10000 + "<trace>1 2</trace>" + "</traceGroup>" * 10000)
    with pytest.raises(InkFormatError, match="nested more than"):
        read_inks(write_text(tmp_path, deep))
    # each group views the next one twice: 2**25 strokes if expanded
    view = '<traceView traceDataRef="#g{}"/>'
    groups = "".join(f'<traceGroup xml:id="g{i}">{view.format(i + 1) * 2}</traceGroup>' for i in range(25))
    last = '<traceGroup xml:id="g25"><trace>1 2</trace></traceGroup>'
    bomb = ink_doc(f'<definitions>{groups}{last}</definitions><traceView traceDataRef="#g0"/>')
    with pytest.raises(InkFormatError, match="far more items"):
        read_inks(write_text(tmp_path, bomb))


def test_not_inkml(tmp_path: Path) -> None:
    with pytest.raises(InkFormatError, match="no <ink> element"):
        read_inks(write_text(tmp_path, "<svg><path/></svg>"), "inkml")
    with pytest.raises(InkFormatError, match="malformed XML"):
        read_inks(write_text(tmp_path, "<ink><trace>1 2</trace>"))


# -- writing ----------------------------------------------------------------------------------


def sample(label: str | None = "hello", pressure: bool = True) -> Ink:
    p = [0.5, np.nan, 0.7] if pressure else [np.nan] * 3
    return Ink.from_strokes(
        [[[0.1, 2, 0, p[0]], [3, 4.25, 10, p[1]]], [[5, 1e-7, 20, p[2]]]], label=label, writer="w1"
    )


def test_written_file_is_inkml_with_one_context(tmp_path: Path) -> None:
    path = tmp_path / "out.inkml"
    inkml.write([sample()], path)
    text = path.read_text()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<ink xmlns="http://www.w3.org/2003/InkML">')
    assert text.count("<context>") == 1 and "<intermittentChannels>" in text and "<traceGroup>" not in text
    assert '<trace>0.1 2 0 0.5, 3 4.25 10</trace>' in text  # no pressure: F left out
    assert detect_format(path) == "inkml"
    [back] = read_inks(path)
    assert back.same_as(sample()) and back.writer == "w1"
    assert [p.name for p in tmp_path.iterdir()] == ["out.inkml"]  # no temporary left behind


def test_several_inks_become_labelled_groups(tmp_path: Path) -> None:
    path = tmp_path / "out.inkml"
    inks = [sample("a <b> & c", pressure=False), sample(None, pressure=False)]
    inkml.write(inks, path)
    text = path.read_text()
    assert text.count("<traceGroup>") == 2 and "<intermittentChannels>" not in text
    assert "a &lt;b&gt; &amp; c" in text
    back = read_inks(path)
    assert [b.label for b in back] == ["a <b> & c", None]
    assert all(b.same_as(i) for b, i in zip(back, inks))


def test_delta_writing_uses_both_difference_orders(tmp_path: Path) -> None:
    ink = Ink.from_strokes([[[10, 10, 0], [12, 9, 10], [15, 7, 20], [19, 6, 30]]], label="d")
    path = tmp_path / "d.inkml"
    inkml.write([ink], path, delta=True)
    assert "<trace>10 10 0, '2 '-1 '10, \"1 \"-1 \"0, 1 1 0</trace>" in path.read_text()
    assert read_inks(path)[0].same_as(ink)


def test_writer_refuses_what_inkml_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        inkml.write([], tmp_path / "e.inkml")
    with pytest.raises(ValueError, match="at least one"):
        inkml.write([Ink(())], tmp_path / "e.inkml")
    with pytest.raises(ValueError, match="XML 1.0"):
        inkml.write([sample("bell\x07")], tmp_path / "e.inkml")
    assert not list(tmp_path.iterdir())


# -- round trips -------------------------------------------------------------------------------

coordinate = st.floats(-1e5, 1e5, allow_nan=False).map(lambda v: round(v, 3))
xml_label = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff"), min_size=1, max_size=20
).map(str.strip).filter(bool)


@st.composite
def inks(draw, label=st.one_of(st.none(), xml_label)) -> Ink:
    strokes = []
    t = draw(st.floats(0, 1e6))
    with_pressure = draw(st.booleans())
    for _ in range(draw(st.integers(1, 4))):
        points = []
        for _ in range(draw(st.integers(1, 12))):
            t += draw(st.sampled_from([0.0, 5.0, 7.5, 10.0, 33.3]))
            p = draw(st.one_of(st.just(np.nan), st.floats(0, 1))) if with_pressure else np.nan
            points.append([draw(coordinate), draw(coordinate), t, p])
        strokes.append(points)
    writer = draw(st.one_of(st.none(), st.text("abcxyz0123_", min_size=1, max_size=8)))
    return Ink.from_strokes(strokes, label=draw(label), writer=writer)


@settings(max_examples=60, deadline=None)
@given(ink_list=st.lists(inks(), min_size=1, max_size=3), delta=st.booleans())
def test_round_trip(tmp_path_factory, ink_list: list[Ink], delta: bool) -> None:
    path = tmp_path_factory.mktemp("rt") / "rt.inkml"
    inkml.write(ink_list, path, delta=delta)
    back = read_inks(path)
    assert len(back) == len(ink_list)
    for b, i in zip(back, ink_list):
        assert b.same_as(i), (b.strokes, i.strokes)
        assert b.writer == i.writer
