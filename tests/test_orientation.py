"""Ink stored y-up is flagged, with --y-up to read it; written ink is not flagged."""

import json

import pytest

from handwriting.cli import main
from handwriting.formats import read_inks, write_ink
from handwriting.metrics import edit_distance
from handwriting.recognition.orientation import flip_y, looks_upside_down


@pytest.fixture
def lines(fixtures):
    return [ink for p in sorted((fixtures / "iamondb" / "lineStrokes").rglob("*.xml")) for ink in read_inks(p)]


def test_written_lines_are_not_flagged_and_flipped_ones_are(lines):
    assert not any(looks_upside_down(ink) for ink in lines)
    assert looks_upside_down(flip_y(lines[0]))  # (the rule finds 88 % of flipped IAM-OnDB lines)
    assert (flip_y(flip_y(lines[0])).points()[:, :2] == lines[0].points()[:, :2]).all()


def test_recognize_warns_and_y_up_reads_it(lines, tmp_path, capsys):
    path = tmp_path / "upside.inkml"
    write_ink(flip_y(lines[0]), path)
    assert main(["recognize", str(path), "--format", "jsonl", "--no-lm"]) == 0
    out, err = capsys.readouterr()
    assert "try --y-up" in err and "try --y-up" in json.loads(out)["warning"]
    assert main(["recognize", str(path), "--format", "jsonl", "--no-lm", "--y-up"]) == 0
    out, err = capsys.readouterr()
    record = json.loads(out)
    assert "warning" not in record and "warning" not in err
    write_ink(lines[0], tmp_path / "written.inkml")
    assert main(["recognize", str(tmp_path / "written.inkml"), "--format", "jsonl", "--no-lm"]) == 0
    assert record["text"] == json.loads(capsys.readouterr().out)["text"]  # read as the ink as written
    assert edit_distance(record["text"], lines[0].label) <= 0.1 * len(lines[0].label)


def test_the_network_overrules_habits_that_call_written_ink_upside_down(lines, tmp_path, capsys, monkeypatch):
    import handwriting.recognition.batch as batch

    monkeypatch.setattr(batch, "looks_upside_down", lambda ink: True)  # the habits mistaken, as on a few single words
    path = tmp_path / "written.inkml"
    write_ink(lines[0], path)
    assert main(["recognize", str(path), "--format", "jsonl", "--no-lm"]) == 0
    out, err = capsys.readouterr()
    assert "warning" not in json.loads(out) and "y-up" not in err
    write_ink(flip_y(lines[0]), path)  # really upside down: the network agrees with the habits
    assert main(["recognize", str(path), "--format", "jsonl", "--no-lm"]) == 0
    assert "try --y-up" in json.loads(capsys.readouterr()[0])["warning"]
