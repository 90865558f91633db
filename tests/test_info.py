"""`handwriting info`: text and JSON records, per-file and per-item errors, exit codes."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from handwriting import formats
from handwriting.cli import main
from handwriting.errors import InkFormatError
from handwriting.ink import Ink

KEYS = {"path", "format", "index", "label", "writer", "strokes", "points", "duration_ms", "error"}


def json_records(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_text_lines_and_summary(fixtures: Path, capsys) -> None:
    files = [fixtures / "inkml" / "groups.inkml", fixtures / "inkml" / "channels_order.inkml"]
    assert main(["info", *map(str, files)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 4
    assert lines[0].endswith('groups.inkml[0]  inkml  1 strokes  2 points  no time stamps  "x"')  # no T channel
    assert lines[3].endswith('channels_order.inkml[0]  inkml  2 strokes  5 points  0.52 s  "hi"')
    assert err.strip() == "2 files, 4 inks, 0 failures"


def test_json_records(fixtures: Path, capsys) -> None:
    assert main(["info", "--json", str(fixtures / "inkml" / "channels_order.inkml")]) == 0
    out, err = capsys.readouterr()
    [record] = json_records(out)
    assert set(record) == KEYS
    assert record == {
        "path": str(fixtures / "inkml" / "channels_order.inkml"),
        "format": "inkml",
        "index": 0,
        "label": "hi",
        "writer": "w042",
        "strokes": 2,
        "points": 5,
        "duration_ms": 520.0,
        "error": None,
    }
    assert err == ""  # no summary in JSON mode


def test_a_bad_file_does_not_stop_the_rest(tmp_path: Path, fixtures: Path, capsys) -> None:
    shutil.copy(fixtures / "inkml" / "delta.inkml", tmp_path / "a.inkml")
    (tmp_path / "b.inkml").write_text("<ink><trace>1 2 3</trace></ink>")
    (tmp_path / "c.json").write_text('{"strokes": [[[0, 0, 0], [1, 1, 10]]], "label": "ok"}')
    (tmp_path / "notes.txt").write_text("not ink, not listed")
    missing = tmp_path / "missing.inkml"
    assert main(["info", "--json", str(tmp_path), str(missing)]) == 1
    records = json_records(capsys.readouterr().out)
    assert [(Path(r["path"]).name, r["index"], r["format"]) for r in records] == [
        ("a.inkml", 0, "inkml"),
        ("b.inkml", None, "inkml"),
        ("c.json", 0, "json"),
        ("missing.inkml", None, None),
    ]
    assert all(set(r) == KEYS for r in records)
    bad = records[1]
    assert "trace 1" in bad["error"] and bad["strokes"] is None and bad["label"] is None
    assert "No such file" in records[3]["error"]
    assert records[2]["label"] == "ok" and records[2]["duration_ms"] == 10.0

    assert main(["info", str(tmp_path), str(missing)]) == 1
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2
    assert "error: " in err and "b.inkml: trace 1:" in err
    assert err.splitlines()[-1] == "4 files, 2 inks, 2 failures"


def test_item_errors_from_read_items(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "x.json"
    path.write_text("{}")

    def read_items(p: Path) -> list:
        return [Ink.from_strokes([[[0, 0, 0]]], label="good"), InkFormatError(p, "segment 2", "no pen data")]

    monkeypatch.setattr(formats.READERS["json"], "read_items", read_items, raising=False)
    assert main(["info", "--json", str(path)]) == 1
    good, bad = json_records(capsys.readouterr().out)
    assert (good["index"], good["label"], good["error"]) == (0, "good", None)
    assert bad["index"] == 1 and bad["error"].endswith("segment 2: no pen data") and bad["points"] is None


def test_bad_usage_exits_2(capsys) -> None:
    for argv in (["info"], ["info", "--bogus", "x.inkml"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count(" error: ") == 2 and err.count("\n") == 2  # one line each


def test_progress_bar_only_on_a_terminal_and_for_many_files(tmp_path: Path, monkeypatch, capsys) -> None:
    for i in range(25):
        (tmp_path / f"{i:02d}.json").write_text('{"strokes": [[[0, 0]]]}')
    assert main(["info", str(tmp_path)]) == 0
    assert capsys.readouterr().err == "25 files, 25 inks, 0 failures\n"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["info", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "/25" in err and len(out.splitlines()) == 25


def test_a_model_file_is_described(tmp_path: Path, capsys) -> None:
    from handwriting.recognition.modelfile import default_model_path, load_model_file

    shipped = default_model_path()
    model = load_model_file(shipped)
    assert main(["info", str(shipped)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{shipped}  model  {model.layers}x{model.hidden} BiLSTM  88 characters  ")
    assert f"LM {shipped.with_suffix('.lm').name}" in out and "model card inside" in out
    assert err.strip() == "1 files, 0 inks, 1 models, 0 failures"

    (tmp_path / "broken.onnx").write_bytes(shipped.read_bytes()[:1000])
    assert main(["info", "--json", str(shipped), str(tmp_path / "broken.onnx")]) == 1
    described, broken = json_records(capsys.readouterr().out)
    assert (described["layers"], described["hidden"], described["error"]) == (model.layers, model.hidden, None)
    assert described["lm"] == str(shipped.with_suffix(".lm")) and described["epochs"] >= 1
    assert broken["format"] == "model" and "broken.onnx" in broken["error"]
