"""Damaged files of every format: reading returns inks or raises InkFormatError, nothing else.

`read_inks` turns any stray exception into InkFormatError("unreadable (...)"), so the test also
fails on that message: it means a reader crashed instead of reporting the problem itself.
"""

from __future__ import annotations

import gzip
import random
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from handwriting.errors import InkFormatError
from handwriting.formats import READERS, inkml, jsonink, read_inks
from handwriting.ink import Ink

FIXTURES = Path(__file__).parent.parent / "datasets" / "samples"
MUTATIONS_PER_FORMAT = 1000
NOTE_FORMATS = ("xournal", "remarkable", "csv")  # fixtures in fixtures/notes
NUMBER = re.compile(rb"-?\d+(?:\.\d+)?")
GARBAGE_NUMBERS = [
    b"1e999", b"-1e400", b"9" * 400, b"nan", b"inf", b"-", b"", b"1.2.3", b"#" + b"F" * 300,
    b"'", b'"', b"?", b"*", b"T", b"1e-400", b"-0", b"\xd9\xa1", b"0x1F", b"1_000", b"--1",
]
SNIPPETS = [
    b'<traceView traceDataRef="#0"/>', b'<context contextRef="#c"/>', b'contextRef="#DefaultContext" ',
    b"<traceGroup>", b"</traceGroup>", b'<annotation type="truth">', b"<!DOCTYPE ink>", b"&amp;", b"]]>",
    b'"strokes": null', b"{", b"]", b"\x00", b"\xff\xfe", b".PEN_DOWN\n", b".PEN_UP\n", b".SEGMENT\n",
    b".COORD X Y T\n", b'.INCLUDE "nowhere"\n', b",", b"\n",
]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One random kind of damage."""
    n = len(data)
    at = rng.randrange(n + 1)
    kind = rng.randrange(11)
    if kind == 0:
        return data[:at]
    if kind == 1:
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            if out:
                out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return bytes(out)
    if kind == 2:
        return data[:at] + data[at + rng.randint(1, 200) :]
    if kind == 3:
        return data[:at] + rng.randbytes(rng.randint(1, 50)) + data[at:]
    if kind == 4:
        start = rng.randrange(n + 1)
        return data[:at] + data[start : start + rng.randint(1, 2000)] + data[at:]
    if kind == 5:
        numbers = list(NUMBER.finditer(data))
        for m in rng.sample(numbers, min(len(numbers), rng.randint(1, 5))):
            data = data[: m.start()] + rng.choice(GARBAGE_NUMBERS) + data[m.end() :]
        return data
    if kind == 6:
        opener, closer = rng.choice([(b"<traceGroup>", b"</traceGroup>"), (b"<a>", b"</a>"), (b"[", b"]")])
        depth = rng.choice([100, 1000, 10000])
        return data[:at] + opener * depth + (closer * depth if rng.random() < 0.5 else b"") + data[at:]
    if kind == 7:
        return data[:at] + rng.choice(SNIPPETS) + data[at:]
    if kind == 8:
        return b""
    if kind == 9:
        return rng.randbytes(rng.randint(1, 3000))
    return data[:at] + rng.choice([b"1" * 5000, b"9e" + b"9" * 50, b"-" * 1000]) + data[at:]


def corpus(tmp_path: Path, name: str) -> list[Path]:
    """Valid files of one format, copied (with their folder, for side files) under tmp_path."""
    if name == "inkml":
        ink = Ink.from_strokes([[[0, 0, 0, 0.5], [3, 4, 10, np.nan], [5, 1, 20, 0.7]], [[7, 8, 30, 0.1]]], label="a")
        inkml.write([ink, ink.with_label("b")], tmp_path / "w.inkml", delta=True)
        shutil.copytree(FIXTURES / "inkml", tmp_path / "inkml")
        return [tmp_path / "w.inkml", *sorted((tmp_path / "inkml").iterdir())]
    if name == "json":
        ink = Ink.from_strokes([[[0, 0, 0, 0.5], [3, 4, 10, np.nan]], [[7.25, -8, 30]]], label="a", writer="w")
        jsonink.write([ink], tmp_path / "one.json")
        jsonink.write([ink, ink.with_label(None)], tmp_path / "two.ndjson")
        return [tmp_path / "one.json", tmp_path / "two.ndjson"]
    if name in NOTE_FORMATS:
        if name == "remarkable":
            pytest.importorskip("rmscene", reason="rmscene not installed (pip install 'handwriting[remarkable]')")
        files = [tmp_path / p.name for p in sorted((FIXTURES / "notes").iterdir()) if p.suffix in READERS[name].SUFFIXES]
        for p in files:
            shutil.copy(FIXTURES / "notes" / p.name, p)
        if name == "xournal":  # the XML itself, so that most mutations reach the parser rather than gzip
            (tmp_path / "plain.xoj").write_bytes(gzip.decompress((FIXTURES / "notes" / "page.xopp").read_bytes()))
            files.append(tmp_path / "plain.xoj")
        return files
    source = FIXTURES / name
    if not source.is_dir():
        pytest.skip(f"no {name} fixtures yet")
    shutil.copytree(source, tmp_path / name)
    candidates = sorted(p for p in (tmp_path / name).rglob("*") if p.suffix in READERS[name].SUFFIXES)
    return [p for p in candidates if _reads(p)]  # fixtures of errors are no seeds


def _reads(path: Path) -> bool:
    try:
        return bool(read_inks(path))
    except InkFormatError:
        return False


@pytest.mark.parametrize("name", ["inkml", "json", "iamondb", "unipen", *NOTE_FORMATS])
def test_damaged_files_raise_only_ink_format_error(tmp_path: Path, name: str) -> None:
    files = corpus(tmp_path, name)
    assert files and all(_reads(p) for p in files)
    originals = {p: p.read_bytes() for p in files}
    rng = random.Random(f"fuzz-{name}")
    for i in range(MUTATIONS_PER_FORMAT):
        path = files[i % len(files)]
        replace(path, mutate(originals[path], rng))
        try:
            inks = read_inks(path)
        except InkFormatError as exc:
            crash = f"reader crashed on mutation {i} of {path.name}: {exc.reason[:300]}"
            assert "unreadable (" not in exc.reason, crash
        else:
            assert all(isinstance(ink, Ink) for ink in inks)
        replace(path, originals[path])


def replace(path: Path, data: bytes) -> None:
    """Write a new file rather than truncate the old one: much faster on ext4."""
    path.unlink()
    path.write_bytes(data)


def test_damaged_training_shards_raise_only_ink_format_errors(tmp_path):
    from handwriting.shards import write_shard
    from handwriting.training.synth import synthesize

    good = tmp_path / "train.npz"
    write_shard([synthesize("ab", font="futural")], good)
    data = good.read_bytes()
    rng = random.Random(7)
    for n in range(200):
        damaged = bytearray(data[: rng.randrange(len(data))] if n % 2 else data)
        for _ in range(rng.randrange(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        path = tmp_path / f"bad{n}.npz"
        path.write_bytes(bytes(damaged))
        try:
            read_inks(path)
        except InkFormatError:
            pass
