"""Bombs and limits: every class of file that would cost far more than its size is refused
with one clear line naming the limit and the variable that raises it."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from handwriting.cli import main
from handwriting.errors import HandwritingError, InkFormatError
from handwriting.formats import read_inks, read_items
from handwriting.recognition.lm import load_language_model

FIXTURES = Path(__file__).parent.parent / "datasets" / "samples"


def _zeros_npz(path: Path, megabytes: int) -> None:
    """A shard whose points decompress to `megabytes` MB of zeros (about 1,000 times its size)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in (("points", np.zeros((megabytes * 2**20 // 12, 3), np.float32)),
                            ("stroke_ends", np.array([1])), ("sample_ends", np.array([1])), ("meta", np.array("[{}]"))):
            member = io.BytesIO()
            np.save(member, array)
            archive.writestr(f"{name}.npy", member.getvalue())
    path.write_bytes(buffer.getvalue())


def test_npz_bomb_refused_before_decompressing(tmp_path, capsys):
    shard = tmp_path / "bomb.npz"
    _zeros_npz(shard, 64)
    assert shard.stat().st_size < 200_000
    assert main(["info", str(shard)]) == 1
    assert "HANDWRITING_MAX_INFLATE_RATIO" in capsys.readouterr().err


def test_npz_inflated_size_cap(tmp_path, monkeypatch):
    shard = tmp_path / "bomb.npz"
    _zeros_npz(shard, 8)
    monkeypatch.setenv("HANDWRITING_MAX_INFLATE_RATIO", "100000")
    monkeypatch.setenv("HANDWRITING_MAX_INFLATED_MB", "4")
    with pytest.raises(InkFormatError, match="HANDWRITING_MAX_INFLATED_MB"):
        read_inks(shard)


def test_npz_with_inconsistent_arrays_is_one_error(tmp_path):
    shard = tmp_path / "bad.npz"
    np.savez_compressed(shard, points=np.zeros((3, 3), np.float32), stroke_ends=np.array([2, 9]),
                        sample_ends=np.array([2]), meta=np.array("[{}]"))
    with pytest.raises(InkFormatError, match="stroke_ends must rise"):
        read_inks(shard)


def test_lm_bomb_and_damaged_lm(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.lm"
    bomb.write_bytes(gzip.compress(b"[" + b" " * (32 * 2**20) + b"]"))
    with pytest.raises(HandwritingError, match="HANDWRITING_MAX_INFLATE_RATIO"):
        load_language_model(bomb)
    monkeypatch.setenv("HANDWRITING_MAX_INFLATE_RATIO", "100000")
    monkeypatch.setenv("HANDWRITING_MAX_INFLATED_MB", "16")
    with pytest.raises(HandwritingError, match="HANDWRITING_MAX_INFLATED_MB"):
        load_language_model(bomb)
    for body in ([1, 2], {"alphabet": "ab", "order": 3, "counts": {"a": [1]}, "lexicon": []},
                 {"alphabet": "ab", "order": 3, "counts": {"a": {"b": "x"}}, "lexicon": []},
                 {"alphabet": "ab", "order": 10**9, "counts": {}, "lexicon": []}):
        damaged = tmp_path / "damaged.lm"
        damaged.write_bytes(gzip.compress(json.dumps(body).encode()))
        with pytest.raises(HandwritingError, match="not a readable language model"):
            load_language_model(damaged)


def _json_ink(path: Path, strokes: int, points: int) -> Path:
    path.write_text(json.dumps({"strokes": [[[i, (i * 7) % 13] for i in range(points)]] * strokes}))
    return path


@pytest.mark.parametrize("variable,strokes,points", [("HANDWRITING_MAX_POINTS", 4, 300),
                                                     ("HANDWRITING_MAX_STROKES", 1001, 1),
                                                     ("HANDWRITING_MAX_STROKE_POINTS", 1, 1001)])
def test_ink_size_limits(tmp_path, monkeypatch, capsys, variable, strokes, points):
    ink = _json_ink(tmp_path / "big.json", strokes, points)
    monkeypatch.setenv(variable, "1000")
    with pytest.raises(InkFormatError, match=variable):
        read_inks(ink)
    try:  # the JSON reader refuses before checking the points one by one; others give an error item
        assert isinstance(read_items(ink)[0], InkFormatError)
    except InkFormatError as exc:
        assert variable in str(exc)
    assert main(["recognize", str(ink), "--no-lm"]) == 1
    assert variable in capsys.readouterr().err
    monkeypatch.setenv(variable, "100000")
    assert read_inks(ink)[0].num_points == strokes * points


def test_recognition_limit(tmp_path, monkeypatch, capsys):
    ink = _json_ink(tmp_path / "long.json", 10, 100)
    monkeypatch.setenv("HANDWRITING_MAX_RECOGNIZE_POINTS", "500")
    assert main(["recognize", str(ink), "--format", "jsonl", "--no-lm"]) == 1
    assert "HANDWRITING_MAX_RECOGNIZE_POINTS" in json.loads(capsys.readouterr().out)["error"]


def test_bad_limit_value_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HANDWRITING_MAX_POINTS", "lots")
    assert main(["info", str(FIXTURES / "notes" / "points.csv")]) == 1
    assert "$HANDWRITING_MAX_POINTS must be a positive whole number" in capsys.readouterr().err


def _run_cli(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "handwriting.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **env})


def test_fifo_and_devices_are_refused(tmp_path):
    fifo = tmp_path / "pipe.inkml"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    result = _run_cli("info", str(fifo), str(zero), timeout=60)  # a FIFO read would block forever
    assert result.returncode == 1
    assert "not a regular file (a FIFO)" in result.stderr and "not a regular file (a device)" in result.stderr
    assert "Traceback" not in result.stderr


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def test_prepare_extraction_cap_and_no_temp_left(tmp_path):
    info = tarfile.TarInfo("iamondb/lineStrokes/big.xml")
    info.size = 3 * 2**20
    archive = _tar(tmp_path / "bomb.tar.gz", [(info, bytes(info.size))])
    temp = tmp_path / "temp"
    temp.mkdir()
    result = _run_cli("prepare", "iamondb", str(archive), "--out", str(tmp_path / "prep"),
                      HANDWRITING_MAX_EXTRACT_MB="2", TMPDIR=str(temp))
    assert result.returncode == 1 and "HANDWRITING_MAX_EXTRACT_MB" in result.stderr
    assert result.stderr.count("\n") == 1 and not list(temp.glob("handwriting-*"))


@pytest.mark.parametrize("name,kind,target", [("../escape.xml", tarfile.REGTYPE, ""), ("/abs.xml", tarfile.REGTYPE, ""),
                                              ("iamondb/link", tarfile.SYMTYPE, "/etc/passwd"),
                                              ("iamondb/dev", tarfile.CHRTYPE, "")])
def test_prepare_refused_members_are_one_line(tmp_path, name, kind, target):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    archive = _tar(tmp_path / "evil.tar.gz", [(info, b"" if kind == tarfile.REGTYPE else None)])
    temp = tmp_path / "temp"
    temp.mkdir()
    result = _run_cli("prepare", "iamondb", str(archive), "--out", str(tmp_path / "prep"), TMPDIR=str(temp))
    assert result.returncode == 1 and "refused" in result.stderr and "Traceback" not in result.stderr
    assert not list(temp.glob("handwriting-*")) and not (tmp_path / "escape.xml").exists()
