"""IAM-OnDB line files: points, transcription lookup, and clear errors for bad point values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from handwriting.errors import InkFormatError
from handwriting.formats import iamondb

LINE = Path(__file__).parent.parent / "datasets" / "samples" / "iamondb" / "lineStrokes" / "a01" / "a01-001" / "a01-001z-01.xml"


def _line(points: str) -> bytes:
    return (f'<?xml version="1.0"?><WhiteboardCaptureSession><StrokeSet>'
            f'<Stroke><Point x="1" y="2" time="10.5"/></Stroke><Stroke>{points}</Stroke>'
            f'</StrokeSet></WhiteboardCaptureSession>').encode()


def test_fixture_line_has_points_in_milliseconds_and_its_transcription():
    ink = iamondb.read(LINE)[0]
    first = ink.strokes[0]
    assert first[0, :2].tolist() == [902.0, 1131.0]
    assert first[1, 2] - first[0, 2] == pytest.approx(10.0)  # 0.01 s apart
    assert ink.label and ink.writer


def test_missing_time_becomes_nan_and_the_ink_still_reads(tmp_path):
    path = tmp_path / "line.xml"
    path.write_bytes(_line('<Point x="3" y="4"/><Point x="5" y="6" time="11"/>'))
    second = iamondb.read(path)[0].strokes[1]
    assert second[:, :2].tolist() == [[3.0, 4.0], [5.0, 6.0]]


@pytest.mark.parametrize("points, message", [
    ('<Point x="abc" y="4" time="11"/>', "not a number: 'abc'"),
    ('<Point y="4" time="11"/>', "not a number: None"),
    ('<Point x="3" y="nan" time="11"/>', "not a finite number: 'nan'"),
    ('<Point x="3" y="4" time="inf"/>', "not a finite number: 'inf'"),
])
def test_bad_point_values_name_the_file_and_the_stroke(tmp_path, points, message):
    path = tmp_path / "bad.xml"
    path.write_bytes(_line(points))
    with pytest.raises(InkFormatError) as info:
        iamondb.read(path)
    text = str(info.value)
    assert str(path) in text and "Stroke 2" in text and message in text


def test_points_parse_as_exact_floats(tmp_path):
    path = tmp_path / "line.xml"
    path.write_bytes(_line('<Point x="0.1" y="-2.5e3" time="11.25"/>'))
    assert np.array_equal(iamondb.read(path)[0].strokes[1][0, :3], [0.1, -2500.0, 11250.0])


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE s [<!ENTITY ext SYSTEM "file:///etc/passwd">]>',
])
def test_entity_declarations_are_refused(tmp_path, doctype):
    path = tmp_path / "entities.xml"
    path.write_bytes(_line('<Point x="3" y="4" time="11"/>').replace(b"?>", b"?>" + doctype.encode(), 1))
    with pytest.raises(InkFormatError, match="unsafe XML refused"):
        iamondb.read(path)


def test_utf16_document_reads_through_the_safe_parser(tmp_path):
    path = tmp_path / "utf16.xml"
    text = _line('<Point x="3" y="4" time="11"/>').decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
    path.write_bytes(text.encode("utf-16"))
    assert iamondb.read(path)[0].strokes[1][0, :2].tolist() == [3.0, 4.0]
