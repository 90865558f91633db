"""Bounded decompression (`handwriting.limits.inflate`) and the readers that use it: a gzip bomb
is refused on one line naming the file, and costs about the limit in memory, not twice it."""

from __future__ import annotations

import gzip
import random
import tracemalloc
import zlib

import pytest

from handwriting.cli import main
from handwriting.errors import InkFormatError
from handwriting.formats import read_inks
from handwriting.limits import INFLATE_CHUNK, MB, inflate

XOPP_HEAD = b'<?xml version="1.0"?><xournal><page width="10" height="10"><layer>'
XOPP_TAIL = b"</layer></page></xournal>"


def _bomb(tmp_path, megabytes: int):
    path = tmp_path / "bomb.xopp"
    path.write_bytes(gzip.compress(XOPP_HEAD + b" " * (megabytes * MB) + XOPP_TAIL, 9))
    return path


def test_xopp_gzip_bomb_is_one_line_naming_the_file(tmp_path, capsys):
    bomb = _bomb(tmp_path, 64)
    assert bomb.stat().st_size < 100_000
    assert main(["info", str(bomb)]) == 1
    err = capsys.readouterr().err
    about = [line for line in err.splitlines() if str(bomb) in line]
    assert len(about) == 1 and "HANDWRITING_MAX_INFLATE_RATIO" in about[0] and "Traceback" not in err, err


def test_xopp_size_cap_is_the_shared_variable(tmp_path, monkeypatch):
    path = tmp_path / "padded.xopp"
    stroke = b'<stroke tool="pen" color="#000000ff" width="1">1 2 3 4 5 6</stroke>'
    path.write_bytes(gzip.compress(XOPP_HEAD + b" " * (16 * MB) + stroke + XOPP_TAIL, 9))
    monkeypatch.setenv("HANDWRITING_MAX_INFLATE_RATIO", "1000000")
    monkeypatch.setenv("HANDWRITING_MAX_INFLATED_MB", "4")
    with pytest.raises(InkFormatError, match="over 4 MB .*HANDWRITING_MAX_INFLATED_MB") as err:
        read_inks(path)
    assert str(err.value).startswith(str(path))
    monkeypatch.setenv("HANDWRITING_MAX_INFLATED_MB", "32")
    assert [ink.num_points for ink in read_inks(path)] == [3]


@pytest.mark.parametrize("limit_mb", [8, 24])
def test_bomb_peak_memory_stays_near_the_limit(tmp_path, monkeypatch, limit_mb):
    bomb = _bomb(tmp_path, 128)
    monkeypatch.setenv("HANDWRITING_MAX_FILE_MB", "1")  # reading the file reserves no more than this
    monkeypatch.setenv("HANDWRITING_MAX_INFLATE_RATIO", "1000000")
    monkeypatch.setenv("HANDWRITING_MAX_INFLATED_MB", str(limit_mb))
    tracemalloc.start()
    try:
        with pytest.raises(InkFormatError, match="HANDWRITING_MAX_INFLATED_MB"):
            read_inks(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit_mb * MB + 3 * INFLATE_CHUNK, peak / MB


def test_inflate_reads_every_member_and_refuses_damage(tmp_path):
    body = random.Random(0).randbytes(5 * MB)  # several chunks, incompressible
    assert inflate(gzip.compress(body[:100]) + gzip.compress(body), "f") == body[:100] + body
    assert inflate(zlib.compress(body), "f", wbits=15) == body
    whole = gzip.compress(body)
    with pytest.raises(InkFormatError, match="cut short"):
        inflate(whole[: len(whole) // 2], "f")
    with pytest.raises(InkFormatError, match="damaged compressed data"):
        inflate(whole[:20] + b"\xff" * 200 + whole[220:], "f")
