"""Inputs that used to give quiet nonsense: each now says what it is, with the exit code the README gives."""

import json

from handwriting.cli import main
from handwriting.formats import read_inks
from handwriting.formats.page import is_timed


def test_empty_and_blank_files_say_empty(tmp_path, capsys):
    for name, body in (("a.inkml", b""), ("b.json", b"\n  \n"), ("c.csv", b"")):
        (tmp_path / name).write_bytes(body)
        assert main(["info", str(tmp_path / name)]) == 1
        assert main(["recognize", str(tmp_path / name), "--no-lm"]) == 1
        err = capsys.readouterr().err
        assert err.count("empty file") == 2 and "Expecting value" not in err and "malformed" not in err


def test_ink_without_time_stamps_has_unknown_duration(tmp_path, capsys):
    path = tmp_path / "untimed.json"
    path.write_text(json.dumps({"strokes": [[[0, 0], [5, 5], [9, 2]]]}))
    (ink,) = read_inks(path)
    assert not is_timed(ink)
    assert main(["info", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["duration_ms"] is None
    timed = tmp_path / "timed.json"
    timed.write_text(json.dumps({"strokes": [[[0, 0, 0], [5, 5, 10], [9, 2, 20]]]}))
    assert is_timed(read_inks(timed)[0])


def test_single_point_is_an_error_not_a_space(tmp_path, capsys):
    path = tmp_path / "dot.json"
    path.write_text(json.dumps({"strokes": [[[5, 5]]]}))
    assert main(["recognize", str(path), "--format", "jsonl", "--no-lm"]) == 1
    record = json.loads(capsys.readouterr().out)
    assert record["text"] is None and "single point" in record["error"]


def test_info_on_a_file_without_ink_fails_like_recognize(tmp_path, capsys):
    for name, body in (("none.json", "[]"), ("none.dat", ".VERSION 1.0\n")):
        path = tmp_path / name
        path.write_text(body)
        assert (main(["info", str(path)]), main(["recognize", str(path), "--no-lm"])) == (1, 1)
        assert capsys.readouterr().err.count("holds no ink") == 2


def test_app_with_a_bad_model_fails(tmp_path, capsys):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"junk")
    assert main(["app", "--model", str(bad), "--screenshot", str(tmp_path / "s.png")]) == 1
    assert "not a readable ONNX model" in capsys.readouterr().err and not (tmp_path / "s.png").exists()
